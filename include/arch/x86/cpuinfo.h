/* SPDX-License-Identifier: BSD-2-Clause */
/* Identification of the CPU mhv runs on (CPUID leaves 0, 1 and 0x80000002-4). */
#ifndef MHV_ARCH_X86_CPUINFO_H
#define MHV_ARCH_X86_CPUINFO_H

#include <stdint.h>

struct cpu_identity {
    char vendor[13];
    char brand[49];
    uint32_t family, model, stepping;
};

void cpu_identify(struct cpu_identity *id);

#endif
