/* SPDX-License-Identifier: BSD-2-Clause */
/* VMX pre-flight on the boot CPU: can mhv use VMX on this machine at all? */
#ifndef MHV_VMX_PREFLIGHT_H
#define MHV_VMX_PREFLIGHT_H

#include "vmx/caps.h"

/* The boot CPU's capabilities, valid after vmx_preflight(). */
extern struct vmx_caps vmx_boot_caps;

/*
 * Checks CPUID, IA32_FEATURE_CONTROL (enabling and locking VMX when the firmware left it
 * unlocked) and the capability MSRs, and prints the capability report. When VMX cannot be
 * used it prints "mhv: fatal: VMX unavailable: <reason>" and stops the machine.
 */
void vmx_preflight(void);

#endif
