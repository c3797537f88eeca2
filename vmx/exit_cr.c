/* SPDX-License-Identifier: BSD-2-Clause */
/* Control-register access exits (SDM Vol. 3C 29.2.1 table 29-3, decoded in vmx/exit_qual.h): writes to the CR0/CR4 bits
 * mhv owns, and CR8. The guest sees its own values through the read shadows; the VMCS holds
 * what is in force (VMX fixed bits added). EFER.LMA and the "IA-32e mode guest" entry control
 * follow CR0.PG (SDM Vol. 3A 10.8.5). CR8 is the local APIC's TPR[7:4]: it exits only without
 * a TPR shadow (with one, the CPU reads and writes the virtual-APIC page itself, SDM Vol. 3C
 * 31.3), and both ways it is the vLAPIC's one TPR (devices/vlapic_regs.c). */
#include "arch/x86/cpu.h"
#include "arch/x86/msr.h"
#include "devices/vlapic.h"
#include "vm/vm.h"
#include "vmx/caps.h"
#include "vmx/exit.h"
#include "vmx/inject.h"
#include "vmx/preflight.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs.h"

#define CS_LONG (1u << 13)

static uint64_t gpr_get(struct vcpu *v, unsigned r)
{
    return r == GPR_RSP ? vmcs_readnat(v, VMCS_GUEST_RSP) : v->regs.gpr[r];
}

static void gpr_set(struct vcpu *v, unsigned r, uint64_t value)
{
    if (r == GPR_RSP)
        vmcs_writenat(v, VMCS_GUEST_RSP, value);
    else
        v->regs.gpr[r] = value;
}

/* PAE paging outside long mode takes its PDPTEs from the VMCS at entry (SDM Vol. 3C 28.3.2.4). */
static void load_pdptes(struct vcpu *v)
{
    uint64_t cr3 = vmcs_readnat(v, VMCS_GUEST_CR3) & ~0x1full, pdpte[4] = { 0 };
    vm_read_gpa(v->vm, cr3, pdpte, sizeof(pdpte));
    for (int i = 0; i < 4; i++)
        vmcs_write_checked(v, VMCS_GUEST_PDPTE0 + 2 * i, pdpte[i]);
}

static void set_long_mode(struct vcpu *v, bool on)
{
    uint64_t efer = vmcs_read64(v, VMCS_GUEST_EFER);
    uint32_t entry = vmcs_read32(v, VMCS_ENTRY_CONTROLS);
    vmcs_write64(v, VMCS_GUEST_EFER, on ? efer | EFER_LMA : efer & ~EFER_LMA);
    vmcs_write32(v, VMCS_ENTRY_CONTROLS, on ? entry | ENTRY_GUEST_64BIT : entry & ~ENTRY_GUEST_64BIT);
}

/* Returns false when the value must raise #GP (SDM Vol. 3A 2.5 and the MOV CR instruction). */
static bool guest_write_cr0(struct vcpu *v, uint64_t value)
{
    uint64_t efer = vmcs_read64(v, VMCS_GUEST_EFER);
    if ((value >> 32) || ((value & CR0_PG) && !(value & CR0_PE)) || ((value & CR0_NW) && !(value & CR0_CD)))
        return false;
    bool paging_on = (value & CR0_PG) && !(v->cr0 & CR0_PG), paging_off = !(value & CR0_PG) && (v->cr0 & CR0_PG);
    if (paging_on && (efer & EFER_LME)) {
        if (!(v->cr4 & CR4_PAE))
            return false;
        set_long_mode(v, true);
    }
    if (paging_off && (efer & EFER_LMA)) {
        if (vmcs_read32(v, VMCS_GUEST_CS_ACCESS) & CS_LONG)
            return false; /* cannot leave long mode from 64-bit code */
        set_long_mode(v, false);
    }
    /* Reserved bits in CR0[31:0] are ignored, not faulted (SDM Vol. 3A 2.5): they read as 0. */
    v->cr0 = (value & CR0_DEFINED) | CR0_ET;
    /* In force: the guest's bits, VMX's fixed ones (NE), but never CD/NW: caching stays on and
     * EPT's write-back type decides. PE and PG may be 0 with unrestricted guest. */
    uint64_t actual = (v->cr0 | vmx_boot_caps.cr0_fixed0) & ~(CR0_CD | CR0_NW);
    actual = (actual & ~(CR0_PE | CR0_PG)) | (v->cr0 & (CR0_PE | CR0_PG));
    vmcs_writenat(v, VMCS_GUEST_CR0, actual);
    vmcs_writenat(v, VMCS_CR0_READ_SHADOW, v->cr0);
    if ((v->cr0 & CR0_PG) && (v->cr4 & CR4_PAE) && !(efer & EFER_LME))
        load_pdptes(v);
    return true;
}

static bool guest_write_cr4(struct vcpu *v, uint64_t value)
{
    /* VMXE and SMXE are never offered to guests (CPUID hides VMX and SMX). */
    uint64_t allowed = vmx_boot_caps.cr4_fixed1 & ~(CR4_VMXE | CR4_SMXE);
    uint64_t efer = vmcs_read64(v, VMCS_GUEST_EFER);
    if (value & ~allowed)
        return false;
    if ((efer & EFER_LMA) && !(value & CR4_PAE))
        return false;
    /* Turning PCIDE on needs long mode and a CR3 with PCID 0 (SDM Vol. 3A 4.10.1); keeping it
     * on while other bits change (PGE toggles flush global TLB entries) is always allowed. */
    if ((value & CR4_PCIDE) && !(v->cr4 & CR4_PCIDE) &&
        (!(efer & EFER_LMA) || (vmcs_readnat(v, VMCS_GUEST_CR3) & 0xfff)))
        return false;
    v->cr4 = value;
    vmcs_writenat(v, VMCS_GUEST_CR4, value | vmx_boot_caps.cr4_fixed0);
    vmcs_writenat(v, VMCS_CR4_READ_SHADOW, value);
    if ((v->cr0 & CR0_PG) && (value & CR4_PAE) && !(efer & EFER_LME))
        load_pdptes(v);
    return true;
}

enum exit_action handle_cr_access(struct vcpu *v)
{
    struct exit_qual_cr q = exit_qual_cr(v->exit.qualification);
    bool ok = true;
    if (q.type == CR_MOV_TO) {
        uint64_t value = gpr_get(v, q.gpr);
        if (q.cr == 0)
            ok = guest_write_cr0(v, value);
        else if (q.cr == 4)
            ok = guest_write_cr4(v, value);
        else if (q.cr == 8 && !(value >> 4))
            vlapic_set_cr8(v->lapic, value);
        else
            ok = false;
    } else if (q.type == CR_MOV_FROM && q.cr == 8) {
        gpr_set(v, q.gpr, vlapic_get_cr8(v->lapic));
    } else if (q.type == CR_LMSW) { /* CR0 bits 3:0; it can set PE but never clear it */
        ok = guest_write_cr0(v, (v->cr0 & ~0xeull) | (q.lmsw_source & 0xf) | (v->cr0 & CR0_PE));
    } else {
        return exit_stop_vm(v, "control-register access mhv does not intercept");
    }
    if (!ok) {
        inject_gp(v);
        return EXIT_RESUME;
    }
    skip_instruction(v);
    return EXIT_RESUME;
}
