/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The vCPU scheduler. Each physical CPU runs sched_loop(): pick a runnable vCPU from its own
 * run queue, run it for at most its slice (vcpu_load, enter, handle exits, vcpu_put), charge
 * the time, repeat. A policy (struct sched_policy) decides the order; sched/fair.c's weighted
 * fair share is the one in use. Blocking (HLT), waking (timers, IPIs between vCPUs), idle
 * balancing within each vCPU's affinity and the accounting live in sched/core.c.
 */
#ifndef MHV_SCHED_SCHED_H
#define MHV_SCHED_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#include "sched/vtimer.h"

struct vcpu;
struct percpu;

#define SCHED_DEFAULT_SLICE_US 10000
#define SCHED_WEIGHT_SCALE 1024

/* Per-vCPU scheduling state and accounting. */
struct sched_entity {
    uint64_t vruntime;   /* run time in TSC ticks, scaled by SCHED_WEIGHT_SCALE / weight */
    uint64_t lag;        /* on its way to another CPU: its lead over the old queue (sched/fair.c) */
    bool departed;       /* lag is set: the next place() is a migration */
    uint32_t weight;     /* relative share, from the VM (1-100) */
    uint32_t slice_us;
    uint64_t affinity;   /* bit i: may run on CPU i; all ones when unrestricted */
    struct vtimer *timers[VCPU_MAX_VTIMERS]; /* device timers this vCPU's CPU keeps */
    unsigned timer_count;
    struct vtimer hypercall_timer;           /* the TIMER hypercall's one-shot */
    uint8_t timer_vector;
    bool preempted;      /* the last run ended because the slice was used up */
    /* accounting */
    uint64_t run_ticks, slices, voluntary, forced;
    uint64_t ran_on;     /* bit i: has run on CPU i */
};

/* A scheduling policy: the core asks it which vCPU runs next and tells it what ran. Adding a
 * policy means a new file with one of these, not changes to the core. */
struct sched_policy {
    const char *name;
    /* A runnable vCPU of this CPU's queue to run next, or NULL (queue lock held). */
    struct vcpu *(*pick)(struct percpu *cpu);
    /* v ran for `ticks` TSC ticks. */
    void (*charge)(struct vcpu *v, uint64_t ticks);
    /* v joins this CPU's queue (new, woken or migrated): position it fairly. */
    void (*place)(struct percpu *cpu, struct vcpu *v);
    /* v leaves this CPU's queue for another CPU's (queue lock held); place() follows. */
    void (*depart)(struct percpu *cpu, struct vcpu *v);
};

extern const struct sched_policy sched_fair;

/* Whether v may run on CPU c (CPUs beyond 63 only with an unrestricted mask). */
static inline bool sched_allowed_on(const struct sched_entity *se, unsigned c)
{
    return c < 64 ? (se->affinity >> c) & 1 : se->affinity == ~0ull;
}

/* Work stealing decision (sched/balance.c): for an idle CPU `me`, the queue to take from (the
 * busiest one with a runnable vCPU waiting besides the one it runs) and the vCPU to take (one
 * that waits and may run on `me`). Both NULL when there is nothing worth taking. Pure: the
 * caller holds no locks while deciding and re-checks under the locks. */
struct steal_choice {
    struct percpu *from;
    struct vcpu *vcpu;
};
struct steal_choice sched_choose_steal(struct percpu *const *queues, unsigned count, const struct percpu *me);

/* Adds every VM's vCPUs to the run queues (round robin within affinity) and wakes the CPUs. */
void sched_start(void);
/* The per-CPU loop; returns when no VM is running. */
void sched_loop(void);
/* Makes a blocked vCPU runnable and tells its CPU (an IPI when it is another CPU). */
void sched_wake(struct vcpu *v);
/* Tells v's CPU to look at its queue again (v just became runnable some other way). */
void sched_kick(struct vcpu *v);
/* Arms (us > 0) or cancels the TIMER hypercall's one-shot: `vector` after `us` microseconds. */
void sched_set_timer(struct vcpu *v, uint64_t us, uint8_t vector);
/* One line per vCPU: run time, slices, forced and voluntary switches, migrations, exits, CPUs. */
void sched_print_summary(void);

#endif
