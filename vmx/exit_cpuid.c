/* SPDX-License-Identifier: BSD-2-Clause */
/* CPUID exits (unconditional in VMX non-root operation, SDM Vol. 3C 26.1.2): the host's values,
 * filtered to what mhv virtualizes, plus mhv's own leaves at 0x40000000. */
#include "arch/x86/cpu.h"
#include "arch/x86/tsc.h"
#include "vmx/caps.h"
#include "vmx/preflight.h"
#include "devices/vlapic.h"
#include "vm/vm.h"
#include "vmx/exit.h"
#include "vmx/inject.h"
#include "vmx/vcpu.h"

/* Leaf 0x40000000 signature "mhvmhvmhvmhv" in EBX, ECX, EDX (little-endian ASCII). */
#define HV_SIGNATURE_EBX 0x6d76686d /* "mhvm" */
#define HV_SIGNATURE_ECX 0x686d7668 /* "hvmh" */
#define HV_SIGNATURE_EDX 0x76686d76 /* "vmhv" */

#define FILTERED_BASIC_LEAVES ((1u << 0) | (1u << 1) | (1u << 5) | (1u << 6) | (1u << 7) | (1u << 0xa) | (1u << 0xb) | \
                               (1u << 0xd) | (1u << 0x12) | (1u << 0x14) | (1u << 0x15) | (1u << 0x1f))
#define TSC_LEAF 0x15

/* A feature whose CR4 enable bit VMX does not let a guest set (IA32_VMX_CR4_FIXED1, SDM Vol. 3D
 * A.8) must not be offered: the guest would set the bit and get #GP from mhv. */
static void hide_features_cr4_forbids(struct cpuid_regs *r)
{
    static const struct { uint8_t cr4_bit; uint8_t reg; uint8_t bit; } features[] = {
        { 11, 2, 2 },  /* UMIP: ECX 2 */
        { 12, 2, 16 }, /* LA57: ECX 16 */
        { 22, 2, 3 },  /* PKE: ECX 3 (and OSPKE 4) */
        { 23, 2, 7 },  /* CET shadow stacks: ECX 7 */
        { 23, 3, 20 }, /* CET indirect branch tracking: EDX 20 */
        { 24, 2, 31 }, /* PKS: ECX 31 */
        { 16, 1, 0 },  /* FSGSBASE: EBX 0 */
        { 20, 1, 7 },  /* SMEP: EBX 7 */
        { 21, 1, 20 }, /* SMAP: EBX 20 */
    };
    for (unsigned i = 0; i < sizeof(features) / sizeof(features[0]); i++) {
        if (vmx_boot_caps.cr4_fixed1 & (1ull << features[i].cr4_bit))
            continue;
        uint32_t *reg = features[i].reg == 1 ? &r->ebx : features[i].reg == 2 ? &r->ecx : &r->edx;
        *reg &= ~(1u << features[i].bit);
        if (features[i].cr4_bit == 22)
            r->ecx &= ~(1u << 4);
    }
}

/* Bytes of the XSAVE area (standard format) for the components enabled in xcr0: the end of
 * the highest one (CPUID 0xd sub-leaf i gives size in EAX and offset in EBX; SDM Vol. 1 13.4.3). */
static uint32_t xsave_size_for(uint64_t xcr0)
{
    uint32_t end = 576; /* legacy area and XSAVE header */
    for (unsigned i = 2; i < 64; i++) {
        if (!(xcr0 >> i & 1))
            continue;
        struct cpuid_regs c = cpuid(0xd, i);
        if (c.ebx + c.eax > end)
            end = c.ebx + c.eax;
    }
    return end;
}

/* Bytes of the compacted-format XSAVE area (XSAVEC) for the components enabled in xcr0 (SDM
 * Vol. 1 13.4.3): after the legacy area and header, each enabled component i >= 2 follows the
 * previous one, its offset rounded up to 64 where CPUID 0xd.i ECX[1] says it is aligned. */
