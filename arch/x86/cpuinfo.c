/* SPDX-License-Identifier: BSD-2-Clause */
/* CPU identification (SDM Vol. 2A, CPUID: leaf 0 vendor, leaf 1 signature, brand string). */
#include "arch/x86/cpuinfo.h"

#include "arch/x86/cpu.h"
#include "lib/string.h"

void cpu_identify(struct cpu_identity *id)
{
    struct cpuid_regs r = cpuid(0, 0);
    memcpy(id->vendor + 0, &r.ebx, 4);
    memcpy(id->vendor + 4, &r.edx, 4);
    memcpy(id->vendor + 8, &r.ecx, 4);
    id->vendor[12] = '\0';

    /* Display family/model fold in the extended fields (SDM Vol. 2A, CPUID figure 3-6). */
    r = cpuid(1, 0);
    uint32_t family = (r.eax >> 8) & 0xf, model = (r.eax >> 4) & 0xf;
    if (family == 0xf)
        family += (r.eax >> 20) & 0xff;
    if (family == 0x6 || family >= 0xf)
        model |= ((r.eax >> 16) & 0xf) << 4;
    id->family = family;
    id->model = model;
    id->stepping = r.eax & 0xf;

    id->brand[0] = '\0';
    if (cpuid(0x80000000, 0).eax >= 0x80000004) {
        for (uint32_t i = 0; i < 3; i++) {
            r = cpuid(0x80000002 + i, 0);
            memcpy(id->brand + i * 16 + 0, &r.eax, 4);
            memcpy(id->brand + i * 16 + 4, &r.ebx, 4);
            memcpy(id->brand + i * 16 + 8, &r.ecx, 4);
            memcpy(id->brand + i * 16 + 12, &r.edx, 4);
        }
        id->brand[48] = '\0';
    }
    /* The brand string is right-justified on some CPUs: drop leading spaces. */
    char *b = id->brand;
    while (*b == ' ')
        b++;
    memmove(id->brand, b, strlen(b) + 1);
}
