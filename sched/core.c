/* SPDX-License-Identifier: BSD-2-Clause */
/* The scheduler core (see include/sched/sched.h). Run queues are per CPU, each behind its own
 * lock; a vCPU is in exactly one queue, its home CPU's. */
#include "sched/sched.h"

#include <stddef.h>

#include "arch/x86/cpu.h"
#include "arch/x86/lapic.h"
#include "arch/x86/percpu.h"
#include "arch/x86/smp.h"
#include "arch/x86/tsc.h"
#include "arch/x86/xcall.h"
#include "kernel/console.h"
#include "kernel/log.h"
#include "lib/format.h"
#include "vm/console.h"
#include "vm/vm.h"
#include "vmx/inject.h"
#include "vmx/run.h"
#include "vmx/vcpu.h"

#define STRESS_SLICE_US 200 /* FLAG_MIGRATE guests: hop CPUs often */
#define CONSOLE_POLL_US 5000 /* CPU 0 reads the serial line at least this often */
#define CONSOLE_DRAIN_US 1000 /* ...and feeds it this often while output waits (16 bytes: 1.4 ms) */

static const struct sched_policy *policy = &sched_fair;

/* Every vCPU of every VM may be pinned to one CPU: its queue must hold them all. */
_Static_assert(sizeof(((struct percpu *)0)->runq) / sizeof(struct vcpu *) >= MAX_VMS * VM_MAX_VCPUS,
               "a run queue holds every vCPU");

static bool usable_cpu(unsigned c)
{
    return c < cpu_count && c < MAX_CPUS && cpus[c] && cpus[c]->online && cpus[c]->vmx_state == VMX_CPU_ON;
}

static bool allowed_on(const struct vcpu *v, unsigned c)
{
    return sched_allowed_on(&v->se, c);
}


/* Puts v in CPU c's queue (not yet in any). */
static void enqueue(struct vcpu *v, unsigned c)
{
    struct percpu *p = per_cpu(c);
    uint64_t flags = spin_lock_irqsave(&p->runq_lock);
    policy->place(p, v);
    p->runq[p->runq_len++] = v;
    v->home_cpu = (int)c;
    spin_unlock_irqrestore(&p->runq_lock, flags);
}

/* Takes v out of p's queue; false when it is not there. */
static bool dequeue_locked(struct percpu *p, struct vcpu *v)
{
    for (unsigned i = 0; i < p->runq_len; i++) {
        if (p->runq[i] == v) {
            p->runq[i] = p->runq[--p->runq_len];
            return true;
        }
    }
    return false;
}

void sched_kick(struct vcpu *v)
{
    if (v->home_cpu >= 0 && (unsigned)v->home_cpu != this_cpu()->index)
        smp_send_reschedule((unsigned)v->home_cpu);
}

void sched_wake(struct vcpu *v)
{
    if (vcpu_state_swap(v, VCPU_BLOCKED, VCPU_RUNNABLE))
        sched_kick(v);
}

#define TIMER_MAX_US 3600000000ull /* an hour: keeps the TSC arithmetic far from overflow */

static void hypercall_timer_fired(struct vtimer *t)
{
    struct vcpu *v = t->vcpu;
    inject_interrupt(v, v->se.timer_vector);
    sched_wake(v);
}

void sched_set_timer(struct vcpu *v, uint64_t us, uint8_t vector)
{
    if (us > TIMER_MAX_US)
        us = TIMER_MAX_US;
    if (!v->se.hypercall_timer.fire)
        vtimer_init(&v->se.hypercall_timer, v, hypercall_timer_fired, NULL);
    v->se.timer_vector = vector;
    if (us)
        vtimer_arm(&v->se.hypercall_timer, rdtsc() + tsc_us_to_ticks(us));
    else
        vtimer_cancel(&v->se.hypercall_timer);
}

/* Fires expired device timers of this CPU's vCPUs; returns the earliest one still armed. */
static uint64_t fire_timers(struct percpu *p, uint64_t now)
{
    uint64_t next = 0;
    for (unsigned i = 0; i < p->runq_len; i++) {
        struct vcpu *v = p->runq[i];
        if (v->state == VCPU_STOPPED || !v->se.timer_count)
            continue;
        uint64_t d = vtimer_fire_expired(v, now);
        if (d && (!next || (int64_t)(d - next) < 0))
            next = d;
    }
    return next;
}

