/* SPDX-License-Identifier: BSD-2-Clause */
/* The local APIC (fuzz.h): its registers through the x2APIC MSRs with the SDM's #GP rules,
 * IA32_APIC_BASE's mode transitions, the timer in its three modes, IPIs of every delivery
 * mode and shorthand, and INIT/STARTUP restarts of the VM's other vCPUs into the loop
 * (SDM Vol. 3A chapter 12; x2APIC: 12.12). */
#include "fuzz.h"

#define APIC_BASE_BSP (1ull << 8)
#define APIC_BASE_EXTD (1ull << 10)
#define APIC_BASE_EN (1ull << 11)
#define APIC_DEFAULT_BASE 0xfee00000ull
#define ICR_MODE(icr) (((icr) >> 8) & 7)
#define MODE_NMI 4
#define PROBE_PAGE 0x9000 /* real-mode code a STARTUP that should be ignored would run */
#define PROBE_FLAG 0x9ff0

struct spinlock fz_restart_lock;

/* Whether a vCPU of this VM has finished and parked (HLT with interrupts off). NMIs are not
 * sent once one has: mhv spins on a halted vCPU that has an NMI pending it cannot take
 * (hostile_nmihalt shows it on its own), which would stall the whole run. */
bool fz_any_done(void)
{
    for (unsigned c = 1; c < smp_cpus(); c++)
        if (fz_vcpus[c].state == FZ_DONE)
            return true;
    return false;
}

int fz_apic_write(unsigned offset, uint32_t value)
{
    if (apic_is_x2apic())
        return try_wrmsr(0x800 + offset / 16, value);
    *(volatile uint32_t *)(uintptr_t)(APIC_MMIO_BASE + offset) = value;
    return -1;
}

static uint32_t apic_esr_latch(void)
{
    fz_apic_write(APIC_ESR, 0); /* a write latches the errors since the last one (SDM Vol. 3A 12.5.3) */
    return apic_read(APIC_ESR);
}

void fz_send_icr(struct fuzz_op *op, uint32_t dest, uint32_t icr_low)
{
    uint32_t icr = fz_sanitize_lapic(APIC_ICR_LOW, icr_low);
    if (apic_is_x2apic())
        icr &= 0x000ccfffu; /* reserved in x2APIC mode: bits 12, 13, 16, 17, 20-31 (12.12.9); xAPIC ignores them */
    bool locked = false;
    fz_critical_enter();
    if (ICR_MODE(icr) == MODE_NMI) {
        locked = fz_trylock(&fz_restart_lock);
        if (!locked || fz_any_done())
            icr &= ~(7u << 8); /* a vCPU is being restarted, or parked: a fixed interrupt instead */
    }
    bool illegal = ICR_MODE(icr) == 0 && (icr & 0xff) < 16;
    bool sw_enabled = illegal && (apic_read(APIC_SVR) & 0x100);
    if (illegal && sw_enabled)
        apic_esr_latch();
    int v;
    if (apic_is_x2apic()) {
        v = try_wrmsr(0x830, ((uint64_t)dest << 32) | icr);
    } else {
        fz_apic_write(APIC_ICR_HIGH, dest << 24);
        v = fz_apic_write(APIC_ICR_LOW, icr);
    }
    fz_expect(op, v, -1, "an ICR write with a legal value");
    if (illegal && sw_enabled)
        fz_expect_value(op, (apic_esr_latch() >> 5) & 1, 1,
                        "an IPI with vector 0-15 sets the sender's ESR bit 5, send illegal vector (SDM Vol. 3A 12.5.3)");
    if (locked)
        fz_unlock(&fz_restart_lock);
    fz_critical_exit();
}

void fz_apic_sane(void)
{
    uint64_t base = rdmsr(MSR_APIC_BASE);
    if (!(base & APIC_BASE_EN) || (base & ~0xfffull) != APIC_DEFAULT_BASE) {
        base = APIC_DEFAULT_BASE | APIC_BASE_EN | (base & APIC_BASE_BSP);
        wrmsr(MSR_APIC_BASE, base);
    }
    this_cpu()->x2apic = (base & APIC_BASE_EXTD) != 0;
    fz_me()->x2apic = this_cpu()->x2apic;
    apic_write(APIC_SVR, 0x100 | RT_VEC_SPURIOUS);
    apic_write(APIC_TPR, 0);
    apic_write(APIC_LVT_LINT0, LVT_MASKED);
    apic_write(APIC_LVT_ERROR, LVT_MASKED);
}

