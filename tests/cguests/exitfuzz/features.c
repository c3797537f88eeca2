/* SPDX-License-Identifier: BSD-2-Clause */
/* What the vCPU offers, from CPUID through mhv (fuzz.h), read once by vCPU 0: the legal CR4
 * bits are the ones whose feature CPUID reports (SDM Vol. 3A 2.5; a bit for an absent
 * feature is reserved and raises #GP), the legal XCR0 bits those of leaf 0xd. */
#include "fuzz.h"

struct fz_cpu_features fz_features;

static bool bit(uint32_t reg, unsigned n) { return (reg >> n) & 1; }

void fz_features_read(void)
{
    struct fz_cpu_features *f = &fz_features;
    struct cpuid_regs l1 = cpuid(1, 0), l7 = { 0 }, e1 = { 0 };
    uint32_t max = cpuid(0, 0).eax, emax = cpuid(0x80000000, 0).eax;
    if (max >= 7)
        l7 = cpuid(7, 0);
    if (emax >= 0x80000001)
        e1 = cpuid(0x80000001, 0);
    f->maxphyaddr = emax >= 0x80000008 ? cpuid(0x80000008, 0).eax & 0xff : 36;
    /* CR4 bit: the CPUID bit that offers it (SDM Vol. 3A 2.5, Vol. 2A CPUID). */
    struct { unsigned cr4_bit; bool offered; } bits[] = {
        { 0, bit(l1.edx, 1) },   /* VME */
        { 1, bit(l1.edx, 1) },   /* PVI */
        { 2, bit(l1.edx, 4) },   /* TSD */
        { 3, bit(l1.edx, 2) },   /* DE */
        { 4, bit(l1.edx, 3) },   /* PSE */
        { 5, bit(l1.edx, 6) },   /* PAE */
        { 6, bit(l1.edx, 7) },   /* MCE */
        { 7, bit(l1.edx, 13) },  /* PGE */
        { 8, true },             /* PCE */
        { 9, bit(l1.edx, 24) },  /* OSFXSR */
        { 10, bit(l1.edx, 25) }, /* OSXMMEXCPT */
        { 11, bit(l7.ecx, 2) },  /* UMIP */
        { 12, bit(l7.ecx, 16) }, /* LA57 */
        { 16, bit(l7.ebx, 0) },  /* FSGSBASE */
        { 17, bit(l1.ecx, 17) }, /* PCIDE */
        { 18, bit(l1.ecx, 26) }, /* OSXSAVE */
        { 19, bit(l7.ecx, 23) }, /* KL */
        { 20, bit(l7.ebx, 7) },  /* SMEP */
        { 21, bit(l7.ebx, 20) }, /* SMAP */
        { 22, bit(l7.ecx, 3) },  /* PKE */
        { 23, bit(l7.ecx, 7) },  /* CET */
        { 24, bit(l7.ecx, 31) }, /* PKS */
    };
    f->cr4_legal = 0;
    for (unsigned i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
        if (bits[i].offered)
            f->cr4_legal |= 1ull << bits[i].cr4_bit;
    /* VMXE and SMXE: VMX and SMX are hidden from guests (README "What every VM has"). */
    f->xsave = bit(l1.ecx, 26);
    if (f->xsave) {
        struct cpuid_regs d = cpuid(0xd, 0);
        f->xcr0_supported = ((uint64_t)d.edx << 32) | d.eax;
    }
    f->x2apic = bit(l1.ecx, 21);
    f->tsc_deadline = bit(l1.ecx, 24);
    f->pcid = bit(l1.ecx, 17);
    f->rdrand = bit(l1.ecx, 30);
    f->rdseed = bit(l7.ebx, 18);
    f->invpcid = bit(l7.ebx, 10);
    f->fsgsbase = bit(l7.ebx, 0);
    f->rdpid = bit(l7.ecx, 22);
    f->rdtscp = bit(e1.edx, 27);
}
