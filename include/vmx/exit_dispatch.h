/* SPDX-License-Identifier: BSD-2-Clause */
/* The first step after every VM exit: read the exit information the reason's row of the exit
 * table names (vmx/exit_table.c) into v->exit and run its handler. Inline in the exit path
 * (vmx/run.c's vcpu_exit), which the CPUID and VMCALL round trips of `make bench` measure. */
#ifndef MHV_VMX_EXIT_DISPATCH_H
#define MHV_VMX_EXIT_DISPATCH_H

#include "vmx/exit.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs.h"

static inline __attribute__((always_inline)) enum exit_action exit_dispatch(struct vcpu *v)
{
    struct exit_info *e = &v->exit;
    uint32_t reason = vmcs_read32(v, VMCS_EXIT_REASON), basic = reason & 0xffff;
    e->reason = reason;
    e->idt_vectoring_info = 0; /* unless the reason's fields include it */
    if (__builtin_expect(basic >= EXIT_REASON_COUNT, 0))
        return exit_dispatch_rare(v, &exit_table[EXIT_REASON_COUNT]);
    const struct exit_entry *row = &exit_table[basic];
    unsigned fields = row->fields;
    if (__builtin_expect((fields & ~(EXIT_RIP | EXIT_LENGTH | EXIT_QUALIFICATION)) || v->in_nmi_handler, 0))
        return exit_dispatch_rare(v, row);
    /* The common exits read their fields here: instructions RIP and length (a row with the
     * length always has RIP, tests/unit/test_exit.c), I/O, control registers and the APIC's
     * exits the qualification. */
    if (fields & EXIT_LENGTH) {
        e->rip = vmcs_readnat(v, VMCS_GUEST_RIP);
        e->instruction_length = vmcs_read32(v, VMCS_EXIT_INSTRUCTION_LENGTH);
    } else if (fields & EXIT_RIP) {
        e->rip = vmcs_readnat(v, VMCS_GUEST_RIP);
    }
    if (fields & EXIT_QUALIFICATION)
        e->qualification = vmcs_readnat(v, VMCS_EXIT_QUALIFICATION);
    e->fields = (uint8_t)fields;
    if (MHV_DEBUG && !(reason & EXIT_REASON_ENTRY_FAILED))
        exit_check_no_vectoring(v); /* no row read here has it */
    v->exits++;
    v->exits_by_reason[basic]++;
    return row->handler(v);
}

#endif
