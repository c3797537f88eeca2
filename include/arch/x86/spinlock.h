/* SPDX-License-Identifier: BSD-2-Clause */
/* Ticket spinlocks: FIFO-fair, so no CPU starves under contention (unlike a test-and-set
 * lock). Interrupt state is the caller's business: take a lock that an interrupt handler also
 * takes only with interrupts off (spin_lock_irqsave). */
#ifndef MHV_ARCH_X86_SPINLOCK_H
#define MHV_ARCH_X86_SPINLOCK_H

#include <stdbool.h>
#include <stdint.h>

struct spinlock {
    uint32_t next;    /* ticket handed to the next arrival */
    uint32_t serving; /* ticket allowed in */
};

#define SPINLOCK_INIT { 0, 0 }

static inline void spin_lock(struct spinlock *l)
{
    uint32_t ticket = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
    while (__atomic_load_n(&l->serving, __ATOMIC_ACQUIRE) != ticket)
        __asm__ volatile("pause" ::: "memory");
}

static inline bool spin_trylock(struct spinlock *l)
{
    uint32_t serving = __atomic_load_n(&l->serving, __ATOMIC_RELAXED);
    uint32_t expected = serving;
    return __atomic_compare_exchange_n(&l->next, &expected, serving + 1, false, __ATOMIC_ACQUIRE,
                                       __ATOMIC_RELAXED);
}

static inline void spin_unlock(struct spinlock *l)
{
    __atomic_store_n(&l->serving, l->serving + 1, __ATOMIC_RELEASE);
}

/* Disables interrupts and returns the previous RFLAGS for irq_restore. (Host unit tests run
 * in user mode, where CLI would fault: there it does nothing.) */
static inline uint64_t irq_save(void)
{
    uint64_t flags = 0;
#ifndef HOST_UNIT_TEST
    __asm__ volatile("pushfq; popq %0; cli" : "=r"(flags) : : "memory");
#endif
    return flags;
}

static inline void irq_restore(uint64_t flags)
{
    if (flags & (1u << 9)) /* RFLAGS.IF */
        __asm__ volatile("sti" ::: "memory");
}

static inline uint64_t spin_lock_irqsave(struct spinlock *l)
{
    uint64_t flags = irq_save();
    spin_lock(l);
    return flags;
}

static inline void spin_unlock_irqrestore(struct spinlock *l, uint64_t flags)
{
    spin_unlock(l);
    irq_restore(flags);
}

#endif
