/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Hostile guest: the x2APIC registers as MSRs, swept (SDM Vol. 3A 12.12.1, table 12-6). In
 * x2APIC mode every MSR 0x800-0x8ff is read, then written with 0 and with all-ones, and each
 * outcome compared with the SDM's rules: a reserved register raises #GP on RDMSR and WRMSR,
 * a read-only one on WRMSR, a write-only one (EOI, SELF IPI) on RDMSR; a non-zero write to a
 * reserved bit raises #GP (12.12.1.3: bits 63:32 of every register but the ICR, and the bits
 * each register's figure marks reserved); EOI and ESR take only 0. Then 0x900-0xbff (reserved:
 * #GP) and, back in xAPIC mode, the whole range again (#GP everywhere, 12.12.2). Registers
 * whose writes would disturb the test are restored after each write. Every departure is
 * printed as a failed check; the canary next to it (bochs_chostile) shows nobody else noticed.
 */
#include "rt.h"

MHV_GUEST(.name = "hostile_x2apic", .memory_mib = 8);

enum access { NONE, RO, WO, RW };

struct reg {
    uint32_t msr;
    enum access access;
    uint32_t reserved; /* bits of the low half that are reserved, for certain */
    const char *name;
};

/* Table 12-6 and the register figures of chapter 12 (LVT: 12-8; SVR: 12-23; divide: 12-10). */
static const struct reg regs[] = {
    { 0x802, RO, 0, "ID" }, { 0x803, RO, 0, "version" }, { 0x808, RW, 0xffffff00, "TPR" },
    { 0x80a, RO, 0, "PPR" }, { 0x80b, WO, 0, "EOI" }, { 0x80d, RO, 0, "LDR" },
    { 0x80f, RW, 0xffffec00, "SVR" }, { 0x828, RW, 0, "ESR" }, { 0x830, RW, 0xfff32000, "ICR" },
    { 0x832, RW, 0xfff8ef00, "LVT timer" }, { 0x833, RW, 0xfffee800, "LVT thermal" },
    { 0x834, RW, 0xfffee800, "LVT performance" }, { 0x835, RW, 0xfffe0800, "LVT LINT0" },
    { 0x836, RW, 0xfffe0800, "LVT LINT1" }, { 0x837, RW, 0xfffeef00, "LVT error" },
    { 0x838, RW, 0, "initial count" }, { 0x839, RO, 0, "current count" }, { 0x83e, RW, 0xfffffff4, "divide" },
    { 0x83f, WO, 0xffffff00, "SELF IPI" },
};

