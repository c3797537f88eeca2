/* SPDX-License-Identifier: BSD-2-Clause */
/* Control, debug and extended control registers (fuzz.h). mhv sees MOV to CR0/CR4 when an
 * owned bit changes, CR3 and CR8 as its controls say, MOV DR when it switches debug
 * registers, XSETBV always (SDM Vol. 3C 26.1). Each operation saves what it changes and
 * restores it; the outcome of every write is compared with the SDM's rules (MOV CR, MOV DR,
 * XSETBV in Vol. 2; CR0/CR4 in Vol. 3A 2.5; DR6/DR7 in Vol. 3B 18.2). */
#include "fuzz.h"

#define CR0_DEFINED 0xe005003full /* PE MP EM TS ET NE WP AM NW CD PG: the rest of 31:0 is ignored */
#define CR4_LA57 (1ull << 12)
#define CR4_CET (1ull << 23)
#define DR7_GD (1ull << 13)

/* A second root with the same mappings, so CR3 really changes. */
static uint64_t alt_pml4[512] __attribute__((aligned(4096)));
static volatile bool alt_ready;

static int cr0_expectation(uint64_t v, uint64_t cr4)
{
    if ((v >> 32) || !(v & CR0_PG) || !(v & CR0_PE) || ((v & CR0_NW) && !(v & CR0_CD)))
        return VEC_GP; /* reserved bits; leaving paging in 64-bit mode; NW without CD */
    if ((cr4 & CR4_CET) && !(v & CR0_WP))
        return VEC_GP;
    return -1;
}

static int cr4_expectation(uint64_t v, uint64_t old, uint64_t cr0, uint64_t cr3)
{
    if (v & ~fz_features.cr4_legal)
        return VEC_GP; /* reserved, or a feature CPUID does not offer (VMXE, SMXE among them) */
    if (!(v & CR4_PAE) || ((v ^ old) & CR4_LA57))
        return VEC_GP; /* IA-32e mode needs PAE and keeps its paging depth */
    if ((v & CR4_PCIDE) && !(old & CR4_PCIDE) && (cr3 & 0xfff))
        return VEC_GP;
    if ((v & CR4_CET) && !(cr0 & CR0_WP))
        return VEC_GP;
    return -1;
}

static void cr0_case(struct fuzz_op *op)
{
    static const uint64_t bits[] = { CR0_PE, CR0_MP, CR0_EM, CR0_TS, 1ull << 4, CR0_NE, CR0_WP, CR0_AM,
                                     CR0_NW, CR0_CD, CR0_PG, 1ull << 6, 1ull << 17, 1ull << 28, 1ull << 32, 1ull << 63 };
    uint64_t old = read_cr0(), flip = 0;
    for (unsigned n = (unsigned)fz_range(op, 1, 3); n; n--)
        flip |= FZ_PICK(op, bits);
    uint64_t value = old ^ flip;
    fz_note(op, "mov cr0", value, old, 0);
    int v = try_write_cr(0, value);
    fz_expect(op, v, cr0_expectation(value, read_cr4()), "MOV to CR0");
    if (v < 0) {
        fz_expect_value(op, read_cr0(), (value & CR0_DEFINED) | (1ull << 4),
                        "CR0 reads back what was written, ET set, ignored bits clear (SDM Vol. 3A 2.5)");
        write_cr0(old);
    } else {
        fz_expect_value(op, read_cr0(), old, "a MOV to CR0 that faulted changed nothing");
    }
}

static void cr4_case(struct fuzz_op *op)
{
    uint64_t old = read_cr4(), flip = 0;
    for (unsigned n = (unsigned)fz_range(op, 1, 2); n; n--)
        flip |= 1ull << (fz_chance(op, 85) ? fz_below(op, 26) : fz_range(op, 26, 63));
    flip &= ~(CR4_SMEP | CR4_SMAP); /* the runtime's pages are user pages: SMEP or SMAP would end it */
    uint64_t value = old ^ flip, cr3 = read_cr3();
    fz_note(op, "mov cr4", value, old, 0);
    int v = try_write_cr(4, value);
    fz_expect(op, v, cr4_expectation(value, old, read_cr0(), cr3), "MOV to CR4");
    if (v < 0) {
        fz_expect_value(op, read_cr4(), value, "CR4 reads back what was written");
        write_cr4(old);
    } else {
        fz_expect_value(op, read_cr4(), old, "a MOV to CR4 that faulted changed nothing");
    }
}

