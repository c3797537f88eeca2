/* SPDX-License-Identifier: BSD-2-Clause */
/* CPUID and MSR operations (fuzz.h). CPUID always exits (SDM Vol. 3C 26.1.2); RDMSR and
 * WRMSR exit for every MSR mhv does not pass through (its MSR bitmap). */
#include "fuzz.h"

/* --- CPUID -------------------------------------------------------------------------------- */

static uint32_t cpuid_leaf(struct fuzz_op *op)
{
    static const uint32_t interesting[] = { 0, 1, 4, 6, 7, 0xb, 0xd, 0x14, 0x15, 0x16, 0x1f, 0x40000000, 0x40000001,
                                            0x40000010, 0x80000000, 0x80000001, 0x80000007, 0x80000008 };
    switch (fz_below(op, 10)) {
    case 0: case 1: case 2: return (uint32_t)fz_below(op, 0x21);
    case 3: case 4: return 0x40000000u + (uint32_t)fz_below(op, 0x101);
    case 5: case 6: return 0x80000000u + (uint32_t)fz_below(op, 0x21);
    case 7: return (uint32_t)fz_next(op);
    default: return FZ_PICK(op, interesting);
    }
}

struct cpuid64 {
    uint64_t rax, rbx, rcx, rdx;
};

/* CPUID with garbage in the upper halves of RAX and RCX (ignored: only EAX and ECX select)
 * and in RBX and RDX; the CPU clears the upper halves of all four (SDM Vol. 2A CPUID). */
static struct cpuid64 cpuid_dirty(uint32_t leaf, uint32_t subleaf, uint64_t dirt)
{
    struct cpuid64 r = { leaf | (dirt << 32), dirt, subleaf | (dirt & ~0xffffffffull), ~dirt };
    __asm__ volatile("cpuid" : "+a"(r.rax), "+b"(r.rbx), "+c"(r.rcx), "+d"(r.rdx));
    return r;
}

#define CPUID_CACHE 64
struct cpuid_seen {
    bool valid;
    uint32_t leaf, subleaf;
    struct cpuid64 r;
};
static struct cpuid_seen cpuid_cache[RT_MAX_CPUS][CPUID_CACHE];

void op_cpuid(struct fuzz_op *op)
{
    uint32_t leaf = cpuid_leaf(op), subleaf;
    switch (fz_below(op, 10)) {
    case 0: case 1: case 2: case 3: case 4: case 5: subleaf = (uint32_t)fz_below(op, 4); break;
    case 6: case 7: case 8: subleaf = (uint32_t)fz_below(op, 64); break;
    default: subleaf = (uint32_t)fz_next(op);
    }
    uint64_t dirt = fz_next(op) | 1;
    fz_note(op, "cpuid", leaf, subleaf, dirt);
    struct cpuid64 a = cpuid_dirty(leaf, subleaf, dirt);
    fz_expect_value(op, (a.rax | a.rbx | a.rcx | a.rdx) >> 32, 0, "CPUID clears the upper halves of RAX-RDX");
    /* The same answer as the last time this vCPU asked (a small cache of earlier answers; the
     * operations restore CR4 and XCR0, on which leaves 1 and 0xd depend). */
    struct cpuid_seen *seen = &cpuid_cache[op->cpu][(leaf * 7 + subleaf) % CPUID_CACHE];
    if (seen->valid && seen->leaf == leaf && seen->subleaf == subleaf) {
        fz_expect_value(op, a.rax, seen->r.rax, "CPUID EAX is the same every time (the upper half of RAX ignored)");
        fz_expect_value(op, a.rbx, seen->r.rbx, "CPUID EBX is the same every time");
        fz_expect_value(op, a.rcx, seen->r.rcx, "CPUID ECX is the same every time (ECX selects by its low half)");
        fz_expect_value(op, a.rdx, seen->r.rdx, "CPUID EDX is the same every time");
    }
    *seen = (struct cpuid_seen){ true, leaf, subleaf, a };
    /* What mhv hides (README "What every VM has"). */
    if (leaf == 1) {
        fz_expect_value(op, (a.rcx >> 5) & 3, 0, "CPUID 1 hides VMX and SMX");
        fz_expect_value(op, (a.rcx >> 3) & 1, 0, "CPUID 1 hides MONITOR/MWAIT");
        fz_expect_value(op, (a.rcx >> 31) & 1, 1, "CPUID 1 sets the hypervisor bit");
        fz_expect_value(op, (a.rbx >> 24) & 0xff, op->cpu, "CPUID 1 EBX[31:24] is this vCPU's APIC ID");
    }
    if (leaf == 7 && subleaf == 0)
        fz_expect_value(op, a.rbx & ((1u << 2) | (1u << 4) | (1u << 11) | (1u << 25)), 0,
                        "CPUID 7 hides SGX, HLE, RTM and processor trace");
    if (leaf == 0x40000000) {
        fz_expect_value(op, a.rbx, 0x6d76686d, "CPUID 0x40000000 EBX is 'mhvm'");
        fz_expect_value(op, a.rax, 0x40000010, "CPUID 0x40000000 EAX is the highest hypervisor leaf");
    }
}