static uint32_t xsave_compacted_size_for(uint64_t xcr0)
{
    uint32_t end = 576;
    for (unsigned i = 2; i < 64; i++) {
        if (!(xcr0 >> i & 1))
            continue;
        struct cpuid_regs c = cpuid(0xd, i);
        if (c.ecx & 2)
            end = (end + 63) & ~63u;
        end += c.eax;
    }
    return end;
}

static uint32_t host_max_basic_leaf(void)
{
    static uint32_t max;
    if (!max)
        max = cpuid(0, 0).eax;
    return max;
}

/* Leaf 0 needs filtering only where the host's highest basic leaf is below 0x15 (the TSC
 * leaf mhv always offers); most CPUs, Bochs's model among them, have it. Leaves above the
 * host's highest take the long way too: the CPU would answer them with its highest leaf's
 * data, which is not what a guest may see (handle_cpuid_filtered). */
static uint32_t filtered_basic_leaves(void)
{
    static uint32_t mask;
    if (!mask) {
        uint32_t max = host_max_basic_leaf(), above = max >= 31 ? 0 : ~0u << (max + 1);
        mask = (FILTERED_BASIC_LEAVES & ~(max >= TSC_LEAF ? 1u : 0u)) | above;
    }
    return mask;
}

void vcpu_cpuid_view_changed(struct vcpu *v)
{
    /* Limit-CPUID-maxval (IA32_MISC_ENABLE[22]) changes leaf 0 (SDM Vol. 4 table 2-2). */
    v->cpuid_filtered = filtered_basic_leaves() | (v->misc_enable & MISC_ENABLE_LIMIT_CPUID ? 1u : 0u);
}

/* Out of line, registers by value: the leaves that need no filtering (most) pay for neither
 * its register pressure nor a trip through memory. */
