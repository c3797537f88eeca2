/* SPDX-License-Identifier: BSD-2-Clause */
/* Running one vCPU for one slice: the vCPU's callbacks as a scheduling entity (the scheduler
 * in sched/ decides which entity runs, and for how long). */
#ifndef MHV_VMX_RUN_H
#define MHV_VMX_RUN_H

#include <stdint.h>

#include "sched/sched.h"

struct vcpu;

/* A vCPU as a scheduling entity: its run (one slice), the slice cut short for a timer, its
 * line in the summary. vcpu_create gives every vCPU these. */
extern const struct sched_entity_ops vcpu_entity_ops;

/* Stops v's VM with a diagnosis of a failed VMLAUNCH/VMRESUME (rc from vmx_enter). */
void vmx_report_entry_failure(struct vcpu *v, int rc);

/* selftest=vmentry-guest-state or vmentry-control: makes v's first entry fail (an invalid
 * guest-state field, an invalid control field), to show the diagnosis; other values do
 * nothing. v's VMCS must be current here. */
void vmx_selftest_break_entry(struct vcpu *v);

#endif
