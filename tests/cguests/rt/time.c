/* SPDX-License-Identifier: BSD-2-Clause */
/* TSC-based time (time.h). */
#include "time.h"

#include "cpu.h"

uint64_t tsc_khz(void)
{
    static uint64_t khz;
    if (!khz) {
        uint32_t rate = cpuid(0x40000000, 0).eax >= 0x40000010 ? cpuid(0x40000010, 0).eax : 0;
        khz = rate ? rate : 1000000; /* not under mhv: assume 1 GHz */
    }
    return khz;
}

uint64_t tsc_deadline_in_us(uint64_t us)
{
    return rdtsc() + us_to_tsc(us);
}

bool tsc_reached(uint64_t deadline)
{
    return (int64_t)(rdtsc() - deadline) >= 0;
}

void delay_us(uint64_t us)
{
    uint64_t end = tsc_deadline_in_us(us);
    while (!tsc_reached(end))
        cpu_relax();
}
