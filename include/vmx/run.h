/* SPDX-License-Identifier: BSD-2-Clause */
/* Running one vCPU for one slice (the scheduler in sched/ decides which and for how long). */
#ifndef MHV_VMX_RUN_H
#define MHV_VMX_RUN_H

#include <stdint.h>

struct vcpu;

/* RUN_NOT_LOADED: the vCPU is still active on another CPU that did not release it in time
 * (vcpu_load); it did not run, and belongs back there. */
enum run_end { RUN_PREEMPTED, RUN_YIELDED, RUN_BLOCKED, RUN_STOPPED, RUN_NOT_LOADED };

/* vcpu_load, enter the guest and handle exits until the vCPU blocks, stops, yields, its
 * slice (TSC ticks) ends or this CPU is asked to reschedule; then vcpu_put. */
enum run_end vcpu_run(struct vcpu *v, uint64_t slice_ticks);

/* Stops v's VM with a diagnosis of a failed VMLAUNCH/VMRESUME (rc from vmx_enter). */
void vmx_report_entry_failure(struct vcpu *v, int rc);

/* selftest=vmentry-guest-state or vmentry-control: makes v's first entry fail (an invalid
 * guest-state field, an invalid control field), to show the diagnosis; other values do
 * nothing. v's VMCS must be current here. */
void vmx_selftest_break_entry(struct vcpu *v);

#endif