/* --- RDMSR/WRMSR ---------------------------------------------------------------------------- */

#define MSR_FEATURE_CONTROL 0x3a
#define MSR_BIOS_SIGN_ID 0x8b
#define MSR_MTRRCAP 0xfe

/* MSRs mhv emulates or passes through, and neighbours that must raise #GP. */
static const uint32_t interesting_msrs[] = {
    0x10, 0x17, 0x1b, 0x3a, 0x3b, 0x48, 0x49, 0x8b, 0x9e, 0xc1, 0xe7, 0xe8, 0xfe, 0x10a, 0x122, 0x174, 0x175, 0x176,
    0x179, 0x17a, 0x17b, 0x186, 0x1a0, 0x1d9, 0x1f2, 0x200, 0x201, 0x250, 0x277, 0x2ff, 0x345, 0x38d, 0x38f, 0x3f1,
    0x400, 0x401, 0x480, 0x481, 0x48b, 0x491, 0x4d0, 0x560, 0x570, 0x6e0, 0x6e1, 0x7ff, 0x900, 0xbff, 0xda0,
    0xc0000080, 0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084, 0xc0000100, 0xc0000101, 0xc0000102, 0xc0000103,
    0xc0000104, 0xc0010000, 0xc0011000, 0x40000000, 0x40000001, 0x40000070, 0x4b564d00, 0x4b564d01, 0x4b564df0,
};

static uint32_t pick_msr(struct fuzz_op *op)
{
    switch (fz_below(op, 10)) {
    case 0: case 1: case 2: case 3: return FZ_PICK(op, interesting_msrs);
    case 4: case 5: return (uint32_t)fz_below(op, 0x2000);
    case 6: return 0xc0000000u + (uint32_t)fz_below(op, 0x2000);
    case 7: return 0x40000000u + (uint32_t)fz_below(op, 0x200);
    case 8: return 0x4b564d00u + (uint32_t)fz_below(op, 0x100); /* KVM's paravirtual MSRs: none here */
    default: return (uint32_t)fz_next(op);
    }
}

/* Written elsewhere, with the care they need: APIC_BASE (ops_apic.c), the TSC and TSC_ADJUST
 * (op_tsc_msr), the x2APIC registers (ops_apic.c). */
static bool written_elsewhere(uint32_t msr)
{
    return msr == MSR_APIC_BASE || msr == MSR_TSC || msr == MSR_TSC_ADJUST || (msr >= 0x800 && msr <= 0x8ff);
}

static bool canonical(uint64_t a) { return (uint64_t)((int64_t)(a << 16) >> 16) == a; }