/* --- The x2APIC MSRs: which exist, which way, and their reserved bits (SDM Vol. 3A 12.12.1,
 * table 12-6; reserved bits raise #GP, 12.12.1.3) ------------------------------------------ */

enum x2_access { X2_NONE, X2_RO, X2_WO, X2_RW };

struct x2_reg {
    uint16_t offset;
    uint8_t access;
    uint32_t reserved; /* bits surely reserved in a write (bits 63:32 too, but in the ICR) */
};

static const struct x2_reg x2_regs[] = {
    { 0x20, X2_RO, 0 }, { 0x30, X2_RO, 0 }, { 0x80, X2_RW, 0xffffff00 }, { 0xa0, X2_RO, 0 },
    { 0xb0, X2_WO, 0 }, { 0xd0, X2_RO, 0 }, { 0xf0, X2_RW, 0xffffec00 }, { 0x280, X2_RW, 0 },
    { 0x300, X2_RW, 0xfff32000 }, { 0x320, X2_RW, 0xfff8ef00 }, { 0x330, X2_RW, 0xfffee800 },
    { 0x340, X2_RW, 0xfffee800 }, { 0x350, X2_RW, 0xfffe0800 }, { 0x360, X2_RW, 0xfffe0800 },
    { 0x370, X2_RW, 0xfffeef00 }, { 0x380, X2_RW, 0 }, { 0x390, X2_RO, 0 }, { 0x3e0, X2_RW, 0xfffffff4 },
    { 0x3f0, X2_WO, 0xffffff00 },
};

static struct x2_reg x2_lookup(unsigned offset)
{
    if (offset >= 0x100 && offset < 0x280)
        return (struct x2_reg){ (uint16_t)offset, X2_RO, 0 }; /* ISR, TMR, IRR */
    if (offset == 0x2f0) /* LVT CMCI: there when the version's max LVT entry counts it */
        return (struct x2_reg){ 0x2f0, ((apic_read(APIC_VERSION) >> 16) & 0xff) >= 6 ? X2_RW : X2_NONE, 0xfffee800 };
    if (offset == APIC_SVR) /* bit 12, EOI-broadcast suppression: reserved unless the version's bit 24 offers it */
        return (struct x2_reg){ APIC_SVR, X2_RW, 0xffffec00 | (apic_read(APIC_VERSION) & (1u << 24) ? 0 : 0x1000) };
    for (unsigned i = 0; i < sizeof(x2_regs) / sizeof(x2_regs[0]); i++)
        if (x2_regs[i].offset == offset)
            return x2_regs[i];
    return (struct x2_reg){ (uint16_t)offset, X2_NONE, 0 };
}

void op_x2apic_msr(struct fuzz_op *op)
{
    uint32_t msr = fz_chance(op, 90) ? 0x800 + (uint32_t)fz_below(op, 0x40) : 0x840 + (uint32_t)fz_below(op, 0x3c0);
    bool write = fz_chance(op, 50);
    uint64_t value = 0;
    if (!apic_is_x2apic()) {
        fz_note(op, write ? "wrmsr x2apic (xapic mode)" : "rdmsr x2apic (xapic mode)", msr, 0, 0);
        int v = write ? try_wrmsr(msr, fz_value(op)) : try_rdmsr(msr, &value);
        fz_expect(op, v, VEC_GP, "x2APIC MSRs raise #GP in xAPIC mode (SDM Vol. 3A 12.12.2)");
        return;
    }
    unsigned offset = (msr - 0x800) * 16;
    struct x2_reg reg = msr < 0x840 ? x2_lookup(offset) : (struct x2_reg){ 0, X2_NONE, 0 };
    if (!write) {
        fz_note(op, "rdmsr x2apic", msr, 0, 0);
        int v = try_rdmsr(msr, &value);
        fz_expect(op, v, reg.access == X2_RO || reg.access == X2_RW ? -1 : VEC_GP,
                  "x2APIC RDMSR: #GP for reserved and write-only registers (SDM Vol. 3A table 12-6)");
        if (v < 0 && offset == APIC_ID)
            fz_expect_value(op, value, op->cpu, "the x2APIC ID is the vCPU's number");
        return;
    }
    /* A legal value (sanitized), then maybe a reserved bit in it. */
    bool is_icr = offset == APIC_ICR_LOW;
    value = fz_sanitize_lapic(offset, (uint32_t)fz_value(op)) & ~reg.reserved;
    if (offset == APIC_SVR)
        value &= ~(1ull << 9); /* focus-processor checking: reserved on some processors, not on others */
    if (is_icr)
        value &= ~(1ull << 12); /* delivery status: not in the x2APIC ICR; ignored or reserved */
    if (offset == APIC_EOI || offset == APIC_ESR)
        value = fz_chance(op, 70) ? 0 : fz_value(op) | 1; /* non-zero: #GP */
    if (offset == APIC_LVT_TIMER)
        value &= ~(1u << 18); /* timer mode 3 is reserved: not an opinion here */
    if (is_icr)
        value = (value & ~(7u << 8)) | ((uint64_t)fz_below(op, smp_cpus() + 2) << 32); /* fixed: no NMI lock */
    bool reserved = false;
    if (fz_chance(op, 30)) {
        uint64_t bit = 0;
        if (reg.reserved && (is_icr || fz_chance(op, 60))) {
            do /* one of its reserved bits, at random */
                bit = 1ull << fz_below(op, 32);
            while (!(bit & reg.reserved));
        } else if (!is_icr) {
            bit = 1ull << fz_range(op, 32, 63); /* bits 63:32 of a 32-bit register */
        }
        value |= bit;
        reserved = bit != 0;
    }
    bool nonzero_rule = (offset == APIC_EOI || offset == APIC_ESR) && value;
    int want = reg.access == X2_RW || reg.access == X2_WO ? (reserved || nonzero_rule ? VEC_GP : -1) : VEC_GP;
    fz_note(op, "wrmsr x2apic", msr, value, reserved);
    int v = try_wrmsr(msr, value);
    fz_expect(op, v, want,
              "x2APIC WRMSR: #GP for reserved and read-only registers, reserved bits (SDM Vol. 3A 12.12.1.3)");
}

