/* SPDX-License-Identifier: BSD-2-Clause */
/* Time stamp counter: frequency and delays. */
#ifndef MHV_ARCH_X86_TSC_H
#define MHV_ARCH_X86_TSC_H

#include <stdint.h>

extern uint64_t tsc_hz;

/* Learns the TSC frequency (CPUID 0x15/0x16, checked against the PIT) and prints it. */
void tsc_init(void);
void tsc_delay_us(uint64_t us);
uint64_t tsc_ns_to_ticks(uint64_t ns);
uint64_t tsc_ticks_to_us(uint64_t ticks);

static inline uint64_t tsc_us_to_ticks(uint64_t us)
{
    return us * (tsc_hz / 1000000);
}

static inline uint64_t tsc_ticks_to_ns(uint64_t ticks)
{
    uint64_t mhz = tsc_hz / 1000000;
    return ticks * 1000 / (mhz ? mhz : 1);
}

#endif
