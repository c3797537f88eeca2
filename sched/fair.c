/* SPDX-License-Identifier: BSD-2-Clause */
/* Weighted fair share: every vCPU accumulates virtual run time, its real run time divided by
 * its weight; the runnable vCPU with the least runs next. Over time a weight-2 VM gets twice
 * the CPU of a weight-1 VM when both are busy (the idea of Linux's CFS, on a flat list). */
#include "sched/sched.h"

#include <stddef.h>

#include "arch/x86/percpu.h"
#include "vm/vm.h"
#include "vmx/vcpu.h"

/* Virtual time is per queue: cpu->min_vruntime follows the least vruntime of its runnable
 * vCPUs and never goes back (Linux's CFS keeps the same). A vCPU that slept, or arrives from
 * another queue, is measured against it: sleeping earns no credit to monopolize the CPU
 * afterwards, and queues that drifted apart (one CPU's vCPUs got more of it than another's)
 * do not make a vCPU moving between them wait for the other queue to catch up. */
static struct vcpu *fair_pick(struct percpu *cpu)
{
    struct vcpu *best = NULL;
    for (unsigned i = 0; i < cpu->runq_len; i++) {
        struct vcpu *v = cpu->runq[i];
        if (v->state != VCPU_RUNNABLE)
            continue;
        if (v->se.vruntime < cpu->min_vruntime)
            v->se.vruntime = cpu->min_vruntime; /* woke after a sleep */
        if (!best || v->se.vruntime < best->se.vruntime)
            best = v;
    }
    if (best)
        cpu->min_vruntime = best->se.vruntime; /* every runnable vCPU is at or above it */
    return best;
}

static void fair_charge(struct vcpu *v, uint64_t ticks)
{
    v->se.vruntime += ticks * SCHED_WEIGHT_SCALE / v->se.weight;
}

/* v leaves for another CPU and takes along its lead over this queue, never less than 0. */
static void fair_depart(struct percpu *cpu, struct vcpu *v)
{
    v->se.lag = v->se.vruntime > cpu->min_vruntime ? v->se.vruntime - cpu->min_vruntime : 0;
    v->se.departed = true;
}

/* v joins this queue: with the lead it had where it came from, or (new) no further back
 * than this queue's virtual time. */
static void fair_place(struct percpu *cpu, struct vcpu *v)
{
    if (v->se.departed)
        v->se.vruntime = cpu->min_vruntime + v->se.lag;
    else if (v->se.vruntime < cpu->min_vruntime)
        v->se.vruntime = cpu->min_vruntime;
    v->se.departed = false;
}

const struct sched_policy sched_fair = {
    .name = "fair",
    .pick = fair_pick,
    .charge = fair_charge,
    .place = fair_place,
    .depart = fair_depart,
};
