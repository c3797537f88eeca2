/* SPDX-License-Identifier: BSD-2-Clause */
/* What VMX keeps per physical CPU: its VMX operation, the VMCS current on it, whose lazily
 * switched state it holds, and the switch and migration counters. vmx/ declares and allocates
 * it (vmx_enable_all); the CPU's struct percpu only points to it. */
#ifndef MHV_VMX_VMX_CPU_H
#define MHV_VMX_VMX_CPU_H

#include <stdint.h>

#include "arch/x86/percpu.h"

struct vcpu;

enum vmx_cpu_state { VMX_CPU_OFF, VMX_CPU_ON, VMX_CPU_FAILED };

struct vmx_cpu {
    enum vmx_cpu_state state;
    const char *failure;       /* why VMXON failed here, for the boot report */
    uint64_t vmxon_region;     /* physical address of this CPU's 4 KiB VMXON region */
    uint64_t current_vmcs;     /* physical address of the VMCS made current by VMPTRLD; 0: none.
                                * Only vcpu_load() and the VMCLEAR paths change it. */
    struct vcpu *loaded_vcpu;  /* whose XSAVE state and lazily switched MSRs are live here */

    /* Counters for the summary (vmx_print_cpu_summary). */
    uint64_t switch_from;                  /* TSC when a slice ended, until the next vCPU's entry */
    struct vcpu *switched_from;
    uint64_t switches, switch_ticks;       /* vCPU to a different vCPU on this CPU */
    uint64_t migrations_in, migrate_ticks; /* vcpu_load of a vCPU last active elsewhere */
    uint64_t vmclear_timeouts;             /* ...that found the other CPU busy: not moved */
};

/* The calling CPU's (after vmx_enable_all). */
static inline struct vmx_cpu *this_vmx_cpu(void)
{
    return this_cpu()->vmx;
}

/* One line per CPU in VMX operation: vCPU switches and migrations with their costs. */
void vmx_print_cpu_summary(void);

#endif
