/* SPDX-License-Identifier: BSD-2-Clause */
/* Cross-CPU function calls: run a function on another CPU (or on all) through an IPI. Remote
 * VMCLEAR, VMXON/VMXOFF on every CPU and TLB shootdowns are built on this. */
#ifndef MHV_ARCH_X86_XCALL_H
#define MHV_ARCH_X86_XCALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/x86/percpu.h"

typedef void (*xcall_fn)(void *arg);

/* Installs the IPI handler (once, on the boot CPU). */
void xcall_init(void);

/* Runs fn(arg) on CPU `cpu` (directly when it is the caller). With wait, returns after fn has
 * returned there; without, after the target has taken the call. Returns 0, or -1 when the
 * CPU is not online or did not answer within a second (reported). fn runs in interrupt
 * context with interrupts off. */
int xcall_run(unsigned cpu, xcall_fn fn, void *arg, bool wait);
/* The same, silent, giving up when the target has not taken the call within timeout_us (the
 * call is then withdrawn and never runs). Once taken, a waited-for call is waited for up to a
 * second. Returns 0, or -1 (not online, not taken in time, or not finished). */
int xcall_run_within(unsigned cpu, xcall_fn fn, void *arg, bool wait, uint64_t timeout_us);

/* Runs the call waiting for this CPU (arch/x86/xcall.c); xcall_poll's slow half. */
void xcall_serve(void);

/* Runs a call waiting for this CPU, if any: long operations with interrupts off call it now and
 * then, so that no other CPU waits on this one for long. Inline: the VM-exit path polls after
 * every exit, and with no call waiting that is one %gs-relative load. */
static inline void xcall_poll(void)
{
    uint32_t pending;
    __asm__ volatile("movl %%gs:%c1, %0" : "=r"(pending) : "i"(offsetof(struct percpu, xcall.pending)));
    if (__builtin_expect(pending != 0, 0))
        xcall_serve();
}

/* Runs fn(arg) on every online CPU, the caller's last. Returns how many CPUs failed to run it. */
int xcall_all(xcall_fn fn, void *arg, bool wait);

/* Asks a CPU to pick again (its need_resched), without waiting: a wake-up. */
/* Makes `cpu` leave the guest it runs (a VM exit, nothing else), so the vCPU sees a new
 * virtual interrupt at its next entry. */
void smp_send_kick(unsigned cpu);
void smp_send_reschedule(unsigned cpu);

#endif
