/* SPDX-License-Identifier: BSD-2-Clause */
/* Timers of virtual devices (include/sched/vtimer.h). The CPU whose run queue holds a timer's
 * vCPU keeps it: sched/core.c fires expired ones between runs (vtimer_fire_expired) and sleeps
 * or ends a slice no later than the earliest deadline (vtimer_earliest). */
#include "sched/vtimer.h"

#include "arch/x86/cpu.h"
#include "arch/x86/percpu.h"
#include "arch/x86/xcall.h"
#include "kernel/panic.h"
#include "vm/vm.h"
#include "vmx/caps.h"
#include "vmx/preflight.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs.h"

void vtimer_init(struct vtimer *t, struct vcpu *v, void (*fire)(struct vtimer *t), void *ctx)
{
    t->deadline = 0;
    t->fire = fire;
    t->vcpu = v;
    t->ctx = ctx;
    if (v->se.timer_count == VCPU_MAX_VTIMERS)
        panic("vm %s vCPU %u: more than %d device timers", v->vm->name, v->id, VCPU_MAX_VTIMERS);
    v->se.timers[v->se.timer_count++] = t;
}

/* The vCPU running on this CPU, in whose exit handler we are, stops no later than `deadline`:
 * its VMX preemption timer (saved at every exit, so it holds what is left) is shortened. */
static void shorten_running_slice(struct vcpu *running, uint64_t deadline)
{
    if (!vmx_ctl_allowed(&vmx_boot_caps, CTL_PIN, PIN_PREEMPTION_TIMER))
        return; /* the slice's LAPIC one-shot ends it; the timer fires a slice late at worst */
    uint64_t now = rdtsc();
    uint64_t ticks = (int64_t)(deadline - now) > 0 ? deadline - now : 0;
    uint64_t value = ticks >> (vmx_boot_caps.misc & 0x1f);
    if (value < vmcs_read32(running, VMCS_PREEMPTION_TIMER_VALUE))
        vmcs_write32(running, VMCS_PREEMPTION_TIMER_VALUE, (uint32_t)value);
}

void vtimer_arm(struct vtimer *t, uint64_t deadline)
{
    if (!deadline)
        deadline = 1; /* 0 means disarmed; TSC value 1 is long past */
    __atomic_store_n(&t->deadline, deadline, __ATOMIC_RELEASE);
    struct percpu *me = this_cpu();
    int home = t->vcpu->home_cpu;
    if (home < 0)
        return; /* not scheduled yet: sched_start puts it in a queue, whose loop sees the timer */
    if ((unsigned)home != me->index) {
        smp_send_reschedule((unsigned)home); /* it recomputes its sleep or ends the slice */
        return;
    }
    /* Kept here. Inside an exit handler the running vCPU's VMCS is current: end its slice in
     * time. From the scheduler loop itself (running is NULL) the loop sees the new deadline. */
    if (me->running && me->running->state == VCPU_RUNNABLE)
        shorten_running_slice(me->running, deadline);
}

void vtimer_cancel(struct vtimer *t)
{
    __atomic_store_n(&t->deadline, 0, __ATOMIC_RELEASE);
}

uint64_t vtimer_fire_expired(struct vcpu *v, uint64_t now)
{
    uint64_t next = 0;
    for (unsigned i = 0; i < v->se.timer_count; i++) {
        struct vtimer *t = v->se.timers[i];
        uint64_t d = __atomic_load_n(&t->deadline, __ATOMIC_ACQUIRE);
        if (!d)
            continue;
        if ((int64_t)(now - d) >= 0) {
            /* Disarm only the arming we saw: one made meanwhile (another CPU) stays. */
            if (__atomic_compare_exchange_n(&t->deadline, &d, 0, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
                t->fire(t);
            d = __atomic_load_n(&t->deadline, __ATOMIC_ACQUIRE); /* fire() may re-arm */
            if (!d)
                continue;
        }
        if (!next || (int64_t)(d - next) < 0)
            next = d;
    }
    return next;
}