/* --- IA32_APIC_BASE (SDM Vol. 3A 12.4.4, 12.12.5: the mode transitions) ------------------- */

static void apic_base_restore(uint64_t bsp, bool x2)
{
    uint64_t cur = rdmsr(MSR_APIC_BASE);
    uint64_t xapic = APIC_DEFAULT_BASE | APIC_BASE_EN | bsp;
    if ((cur & APIC_BASE_EXTD) && !x2)
        wrmsr(MSR_APIC_BASE, APIC_DEFAULT_BASE | bsp); /* x2APIC to xAPIC goes through disabled */
    cur = rdmsr(MSR_APIC_BASE);
    if ((cur & ~0xfffull) != APIC_DEFAULT_BASE || !(cur & APIC_BASE_EN))
        wrmsr(MSR_APIC_BASE, (cur & APIC_BASE_EN) ? xapic | (cur & APIC_BASE_EXTD) : xapic);
    if (x2 && !(rdmsr(MSR_APIC_BASE) & APIC_BASE_EXTD))
        wrmsr(MSR_APIC_BASE, xapic | APIC_BASE_EXTD);
}

void op_apic_mode(struct fuzz_op *op)
{
    fz_critical_enter();
    uint64_t cur = rdmsr(MSR_APIC_BASE), bsp = cur & APIC_BASE_BSP, value;
    bool x2 = cur & APIC_BASE_EXTD, x2_offered = fz_features.x2apic;
    int want;
    const char *what;
    switch (fz_below(op, 7)) {
    case 0:
        value = APIC_DEFAULT_BASE | APIC_BASE_EN | APIC_BASE_EXTD | bsp;
        want = x2_offered ? -1 : VEC_GP;
        what = "IA32_APIC_BASE: to x2APIC mode (from xAPIC or staying)";
        break;
    case 1:
        value = APIC_DEFAULT_BASE | bsp;
        want = -1;
        what = "IA32_APIC_BASE: disabling the APIC";
        break;
    case 2:
        value = APIC_DEFAULT_BASE | APIC_BASE_EXTD | bsp;
        want = VEC_GP;
        what = "IA32_APIC_BASE: EXTD without EN is invalid";
        break;
    case 3:
        value = APIC_DEFAULT_BASE | APIC_BASE_EN | bsp;
        want = x2 ? VEC_GP : -1;
        what = "IA32_APIC_BASE: x2APIC to xAPIC only through disabled";
        break;
    case 4: {
        static const unsigned low_reserved[] = { 0, 1, 2, 3, 4, 5, 6, 7, 9 };
        unsigned b = fz_chance(op, 50) ? FZ_PICK(op, low_reserved) : (unsigned)fz_range(op, fz_features.maxphyaddr, 63);
        value = cur | (1ull << b);
        want = VEC_GP;
        what = "IA32_APIC_BASE: a reserved bit";
        break;
    }
    case 5:
        value = (cur & 0xfffull) | ((fz_next(op) << 12) & ((1ull << fz_features.maxphyaddr) - 1));
        want = x2 ? -2 : -1; /* the base moves (SDM Vol. 3A 12.4.5); in x2APIC mode, no opinion */
        what = "IA32_APIC_BASE: moving the xAPIC page";
        break;
    default:
        value = cur;
        want = -1;
        what = "IA32_APIC_BASE: writing what it holds";
        break;
    }
    fz_note(op, "wrmsr apic_base", value, cur, 0);
    int v = try_wrmsr(MSR_APIC_BASE, value);
    if (want != -2)
        fz_expect(op, v, want, what);
    if (v < 0 && want != -2)
        fz_expect_value(op, rdmsr(MSR_APIC_BASE) & ~APIC_BASE_BSP, value & ~APIC_BASE_BSP, "IA32_APIC_BASE reads back what was written");
    /* Back to a mode the runtime can use, xAPIC or x2APIC at random, through legal steps. */
    apic_base_restore(bsp, x2_offered && fz_chance(op, 50));
    fz_apic_sane();
    fz_critical_exit();
}