/* Work stealing: an idle CPU takes a runnable vCPU that waits (is not running) in the busiest
 * other queue and may run here. Locks are taken in CPU order, so two stealers cannot deadlock. */
static bool steal(struct percpu *me)
{
    struct steal_choice choice = sched_choose_steal(cpus, cpu_count, me);
    struct percpu *victim = choice.from;
    if (!victim)
        return false;
    struct percpu *first = victim->index < me->index ? victim : me, *second = first == me ? victim : me;
    uint64_t flags = spin_lock_irqsave(&first->runq_lock);
    spin_lock(&second->runq_lock);
    struct vcpu *taken = NULL;
    for (unsigned i = 0; i < victim->runq_len && !taken; i++) {
        struct vcpu *v = victim->runq[i];
        if (v->state == VCPU_RUNNABLE && v != victim->running && allowed_on(v, me->index))
            taken = v;
    }
    if (taken) {
        policy->depart(victim, taken);
        dequeue_locked(victim, taken);
        policy->place(me, taken);
        me->runq[me->runq_len++] = taken;
        taken->home_cpu = (int)me->index;
    }
    spin_unlock(&second->runq_lock);
    spin_unlock_irqrestore(&first->runq_lock, flags);
    return taken != NULL;
}

/* Nothing runnable here: take work from another CPU, or halt until an interrupt (a guest
 * timer, an IPI from a waking CPU, a cross-CPU call). */
static void idle(struct percpu *p, uint64_t next_timer)
{
    if (steal(p))
        return;
    if (p->index == 0) { /* the serial line is polled: wake for it too */
        uint64_t poll = rdtsc() + tsc_us_to_ticks(console_pending() ? CONSOLE_DRAIN_US : CONSOLE_POLL_US);
        if (!next_timer || (int64_t)(poll - next_timer) < 0)
            next_timer = poll;
    }
    if (next_timer) {
        uint64_t now = rdtsc();
        uint64_t ticks = (int64_t)(next_timer - now) > 0 ? next_timer - now : 1;
        lapic_timer_oneshot_ns(tsc_ticks_to_ns(ticks));
    }
    if (!p->need_resched)
        __asm__ volatile("sti; hlt; cli" ::: "memory");
}

/* The next allowed CPU after `from` (FLAG_MIGRATE stress testing). */
static unsigned next_allowed_cpu(const struct vcpu *v, unsigned from)
{
    for (unsigned i = 1; i <= cpu_count; i++) {
        unsigned c = (from + i) % cpu_count;
        if (usable_cpu(c) && allowed_on(v, c))
            return c;
    }
    return from;
}

/* Moves v from this CPU's queue to `target`'s and tells that CPU. Once its run here ended
 * (p->running cleared), an idle CPU may have stolen v already: then it stays where it went.
 * Enqueuing it anyway would put it in two queues, and two CPUs would run it at once (the
 * second one's remote VMCLEAR pulling the VMCS from under the first: VMfailInvalid). */
static void move_to(struct percpu *p, struct vcpu *v, unsigned target)
{
    uint64_t f = spin_lock_irqsave(&p->runq_lock);
    bool ours = dequeue_locked(p, v);
    if (ours)
        policy->depart(p, v);
    spin_unlock_irqrestore(&p->runq_lock, f);
    if (!ours)
        return;
    enqueue(v, target);
    smp_send_reschedule(target);
}

static void account(struct vcpu *v, struct percpu *p, uint64_t ticks, enum run_end end)
{
    policy->charge(v, ticks);
    v->se.run_ticks += ticks;
    v->se.slices++;
    if (end == RUN_PREEMPTED)
        v->se.forced++;
    else if (end != RUN_STOPPED)
        v->se.voluntary++;
    if (p->index < 64)
        v->se.ran_on |= 1ull << p->index;
}

static uint64_t last_console_poll; /* TSC; CPU 0 only */

