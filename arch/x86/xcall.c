/* SPDX-License-Identifier: BSD-2-Clause */
/* Cross-CPU calls (see include/arch/x86/xcall.h). One slot per target CPU: a caller takes the
 * slot's lock, posts fn/arg with a sequence number, sends VECTOR_XCALL, and waits for the
 * target to take the call (and, when asked, to finish it). */
#include "arch/x86/xcall.h"

#include "arch/x86/cpu.h"
#include "arch/x86/lapic.h"
#include "arch/x86/percpu.h"
#include "arch/x86/trap.h"
#include "arch/x86/tsc.h"
#include "kernel/log.h"

#define XCALL_TIMEOUT_US 1000000

/* Runs the call waiting in this CPU's slot, if any. Called with interrupts off: from the IPI
 * handler, from CPUs that wait for another CPU (so two CPUs calling each other at the same
 * time serve each other instead of deadlocking), and from long operations (xcall_poll). The
 * call is taken by swapping its sequence number for 0: a caller that gave up on it first
 * (xcall_run's withdrawal) wins the swap instead, and the call does not run. */
static void serve_own_slot(void)
{
    struct percpu *me = this_cpu();
    struct xcall_slot *s = &me->xcall;
    uint32_t seq = __atomic_load_n(&s->pending, __ATOMIC_ACQUIRE);
    if (!seq)
        return;
    xcall_fn fn = s->fn;
    void *arg = s->arg;
    if (!__atomic_compare_exchange_n(&s->pending, &seq, 0, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return; /* withdrawn (or replaced) meanwhile: nothing to run now */
    fn(arg);
    me->xcalls_handled++;
    __atomic_store_n(&s->finished, seq, __ATOMIC_RELEASE);
}

void xcall_serve(void)
{
    serve_own_slot();
}

static void xcall_interrupt(struct trap_frame *f)
{
    (void)f;
    serve_own_slot();
    lapic_eoi();
}

static void reschedule_interrupt(struct trap_frame *f)
{
    (void)f;
    this_cpu()->need_resched = true;
    lapic_eoi();
}

static void kick_interrupt(struct trap_frame *f)
{
    (void)f;
    lapic_eoi(); /* the VM exit it caused was the point */
}

void xcall_init(void)
{
    trap_set_handler(VECTOR_XCALL, xcall_interrupt);
    trap_set_handler(VECTOR_RESCHEDULE, reschedule_interrupt);
    trap_set_handler(VECTOR_KICK, kick_interrupt);
}

void smp_send_kick(unsigned cpu)
{
    struct percpu *target = per_cpu(cpu);
    if (target && target->online)
        lapic_send_ipi(target->apic_id, ICR_FIXED | VECTOR_KICK);
}

void smp_send_reschedule(unsigned cpu)
{
    struct percpu *target = per_cpu(cpu);
    if (target && target->online)
        lapic_send_ipi(target->apic_id, ICR_FIXED | VECTOR_RESCHEDULE);
}

static bool wait_until(volatile uint32_t *word, uint32_t value, uint64_t deadline)
{
    while (__atomic_load_n(word, __ATOMIC_ACQUIRE) != value) {
        if ((int64_t)(rdtsc() - deadline) > 0)
            return false;
        serve_own_slot();
        cpu_relax();
    }
    return true;
}

int xcall_run_within(unsigned cpu, xcall_fn fn, void *arg, bool wait, uint64_t timeout_us)
{
    struct percpu *me = this_cpu(), *target = per_cpu(cpu);
    if (target == me) {
        uint64_t flags = irq_save(); /* same context as on other CPUs: interrupts off */
        fn(arg);
        irq_restore(flags);
        return 0;
    }
    if (!target || !target->online)
        return -1;
    struct xcall_slot *s = &target->xcall;
    while (!spin_trylock(&s->lock)) /* another caller is busy with the target: serve meanwhile */
        serve_own_slot();
    uint32_t seq = ++s->sequence ? s->sequence : ++s->sequence; /* 0 means "none pending" */
    s->fn = fn;
    s->arg = arg;
    __atomic_store_n(&s->pending, seq, __ATOMIC_RELEASE);
    lapic_send_ipi(target->apic_id, ICR_FIXED | VECTOR_XCALL);
    uint64_t deadline = rdtsc() + tsc_us_to_ticks(timeout_us);
    bool taken = wait_until(&s->pending, 0, deadline);
    if (!taken) {
        /* Withdraw it, unless the target takes it at this very moment: then it runs, and
         * finishes promptly (calls are short), so it is waited for like any other. */
        uint32_t expected = seq;
        taken = !__atomic_compare_exchange_n(&s->pending, &expected, 0, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
    }
    bool ok = taken && (!wait || wait_until(&s->finished, seq, rdtsc() + tsc_us_to_ticks(XCALL_TIMEOUT_US)));
    spin_unlock(&s->lock);
    return ok ? 0 : -1;
}

int xcall_run(unsigned cpu, xcall_fn fn, void *arg, bool wait)
{
    int rc = xcall_run_within(cpu, fn, arg, wait, XCALL_TIMEOUT_US);
    struct percpu *target = per_cpu(cpu);
    if (rc < 0 && target && target->online)
        log_err("xcall: cpu%u (APIC id %u) did not %s a call within %u ms", cpu, target->apic_id,
                wait ? "finish" : "take", XCALL_TIMEOUT_US / 1000);
    return rc;
}

int xcall_all(xcall_fn fn, void *arg, bool wait)
{
    int failed = 0;
    unsigned self = this_cpu()->index;
    for (unsigned i = 0; i < cpu_count; i++)
        if (i != self && cpus[i] && cpus[i]->online && xcall_run(i, fn, arg, wait) < 0)
            failed++;
    xcall_run(self, fn, arg, wait);
    return failed;
}
