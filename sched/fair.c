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

/* A vCPU that slept or came from another CPU starts no further back than the least virtual
 * time here: sleeping earns no credit to monopolize the CPU afterwards. */
static void fair_place(struct percpu *cpu, struct vcpu *v)
{
    uint64_t least = UINT64_MAX;
    for (unsigned i = 0; i < cpu->runq_len; i++)
        if (cpu->runq[i] != v && cpu->runq[i]->state == VCPU_RUNNABLE && cpu->runq[i]->se.vruntime < least)
            least = cpu->runq[i]->se.vruntime;
    if (least != UINT64_MAX && v->se.vruntime < least)
        v->se.vruntime = least;
}

const struct sched_policy sched_fair = {
    .name = "fair",
    .pick = fair_pick,
    .charge = fair_charge,
    .place = fair_place,
};
