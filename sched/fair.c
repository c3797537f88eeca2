/* SPDX-License-Identifier: BSD-2-Clause */
/* Weighted fair share: every entity accumulates virtual run time, its real run time divided
 * by its weight; the runnable entity with the least runs next. Over time a weight-2 VM gets
 * twice the CPU of a weight-1 VM when both are busy (the idea of Linux's CFS, on a flat list). */
#include "sched/sched.h"

#include <stddef.h>

/* Virtual time is per queue: q->min_vruntime follows the least vruntime of its runnable
 * entities and never goes back (Linux's CFS keeps the same). An entity that slept, or arrives
 * from another queue, is measured against it: sleeping earns no credit to monopolize the CPU
 * afterwards, and queues that drifted apart (one CPU's entities got more of it than
 * another's) do not make an entity moving between them wait for the other queue to catch up. */
static struct sched_entity *fair_pick(struct sched_queue *q)
{
    struct sched_entity *best = NULL;
    for (struct sched_link *l = q->entities.next; l != &q->entities; l = l->next) {
        struct sched_entity *e = sched_entity_of(l);
        if (e->state != ENTITY_RUNNABLE)
            continue;
        if (e->vruntime < q->min_vruntime)
            e->vruntime = q->min_vruntime; /* woke after a sleep */
        if (!best || e->vruntime < best->vruntime)
            best = e;
    }
    if (best)
        q->min_vruntime = best->vruntime; /* every runnable entity is at or above it */
    return best;
}

static void fair_charge(struct sched_entity *e, uint64_t ticks)
{
    e->vruntime += ticks * SCHED_WEIGHT_SCALE / e->weight;
}

/* e leaves for another CPU and takes along its lead over this queue, never less than 0. */
static void fair_depart(struct sched_queue *q, struct sched_entity *e)
{
    e->lag = e->vruntime > q->min_vruntime ? e->vruntime - q->min_vruntime : 0;
    e->departed = true;
}

/* e joins this queue: with the lead it had where it came from, or (new) no further back than
 * this queue's virtual time. */
static void fair_place(struct sched_queue *q, struct sched_entity *e)
{
    if (e->departed)
        e->vruntime = q->min_vruntime + e->lag;
    else if (e->vruntime < q->min_vruntime)
        e->vruntime = q->min_vruntime;
    e->departed = false;
}

const struct sched_policy sched_fair = {
    .name = "fair",
    .pick = fair_pick,
    .charge = fair_charge,
    .place = fair_place,
    .depart = fair_depart,
};