/* --- The timer (SDM Vol. 3A 12.5.4) --------------------------------------------------------- */

void op_apic_timer(struct fuzz_op *op)
{
    unsigned mode = (unsigned)fz_below(op, fz_features.tsc_deadline ? 3 : 2); /* one-shot, periodic, TSC deadline */
    uint32_t vector = fz_vector(op), lvt = fz_sanitize_lapic(APIC_LVT_TIMER, vector | (fz_chance(op, 30) ? LVT_MASKED : 0));
    uint32_t divide = (uint32_t)fz_below(op, 16) & 0xb, count;
    switch (fz_below(op, 4)) {
    case 0: count = (uint32_t)fz_below(op, 64); break;
    case 1: count = (uint32_t)fz_below(op, 100000); break;
    default: count = (uint32_t)fz_value(op); break;
    }
    if (mode == 1 && count < 50000)
        count = 50000 + count; /* periodic: at least 1 ms of Bochs (sanitize.c) */
    lvt = (lvt & ~(3u << 17)) | (mode << 17);
    fz_note(op, "apic timer", mode, count, lvt | ((uint64_t)divide << 32));
    fz_expect(op, fz_apic_write(APIC_TIMER_INITIAL, 0), -1, "stopping the timer with an initial count of 0");
    fz_expect(op, fz_apic_write(APIC_TIMER_DIVIDE, divide), -1, "a legal write of the timer's divide register");
    fz_expect(op, fz_apic_write(APIC_LVT_TIMER, lvt), -1, "a legal write of the timer's LVT");
    fz_expect(op, fz_apic_write(APIC_TIMER_INITIAL, count), -1, "a legal write of the timer's initial count");
    uint32_t current = apic_read(APIC_TIMER_CURRENT);
    if (mode == 2) {
        /* TSC-deadline mode ignores the initial count; the current count reads 0 (12.5.4.1). */
        fz_expect_value(op, current, 0, "in TSC-deadline mode the current count reads 0");
        uint64_t deadline;
        switch (fz_below(op, 4)) {
        case 0: deadline = 0; break;                                  /* disarms */
        case 1: deadline = rdtsc() - fz_below(op, 1000000); break;    /* past: fires at once */
        case 2: deadline = rdtsc() + fz_below(op, 2000000); break;
        default: deadline = fz_value(op); break;
        }
        fz_note(op, "wrmsr tsc_deadline", deadline, lvt, 0);
        fz_expect(op, try_wrmsr(MSR_TSC_DEADLINE, deadline), -1, "WRMSR to IA32_TSC_DEADLINE");
    } else {
        fz_expect_value(op, current <= count, 1, "the current count starts at or below the initial count");
    }
}

/* --- IPIs --------------------------------------------------------------------------------- */

