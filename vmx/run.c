/* One slice of one vCPU (include/vmx/run.h). Interrupts stay off while mhv runs here; they
 * are taken in the window after an external-interrupt exit. */
#include "vmx/run.h"

#include <stdbool.h>

#include "arch/x86/cpu.h"
#include "arch/x86/lapic.h"
#include "arch/x86/percpu.h"
#include "arch/x86/tsc.h"
#include "vmx/caps.h"
#include "vmx/inject.h"
#include "vmx/preflight.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs.h"

extern int vmx_enter(struct vcpu *v);

static enum exit_action enter_once(struct vcpu *v)
{
    inject_before_entry(v);
    int rc = vmx_enter(v);
    if (rc) {
        vmx_report_entry_failure(v, rc);
        return EXIT_RESCHED;
    }
    return exit_dispatch(v);
}

enum run_end vcpu_run(struct vcpu *v, uint64_t slice_ticks)
{
    struct percpu *p = this_cpu();
    vcpu_load(v);
    if (v->init_pending) { /* INIT (vm/vlapic.c): the reset state, keeping the STARTUP vector */
        int sipi = v->sipi_vector;
        v->init_pending = false;
        vcpu_reset(v);
        v->sipi_vector = sipi;
    }
    if (v->sipi_vector >= 0) { /* started by a STARTUP IPI: real mode at vector << 12 */
        vcpu_set_real_mode(v, (uint16_t)(v->sipi_vector << 8), 0);
        v->sipi_vector = -1;
    }
    /* The slice: the VMX preemption timer counts down once every 2^rate TSC ticks
     * (IA32_VMX_MISC[4:0]) and, with "save timer value" on exit, keeps counting across
     * entries. Without it, the local APIC timer ends the slice with an interrupt. */
    if (vmx_ctl_allowed(&vmx_boot_caps, CTL_PIN, PIN_PREEMPTION_TIMER)) {
        uint64_t value = slice_ticks >> (vmx_boot_caps.misc & 0x1f);
        vmcs_write32(v, VMCS_PREEMPTION_TIMER_VALUE, value > 0xffffffffu ? 0xffffffffu : (uint32_t)(value ? value : 1));
    } else {
        lapic_timer_oneshot_ns(tsc_ticks_to_ns(slice_ticks));
    }
    v->se.preempted = false;
    if (p->switch_from && p->switched_from != v) {
        p->switches++;
        p->switch_ticks += rdtsc() - p->switch_from;
    }
    p->switch_from = 0;
    /* vm_stop() marks every vCPU of the VM stopped, so the vCPU's state is the one check.
     * need_resched needs none here: interrupts are off between exits, so it can only be set in
     * an external-interrupt exit, and that handler then ends the run itself. */
    while (v->state == VCPU_RUNNABLE && enter_once(v) == EXIT_RESUME)
        ;
    vcpu_put(v);
    if (v->state == VCPU_STOPPED)
        return RUN_STOPPED;
    if (v->state == VCPU_BLOCKED)
        return RUN_BLOCKED;
    return v->se.preempted || p->need_resched ? RUN_PREEMPTED : RUN_YIELDED;
}
