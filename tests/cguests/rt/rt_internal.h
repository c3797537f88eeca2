/* SPDX-License-Identifier: BSD-2-Clause */
/* Between the runtime's start-up files (start.c, smp.c). */
#ifndef RT_INTERNAL_H
#define RT_INTERNAL_H

/* Per-vCPU set-up, on the vCPU's own stack: descriptors, CR0/CR4 for SSE, the local APIC. */
void rt_cpu_init(unsigned cpu);

/* The first C code of vCPU 0 (called by entry.asm) and of every other vCPU (by trampoline.asm). */
__attribute__((noreturn)) void rt_start(void);
__attribute__((noreturn)) void rt_ap_main(unsigned cpu);

#endif
