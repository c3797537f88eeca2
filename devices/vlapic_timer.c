/* SPDX-License-Identifier: BSD-2-Clause */
/* The local APIC timer (SDM Vol. 3A 12.5.4): one-shot, periodic and TSC-deadline modes, on a
 * device timer of the vCPU (include/sched/vtimer.h). */
#include "arch/x86/cpu.h"
#include "arch/x86/tsc.h"
#include "devices/vlapic_internal.h"
#include "sched/vtimer.h"
#include "vmx/vcpu.h"

/* The divide configuration register: bits 0, 1 and 3 encode 2, 4, ..., 128, or 1. */
uint32_t vlapic_divisor_of(uint32_t divide)
{
    unsigned code = (divide & 3) | ((divide >> 1) & 4);
    return code == 7 ? 1 : 2u << code;
}

/* The timer counts with the divisor last accepted (l->timer_divisor), not with what the page
 * holds: with APIC-register virtualisation the CPU puts a new divide value there before the
 * APIC-write exit, and the count until that write ran at the old rate. */
uint64_t vlapic_timer_period_ticks(struct vlapic *l)
{
    return (uint64_t)REG(l, REG_TIMER_INITIAL) * l->timer_divisor;
}

/* Whether the count is running (12.5.4): from a write of a non-zero initial count until a
 * one-shot count reaches 0 (noticed here even before its device timer fires); a periodic count
 * runs on. Lock held. */
bool vlapic_timer_counting(struct vlapic *l)
{
    if (!l->timer_counting)
        return false;
    if (timer_mode(l) == TIMER_ONESHOT && rdtsc() - l->timer_start >= vlapic_timer_period_ticks(l))
        l->timer_counting = false; /* its interrupt is the device timer's to deliver */
    return l->timer_counting;
}

/* The current count: 0 when not counting, and in TSC-deadline mode. */
uint32_t vlapic_timer_current(struct vlapic *l)
{
    uint32_t initial = REG(l, REG_TIMER_INITIAL);
    if (!initial || timer_mode(l) == TIMER_TSC_DEADLINE || !vlapic_timer_counting(l))
        return 0;
    uint64_t elapsed = (rdtsc() - l->timer_start) / l->timer_divisor;
    if (timer_mode(l) == TIMER_PERIODIC)
        return initial - (uint32_t)(elapsed % initial);
    /* The TSC moved on since timer_counting looked: a one-shot count may have run out since. */
    return elapsed < initial ? initial - (uint32_t)elapsed : 0;
}

/* A periodic timer that fired late gets one interrupt, and its next period is aligned to the
 * original start, so it neither bursts nor drifts. */
void vlapic_timer_fired(struct vtimer *t)
{
    struct vlapic *l = t->ctx;
    uint64_t flags = spin_lock_irqsave(&l->lock);
    uint32_t lvt = REG(l, REG_LVT_TIMER);
    bool deliver = !(lvt & LVT_MASKED);
    uint8_t vector = lvt & 0xff;
    if (timer_mode(l) == TIMER_PERIODIC && REG(l, REG_TIMER_INITIAL) && l->timer_counting) {
        uint64_t period = vlapic_timer_period_ticks(l), now = rdtsc();
        l->timer_start += ((now - l->timer_start) / period) * period;
        vtimer_arm(&l->timer, l->timer_start + period);
    } else if (timer_mode(l) == TIMER_ONESHOT) {
        l->timer_counting = false;
    } else if (timer_mode(l) == TIMER_TSC_DEADLINE) {
        l->tsc_deadline = 0; /* the MSR reads 0 once the timer fired (SDM Vol. 3A 12.5.4.1) */
    }
    if (deliver && vector >= 16)
        vlapic_accept_locked(l, vector, false);
    spin_unlock_irqrestore(&l->lock, flags);
    if (deliver)
        vlapic_notify(l->vcpu);
}

void vlapic_timer_start_count(struct vlapic *l)
{
    l->timer_start = rdtsc();
    l->timer_counting = REG(l, REG_TIMER_INITIAL) && timer_mode(l) != TIMER_TSC_DEADLINE;
    if (l->timer_counting)
        vtimer_arm(&l->timer, l->timer_start + vlapic_timer_period_ticks(l));
    else
        vtimer_cancel(&l->timer);
}