static void cr3_case(struct fuzz_op *op)
{
    uint64_t old = read_cr3(), value;
    int want = -1;
    switch (fz_below(op, 4)) {
    case 0: value = old | (1ull << 3) | (1ull << 4); break; /* PWT, PCD */
    case 1:
        value = old | (1ull << fz_range(op, fz_features.maxphyaddr, 62));
        want = VEC_GP; /* above MAXPHYADDR */
        break;
    case 2:
        if (!alt_ready) {
            memcpy(alt_pml4, (void *)(uintptr_t)(old & ~0xfffull), sizeof(alt_pml4));
            alt_ready = true;
        }
        value = (uint64_t)(uintptr_t)alt_pml4 | (old & 0x18);
        break;
    default: value = old; break;
    }
    fz_note(op, "mov cr3", value, old, 0);
    int v = try_write_cr(3, value);
    fz_expect(op, v, want, "MOV to CR3");
    if (v < 0 && !(read_cr4() & CR4_PCIDE))
        fz_expect_value(op, read_cr3(), value, "CR3 reads back what was written");
    write_cr3(old);
}

static void cr8_case(struct fuzz_op *op)
{
    uint64_t old = read_cr8(), value = fz_chance(op, 70) ? fz_below(op, 16) : fz_value(op);
    fz_note(op, "mov cr8", value, old, 0);
    int v = try_write_cr(8, value);
    fz_expect(op, v, value > 15 ? VEC_GP : -1, "MOV to CR8 (bits 63:4 reserved)");
    if (v < 0)
        fz_expect_value(op, read_cr8(), value, "CR8 reads back what was written");
    write_cr8(old);
}

/* CR1, CR5-CR7, CR9-CR15 do not exist: #UD (SDM Vol. 2B MOV). 0f 22/20 /r, REX.R for 8+. */
static void undefined_cr_case(struct fuzz_op *op)
{
    uint64_t x = fz_value(op);
    unsigned which = (unsigned)fz_below(op, 6);
    fz_note(op, "mov undefined cr", which, x, 0);
    int v;
    switch (which) {
    case 0: v = TRY_ASM(".byte 0x0f, 0x22, 0xc8", : : "a"(x)); break;       /* mov %rax, %cr1 */
    case 1: v = TRY_ASM(".byte 0x0f, 0x20, 0xe8", : "+a"(x)); break;        /* mov %cr5, %rax */
    case 2: v = TRY_ASM(".byte 0x0f, 0x22, 0xf0", : : "a"(x)); break;       /* mov %rax, %cr6 */
    case 3: v = TRY_ASM(".byte 0x44, 0x0f, 0x22, 0xc8", : : "a"(x)); break; /* mov %rax, %cr9 */
    case 4: v = TRY_ASM(".byte 0x44, 0x0f, 0x20, 0xf8", : "+a"(x)); break; /* mov %cr15, %rax */
    default: v = TRY_ASM(".byte 0x44, 0x0f, 0x22, 0xe0", : : "a"(x)); break; /* mov %rax, %cr12 */
    }
    fz_expect(op, v, VEC_UD, "MOV with an undefined control register");
}

void op_cr(struct fuzz_op *op)
{
    switch (fz_below(op, 12)) {
    case 0: case 1: case 2: cr0_case(op); break;
    case 3: case 4: case 5: cr4_case(op); break;
    case 6: case 7: cr3_case(op); break;
    case 8: case 9: cr8_case(op); break;
    case 10: {
        uint64_t v = fz_value(op);
        fz_note(op, "mov cr2", v, 0, 0);
        write_cr2(v);
        fz_expect_value(op, read_cr2(), v, "CR2 reads back what was written");
        break;
    }
    default: undefined_cr_case(op); break;
    }
}

/* --- Debug registers ----------------------------------------------------------------------- */

struct dr_set {
    uint64_t dr[8];
};

static void dr_save(struct dr_set *s)
{
    s->dr[0] = read_dr0();
    s->dr[1] = read_dr1();
    s->dr[2] = read_dr2();
    s->dr[3] = read_dr3();
    s->dr[6] = read_dr6();
    s->dr[7] = read_dr7();
}

/* DR7 first, so no breakpoint of the random set fires while the others come back; a GD left
 * set by the operation makes the first MOV DR raise #DB (and clears GD): it is retried. */
static void dr_restore(const struct dr_set *s)
{
    for (unsigned tries = 0; tries < 2 && try_write_dr(7, s->dr[7] & ~DR7_GD) >= 0; tries++)
        ;
    try_write_dr(0, s->dr[0]);
    try_write_dr(1, s->dr[1]);
    try_write_dr(2, s->dr[2]);
    try_write_dr(3, s->dr[3]);
    try_write_dr(6, s->dr[6]);
}

