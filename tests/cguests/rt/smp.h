/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The other vCPUs. mhv starts only vCPU 0; the others wait for INIT and STARTUP IPIs (README
 * "Guest images"), as application processors do. smp_start() sends them through the local APIC
 * to a real-mode trampoline copied to RT_TRAMPOLINE (below 1 MiB), which enters long mode with
 * the runtime's GDT and page tables and calls fn(cpu, arg) on the vCPU's own stack, with its own
 * TSS, the shared IDT, its local APIC software-enabled and interrupts off. When fn returns the
 * vCPU parks (interrupts off, HLT); smp_start() may start it again.
 */
#ifndef RT_SMP_H
#define RT_SMP_H

#include <stdbool.h>

#define RT_TRAMPOLINE 0x8000 /* STARTUP vector 8 */

typedef void (*rt_cpu_fn)(unsigned cpu, void *arg);

unsigned smp_cpus(void);       /* vCPUs of this VM (the header's count) */
unsigned smp_id(void);         /* this vCPU's number (= its APIC ID) */
/* Starts vCPU cpu (1 .. smp_cpus() - 1) running fn: 0 once it runs C code, -1 if it did not
 * come up within 1 s (of TSC time) after INIT, STARTUP and a second STARTUP. */
int smp_start(unsigned cpu, rt_cpu_fn fn, void *arg);
/* Starts every other vCPU with fn; the number started. */
unsigned smp_start_all(rt_cpu_fn fn, void *arg);
bool smp_done(unsigned cpu);   /* its fn has returned */
void smp_wait_all(void);       /* until every started vCPU's fn returned */

#endif
