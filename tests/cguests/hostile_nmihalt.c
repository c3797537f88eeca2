/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Hostile guest: a vCPU halted inside its NMI handler, with a second NMI sent to it. This is
 * what Linux does when it stops the other CPUs for a crash dump (they halt in the NMI
 * handler, interrupts off, NMIs blocked until an IRET that never comes). The second NMI is
 * held pending (SDM Vol. 3A 7.7, 6.7.1: blocked until the next IRET) and the HLT goes on: the
 * vCPU stays halted and uses no CPU. vCPU 0 meanwhile works and measures the longest time it
 * went without the CPU; bochs_chostile2 also reads mhv's own accounting of vCPU 1 (its exits
 * and run time must stay near zero while it is halted).
 */
#include "rt.h"

MHV_GUEST(.name = "hostile_nmihalt", .vcpus = 2, .memory_mib = 8);

static volatile uint64_t nmis, halts;

/* Each HLT that ends comes round the loop: halts counts how often vCPU 1 halted. */
static void halt_in_nmi_handler(struct rt_frame *f)
{
    (void)f;
    nmis++;
    for (;;) {
        halts++;
        __asm__ volatile("cli; hlt" ::: "memory");
    }
}

static void park(unsigned cpu, void *arg) { (void)cpu, (void)arg; } /* returns: cli; hlt for good */

void guest_main(void)
{
    irq_set_handler(VEC_NMI, halt_in_nmi_handler);
    check_eq(smp_start(1, park, NULL), 0, "vCPU 1 started and parked");
    delay_us(2000);
    apic_send_ipi(1, ICR_NMI | ICR_LEVEL_ASSERT);
    uint64_t end = tsc_deadline_in_us(200000);
    while (!nmis && !tsc_reached(end))
        cpu_relax();
    check_eq(nmis, 1, "vCPU 1 took the first NMI and halts in its handler");
    apic_send_ipi(1, ICR_NMI | ICR_LEVEL_ASSERT); /* blocked: pending until an IRET that never comes */
    uint64_t start = rdtsc(), last = start, longest = 0, rounds = 0;
    while (!tsc_reached(start + us_to_tsc(300000))) {
        uint64_t now = rdtsc();
        if (now - last > longest)
            longest = now - last;
        last = now;
        rounds++;
    }
    check_eq(nmis, 1, "the second NMI stayed pending (NMIs blocked until an IRET)");
    check_eq(halts, 1, "and did not end vCPU 1's HLT (it halted once)");
    printf("# vCPU 0 worked 300 ms next to it (%lu rounds, longest wait %lu us)\n", rounds, tsc_to_us(longest));
}
