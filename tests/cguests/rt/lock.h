/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Synchronisation between vCPUs: a spinlock (PAUSE in the wait loop, so mhv's PAUSE-loop exits
 * can give the CPU to the vCPU holding the lock) and a reusable barrier for a fixed number of
 * vCPUs (sense-reversing: the last to arrive starts a new generation).
 */
#ifndef RT_LOCK_H
#define RT_LOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu.h"

struct spinlock {
    volatile uint32_t locked;
};

static inline bool spin_trylock(struct spinlock *l)
{
    return __atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE) == 0;
}

static inline void spin_lock(struct spinlock *l)
{
    while (!spin_trylock(l))
        while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
            cpu_relax();
}

static inline void spin_unlock(struct spinlock *l)
{
    __atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

struct barrier {
    uint32_t parties;
    volatile uint32_t waiting;
    volatile uint32_t generation;
};

static inline void barrier_init(struct barrier *b, uint32_t parties)
{
    b->parties = parties;
    b->waiting = 0;
    b->generation = 0;
}

/* Returns true in exactly one of the vCPUs (the last to arrive). */
static inline bool barrier_wait(struct barrier *b)
{
    uint32_t gen = __atomic_load_n(&b->generation, __ATOMIC_ACQUIRE);
    if (__atomic_add_fetch(&b->waiting, 1, __ATOMIC_ACQ_REL) == b->parties) {
        __atomic_store_n(&b->waiting, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&b->generation, gen + 1, __ATOMIC_RELEASE);
        return true;
    }
    while (__atomic_load_n(&b->generation, __ATOMIC_ACQUIRE) == gen)
        cpu_relax();
    return false;
}

#endif