/* The #GP the SDM gives for a WRMSR, where it gives one for sure; -2: no opinion. */
static int wrmsr_expectation(uint32_t msr, uint64_t value, uint64_t old)
{
    switch (msr) {
    case MSR_FEATURE_CONTROL:
        return VEC_GP; /* locked (README: "locked, VMX off") */
    case MSR_EFER: {
        /* SCE, LME, LMA, NXE; LME cannot change while paging is on (SDM Vol. 3A 10.8.5). */
        bool nx = cpuid(0x80000001, 0).edx & (1u << 20);
        uint64_t legal = EFER_SCE | EFER_LME | EFER_LMA | (nx ? EFER_NXE : 0);
        return (value & ~legal) || ((value ^ old) & EFER_LME) ? VEC_GP : -1;
    }
    case MSR_PAT:
        for (unsigned i = 0; i < 8; i++) {
            unsigned t = (value >> (8 * i)) & 0xff;
            if (t == 2 || t == 3 || t > 7) /* reserved memory types (SDM Vol. 3A 13.12.2) */
                return VEC_GP;
        }
        return -1;
    case MSR_MTRR_DEF_TYPE: {
        unsigned t = value & 0xff;
        return (value & ~0xcffull) || t == 2 || t == 3 || t > 6 ? VEC_GP : -1;
    }
    case MSR_FS_BASE: case MSR_GS_BASE: case MSR_KERNEL_GS_BASE: case MSR_LSTAR: case MSR_CSTAR:
    case MSR_SYSENTER_ESP: case MSR_SYSENTER_EIP:
        return canonical(value) ? -1 : VEC_GP; /* addresses: canonical only (SDM Vol. 2B WRMSR) */
    case MSR_SFMASK:
        /* Bits 63:32 are reserved (SDM Vol. 4 table 2-2) and WRMSR raises #GP for a value that
         * sets reserved bits (SDM Vol. 2D WRMSR). */
        return value >> 32 ? VEC_GP : -1;
    case MSR_SYSENTER_CS: case MSR_STAR: case MSR_TSC_DEADLINE:
        return -1;
    case MSR_MTRRCAP:
        return VEC_GP; /* read-only */
    default:
        return -2;
    }
}

/* MSRs that read the same twice in a row (no counters, nothing another vCPU changes). */
static bool stable(uint32_t msr)
{
    switch (msr) {
    case MSR_EFER: case MSR_PAT: case MSR_MTRR_DEF_TYPE: case MSR_MTRRCAP: case MSR_FEATURE_CONTROL:
    case MSR_MISC_ENABLE: case MSR_APIC_BASE: case MSR_SYSENTER_CS: case MSR_SYSENTER_ESP: case MSR_SYSENTER_EIP:
    case MSR_STAR: case MSR_LSTAR: case MSR_CSTAR: case MSR_SFMASK: case MSR_FS_BASE: case MSR_GS_BASE:
    case MSR_KERNEL_GS_BASE: case MSR_TSC_AUX:
        return true;
    default:
        return false;
    }
}

void op_msr(struct fuzz_op *op)
{
    uint32_t msr = pick_msr(op);
    uint64_t old = 0, again = 0;
    bool write = fz_chance(op, 60) && !written_elsewhere(msr);
    fz_note(op, write ? "wrmsr" : "rdmsr", msr, 0, 0);
    int r = try_rdmsr(msr, &old);
    if (r < 0 && stable(msr) && !write) {
        int r2 = try_rdmsr(msr, &again);
        fz_expect(op, r2, -1, "an MSR that read once reads again");
        fz_expect_value(op, again, old, "a stable MSR reads the same twice");
    }
    if (msr >= 0x800 && msr <= 0x8ff && !apic_is_x2apic())
        fz_expect(op, r, VEC_GP, "x2APIC MSRs raise #GP in xAPIC mode (SDM Vol. 3A 12.12.2)");
    if (!write)
        return;
    uint64_t value;
    switch (fz_below(op, 4)) {
    case 0: value = old ^ (1ull << fz_below(op, 64)); break; /* one bit off what it holds */
    case 1: value = old; break;
    default: value = fz_value(op);
    }
    if (msr == MSR_EFER)
        value = (value & ~EFER_LMA) | (old & EFER_LMA); /* LMA is the CPU's: not an opinion either way */
    fz_note(op, "wrmsr", msr, value, old);
    int w = try_wrmsr(msr, value);
    int want = wrmsr_expectation(msr, value, old);
    if (want != -2)
        fz_expect(op, w, want, "WRMSR of an emulated or passed-through MSR");
    if (w < 0 && r < 0) {
        uint64_t back;
        /* (Not SYSENTER_CS and SFMASK: the SDM leaves their upper halves unspecified, and the
         * VMCS field of the one and Bochs's register of the other keep 32 bits.) */
        if (msr == MSR_PAT || msr == MSR_MTRR_DEF_TYPE || msr == MSR_STAR || msr == MSR_LSTAR ||
            msr == MSR_KERNEL_GS_BASE || msr == MSR_FS_BASE) {
            fz_expect(op, try_rdmsr(msr, &back), -1, "an MSR that took a write reads");
            fz_expect_value(op, back, value, "a written MSR reads back what was written");
        }
        try_wrmsr(msr, old);
    }
}

