/* SPDX-License-Identifier: BSD-2-Clause */
/* Diagnosing failed VM entries (SDM Vol. 3C 28.1-28.3): VMfail with its VM-instruction error as
 * text, and "invalid guest state" exits checked field by field (vmx/guest_check.c). */
#include "kernel/log.h"
#include "kernel/options.h"
#include "lib/string.h"
#include "vm/vm.h"
#include "vmx/caps.h"
#include "vmx/exit.h"
#include "vmx/guest_check.h"
#include "vmx/preflight.h"
#include "vmx/run.h"
#include "vmx/vcpu.h"
#include "vmx/vm_error.h"
#include "vmx/vmcs.h"
#include "arch/x86/cpu.h"

void vmx_report_entry_failure(struct vcpu *v, int rc)
{
    if (rc == 1) {
        vm_stop(v->vm, STOP_CRASH, 253, "VM entry failed: VMfailInvalid (no valid current VMCS) on vCPU %u", v->id);
        return;
    }
    uint32_t error = vmcs_read32(v, VMCS_INSTRUCTION_ERROR);
    vm_stop(v->vm, STOP_CRASH, 253, "VM entry failed on vCPU %u: VM-instruction error %u: %s", v->id, error,
            vmx_instruction_error_text(error));
}

static void read_guest_state(struct vcpu *v, struct vmx_guest_state *g)
{
    g->cr0 = vmcs_readnat(v, VMCS_GUEST_CR0);
    g->cr3 = vmcs_readnat(v, VMCS_GUEST_CR3);
    g->cr4 = vmcs_readnat(v, VMCS_GUEST_CR4);
    g->dr7 = vmcs_readnat(v, VMCS_GUEST_DR7);
    g->rsp = vmcs_readnat(v, VMCS_GUEST_RSP);
    g->rip = vmcs_readnat(v, VMCS_GUEST_RIP);
    g->rflags = vmcs_readnat(v, VMCS_GUEST_RFLAGS);
    g->debugctl = vmcs_read64(v, VMCS_GUEST_DEBUGCTL);
    g->pat = vmcs_read64(v, VMCS_GUEST_PAT);
    g->efer = vmcs_read64(v, VMCS_GUEST_EFER);
    g->sysenter_esp = vmcs_readnat(v, VMCS_GUEST_SYSENTER_ESP);
    g->sysenter_eip = vmcs_readnat(v, VMCS_GUEST_SYSENTER_EIP);
    for (unsigned i = 0; i < SEG_COUNT; i++) {
        g->seg[i].selector = (uint16_t)vmcs_read_checked(v, VMCS_GUEST_ES_SELECTOR + 2 * i);
        g->seg[i].base = vmcs_read_checked(v, VMCS_GUEST_ES_BASE + 2 * i);
        g->seg[i].limit = (uint32_t)vmcs_read_checked(v, VMCS_GUEST_ES_LIMIT + 2 * i);
        g->seg[i].access = (uint32_t)vmcs_read_checked(v, VMCS_GUEST_ES_ACCESS + 2 * i);
    }
    g->gdtr_base = vmcs_readnat(v, VMCS_GUEST_GDTR_BASE);
    g->idtr_base = vmcs_readnat(v, VMCS_GUEST_IDTR_BASE);
    g->gdtr_limit = vmcs_read32(v, VMCS_GUEST_GDTR_LIMIT);
    g->idtr_limit = vmcs_read32(v, VMCS_GUEST_IDTR_LIMIT);
    g->activity_state = vmcs_read32(v, VMCS_GUEST_ACTIVITY_STATE);
    g->interruptibility = vmcs_read32(v, VMCS_GUEST_INTERRUPTIBILITY);
    g->pending_debug = vmcs_readnat(v, VMCS_GUEST_PENDING_DEBUG);
    g->vmcs_link_pointer = vmcs_read64(v, VMCS_VMCS_LINK_POINTER);
    g->entry_interruption_info = vmcs_read32(v, VMCS_ENTRY_INTERRUPTION_INFO);
}

enum exit_action handle_invalid_guest_state(struct vcpu *v)
{
    struct vmx_guest_state g;
    read_guest_state(v, &g);
    uint32_t proc = vmcs_read32(v, VMCS_PROC_CONTROLS);
    struct vmx_check_context ctx = {
        .entry_controls = vmcs_read32(v, VMCS_ENTRY_CONTROLS),
        .secondary_controls = vmcs_read32(v, VMCS_PROC2_CONTROLS),
        .secondary_active = proc & PROC_SECONDARY_CONTROLS,
        .cr0_fixed0 = vmx_boot_caps.cr0_fixed0,
        .cr0_fixed1 = vmx_boot_caps.cr0_fixed1,
        .cr4_fixed0 = vmx_boot_caps.cr4_fixed0,
        .cr4_fixed1 = vmx_boot_caps.cr4_fixed1,
        .physical_address_bits = cpuid(0x80000008, 0).eax & 0xff,
    };
    char why[160];
    const char *field = vmx_check_guest_state(&g, &ctx, why, sizeof(why));
    if (field)
        vm_stop(v->vm, STOP_CRASH, 253, "VM entry failed on vCPU %u: invalid guest state: %s: %s", v->id, field, why);
    else
        vm_stop(v->vm, STOP_CRASH, 253, "VM entry failed on vCPU %u: invalid guest state (exit qualification %lu), no rule "
                "mhv checks is broken", v->id, v->exit.qualification);
    return EXIT_RESCHED;
}

void vmx_selftest_break_entry(struct vcpu *v)
{
    if (!strcmp(boot_options.selftest, "vmentry-guest-state")) {
        /* RFLAGS bit 1 must be 1 (SDM Vol. 3C 28.3.1.4). */
        vmcs_writenat(v, VMCS_GUEST_RFLAGS, 0);
        log_info("selftest: vm %s: guest RFLAGS set to 0 (bit 1 must be 1)", v->vm->name);
    } else if (!strcmp(boot_options.selftest, "vmentry-control")) {
        /* A CR3-target count above 4 is an invalid control field (SDM Vol. 3C 28.2.1.1). */
        vmcs_write32(v, VMCS_CR3_TARGET_COUNT, 100);
        log_info("selftest: vm %s: CR3-target count set to 100", v->vm->name);
    }
}
