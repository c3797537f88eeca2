/* SPDX-License-Identifier: BSD-2-Clause */
// The scheduler's timer calls a device makes (sched/vtimer.h, vm/platform.h), recorded for the
// test instead of run: see fake_vtimer.h.
#include "fake_vtimer.h"

#include <stddef.h>

#include "vm/platform.h"

struct vtimer *armed_timer;
uint64_t armed_deadline;

void vtimer_init(struct vtimer *t, struct sched_entity *e, void (*fire)(struct vtimer *t), void *ctx)
{
    *t = (struct vtimer){ .fire = fire, .owner = e, .ctx = ctx };
}

struct sched_entity *vm_platform_timer_owner(struct vm *v)
{
    (void)v;
    return NULL;
}

void vtimer_arm(struct vtimer *t, uint64_t deadline)
{
    t->deadline = deadline;
    armed_timer = t;
    armed_deadline = deadline;
}

void vtimer_cancel(struct vtimer *t)
{
    t->deadline = 0;
    armed_deadline = 0;
}