/* The TSC and IA32_TSC_ADJUST: a write to either moves both (SDM Vol. 3B 19.17.3), and the
 * guest's clock must come back where it was, so the whole operation is a critical section.
 * Comparisons allow TSC_SLACK ticks: the vCPU may lose its CPU between two instructions. */
#define TSC_SLACK 100000000ull /* 2 s at Bochs's nominal 50 MHz */
void op_tsc_msr(struct fuzz_op *op)
{
    fz_critical_enter();
    uint64_t adjust0 = rdmsr(MSR_TSC_ADJUST);
    switch (fz_below(op, 3)) {
    case 0: {
        uint64_t value = fz_value(op);
        fz_note(op, "wrmsr TSC", value, 0, 0);
        uint64_t t0 = rdtsc();
        fz_expect(op, try_wrmsr(MSR_TSC, value), -1, "WRMSR to the TSC");
        uint64_t t1 = rdtsc(), adjust1 = rdmsr(MSR_TSC_ADJUST);
        fz_expect_value(op, t1 - value < TSC_SLACK, 1, "RDTSC after a TSC write counts on from the value written");
        /* TSC_ADJUST moved by what the write added, within the instructions in between. */
        int64_t moved = (int64_t)(adjust1 - adjust0), added = (int64_t)(value - t0);
        fz_expect_value(op, (uint64_t)(moved - added + (int64_t)TSC_SLACK) < 2 * TSC_SLACK, 1,
                        "a TSC write moves TSC_ADJUST by as much (SDM Vol. 3B 19.17.3)");
        wrmsr(MSR_TSC, t0 + (rdtsc() - value) + 100);
        break;
    }
    case 1: {
        uint64_t value = fz_chance(op, 50) ? fz_value(op) : adjust0 + (uint64_t)(int64_t)(int32_t)fz_next(op);
        fz_note(op, "wrmsr TSC_ADJUST", value, adjust0, 0);
        uint64_t t0 = rdtsc();
        fz_expect(op, try_wrmsr(MSR_TSC_ADJUST, value), -1, "WRMSR to TSC_ADJUST");
        uint64_t t1 = rdtsc();
        int64_t moved = (int64_t)(t1 - t0), added = (int64_t)(value - adjust0);
        fz_expect_value(op, (uint64_t)(moved - added + (int64_t)TSC_SLACK) < 2 * TSC_SLACK, 1,
                        "a TSC_ADJUST write moves the TSC by as much (SDM Vol. 3B 19.17.3)");
        fz_expect_value(op, rdmsr(MSR_TSC_ADJUST), value, "TSC_ADJUST reads back what was written");
        wrmsr(MSR_TSC_ADJUST, adjust0);
        break;
    }
    default: {
        uint64_t v;
        int r = try_rdmsr(MSR_TSC, &v);
        uint64_t t = rdtsc();
        fz_note(op, "rdmsr TSC", v, t, 0);
        fz_expect(op, r, -1, "RDMSR of the TSC");
        fz_expect_value(op, t - v < TSC_SLACK, 1, "RDMSR of the TSC and RDTSC agree");
        break;
    }
    }
    fz_critical_exit();
}