void op_dr(struct fuzz_op *op)
{
    struct dr_set saved;
    dr_save(&saved);
    unsigned n = (unsigned)fz_below(op, 8);
    bool de = read_cr4() & CR4_DE;
    uint64_t value = fz_value(op);
    if ((n == 6 || n == 7 || n == 4 || n == 5) && fz_chance(op, 70))
        value &= 0xffffffffull; /* mostly legal: bits 63:32 must be 0 */
    if (n == 7 || (n == 5 && !de))
        value &= fz_chance(op, 80) ? ~DR7_GD : ~0ull; /* GD now and then */
    bool write = fz_chance(op, 70);
    fz_note(op, write ? "mov to dr" : "mov from dr", n, value, de);
    int want = -1;
    if ((n == 4 || n == 5) && de)
        want = VEC_UD; /* DR4/DR5 exist only as aliases of DR6/DR7 without CR4.DE */
    else if (write && (n >= 4) && (value >> 32))
        want = VEC_GP; /* bits 63:32 of DR6 and DR7 */
    int v;
    if (write) {
        v = try_write_dr(n, value);
        fz_expect(op, v, want, "MOV to a debug register");
        if (v < 0 && n < 4) {
            uint64_t back = 0;
            try_read_dr(n, &back);
            fz_expect_value(op, back, value, "DR0-DR3 read back what was written");
        }
        if (v < 0 && (n == 7 || (n == 5 && !de)) && (value & DR7_GD)) {
            /* General detect: the next MOV DR raises #DB with DR6.BD, and the CPU clears GD
             * (SDM Vol. 3B 18.2.4). */
            uint64_t x;
            int g = try_read_dr(0, &x);
            fz_expect(op, g, VEC_DB, "MOV DR with DR7.GD set raises #DB");
            if (g == VEC_DB) {
                uint64_t dr6 = 0, dr7 = 0;
                try_read_dr(6, &dr6);
                try_read_dr(7, &dr7);
                fz_expect_value(op, (dr6 >> 13) & 1, 1, "the general-detect #DB sets DR6.BD");
                fz_expect_value(op, (dr7 >> 13) & 1, 0, "the general-detect #DB clears DR7.GD");
            }
        }
    } else {
        uint64_t x;
        v = try_read_dr(n, &x);
        fz_expect(op, v, want, "MOV from a debug register");
    }
    dr_restore(&saved);
}

/* --- XCR0 ---------------------------------------------------------------------------------- */

/* The rules for XCR0 (SDM Vol. 1 13.3, XSETBV in Vol. 2D). */
static bool xcr0_legal(uint64_t v, uint64_t supported)
{
    uint64_t avx512 = 7ull << 5, mpx = 3ull << 3, amx = 3ull << 17;
    if (!(v & 1) || (v & ~supported) || ((v & 4) && !(v & 2)))
        return false;
    if ((v & mpx) && (v & mpx) != mpx)
        return false;
    if ((v & avx512) && ((v & avx512) != avx512 || !(v & 4)))
        return false;
    if ((v & amx) && (v & amx) != amx)
        return false;
    return true;
}

void op_xcr0(struct fuzz_op *op)
{
    if (!fz_features.xsave)
        return;
    uint64_t cr4 = read_cr4(), supported = fz_features.xcr0_supported;
    bool osxsave = fz_chance(op, 90);
    write_cr4(osxsave ? cr4 | CR4_OSXSAVE : cr4 & ~CR4_OSXSAVE);
    uint64_t old = osxsave ? xgetbv(0) : 1;
    uint32_t index = fz_chance(op, 85) ? 0 : fz_chance(op, 50) ? 1 : (uint32_t)fz_next(op);
    uint64_t value;
    switch (fz_below(op, 4)) {
    case 0: value = supported & fz_next(op); break;
    case 1: value = (supported & fz_next(op)) | 1; break;
    case 2: value = old ^ (1ull << fz_below(op, 64)); break;
    default: value = fz_value(op); break;
    }
    fz_note(op, "xsetbv", index, value, osxsave);
    int v = try_xsetbv(index, value);
    int want = !osxsave ? VEC_UD : index != 0 || !xcr0_legal(value, supported) ? VEC_GP : -1;
    fz_expect(op, v, want, "XSETBV");
    if (osxsave) {
        if (v < 0)
            fz_expect_value(op, xgetbv(0), value, "XCR0 reads back what XSETBV wrote");
        xsetbv(0, old);
    } else {
        uint64_t x;
        fz_expect(op, try_xgetbv(0, &x), VEC_UD, "XGETBV without CR4.OSXSAVE");
    }
    write_cr4(cr4);
}
