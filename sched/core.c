/* SPDX-License-Identifier: BSD-2-Clause */
/* The scheduler core (see include/sched/sched.h): the per-CPU loop, waking, stealing,
 * migration and the accounting. An entity is in exactly one queue, its home CPU's. */
#include "sched/sched.h"

#include <stddef.h>

#include "arch/x86/cpu.h"
#include "arch/x86/lapic.h"
#include "arch/x86/percpu.h"
#include "arch/x86/smp.h"
#include "arch/x86/tsc.h"
#include "arch/x86/xcall.h"
#include "kernel/log.h"
#include "lib/format.h"

static const struct sched_policy *policy = &sched_fair;
static struct sched_entity *first_entity, **last_entity = &first_entity; /* in the order added */
static bool (*keep_running)(void);
static unsigned entity_count;

void sched_entity_init(struct sched_entity *e, const struct sched_entity_ops *ops, enum entity_state state,
                       uint32_t weight, uint32_t slice_us, uint64_t affinity)
{
    e->ops = ops;
    e->state = state;
    e->home_cpu = -1;
    e->weight = weight;
    e->slice_us = slice_us;
    e->affinity = affinity;
    e->next_entity = NULL;
    *last_entity = e;
    last_entity = &e->next_entity;
    entity_count++;
}

static bool usable_cpu(unsigned c)
{
    struct sched_queue *q = sched_queue_of(c);
    return q && q->usable;
}

/* Puts e in CPU c's queue (not yet in any). */
static void enqueue(struct sched_entity *e, unsigned c)
{
    struct sched_queue *q = sched_queue_of(c);
    uint64_t flags = spin_lock_irqsave(&q->lock);
    policy->place(q, e);
    sched_queue_add(q, e);
    spin_unlock_irqrestore(&q->lock, flags);
}

void sched_kick(struct sched_entity *e)
{
    int home = e->home_cpu;
    if (home < 0)
        return;
    /* Its CPU looks at its timers again too: ones armed while it was stopped were left out. */
    sched_due_lower(&sched_queue_of((unsigned)home)->entity_due, 0);
    if ((unsigned)home != this_cpu()->index)
        smp_send_reschedule((unsigned)home);
}

void sched_wake(struct sched_entity *e)
{
    if (sched_state_swap(e, ENTITY_BLOCKED, ENTITY_RUNNABLE))
        sched_kick(e);
}

bool sched_is_running(const struct sched_entity *e)
{
    int home = e->home_cpu;
    return home >= 0 && sched_queue_of((unsigned)home)->running == e;
}

bool sched_running_elsewhere(const struct sched_entity *e)
{
    int home = e->home_cpu;
    return home >= 0 && (unsigned)home != this_cpu()->index && sched_queue_of((unsigned)home)->running == e;
}

/* Fires expired timers of this queue's entities; returns the earliest one still armed. */
static uint64_t fire_entity_timers(struct sched_queue *q, uint64_t now)
{
    uint64_t next = 0;
    for (struct sched_link *l = q->entities.next; l != &q->entities; l = l->next) {
        struct sched_entity *e = sched_entity_of(l);
        if (e->state == ENTITY_STOPPED || !e->timer_count)
            continue;
        next = vtimer_earlier(next, vtimer_fire_expired(e->timers, e->timer_count, now));
    }
    return next;
}

/* Work stealing: an idle CPU takes a runnable entity that waits (is not running) in the
 * busiest other queue and may run here. Locks are taken in CPU order, so two stealers cannot
 * deadlock. */
