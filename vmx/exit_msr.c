/* SPDX-License-Identifier: BSD-2-Clause */
/* RDMSR/WRMSR exits (SDM Vol. 3C 26.1.3; MSR bitmaps 26.6.9). mhv passes through the MSRs the
 * VMCS or the lazy switch in vcpu_load already keeps per vCPU, emulates a deliberate set, and
 * injects #GP for everything else, for reserved bits and for bad values. */
#include "arch/x86/cpu.h"
#include "arch/x86/msr.h"
#include "kernel/page_alloc.h"
#include "devices/vlapic.h"
#include "vm/vm.h"
#include "vmx/exit.h"
#include "vmx/inject.h"
#include "vmx/segment.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs.h"

#define MSR_TSC 0x010
#define MSR_PLATFORM_ID 0x017
#define MSR_TSC_ADJUST 0x03b
#define MSR_BIOS_SIGN_ID 0x08b
#define MSR_MTRRCAP 0x0fe
#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_EIP 0x176
#define MSR_MCG_CAP 0x179
#define MSR_MCG_STATUS 0x17a
#define MSR_MISC_ENABLE 0x1a0
#define MSR_MTRR_DEF_TYPE 0x2ff


/* Clears the read intercept of one MSR, and its write intercept unless writes must exit
 * (bitmap layout: SDM Vol. 3C 26.6.9: read bitmaps at 0 and 1024, write bitmaps at 2048 and
 * 3072, for MSRs 0-0x1fff and 0xc0000000-0xc0001fff). */
static void pass_through_access(struct vm *vm, uint32_t msr, bool writes_too)
{
    uint8_t *bitmap = phys_to_virt(vm->msr_bitmap);
    uint32_t index = msr & 0x1fff, high = msr >= 0xc0000000 ? 1024 : 0;
    bitmap[high + index / 8] &= ~(1u << (index % 8));
    if (writes_too)
        bitmap[2048 + high + index / 8] &= ~(1u << (index % 8));
}

static void pass_through(struct vm *vm, uint32_t msr)
{
    pass_through_access(vm, msr, true);
}

void msr_setup_bitmap(struct vm *vm)
{
    /* In the VMCS guest-state area: SYSENTER_CS/ESP/EIP, FS and GS base. Switched lazily by
     * vcpu_load: KERNEL_GS_BASE, STAR, LSTAR, CSTAR, SFMASK, TSC_AUX. The CPU checks canonical
     * values and reserved bits itself and raises #GP in the guest, except where writes exit:
     * STAR, LSTAR, CSTAR, SFMASK and TSC_AUX, which a guest writes once at boot, so that
     * vcpu_load always finds their values in memory (lazy_msr_write below); reading them
     * needs no exit. KERNEL_GS_BASE cannot be kept that way: SWAPGS changes it. */
    for (uint32_t m = MSR_SYSENTER_CS; m <= MSR_SYSENTER_EIP; m++)
        pass_through(vm, m);
    for (uint32_t m = MSR_STAR; m <= MSR_SFMASK; m++)
        pass_through_access(vm, m, false);
    pass_through(vm, MSR_FS_BASE);
    pass_through(vm, MSR_GS_BASE);
    pass_through(vm, MSR_KERNEL_GS_BASE);
    if (vcpu_rdtscp())
        pass_through_access(vm, MSR_TSC_AUX, false); /* switched lazily too; RDTSCP and RDPID read it */
}

static bool valid_pat(uint64_t pat)
{
    for (int i = 0; i < 8; i++) {
        uint8_t t = (pat >> (8 * i)) & 0xff;
        if (t == 2 || t == 3 || t > 7) /* memory types 2 and 3 are reserved (SDM Vol. 3A 13.12.2) */
            return false;
    }
    return true;
}

/* Addresses written to MSRs must be 57-bit canonical on a CPU that supports 5-level paging
 * (CPUID.(EAX=7,ECX=0):ECX.LA57[16]), whatever CR4.LA57 says, else 48-bit canonical (SDM
 * Vol. 3A chapter 4, 5-level paging, and the LAM chapter that restates it). */
static unsigned msr_va_bits(void)
{
    static unsigned bits;
    if (!bits)
        bits = cpuid(7, 0).ecx & (1u << 16) ? 57 : 48;
    return bits;
}

/* WRMSR to the MSRs vcpu_load switches from memory (SDM Vol. 4 table 2-2, WRMSR's #GP(0)
 * conditions in Vol. 2D): IA32_STAR takes any value (bits 31:0, reserved in Intel's table,
 * are taken as CPUs take them: they are the 32-bit SYSCALL target of other vendors);
 * IA32_LSTAR and IA32_CSTAR only canonical addresses; IA32_FMASK and IA32_TSC_AUX have bits
 * 63:32 reserved. */
static __attribute__((noinline)) bool lazy_msr_write(struct vcpu *v, uint32_t msr, uint64_t value)
{
    switch (msr) {
    case MSR_LSTAR:
    case MSR_CSTAR:
        if (!linear_is_canonical(value, msr_va_bits()))
            return false;
        break;
    case MSR_SFMASK:
        if (value >> 32)
            return false;
        break;
    case MSR_TSC_AUX:
        if (!vcpu_rdtscp() || value >> 32)
            return false; /* without RDTSCP for guests, TSC_AUX is no guest's MSR */
        break;
    default:
        break;
    }
    vcpu_write_lazy_msr(v, msr, value);
    return true;
}

