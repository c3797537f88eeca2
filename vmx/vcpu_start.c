/* SPDX-License-Identifier: BSD-2-Clause */
/* Applying a start state (include/vmx/start_state.h) to a vCPU: the only writer of a starting
 * vCPU's guest-state fields, for the loaders and for RESET, INIT and STARTUP. */
#include "vmx/start_state.h"

#include "arch/x86/cpu.h"
#include "arch/x86/msr.h"
#include "kernel/panic.h"
#include "lib/string.h"
#include "vmx/caps.h"
#include "vmx/guest_walk.h"
#include "vmx/preflight.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs.h"

void vcpu_apply_start_state(struct vcpu *v, const struct vcpu_start_state *s)
{
    /* With "load IA32_EFER", EFER.LMA must equal the "IA-32e mode guest" control (SDM Vol. 3C
     * 28.3.1.1). */
    ASSERT((s->mode == VCPU_START_LONG64) == !!(s->efer & EFER_LMA));
    v->cr0 = s->cr0;
    v->cr4 = s->cr4;
    /* In force: the guest's bits and VMX's fixed ones (NE), except PE and PG, which unrestricted
     * guest lets be 0 (SDM Vol. 3C 26.6.2, A.7); the read shadows show the guest its own. */
    vmcs_writenat(v, VMCS_GUEST_CR0, s->cr0 | (vmx_boot_caps.cr0_fixed0 & ~(CR0_PE | CR0_PG)));
    vmcs_writenat(v, VMCS_CR0_READ_SHADOW, s->cr0);
    vmcs_writenat(v, VMCS_GUEST_CR4, s->cr4 | vmx_boot_caps.cr4_fixed0);
    vmcs_writenat(v, VMCS_CR4_READ_SHADOW, s->cr4);
    vmcs_writenat(v, VMCS_GUEST_CR3, s->cr3);
    vmcs_write64(v, VMCS_GUEST_EFER, s->efer);
    uint32_t entry = vmcs_read32(v, VMCS_ENTRY_CONTROLS) & ~ENTRY_GUEST_64BIT;
    vmcs_write32(v, VMCS_ENTRY_CONTROLS, s->mode == VCPU_START_LONG64 ? entry | ENTRY_GUEST_64BIT : entry);
    for (unsigned i = 0; i < SEG_COUNT; i++)
        guest_set_segment(v, i, &s->seg[i]);
    vmcs_writenat(v, VMCS_GUEST_GDTR_BASE, s->gdtr_base);
    vmcs_write32(v, VMCS_GUEST_GDTR_LIMIT, s->gdtr_limit);
    vmcs_writenat(v, VMCS_GUEST_IDTR_BASE, s->idtr_base);
    vmcs_write32(v, VMCS_GUEST_IDTR_LIMIT, s->idtr_limit);
    vmcs_writenat(v, VMCS_GUEST_RIP, s->rip);
    vmcs_writenat(v, VMCS_GUEST_RSP, s->rsp);
    vmcs_writenat(v, VMCS_GUEST_RFLAGS, s->rflags);
    memcpy(v->regs.gpr, s->gpr, sizeof(v->regs.gpr));
}

void vcpu_set_real_mode(struct vcpu *v, uint16_t cs, uint16_t ip)
{
    struct vcpu_start_state s;
    start_state_real_mode(&s, cs, ip);
    vcpu_apply_start_state(v, &s);
}