static bool steal(struct sched_queue *me)
{
    unsigned count;
    struct sched_queue *all = sched_queues(&count);
    struct steal_choice choice = sched_choose_steal(all, count, me);
    struct sched_queue *victim = choice.from;
    if (!victim)
        return false;
    struct sched_queue *first = victim->cpu < me->cpu ? victim : me, *second = first == me ? victim : me;
    uint64_t flags = spin_lock_irqsave(&first->lock);
    spin_lock(&second->lock);
    struct sched_entity *taken = NULL;
    for (struct sched_link *l = victim->entities.next; l != &victim->entities && !taken; l = l->next) {
        struct sched_entity *e = sched_entity_of(l);
        if (e->state == ENTITY_RUNNABLE && e != victim->running && sched_allowed_on(e, me->cpu))
            taken = e;
    }
    if (taken) {
        policy->depart(victim, taken);
        sched_queue_remove(victim, taken);
        policy->place(me, taken);
        sched_queue_add(me, taken);
    }
    spin_unlock(&second->lock);
    spin_unlock_irqrestore(&first->lock, flags);
    return taken != NULL;
}

static uint64_t due_or_never(uint64_t deadline)
{
    return deadline ? deadline : SCHED_NEVER;
}

/* Nothing runnable here: take work from another CPU, or halt until an interrupt (a timer, an
 * IPI from a waking CPU, a cross-CPU call). */
static void idle(struct sched_queue *q, uint64_t next_timer)
{
    if (steal(q))
        return;
    if (next_timer) {
        uint64_t now = rdtsc();
        uint64_t ticks = (int64_t)(next_timer - now) > 0 ? next_timer - now : 1;
        lapic_timer_oneshot_ns(tsc_ticks_to_ns(ticks));
    }
    if (!this_cpu()->need_resched)
        __asm__ volatile("sti; hlt; cli" ::: "memory");
}

/* The next allowed CPU after `from` (migrate_stress testing). */
static unsigned next_allowed_cpu(const struct sched_entity *e, unsigned from)
{
    for (unsigned i = 1; i <= cpu_count; i++) {
        unsigned c = (from + i) % cpu_count;
        if (usable_cpu(c) && sched_allowed_on(e, c))
            return c;
    }
    return from;
}

/* Moves e from this CPU's queue to `target`'s and tells that CPU. Once its run here ended
 * (q->running cleared), an idle CPU may have stolen e already: then it stays where it went.
 * Enqueuing it anyway would put it in two queues, and two CPUs would run it at once (for a
 * vCPU, the second one's remote VMCLEAR pulling the VMCS from under the first). */
static void move_to(struct sched_queue *q, struct sched_entity *e, unsigned target)
{
    uint64_t f = spin_lock_irqsave(&q->lock);
    bool ours = e->home_cpu == (int)q->cpu;
    if (ours) {
        policy->depart(q, e);
        sched_queue_remove(q, e);
    }
    spin_unlock_irqrestore(&q->lock, f);
    if (!ours)
        return;
    enqueue(e, target);
    smp_send_reschedule(target);
}

static void account(struct sched_entity *e, unsigned cpu, uint64_t ticks, enum run_end end)
{
    policy->charge(e, ticks);
    e->run_ticks += ticks;
    e->slices++;
    if (end == RUN_PREEMPTED)
        e->forced++;
    else if (end != RUN_STOPPED)
        e->voluntary++;
    if (cpu < 64)
        e->ran_on |= 1ull << cpu;
}

