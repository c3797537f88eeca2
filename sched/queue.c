/* SPDX-License-Identifier: BSD-2-Clause */
/* Run queues: one per CPU the machine has (sched_init sizes them from cpu_count, which the
 * MADT set), each a circular list through the entities' own links, so a queue holds any
 * number of entities and adding one never fails. */
#include "sched/sched.h"

#include "kernel/heap.h"
#include "kernel/panic.h"

static struct sched_queue *queues;
static unsigned queue_count;

void sched_queue_init(struct sched_queue *q, unsigned cpu)
{
    *q = (struct sched_queue){ .cpu = cpu, .entity_due = SCHED_NEVER, .host_due = SCHED_NEVER };
    q->entities.next = q->entities.prev = &q->entities;
}

void sched_init(unsigned cpus)
{
    ASSERT(!queues && cpus > 0);
    queues = kzalloc(cpus * sizeof(*queues));
    if (!queues)
        panic("sched: no memory for %u run queues", cpus);
    for (unsigned c = 0; c < cpus; c++)
        sched_queue_init(&queues[c], c);
    queue_count = cpus;
}

struct sched_queue *sched_queue_of(unsigned c)
{
    return c < queue_count ? &queues[c] : NULL;
}

struct sched_queue *sched_queues(unsigned *count)
{
    *count = queue_count;
    return queues;
}

void sched_queue_add(struct sched_queue *q, struct sched_entity *e)
{
    struct sched_link *tail = q->entities.prev;
    e->link.prev = tail;
    e->link.next = &q->entities;
    tail->next = &e->link;
    q->entities.prev = &e->link;
    q->length++;
    e->home_cpu = (int)q->cpu;
    if (e->timer_count)
        sched_due_lower(&q->entity_due, 0); /* its timers are this CPU's now: look at them */
}

void sched_queue_remove(struct sched_queue *q, struct sched_entity *e)
{
    ASSERT(e->home_cpu == (int)q->cpu);
    e->link.prev->next = e->link.next;
    e->link.next->prev = e->link.prev;
    e->link.next = e->link.prev = NULL;
    q->length--;
}
