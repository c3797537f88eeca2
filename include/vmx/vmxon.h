/* SPDX-License-Identifier: BSD-2-Clause */
/* VMX root operation on every CPU (what KVM's hardware_enable() does per CPU). */
#ifndef MHV_VMX_VMXON_H
#define MHV_VMX_VMXON_H

#include <stdbool.h>

/* Enters VMX root operation on every online CPU, reports each failure with its reason, and
 * prints "mhv: ready: <n> of <m> CPUs in VMX root operation". Returns n. */
unsigned vmx_enable_all(void);

/* Whether CPU c is online and in VMX root operation: one that may run vCPUs. */
bool vmx_cpu_usable(unsigned c);

/* Leaves VMX operation on every CPU that entered it (the clean shutdown path). */
void vmx_disable_all(void);

#endif