void sched_loop(void)
{
    struct percpu *p = this_cpu();
    struct sched_queue *q = sched_queue_of(p->index);
    if (!q || !q->usable)
        return;
    for (;;) {
        uint64_t now = rdtsc();
        xcall_poll(); /* as between exits (vmx/run.c): a guest with IF=0 may have hidden the IPI */
        if (now >= q->host_due) { /* no lock held: host work may take any */
            __atomic_store_n(&q->host_due, SCHED_NEVER, __ATOMIC_SEQ_CST);
            sched_due_lower(&q->host_due, due_or_never(vtimer_fire_host(q->host_timers, now)));
        }
        uint64_t flags = spin_lock_irqsave(&q->lock);
        if (now >= q->entity_due) {
            __atomic_store_n(&q->entity_due, SCHED_NEVER, __ATOMIC_SEQ_CST);
            sched_due_lower(&q->entity_due, due_or_never(fire_entity_timers(q, now)));
        }
        uint64_t next_timer = q->entity_due == SCHED_NEVER ? 0 : q->entity_due;
        struct sched_entity *e = policy->pick(q);
        q->running = e;
        p->need_resched = false;
        spin_unlock_irqrestore(&q->lock, flags);
        if (!e) {
            if (!keep_running())
                return;
            idle(q, vtimer_earlier(next_timer, q->host_due == SCHED_NEVER ? 0 : q->host_due));
            continue;
        }
        uint64_t slice = tsc_us_to_ticks(e->migrate_stress ? SCHED_STRESS_SLICE_US : e->slice_us);
        /* An entity timer due within the slice (any entity's of this CPU) cuts it short, so
         * it fires on time; host work waits for the slice's end. */
        if (next_timer && next_timer - now < slice)
            slice = (int64_t)(next_timer - now) > 0 ? next_timer - now : 1;
        enum run_end end = e->ops->run(e, slice);
        q->running = NULL;
        if (end == RUN_ELSEWHERE) {
            /* It did not run here (a vCPU whose VMCS a busy CPU still holds): it goes there
             * rather than waiting here. */
            int there = e->elsewhere;
            if (there >= 0 && (unsigned)there != p->index && usable_cpu((unsigned)there))
                move_to(q, e, (unsigned)there);
            continue;
        }
        account(e, p->index, rdtsc() - now, end);
        if (e->migrate_stress && end != RUN_STOPPED) {
            unsigned target = next_allowed_cpu(e, p->index);
            if (target != p->index)
                move_to(q, e, target);
        }
    }
}

bool sched_placeable(const struct sched_entity *e, bool (*cpu_usable)(unsigned c))
{
    for (unsigned c = 0; c < cpu_count; c++)
        if (cpu_usable(c) && sched_allowed_on(e, c))
            return true;
    return false;
}

void sched_start(bool (*cpu_usable)(unsigned c), bool (*running)(void))
{
    keep_running = running;
    for (unsigned c = 0; c < cpu_count; c++)
        if (sched_queue_of(c))
            sched_queue_of(c)->usable = cpu_usable(c);
    unsigned next = 0;
    for (struct sched_entity *e = first_entity; e; e = e->next_entity) {
        unsigned c = next_allowed_cpu(e, next == 0 ? cpu_count - 1 : next - 1);
        if (!usable_cpu(c) || !sched_allowed_on(e, c))
            continue; /* the owner stopped it (sched_placeable); it never runs */
        enqueue(e, c);
        next = c + 1;
    }
    log_info("sched: policy %s, %u entit%s", policy->name, entity_count, entity_count == 1 ? "y" : "ies");
    smp_set_idle_work(sched_loop);
    for (unsigned c = 0; c < cpu_count; c++)
        if (usable_cpu(c) && c != this_cpu()->index)
            smp_send_reschedule(c);
}

static void cpu_list(uint64_t mask, char *buf, size_t size)
{
    int n = 0;
    buf[0] = '\0';
    for (unsigned c = 0; c < 64; c++)
        if (mask >> c & 1)
            n += ksnprintf(buf + n, size - n, "%s%u", n ? "," : "", c);
}

void sched_print_summary(void)
{
    uint64_t per_ms = tsc_hz / 1000 ? tsc_hz / 1000 : 1;
    for (const struct sched_entity *e = first_entity; e; e = e->next_entity) {
        char ran[200], name[64] = "entity", more[96] = "";
        cpu_list(e->ran_on, ran, sizeof(ran));
        if (e->ops->describe)
            e->ops->describe(e, name, sizeof(name), more, sizeof(more));
        log_info("sched: %s: weight %u, run %lu ms, %lu slices (%lu forced, %lu voluntary), %s%sran on cpus %s", name,
                 e->weight, e->run_ticks / per_ms, e->slices, e->forced, e->voluntary, more, more[0] ? ", " : "",
                 ran[0] ? ran : "none");
    }
}