__attribute__((noinline)) static struct cpuid_regs filter(struct vcpu *v, uint32_t leaf, uint32_t sub, struct cpuid_regs regs)
{
    struct cpuid_regs *r = &regs;
    unsigned count = v->vm->vcpu_count, shift = 0;
    while ((1u << shift) < count)
        shift++;
    if (leaf && leaf <= 0x1f && leaf > host_max_basic_leaf() && leaf != TSC_LEAF) {
        /* Beyond the host's basic leaves but within the guest's (leaf 0x15 is offered): the
         * CPU would answer with its highest leaf's data; a guest must see nothing there. */
        return (struct cpuid_regs){ 0 };
    }
    switch (leaf) {
    case 0:
        if (r->eax < TSC_LEAF)
            r->eax = TSC_LEAF;
        if (v->misc_enable & MISC_ENABLE_LIMIT_CPUID)
            r->eax = 2; /* IA32_MISC_ENABLE[22]: leaf 0 reports 2 as the highest basic leaf */
        break;
    case 1:
        /* Hidden: VMX (5), SMX (6), MONITOR (3), DTES64 (2), DS-CPL (4), EST (7), TM2 (8), PDCM (15):
         * no virtual version. Set: x2APIC (21) and TSC-deadline (24), which the virtual local
         * APIC provides (devices/vlapic*.c), hypervisor (31). OSXSAVE follows the guest's CR4. APIC ID
         * in EBX[31:24], the VM's vCPU count in EBX[23:16] with HTT. */
        r->ecx &= ~((1u << 2) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 7) | (1u << 8) |
                    (1u << 15) | (1u << 27));
        r->ecx |= (1u << 21) | (1u << 24) | (1u << 31) | (v->cr4 & CR4_OSXSAVE ? 1u << 27 : 0);
        r->edx &= ~((1u << 21) | (1u << 22) | (1u << 29) | (1u << 31)); /* DS, ACPI thermal, TM, PBE */
        r->edx = vlapic_hw_enabled(v->lapic) ? r->edx | (1u << 9) : r->edx & ~(1u << 9); /* APIC, while enabled (SDM Vol. 3A 12.4.3) */
        r->edx = count > 1 ? r->edx | (1u << 28) : r->edx & ~(1u << 28);
        r->ebx = (r->ebx & 0x0000ffff) | (v->id << 24) | ((1u << shift) << 16);
        break;
    case 5: case 6: case 0xa: case 0x12: case 0x14:
        /* MONITOR/MWAIT (hidden in leaf 1), power management, PMU, SGX, processor trace */
        r->eax = r->ebx = r->ecx = r->edx = 0;
        break;
    case 7:
        if (sub == 0) {
            /* SGX (2), HLE (4), INVPCID (10), RTM (11), PQM (12), MPX (14), PQE (15), PT (25);
             * WAITPKG (ECX 5), SGX-LC (ECX 30); the speculation-control MSRs (EDX 26-31).
             * TSC_ADJUST (EBX 1) stays: vmx/exit_msr.c emulates the MSR, and with an invariant
             * TSC it tells Linux the TSC needs no clocksource watchdog. */
            r->ebx &= ~((1u << 2) | (1u << 4) | (1u << 10) | (1u << 11) | (1u << 12) | (1u << 14) |
                        (1u << 15) | (1u << 25));
            r->ecx &= ~((1u << 5) | (1u << 30) | (vcpu_rdtscp() ? 0 : 1u << 22)); /* RDPID needs "enable RDTSCP" */
            r->edx &= ~(0x3fu << 26);
            hide_features_cr4_forbids(r);
        }
        break;
    case 0xb: case 0x1f:
        /* Topology (SDM Vol. 2A CPUID leaf 0BH): every vCPU a core of one package, no SMT. */
        if (sub == 0)
            *r = (struct cpuid_regs){ 0, 1, (1u << 8) | sub, 0 };          /* SMT level: 1 thread */
        else if (sub == 1)
            *r = (struct cpuid_regs){ shift, count, (2u << 8) | sub, 0 }; /* core level */
        else
            *r = (struct cpuid_regs){ 0, 0, sub, 0 };
        r->edx = v->id; /* x2APIC ID */
        break;
    case TSC_LEAF:
        /* TSC = crystal * EBX / EAX (SDM Vol. 2A CPUID leaf 15H): the crystal is the TSC itself,
         * and the local APIC timer counts at that rate too, so Linux calibrates neither. */
        *r = (struct cpuid_regs){ 1, 1, (uint32_t)tsc_hz, 0 };
        break;
    case 0xd:
        if (sub == 0)
            r->ebx = xsave_size_for(v->xcr0); /* the CPU answered for mhv's XCR0, not the guest's */
        if (sub == 1) {
            /* XSAVES: not enabled, so the guest's IA32_XSS is 0. EBX is the size of the
             * compacted area for XCR0 | IA32_XSS (SDM Vol. 2A CPUID leaf 0DH, sub-leaf 1), which
             * Linux (6.1, XSAVEC without XSAVES) sizes its XSAVEC buffers by and checks against
             * its own sum of the sub-leaves: it must be computed for the guest's XCR0, not
             * passed through (Bochs answers with the standard-format size, so Linux warned
             * "XSAVE consistency problem" and fell back to FXSAVE without AVX). */
            r->eax &= ~(1u << 3);
            r->ebx = xsave_compacted_size_for(v->xcr0);
        }
        break;
    case 0x80000001:
        if (!vcpu_rdtscp())
            r->edx &= ~(1u << 27); /* RDTSCP: not enabled */
        if (v->misc_enable & MISC_ENABLE_XD_DISABLE)
            r->edx &= ~(1u << 20); /* NX, turned off by IA32_MISC_ENABLE[34] */
        break;
    default:
        break;
    }
    return regs;
}

/* A leaf above the highest basic or extended one answers with the highest basic leaf's data
 * (SDM Vol. 2A CPUID: "If a value entered for CPUID.EAX is higher than the maximum input value
 * for basic or extended function ..."). mhv's own range 0x40000000-0x400000ff answers itself.
 * The common case, a basic leaf in range, costs one comparison. */