static bool read_msr(struct vcpu *v, uint32_t msr, uint64_t *value)
{
    switch (msr) {
    case MSR_IA32_EFER: *value = vmcs_read64(v, VMCS_GUEST_EFER); return true;
    case MSR_IA32_PAT: *value = vmcs_read64(v, VMCS_GUEST_PAT); return true;
    case MSR_TSC: *value = rdtsc() + vmcs_read64(v, VMCS_TSC_OFFSET); return true;
    case MSR_TSC_ADJUST: *value = (uint64_t)v->tsc_adjust; return true;
    case MSR_MTRRCAP: *value = 1u << 10; return true;  /* write-combining, no variable ranges */
    case MSR_MTRR_DEF_TYPE: *value = v->mtrr_def_type; return true;
    case MSR_MISC_ENABLE: *value = v->misc_enable; return true;
    case MSR_IA32_FEATURE_CONTROL: *value = 1; return true; /* locked, VMX off: VMX is not for guests */
    case MSR_PLATFORM_ID: case MSR_BIOS_SIGN_ID: case MSR_MCG_CAP: case MSR_MCG_STATUS: *value = 0; return true;
    default: return vlapic_msr_read(v, msr, value); /* IA32_APIC_BASE, TSC deadline, x2APIC */
    }
}

static bool write_msr(struct vcpu *v, uint32_t msr, uint64_t value)
{
    /* The x2APIC registers (EOI, ICR, TPR) are the writes a guest makes most: straight to the
     * vLAPIC, not through the search of the cases below. */
    if (msr - MSR_X2APIC_FIRST < 0x100)
        return vlapic_msr_write(v, msr, value);
    switch (msr) {
    case MSR_IA32_EFER: {
        /* SCE, LME, NXE may be written; LMA is the CPU's (kept); LME may not change under
         * paging (SDM Vol. 3A 10.8.5). */
        uint64_t old = vmcs_read64(v, VMCS_GUEST_EFER);
        bool nx = (cpuid(0x80000001, 0).edx & (1u << 20)) && !(v->misc_enable & MISC_ENABLE_XD_DISABLE);
        if (value & ~(EFER_SCE | EFER_LME | EFER_LMA | (nx ? EFER_NXE : 0)))
            return false;
        if ((v->cr0 & CR0_PG) && ((value ^ old) & EFER_LME))
            return false;
        vmcs_write64(v, VMCS_GUEST_EFER, (value & ~EFER_LMA) | (old & EFER_LMA));
        return true;
    }
    case MSR_IA32_PAT:
        if (!valid_pat(value))
            return false;
        vmcs_write64(v, VMCS_GUEST_PAT, value);
        return true;
    case MSR_TSC: {
        /* A TSC write moves IA32_TSC_ADJUST by the same amount (SDM Vol. 3B 19.17.3). */
        int64_t offset = (int64_t)(value - rdtsc());
        v->tsc_adjust += offset - v->tsc_offset;
        v->tsc_offset = offset;
        vmcs_write64(v, VMCS_TSC_OFFSET, (uint64_t)offset);
        return true;
    }
    case MSR_TSC_ADJUST:
        v->tsc_offset += (int64_t)value - v->tsc_adjust;
        v->tsc_adjust = (int64_t)value;
        vmcs_write64(v, VMCS_TSC_OFFSET, (uint64_t)v->tsc_offset);
        return true;
    case MSR_MTRR_DEF_TYPE: {
        uint64_t type = value & 0xff;
        if ((value & ~0xcffull) || type == 2 || type == 3 || type > 6)
            return false;
        v->mtrr_def_type = value;
        return true;
    }
    case MSR_MISC_ENABLE: {
        /* IA32_MISC_ENABLE (SDM Vol. 4 table 2-2): fast strings (0), TCC (3), EIST (16), MONITOR
         * FSM (18), limit CPUID maxval (22), xTPR disable (23) and XD disable (34) are the
         * guest's; performance monitoring (7) and BTS/PEBS unavailable (11, 12) are read-only
         * (what is written there is ignored); any other bit raises #GP. Limit-CPUID and
         * XD-disable change what CPUID reports (vmx/exit_cpuid.c); MONITOR/MWAIT stay hidden
         * whatever bit 18 says. */
        uint64_t writable = MISC_ENABLE_WRITABLE, read_only = (1u << 7) | (1u << 11) | (1u << 12);
        if (value & ~(writable | read_only))
            return false;
        v->misc_enable = (v->misc_enable & read_only) | (value & writable);
        vcpu_cpuid_view_changed(v);
        return true;
    }
    case MSR_BIOS_SIGN_ID:
        return true; /* accepted and ignored: there is no microcode to update */
    case MSR_MCG_STATUS:
        return value == 0;
    case MSR_STAR:
    case MSR_LSTAR:
    case MSR_CSTAR:
    case MSR_SFMASK:
    case MSR_TSC_AUX:
        return lazy_msr_write(v, msr, value);
    default:
        return vlapic_msr_write(v, msr, value);
    }
}

enum exit_action handle_rdmsr(struct vcpu *v)
{
    uint64_t value;
    if (!read_msr(v, (uint32_t)v->regs.gpr[GPR_RCX], &value)) {
        inject_gp(v);
        return EXIT_RESUME;
    }
    v->regs.gpr[GPR_RAX] = (uint32_t)value;
    v->regs.gpr[GPR_RDX] = value >> 32;
    skip_instruction(v);
    return EXIT_RESUME;
}

enum exit_action handle_wrmsr(struct vcpu *v)
{
    uint64_t value = (v->regs.gpr[GPR_RDX] << 32) | (uint32_t)v->regs.gpr[GPR_RAX];
    if (!write_msr(v, (uint32_t)v->regs.gpr[GPR_RCX], value)) {
        inject_gp(v);
        return EXIT_RESUME;
    }
    skip_instruction(v);
    return EXIT_RESUME;
}
