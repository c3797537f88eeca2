/* Running vCPUs: each CPU round-robins the vCPUs in its run queue, a VMX-preemption-timer slice
 * at a time, with vcpu_load/vcpu_put around each. The scheduler work replaces the policy. */
#ifndef MHV_VMX_RUN_H
#define MHV_VMX_RUN_H

struct vcpu;

/* Spreads every VM's vCPUs over the CPUs in VMX operation and starts them all. */
void vmx_start_vms(void);
/* This CPU's loop; returns once no VM is running. */
void vmx_run_loop(void);
/* Stops v's VM with a diagnosis of a failed VMLAUNCH/VMRESUME (rc from vmx_enter). */
void vmx_report_entry_failure(struct vcpu *v, int rc);

#endif