void op_ipi(struct fuzz_op *op)
{
    unsigned cpus = smp_cpus();
    uint32_t other = (uint32_t)((op->cpu + 1 + fz_below(op, cpus > 1 ? cpus - 1 : 1)) % cpus);
    uint32_t vector = fz_vector(op), dest = other, icr;
    switch (fz_below(op, 12)) {
    case 0: icr = ICR_SELF | vector; break;
    case 1: icr = vector; dest = op->cpu; break;
    case 2:
        if (apic_is_x2apic()) { /* the SELF IPI register (12.12.11) */
            fz_note(op, "self ipi msr", vector, 0, 0);
            fz_expect(op, try_wrmsr(0x83f, vector), -1, "a write of the x2APIC SELF IPI register");
            return;
        }
        icr = ICR_SELF | vector;
        break;
    case 3: case 4: icr = vector; break;                                    /* fixed, to another vCPU */
    case 5: icr = 0x100 | vector; break;                                    /* lowest priority */
    case 6: icr = ICR_NMI | (fz_chance(op, 30) ? ICR_ALL_EXCLUDING_SELF : 0); break;
    case 7: icr = (fz_chance(op, 50) ? ICR_ALL_INCLUDING_SELF : ICR_ALL_EXCLUDING_SELF) | vector; break;
    case 8: icr = (1u << 11) | vector; dest = (uint32_t)fz_next(op); break; /* logical */
    case 9: icr = vector; dest = cpus + (uint32_t)fz_below(op, 300); break; /* nobody there */
    case 10: icr = (uint32_t)fz_below(op, 16); break;                       /* an illegal vector */
    default: icr = (uint32_t)fz_value(op); dest = (uint32_t)fz_next(op); break;
    }
    icr |= fz_chance(op, 50) ? ICR_LEVEL_ASSERT : 0;
    fz_note(op, "ipi", dest, icr, 0);
    fz_send_icr(op, apic_is_x2apic() ? dest : dest & 0xff, icr);
}

/* --- INIT and STARTUP: another vCPU of the VM restarted into the loop ---------------------- */

void op_init_sipi(struct fuzz_op *op)
{
    unsigned cpus = smp_cpus();
    if (cpus < 2)
        return;
    unsigned target = 1 + (unsigned)fz_below(op, cpus - 1), variant = (unsigned)fz_below(op, 5);
    if (target == op->cpu)
        return;
    if (!fz_trylock(&fz_restart_lock))
        return;
    struct fz_vcpu *t = &fz_vcpus[target];
    uint32_t running = FZ_RUNNING;
    if (!__atomic_compare_exchange_n(&t->state, &running, FZ_CLAIMED, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        fz_unlock(&fz_restart_lock);
        return;
    }
    fz_note(op, "init/sipi", target, variant, t->next);
    /* A STARTUP reaches only a vCPU waiting for one (SDM Vol. 3A 9.4.4): the probe code would
     * mark that it ran. Under the restart lock no vCPU of this VM waits for one. */
    static const uint8_t probe[] = { 0xc6, 0x06, PROBE_FLAG & 0xff, PROBE_FLAG >> 8, 0x01, /* mov byte [0x9ff0], 1 */
                                     0xfa, 0xf4, 0xeb, 0xfd };                             /* cli; hlt; jmp $-3 */
    volatile uint8_t *flag = (volatile uint8_t *)(uintptr_t)PROBE_FLAG;
    switch (variant) {
    case 1: /* INIT level de-assert: no effect (SDM Vol. 3A 12.6.1) */
        apic_send_ipi(target, ICR_INIT | (1u << 15));
        break;
    case 2: /* a burst of INITs */
        for (unsigned n = (unsigned)fz_range(op, 2, 10); n; n--)
            apic_send_ipi(target, ICR_INIT | ICR_LEVEL_ASSERT);
        break;
    case 3: case 4: { /* a STARTUP to a vCPU that runs: ignored */
        unsigned to = variant == 3 ? target : (op->cpu + 1) % cpus;
        if (to == op->cpu || to == 0 || fz_vcpus[to].state == FZ_OFFLINE)
            break;
        memcpy((void *)(uintptr_t)PROBE_PAGE, probe, sizeof(probe));
        *flag = 0;
        apic_send_ipi(to, ICR_STARTUP | (PROBE_PAGE >> 12));
        delay_us(200);
        fz_expect_value(op, *flag, 0, "a STARTUP IPI to a vCPU not waiting for one is ignored (SDM Vol. 3A 9.4.4)");
        break;
    }
    default:
        break;
    }
    int rc = smp_start(target, fz_ap_entry, NULL);
    fz_expect_value(op, (uint64_t)(int64_t)rc, 0, "a vCPU restarted by INIT, STARTUP, STARTUP runs again");
    if (rc != 0)
        __atomic_store_n(&t->state, FZ_OFFLINE, __ATOMIC_RELEASE); /* nobody waits for it any more */
    fz_me()->restarts_sent++;
    fz_unlock(&fz_restart_lock);
}
