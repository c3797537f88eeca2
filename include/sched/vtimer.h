/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Timers of virtual devices (the local APIC timer, the PIT, ...). Each timer belongs to a vCPU
 * and is kept by the CPU whose run queue holds that vCPU: its scheduler loop fires expired
 * timers between runs and sleeps no longer than the earliest deadline, and a vCPU's slice ends
 * at its earliest deadline. fire() runs on that CPU with interrupts off and no particular VMCS
 * current: it may raise interrupt lines and wake vCPUs, never touch a VMCS. A periodic device
 * re-arms its timer from fire().
 */
#ifndef MHV_SCHED_VTIMER_H
#define MHV_SCHED_VTIMER_H

#include <stdint.h>

struct vcpu;

#define VCPU_MAX_VTIMERS 4

struct vtimer {
    volatile uint64_t deadline;      /* TSC; 0 when not armed */
    void (*fire)(struct vtimer *t);
    struct vcpu *vcpu;               /* whose CPU keeps it */
    void *ctx;                       /* the device's */
};

/* Ties t to v (at most VCPU_MAX_VTIMERS per vCPU); t starts disarmed. */
void vtimer_init(struct vtimer *t, struct vcpu *v, void (*fire)(struct vtimer *t), void *ctx);
/* Arms t for the absolute TSC value `deadline` (one in the past fires at once), replacing any
 * earlier arming; the keeping CPU learns of it at once. */
void vtimer_arm(struct vtimer *t, uint64_t deadline);
void vtimer_cancel(struct vtimer *t);
/* vtimer_arm for a deadline, vtimer_cancel for 0 (a device's "next event, if any"). */
static inline void vtimer_set(struct vtimer *t, uint64_t deadline)
{
    if (deadline)
        vtimer_arm(t, deadline);
    else
        vtimer_cancel(t);
}

/* For sched/core.c: fires v's expired timers; returns its earliest deadline still armed (0: none). */
uint64_t vtimer_fire_expired(struct vcpu *v, uint64_t now);

#endif