void sched_loop(void)
{
    struct percpu *p = this_cpu();
    if (p->vmx_state != VMX_CPU_ON)
        return;
    while (vm_running_count()) {
        uint64_t now = rdtsc();
        xcall_poll(); /* as between exits (vmx/run.c): a guest with IF=0 may have hidden the IPI */
        if (p->index == 0 && now - last_console_poll >= tsc_us_to_ticks(CONSOLE_POLL_US / 5)) {
            last_console_poll = now; /* often enough for typing, rarely enough to cost nothing */
            console_input_poll();    /* serial input to the VM with the console focus */
            console_drain();         /* and output waiting for the line */
        }
        uint64_t flags = spin_lock_irqsave(&p->runq_lock);
        uint64_t next_timer = fire_timers(p, now);
        struct vcpu *v = policy->pick(p);
        p->running = v;
        p->need_resched = false;
        spin_unlock_irqrestore(&p->runq_lock, flags);
        if (!v) {
            vm_restart_waiting(); /* a restart that found a vCPU held by a busy CPU */
            idle(p, next_timer);
            continue;
        }
        uint64_t slice = tsc_us_to_ticks(v->migrate_stress ? STRESS_SLICE_US : v->se.slice_us);
        /* A device timer due within the slice (any vCPU's of this CPU) cuts it short, so it
         * fires on time. */
        if (next_timer && next_timer - now < slice)
            slice = (int64_t)(next_timer - now) > 0 ? next_timer - now : 1;
        enum run_end end = vcpu_run(v, slice);
        p->running = NULL;
        if (end == RUN_NOT_LOADED) {
            /* Its VMCS is still active on the CPU it came from (stolen, or moved), which was
             * too busy to release it: it goes back there rather than waiting here. */
            int holder = __atomic_load_n(&v->last_cpu, __ATOMIC_ACQUIRE);
            if (holder >= 0 && (unsigned)holder != p->index && usable_cpu((unsigned)holder))
                move_to(p, v, (unsigned)holder);
            continue;
        }
        account(v, p, rdtsc() - now, end);
        if (end == RUN_STOPPED)
            vm_restart_if_ready(v->vm);
        if (v->migrate_stress && end != RUN_STOPPED) {
            unsigned target = next_allowed_cpu(v, p->index);
            if (target != p->index)
                move_to(p, v, target);
        }
    }
}

void sched_start(void)
{
    unsigned next = 0;
    for (unsigned i = 0; i < vm_count; i++) {
        for (unsigned j = 0; j < vms[i]->vcpu_count; j++) {
            struct vcpu *v = vms[i]->vcpus[j];
            unsigned c = next_allowed_cpu(v, next == 0 ? cpu_count - 1 : next - 1);
            if (!usable_cpu(c) || !allowed_on(v, c)) {
                vm_stop(vms[i], STOP_CRASH, 253, "vCPU %u may run on no CPU in VMX operation (affinity 0x%lx)", j,
                        v->se.affinity);
                break;
            }
            enqueue(v, c);
            next = c + 1;
        }
    }
    log_info("sched: policy %s, %u VM%s", policy->name, vm_count, vm_count == 1 ? "" : "s");
    console_start_queue(vm_console_room); /* from now on no CPU waits for the serial line */
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
    for (unsigned c = 0; c < cpu_count; c++) {
        const struct percpu *p = cpus[c];
        if (!usable_cpu(c))
            continue;
        log_info("sched: cpu%u: %lu vCPU switches, %lu TSC ticks each from the slice-end exit to the next "
                 "vCPU's entry; %lu migrations in, %lu ticks each in vcpu_load, %lu not taken (busy CPU)", c,
                 p->switches, p->switches ? p->switch_ticks / p->switches : 0, p->migrations_in,
                 p->migrations_in ? p->migrate_ticks / p->migrations_in : 0, p->vmclear_timeouts);
    }
    for (unsigned i = 0; i < vm_count; i++) {
        for (unsigned j = 0; j < vms[i]->vcpu_count; j++) {
            const struct vcpu *v = vms[i]->vcpus[j];
            char ran[200];
            cpu_list(v->se.ran_on, ran, sizeof(ran));
            log_info("sched: vm %s vcpu %u: weight %u, run %lu ms, %lu slices (%lu forced, %lu voluntary), "
                     "%lu migrations, %lu exits, ran on cpus %s", vms[i]->name, j, v->se.weight,
                     v->se.run_ticks / per_ms, v->se.slices, v->se.forced, v->se.voluntary, v->migrations,
                     v->exits, ran[0] ? ran : "none");
        }
    }
}
