/* SPDX-License-Identifier: BSD-2-Clause */
/* Bringing up the application processors. */
#ifndef MHV_ARCH_X86_SMP_H
#define MHV_ARCH_X86_SMP_H

#include "drivers/acpi.h"
#include "kernel/boot_info.h"

/* CPUs mhv set out to use: enabled in the MADT, within maxcpus=. Valid after smp_boot(). */
extern unsigned smp_cpus_wanted;

/*
 * Starts every enabled CPU of the MADT (at most maxcpus in all, 0: no limit) with
 * INIT-SIPI-SIPI. Each gets a per-CPU area, its own stack, GDT, TSS and IDT, and its local
 * APIC enabled; a CPU that does not check in within 200 ms is reported and left out.
 * Prints one line per CPU and the status line "mhv: cpus: <online> of <wanted> online".
 */
void smp_boot(const struct acpi_info *acpi, const struct boot_info *bi, unsigned maxcpus);

unsigned smp_online_count(void);

/* What idle application processors run when woken (the VM run loop, once VMs exist). */
void smp_set_idle_work(void (*work)(void));

#endif
