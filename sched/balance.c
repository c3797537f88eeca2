/* SPDX-License-Identifier: BSD-2-Clause */
/* Idle balancing: which queue an idle CPU takes work from (see include/sched/sched.h). */
#include "sched/sched.h"

#include <stddef.h>

#include "arch/x86/percpu.h"
#include "vmx/vcpu.h"

static unsigned runnable_in(const struct percpu *p)
{
    unsigned n = 0;
    for (unsigned i = 0; i < p->runq_len; i++)
        n += p->runq[i]->state == VCPU_RUNNABLE;
    return n;
}

struct steal_choice sched_choose_steal(struct percpu *const *queues, unsigned count, const struct percpu *me)
{
    struct steal_choice choice = { NULL, NULL };
    unsigned most = 1; /* a queue needs a vCPU waiting besides the running one */
    for (unsigned c = 0; c < count; c++) {
        struct percpu *p = queues[c];
        if (!p || p == me || !p->online || p->vmx_state != VMX_CPU_ON)
            continue;
        unsigned runnable = runnable_in(p);
        if (runnable <= most)
            continue;
        for (unsigned i = 0; i < p->runq_len; i++) {
            struct vcpu *v = p->runq[i];
            if (v->state == VCPU_RUNNABLE && v != p->running && sched_allowed_on(&v->se, me->index)) {
                choice = (struct steal_choice){ p, v };
                most = runnable;
                break;
            }
        }
    }
    return choice;
}
