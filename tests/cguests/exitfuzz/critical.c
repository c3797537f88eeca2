/* SPDX-License-Identifier: BSD-2-Clause */
/* Critical sections: the stretches of a vCPU that an INIT from another vCPU must not cut
 * (fuzz.h). The protocol is one word per vCPU, fz_vcpus[].state: a vCPU in the loop is
 * RUNNING; entering a section moves it to CRITICAL; a sender moves a RUNNING vCPU to CLAIMED
 * before it sends the INIT (ops_apic.c). Both moves are compare-and-swaps from RUNNING, so
 * exactly one wins: a claimed vCPU that wants a section waits for its INIT instead. */
#include "fuzz.h"

void fz_critical_enter(void)
{
    struct fz_vcpu *me = fz_me();
    if (me->depth) {
        me->depth++;
        return;
    }
    for (;;) {
        uint32_t s = FZ_RUNNING;
        if (__atomic_compare_exchange_n(&me->state, &s, FZ_CRITICAL, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            break;
        if (s != FZ_CLAIMED)
            break; /* starting or finished: nobody claims it, the state stays */
        cpu_relax(); /* claimed: the INIT is on its way and ends this */
    }
    me->depth = 1;
}

void fz_critical_exit(void)
{
    struct fz_vcpu *me = fz_me();
    if (--me->depth == 0 && me->state == FZ_CRITICAL)
        __atomic_store_n(&me->state, FZ_RUNNING, __ATOMIC_RELEASE);
}

int fz_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fz_critical_enter();
    int n = vprintf(fmt, ap);
    fz_critical_exit();
    va_end(ap);
    return n;
}

void fz_lock(struct spinlock *l)
{
    fz_critical_enter();
    spin_lock(l);
    fz_me()->held = l;
}

bool fz_trylock(struct spinlock *l)
{
    fz_critical_enter();
    if (spin_trylock(l)) {
        fz_me()->held = l;
        return true;
    }
    fz_critical_exit();
    return false;
}

void fz_unlock(struct spinlock *l)
{
    fz_me()->held = NULL;
    spin_unlock(l);
    fz_critical_exit();
}