static uint32_t leaf_answered(uint32_t leaf)
{
    static uint32_t max_basic, max_extended;
    if (__builtin_expect(leaf <= max_basic, 1))
        return leaf;
    if (!max_basic) {
        max_basic = host_max_basic_leaf() > TSC_LEAF ? host_max_basic_leaf() : TSC_LEAF;
        max_extended = cpuid(0x80000000, 0).eax;
        if (leaf <= max_basic)
            return leaf;
    }
    if (leaf >= 0x80000000u)
        return leaf > max_extended ? max_basic : leaf;
    if (leaf >= 0x40000000u && leaf <= 0x400000ffu)
        return leaf;
    return max_basic;
}

/* Every leaf but the basic ones that pass unchanged: mhv's own, the filtered ones, those
 * above the highest. Out of line: the common leaves pay for none of it. */
__attribute__((noinline)) static enum exit_action handle_cpuid_filtered(struct vcpu *v)
{
    uint32_t leaf = leaf_answered((uint32_t)v->regs.gpr[GPR_RAX]), sub = (uint32_t)v->regs.gpr[GPR_RCX];
    struct cpuid_regs r;
    if (leaf >= 0x40000000 && leaf <= 0x400000ff) {
        r = (struct cpuid_regs){ 0 };
        if (leaf == 0x40000010) {
            /* TSC and local APIC bus rates in kHz (the leaf VMware and KVM use), so guests
             * need not calibrate. */
            r.eax = (uint32_t)(tsc_hz / 1000);
            r.ebx = (uint32_t)(tsc_hz / 1000); /* the virtual APIC timer counts at the TSC rate */
        }
        if (leaf == 0x40000000) {
            r.eax = 0x40000010; /* highest hypervisor leaf */
            r.ebx = HV_SIGNATURE_EBX;
            r.ecx = HV_SIGNATURE_ECX;
            r.edx = HV_SIGNATURE_EDX;
        }
    } else if (leaf <= 0x1f ? (v->cpuid_filtered >> leaf) & 1 : leaf == 0x80000001) {
        r = filter(v, leaf, sub, cpuid(leaf, sub));
    } else {
        /* The extended leaves but 0x80000001, or the basic one answering for a leaf above
         * them: unchanged, as in handle_cpuid. */
        uint64_t *g = v->regs.gpr;
        __asm__ volatile("cpuid" : "=a"(g[GPR_RAX]), "=b"(g[GPR_RBX]), "=c"(g[GPR_RCX]), "=d"(g[GPR_RDX])
                         : "a"(leaf), "c"(sub));
        skip_instruction(v);
        return EXIT_RESUME;
    }
    v->regs.gpr[GPR_RAX] = r.eax;
    v->regs.gpr[GPR_RBX] = r.ebx;
    v->regs.gpr[GPR_RCX] = r.ecx;
    v->regs.gpr[GPR_RDX] = r.edx;
    skip_instruction(v);
    return EXIT_RESUME;
}

enum exit_action handle_cpuid(struct vcpu *v)
{
    /* Most basic leaves pass unchanged: one bit test decides (leaves 0, 1, 6, 7, 0xa, 0xb, 0xd,
     * 0x12, 0x14, 0x15, 0x1f and those above the host's highest are filtered). CPUID goes
     * into 64-bit registers: in 64-bit mode it zero-extends its outputs, so they go straight
     * into the guest's registers. */
    uint64_t *g = v->regs.gpr;
    uint32_t leaf = (uint32_t)g[GPR_RAX];
    if (__builtin_expect(leaf > 0x1f || ((v->cpuid_filtered >> leaf) & 1), 0))
        return handle_cpuid_filtered(v);
    __asm__ volatile("cpuid" : "=a"(g[GPR_RAX]), "=b"(g[GPR_RBX]), "=c"(g[GPR_RCX]), "=d"(g[GPR_RDX])
                     : "a"(leaf), "c"((uint32_t)g[GPR_RCX]));
    skip_instruction(v);
    return EXIT_RESUME;
}
