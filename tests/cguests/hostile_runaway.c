/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Hostile guest: runaway vCPUs. vCPU 1 spins with interrupts off, vCPU 2 spins on PAUSE with
 * interrupts off, vCPU 3 halts with interrupts off (README "What every VM has": that ends the
 * vCPU until an NMI or INIT; an NMI must wake it, SDM Vol. 3A 6.7.1), while vCPU 0 works for
 * arg1 ms (default 500) and measures the longest time it went without the CPU. Then vCPU 0
 * stops the VM while vCPUs 1 and 2 still spin: mhv must stop them. The canary next to it
 * (bochs_chostile) must not starve.
 */
#include "rt.h"

MHV_GUEST(.name = "hostile_runaway", .vcpus = 4, .memory_mib = 8);

static volatile bool spinning[4], halting, woke;

static void spin(unsigned cpu, void *arg)
{
    (void)arg;
    irq_disable();
    spinning[cpu] = true;
    for (;;)
        __asm__ volatile("" ::: "memory");
}

static void spin_pause(unsigned cpu, void *arg)
{
    (void)arg;
    irq_disable();
    spinning[cpu] = true;
    for (;;)
        cpu_relax();
}

static void on_nmi(struct rt_frame *f)
{
    (void)f;
}

static void halt_for_good(unsigned cpu, void *arg)
{
    (void)cpu;
    (void)arg;
    irq_disable();
    halting = true;
    halt();          /* only an NMI or INIT ends this */
    woke = true;     /* the NMI handler returned here */
    for (;;)
        halt();
}

static bool wait_flag(volatile bool *flag, uint64_t us)
{
    uint64_t end = tsc_deadline_in_us(us);
    while (!*flag && !tsc_reached(end))
        cpu_relax();
    return *flag;
}

void guest_main(void)
{
    uint64_t run_ms = rt_arg(1) ? rt_arg(1) : 500;
    irq_set_handler(VEC_NMI, on_nmi);
    check(smp_start(1, spin, NULL) == 0 && wait_flag(&spinning[1], 200000), "vCPU 1 spins with interrupts off");
    check(smp_start(2, spin_pause, NULL) == 0 && wait_flag(&spinning[2], 200000),
          "vCPU 2 spins on PAUSE with interrupts off");
    check(smp_start(3, halt_for_good, NULL) == 0 && wait_flag(&halting, 200000), "vCPU 3 halts with interrupts off");
    delay_us(20000);
    check(!woke, "vCPU 3 stays halted");
    apic_send_ipi(3, ICR_NMI | ICR_LEVEL_ASSERT);
    check(wait_flag(&woke, 200000), "an NMI wakes vCPU 3 from HLT with interrupts off");

    uint64_t end = tsc_deadline_in_us(run_ms * 1000), last = rdtsc(), longest = 0, work = 0;
    while (!tsc_reached(end)) {
        uint64_t now = rdtsc();
        if (now - last > longest)
            longest = now - last;
        last = now;
        work++;
    }
    check(tsc_to_us(longest) < 500000, "vCPU 0 worked %lu ms next to two runaway vCPUs (%lu iterations, longest wait %lu us)",
          run_ms, work, tsc_to_us(longest));
    /* Returning exits while vCPUs 1 and 2 spin with interrupts off. */
}
