/* SPDX-License-Identifier: BSD-2-Clause */
/* Timers kept by the scheduler's CPUs (include/sched/vtimer.h). sched/core.c fires expired
 * ones between runs and sleeps or ends a slice no later than the earliest deadline. */
#include "sched/vtimer.h"

#include <stddef.h>

#include "arch/x86/cpu.h"
#include "arch/x86/percpu.h"
#include "arch/x86/xcall.h"
#include "kernel/panic.h"
#include "sched/sched.h"

void vtimer_init(struct vtimer *t, struct sched_entity *e, void (*fire)(struct vtimer *t), void *ctx)
{
    *t = (struct vtimer){ .fire = fire, .owner = e, .host_cpu = -1, .ctx = ctx };
    if (e->timer_count == SCHED_MAX_TIMERS)
        panic("an entity with more than %d timers", SCHED_MAX_TIMERS);
    e->timers[e->timer_count++] = t;
}

void vtimer_init_host(struct vtimer *t, unsigned cpu, void (*fire)(struct vtimer *t), void *ctx)
{
    struct sched_queue *q = sched_queue_of(cpu);
    ASSERT(q);
    *t = (struct vtimer){ .fire = fire, .host_cpu = (int)cpu, .ctx = ctx };
    uint64_t flags = spin_lock_irqsave(&q->lock);
    t->next_host = q->host_timers;
    q->host_timers = t;
    spin_unlock_irqrestore(&q->lock, flags);
}

void vtimer_arm(struct vtimer *t, uint64_t deadline)
{
    if (!deadline)
        deadline = 1; /* 0 means disarmed; TSC value 1 is long past */
    __atomic_store_n(&t->deadline, deadline, __ATOMIC_RELEASE);
    int home = t->owner ? t->owner->home_cpu : t->host_cpu;
    if (home < 0)
        return; /* not placed yet: sched_start puts it in a queue, whose loop sees the timer */
    struct sched_queue *q = sched_queue_of((unsigned)home);
    sched_due_lower(t->owner ? &q->entity_due : &q->host_due, deadline);
    if ((unsigned)home != this_cpu()->index) {
        smp_send_reschedule((unsigned)home); /* it recomputes its sleep or ends the slice */
        return;
    }
    /* Kept here. Called from inside the running entity's run (an exit handler), it must stop
     * in time; from the scheduler loop itself (running is NULL) the loop sees the deadline. A
     * host timer waits for the running slice to end. */
    struct sched_entity *running = q->running;
    if (t->owner && running && running->state == ENTITY_RUNNABLE && running->ops->cut_slice)
        running->ops->cut_slice(running, deadline);
}

void vtimer_cancel(struct vtimer *t)
{
    __atomic_store_n(&t->deadline, 0, __ATOMIC_RELEASE);
}

/* Fires t if its deadline passed; returns its deadline still armed afterwards (0: none). */
static inline __attribute__((always_inline)) uint64_t fire_if_due(struct vtimer *t, uint64_t now)
{
    uint64_t d = __atomic_load_n(&t->deadline, __ATOMIC_ACQUIRE);
    if (__builtin_expect(!d || (int64_t)(now - d) < 0, 1))
        return d;
    /* Disarm only the arming we saw: one made meanwhile (another CPU) stays. */
    if (__atomic_compare_exchange_n(&t->deadline, &d, 0, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        t->fire(t);
    return __atomic_load_n(&t->deadline, __ATOMIC_ACQUIRE); /* fire() may re-arm */
}

uint64_t vtimer_fire_expired(struct vtimer *const *timers, unsigned count, uint64_t now)
{
    uint64_t next = 0;
    for (unsigned i = 0; i < count; i++)
        next = vtimer_earlier(next, fire_if_due(timers[i], now));
    return next;
}

uint64_t vtimer_fire_host(struct vtimer *first, uint64_t now)
{
    uint64_t next = 0;
    for (struct vtimer *t = first; t; t = t->next_host)
        next = vtimer_earlier(next, fire_if_due(t, now));
    return next;
}
