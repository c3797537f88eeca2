/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The scheduler. It schedules entities, not vCPUs: an entity is anything with a run(entity,
 * slice) callback, a weight, a slice, an affinity and a state; a vCPU is one kind (its
 * callback is vmx/run.c's), as NOVA's scheduling contexts call ec->activate() and ACRN's
 * thread objects call their thread's entry. This layer knows nothing of VMs, vCPUs or VMCSs.
 *
 * Each physical CPU runs sched_loop(): fire the timers it keeps, pick a runnable entity from
 * its own run queue, run it for at most its slice, charge the time, repeat. A policy (struct
 * sched_policy) decides the order; sched/fair.c's weighted fair share is the one in use.
 * Blocking, waking, idle balancing within each entity's affinity and the accounting live in
 * sched/core.c; the run queues, one per CPU the MADT listed, are sched/queue.c's.
 */
#ifndef MHV_SCHED_SCHED_H
#define MHV_SCHED_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/x86/spinlock.h"
#include "sched/vtimer.h"

#define SCHED_DEFAULT_SLICE_US 10000
#define SCHED_WEIGHT_SCALE 1024
#define SCHED_STRESS_SLICE_US 200 /* entities with migrate_stress: hop CPUs often */

/* What an entity may do. Other CPUs change the state too (waking, stopping), always by
 * sched_state_swap() or a plain store of the owner's, never by a read-modify-write. */
enum entity_state {
    ENTITY_PARKED,   /* waits for something only its owner ends (a vCPU's STARTUP IPI) */
    ENTITY_RUNNABLE,
    ENTITY_BLOCKED,  /* sleeps until sched_wake() */
    ENTITY_STOPPED,  /* runs no more, and its timers stay quiet, until its owner restarts it */
};

/* How a run ended. RUN_ELSEWHERE: it did not run, and belongs on CPU e->elsewhere (a vCPU
 * whose VMCS another, busy, CPU still holds). */
enum run_end { RUN_PREEMPTED, RUN_YIELDED, RUN_BLOCKED, RUN_STOPPED, RUN_ELSEWHERE };

struct sched_entity;

/* What the scheduler calls; run is required, the others may be NULL. */
struct sched_entity_ops {
    /* Runs e on this CPU for at most slice_ticks TSC ticks (interrupts off). */
    enum run_end (*run)(struct sched_entity *e, uint64_t slice_ticks);
    /* Called from inside e's run on this CPU: a timer this CPU keeps is due at `deadline`, so
     * the run must end by then (a vCPU shortens its VMX preemption timer). */
    void (*cut_slice)(struct sched_entity *e, uint64_t deadline);
    /* For the summary: its name ("vm demo vcpu 0") and what else it counts. */
    void (*describe)(const struct sched_entity *e, char *name, size_t name_size, char *more, size_t more_size);
};

/* Run-queue link: entities of a queue form a circular list through these. */
struct sched_link {
    struct sched_link *next, *prev;
};

struct sched_entity {
    struct sched_link link;          /* in its home CPU's run queue (sched/queue.c) */
    const struct sched_entity_ops *ops;
    struct sched_entity *next_entity; /* every entity, in the order they were added */
    volatile enum entity_state state;
    int home_cpu;        /* CPU whose run queue holds it; -1 before sched_start */
    int elsewhere;       /* RUN_ELSEWHERE: the CPU it must run on */
    bool migrate_stress; /* testing: to the next allowed CPU after every (short) slice */
    bool preempted;      /* the owner's: the last run ended because the slice was used up */

    /* the policy's (sched/fair.c) */
    uint64_t vruntime;   /* run time in TSC ticks, scaled by SCHED_WEIGHT_SCALE / weight */
    uint64_t lag;        /* on its way to another CPU: its lead over the old queue */
    bool departed;       /* lag is set: the next place() is a migration */
    uint32_t weight;     /* relative share (1-100) */
    uint32_t slice_us;
    uint64_t affinity;   /* bit i: may run on CPU i; all ones when unrestricted */

    struct vtimer *timers[SCHED_MAX_TIMERS]; /* timers of its devices, kept by its home CPU */
    unsigned timer_count;

    /* accounting */
    uint64_t run_ticks, slices, voluntary, forced;
    uint64_t ran_on;     /* bit i: has run on CPU i */
};

/* One CPU's run queue. */
struct sched_queue {
    struct spinlock lock;
    struct sched_link entities;    /* the circular list's head */
    unsigned length;
    unsigned cpu;
    bool usable;                   /* this CPU runs entities (set by sched_start) */
    uint64_t min_vruntime;         /* the queue's virtual time, never going back (sched/fair.c) */
    struct sched_entity *volatile running; /* the entity this CPU runs now, NULL when idle */
    struct vtimer *host_timers;    /* host work this CPU does between runs (vtimer_init_host) */
    /* No timer this CPU keeps is due before these (its entities' timers, its host work's;
     * SCHED_NEVER: none armed). Every arming lowers them; the loop looks at the timers only
     * once one has passed, and then sets them to what it found. */
    volatile uint64_t entity_due, host_due;
};

#define SCHED_NEVER UINT64_MAX

/* Lowers *due to `deadline` if that is earlier (any CPU). */
static inline void sched_due_lower(volatile uint64_t *due, uint64_t deadline)
{
    uint64_t cur = __atomic_load_n(due, __ATOMIC_SEQ_CST);
    while (deadline < cur && !__atomic_compare_exchange_n(due, &cur, deadline, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
        ;
}

static inline struct sched_entity *sched_entity_of(struct sched_link *l)
{
    return (struct sched_entity *)((char *)l - offsetof(struct sched_entity, link));
}

/* A scheduling policy: the core asks it which entity runs next and tells it what ran. Adding
 * a policy means a new file with one of these, not changes to the core. */
struct sched_policy {
    const char *name;
    /* A runnable entity of this queue to run next, or NULL (queue lock held). */
    struct sched_entity *(*pick)(struct sched_queue *q);
    /* e ran for `ticks` TSC ticks. */
    void (*charge)(struct sched_entity *e, uint64_t ticks);
    /* e joins this queue (new, woken or migrated): position it fairly. */
    void (*place)(struct sched_queue *q, struct sched_entity *e);
    /* e leaves this queue for another CPU's (queue lock held); place() follows. */
    void (*depart)(struct sched_queue *q, struct sched_entity *e);
};

extern const struct sched_policy sched_fair;

/* Whether e may run on CPU c (CPUs beyond 63 only with an unrestricted mask). */
static inline bool sched_allowed_on(const struct sched_entity *e, unsigned c)
{
    return c < 64 ? (e->affinity >> c) & 1 : e->affinity == ~0ull;
}

/* Changes e's state from `from` to `to` if it is still `from` (see enum entity_state). */
static inline bool sched_state_swap(struct sched_entity *e, enum entity_state from, enum entity_state to)
{
    return __atomic_compare_exchange_n(&e->state, &from, to, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

/* Run queues (sched/queue.c). */
void sched_queue_init(struct sched_queue *q, unsigned cpu);
void sched_queue_add(struct sched_queue *q, struct sched_entity *e);    /* lock held */
void sched_queue_remove(struct sched_queue *q, struct sched_entity *e); /* lock held */
/* CPU c's queue, NULL before sched_init or for a CPU the MADT did not list. */
struct sched_queue *sched_queue_of(unsigned c);
/* Every queue, by CPU index, and their number. */
struct sched_queue *sched_queues(unsigned *count);

/* Work stealing decision (sched/balance.c): for an idle CPU's queue `me`, the queue to take
 * from (the busiest one with a runnable entity waiting besides the one it runs) and the
 * entity to take (one that waits and may run on `me`'s CPU). Both NULL when there is nothing
 * worth taking. It looks at one queue at a time under that queue's lock; the caller holds no
 * lock and re-checks under both queues' locks before it takes anything. */
struct steal_choice {
    struct sched_queue *from;
    struct sched_entity *entity;
};
struct steal_choice sched_choose_steal(struct sched_queue *queues, unsigned count, const struct sched_queue *me);

/* Sets e up with its callbacks, weight, slice and affinity, state `state`, and adds it to the
 * entities sched_start() places. */
void sched_entity_init(struct sched_entity *e, const struct sched_entity_ops *ops, enum entity_state state,
                       uint32_t weight, uint32_t slice_us, uint64_t affinity);
/* One run queue per CPU of the machine (cpu_count), from the heap: before any entity is added. */
void sched_init(unsigned cpus);
/* Places every entity in a run queue (round robin within affinity, over the CPUs for which
 * cpu_usable() says yes) and wakes the CPUs. The loops run while keep_running() says so. */
void sched_start(bool (*cpu_usable)(unsigned c), bool (*keep_running)(void));
/* Whether some usable CPU is in e's affinity (after sched_start's cpu_usable is known). */
bool sched_placeable(const struct sched_entity *e, bool (*cpu_usable)(unsigned c));
/* The per-CPU loop; returns once nothing of its queue is runnable and keep_running() says no. */
void sched_loop(void);
/* Makes a blocked entity runnable and tells its CPU (an IPI when it is another CPU). */
void sched_wake(struct sched_entity *e);
/* Tells e's CPU to look at its queue again (e just became runnable some other way). */
void sched_kick(struct sched_entity *e);
/* Whether a CPU is running e right now. */
bool sched_is_running(const struct sched_entity *e);
/* Whether CPU c's run queue holds e and that CPU runs it now, c not being this CPU. */
bool sched_running_elsewhere(const struct sched_entity *e);
/* One line per entity: run time, slices, forced and voluntary switches, what its describe()
 * adds, CPUs. */
void sched_print_summary(void);

#endif