static struct reg lookup(uint32_t msr)
{
    if (msr >= 0x810 && msr <= 0x827)
        return (struct reg){ msr, RO, 0, msr < 0x818 ? "ISR" : msr < 0x820 ? "TMR" : "IRR" };
    for (unsigned i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
        if (regs[i].msr == msr)
            return regs[i];
    if (msr == 0x82f && ((apic_read(APIC_VERSION) >> 16) & 0xff) >= 6)
        return (struct reg){ msr, RW, 0xfffee800, "LVT CMCI" };
    return (struct reg){ msr, NONE, 0, "reserved" };
}

static unsigned departures;
#define PRINTED_MAX 40 /* departures printed one by one; the rest are counted */

static void depart(uint32_t msr, const char *what, const char *got, const char *want)
{
    if (departures++ >= PRINTED_MAX)
        return;
    check(false, "MSR 0x%x (%s): %s: got %s, the SDM says %s", msr, lookup(msr).name, what, got, want);
}

static void expect(uint32_t msr, const char *what, int got, int want)
{
    if (got != want)
        depart(msr, what, got < 0 ? "no fault" : exception_name((unsigned)got),
               want < 0 ? "no fault" : exception_name((unsigned)want));
}

/* Writes that would change what the test depends on are put back. */
static void restore(uint32_t msr, uint64_t old)
{
    switch (msr) {
    case 0x808: case 0x80f: case 0x832: case 0x833: case 0x834: case 0x835: case 0x836: case 0x837:
    case 0x838: case 0x83e: case 0x82f:
        try_wrmsr(msr, old);
        break;
    default:
        break;
    }
}

static void sweep_x2apic(void)
{
    uint32_t version = apic_read(APIC_VERSION);
    for (uint32_t msr = 0x800; msr <= 0x8ff; msr++) {
        struct reg r = lookup(msr);
        if (msr == 0x80f && !(version & (1u << 24)))
            r.reserved |= 0x1000; /* EOI-broadcast suppression, not offered */
        uint64_t old = 0;
        int rd = try_rdmsr(msr, &old);
        expect(msr, "RDMSR", rd, r.access == RO || r.access == RW ? -1 : VEC_GP);
        if (rd < 0 && msr != 0x830 && (old >> 32))
            depart(msr, "RDMSR: bits 63:32 (reserved, read as 0)", "non-zero", "0");
        /* 0: legal for every writable register (for the ICR a fixed IPI with vector 0 to
         * APIC 0: illegal, dropped, an error in ESR). */
        int w0 = try_wrmsr(msr, 0);
        expect(msr, "WRMSR of 0", w0, r.access == RW || r.access == WO ? -1 : VEC_GP);
        restore(msr, old);
        /* All-ones: reserved bits everywhere (bits 63:32 at least): #GP for every register. */
        int w1 = try_wrmsr(msr, ~0ull);
        expect(msr, "WRMSR of all-ones (reserved bits set)", w1, VEC_GP);
        restore(msr, old);
        /* One reserved bit of the low half on an otherwise legal value. */
        if ((r.access == RW || r.access == WO) && r.reserved) {
            uint32_t bit = r.reserved & -r.reserved; /* the lowest */
            int wr = try_wrmsr(msr, bit);
            expect(msr, "WRMSR with one reserved bit", wr, VEC_GP);
            restore(msr, old);
        }
        /* Non-zero where only 0 is allowed. */
        if (msr == 0x80b || msr == 0x828)
            expect(msr, "WRMSR of 1 (only 0 is allowed)", try_wrmsr(msr, 1), VEC_GP);
    }
    for (uint32_t msr = 0x900; msr <= 0xbff; msr++) {
        uint64_t v;
        expect(msr, "RDMSR beyond 0x8ff", try_rdmsr(msr, &v), VEC_GP);
        expect(msr, "WRMSR beyond 0x8ff", try_wrmsr(msr, 0), VEC_GP);
    }
}

static void sweep_xapic(void)
{
    unsigned wrong = 0;
    for (uint32_t msr = 0x800; msr <= 0xbff; msr++) {
        uint64_t v;
        wrong += try_rdmsr(msr, &v) != VEC_GP;
        wrong += try_wrmsr(msr, 0) != VEC_GP;
    }
    check(wrong == 0, "in xAPIC mode every RDMSR and WRMSR of 0x800-0xbff raises #GP (%u did not)", wrong);
}

void guest_main(void)
{
    if (!apic_x2apic_supported()) {
        printf("# x2APIC not offered: nothing to sweep\n");
        return;
    }
    apic_enable_x2apic();
    apic_write(APIC_SVR, 0x100 | RT_VEC_SPURIOUS);
    sweep_x2apic();
    check(departures == 0, "the x2APIC MSRs 0x800-0xbff behave as the SDM's table 12-6 says (%u departures)", departures);
    check_eq(apic_read(APIC_ID), 0, "the x2APIC still answers: ID 0");
    /* Back to xAPIC mode, through the disabled state (12.12.5). */
    wrmsr(MSR_APIC_BASE, 0xfee00000ull | (1ull << 8));
    wrmsr(MSR_APIC_BASE, 0xfee00000ull | (1ull << 8) | (1ull << 11));
    this_cpu()->x2apic = false;
    apic_write(APIC_SVR, 0x100 | RT_VEC_SPURIOUS);
    sweep_xapic();
    check_eq(apic_id(), 0, "the xAPIC answers again: ID 0");
}
