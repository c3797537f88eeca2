/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Timers kept by the scheduler's CPUs. A timer either belongs to an entity (the timers of a
 * vCPU's devices: the local APIC timer, the PIT, ...) and is kept by the CPU whose run queue
 * holds that entity, or is host work (vtimer_init_host) kept by one fixed CPU. Each CPU's
 * loop fires its expired timers between runs and sleeps no longer than the earliest deadline;
 * an entity timer also ends a running slice at its deadline, a host timer never does.
 * An entity timer's fire() runs with the queue lock held and interrupts off: it may raise
 * interrupt lines and wake entities, never touch a VMCS or take a run-queue lock. A host
 * timer's fire() runs with no lock held and may do anything the loop may. A periodic timer
 * re-arms itself from fire().
 */
#ifndef MHV_SCHED_VTIMER_H
#define MHV_SCHED_VTIMER_H

#include <stdint.h>

struct sched_entity;

#define SCHED_MAX_TIMERS 5 /* per entity: vCPU 0 has the APIC, hypercall, PIT, RTC and HPET timers */

struct vtimer {
    volatile uint64_t deadline;      /* TSC; 0 when not armed */
    void (*fire)(struct vtimer *t);
    struct sched_entity *owner;      /* whose CPU keeps it; NULL for host work */
    int host_cpu;                    /* host work: the CPU that keeps it */
    struct vtimer *next_host;        /* host work: the next of host_cpu's */
    void *ctx;                       /* the device's or the host work's */
};

/* Ties t to entity e (at most SCHED_MAX_TIMERS per entity); t starts disarmed. */
void vtimer_init(struct vtimer *t, struct sched_entity *e, void (*fire)(struct vtimer *t), void *ctx);
/* Makes t host work of CPU `cpu` (after sched_init); t starts disarmed. */
void vtimer_init_host(struct vtimer *t, unsigned cpu, void (*fire)(struct vtimer *t), void *ctx);
/* Arms t for the absolute TSC value `deadline` (one in the past fires at once), replacing any
 * earlier arming; the keeping CPU learns of it at once. */
void vtimer_arm(struct vtimer *t, uint64_t deadline);
void vtimer_cancel(struct vtimer *t);
/* The earlier of two deadlines, 0 meaning none (TSC values compared across a wrap). */
static inline uint64_t vtimer_earlier(uint64_t a, uint64_t b)
{
    return b && (!a || (int64_t)(b - a) < 0) ? b : a;
}

/* vtimer_arm for a deadline, vtimer_cancel for 0 (a device's "next event, if any"). */
static inline void vtimer_set(struct vtimer *t, uint64_t deadline)
{
    if (deadline)
        vtimer_arm(t, deadline);
    else
        vtimer_cancel(t);
}

/* For sched/core.c: fires expired timers of the list (count entries); returns the earliest
 * deadline still armed (0: none). */
uint64_t vtimer_fire_expired(struct vtimer *const *timers, unsigned count, uint64_t now);
/* For sched/core.c: fires CPU's expired host timers (the list from its queue). */
uint64_t vtimer_fire_host(struct vtimer *first, uint64_t now);

#endif
