/* Weighted fair share: every vCPU accumulates virtual run time, its real run time divided by
 * its weight; the runnable vCPU with the least runs next. Over time a weight-2 VM gets twice
 * the CPU of a weight-1 VM when both are busy (the idea of Linux's CFS, on a flat list). */
#include "sched/sched.h"

#include <stddef.h>

#include "arch/x86/percpu.h"
#include "vm/vm.h"
#include "vmx/vcpu.h"

static struct vcpu *fair_pick(struct percpu *cpu)
{
    struct vcpu *best = NULL;
    for (unsigned i = 0; i < cpu->runq_len; i++) {
        struct vcpu *v = cpu->runq[i];
        if (v->state == VCPU_RUNNABLE && (!best || v->se.vruntime < best->se.vruntime))
            best = v;
    }
    return best;
}

static void fair_charge(struct vcpu *v, uint64_t ticks)
{
    v->se.vruntime += ticks * SCHED_WEIGHT_SCALE / v->se.weight;
}

/* The least virtual time among the runnable vCPUs of cpu's queue but v, or UINT64_MAX. */
static uint64_t least_vruntime(struct percpu *cpu, const struct vcpu *v)
{
    uint64_t least = UINT64_MAX;
    for (unsigned i = 0; i < cpu->runq_len; i++)
        if (cpu->runq[i] != v && cpu->runq[i]->state == VCPU_RUNNABLE && cpu->runq[i]->se.vruntime < least)
            least = cpu->runq[i]->se.vruntime;
    return least;
}

/* Virtual time is per queue, and queues drift apart (one CPU's vCPUs get more of it than
 * another's), so a vCPU moving between CPUs takes along only its lead over the queue it
 * leaves, never less than 0 (Linux's CFS does the same with min_vruntime). Without this, a
 * vCPU coming from a queue far ahead waited until every vCPU of the new one caught up. */
static void fair_depart(struct percpu *cpu, struct vcpu *v)
{
    uint64_t least = least_vruntime(cpu, v);
    v->se.lag = least != UINT64_MAX && v->se.vruntime > least ? v->se.vruntime - least : 0;
    v->se.departed = true;
}

/* A vCPU that came from another CPU keeps its lead over the queue's least; a new one starts
 * no further back than the least virtual time here: sleeping earns no credit to monopolize
 * the CPU afterwards. */
static void fair_place(struct percpu *cpu, struct vcpu *v)
{
    uint64_t least = least_vruntime(cpu, v);
    bool migrated = v->se.departed;
    v->se.departed = false;
    if (least == UINT64_MAX)
        return; /* nobody runnable here to compare with */
    if (migrated)
        v->se.vruntime = least + v->se.lag;
    else if (v->se.vruntime < least)
        v->se.vruntime = least;
}

const struct sched_policy sched_fair = {
    .name = "fair",
    .pick = fair_pick,
    .charge = fair_charge,
    .place = fair_place,
    .depart = fair_depart,
};
