/* SPDX-License-Identifier: BSD-2-Clause */
/* Idle balancing: which queue an idle CPU takes work from (see include/sched/sched.h). */
#include "sched/sched.h"

#include <stddef.h>

static unsigned runnable_in(struct sched_queue *q)
{
    unsigned n = 0;
    for (struct sched_link *l = q->entities.next; l != &q->entities; l = l->next)
        n += sched_entity_of(l)->state == ENTITY_RUNNABLE;
    return n;
}

struct steal_choice sched_choose_steal(struct sched_queue *queues, unsigned count, const struct sched_queue *me)
{
    struct steal_choice choice = { NULL, NULL };
    unsigned most = 1; /* a queue needs an entity waiting besides the running one */
    for (unsigned c = 0; c < count; c++) {
        struct sched_queue *q = &queues[c];
        if (q == me || !q->usable)
            continue;
        /* Under its lock: another CPU may take an entity out of the list meanwhile, and a walk
         * without the lock would follow the links it clears. */
        uint64_t flags = spin_lock_irqsave(&q->lock);
        unsigned runnable = runnable_in(q);
        for (struct sched_link *l = q->entities.next; runnable > most && l != &q->entities; l = l->next) {
            struct sched_entity *e = sched_entity_of(l);
            if (e->state == ENTITY_RUNNABLE && e != q->running && sched_allowed_on(e, me->cpu)) {
                choice = (struct steal_choice){ q, e };
                most = runnable;
                break;
            }
        }
        spin_unlock_irqrestore(&q->lock, flags);
    }
    return choice;
}
