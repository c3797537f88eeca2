/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Time from the TSC. mhv gives its rate in CPUID leaf 0x40000010 EAX (kHz), so a guest needs no
 * calibration (README "What every VM has"). In Bochs the TSC ticks once per emulated
 * instruction at a nominal 50 MHz, so "1 ms" there is 50,000 instructions.
 */
#ifndef RT_TIME_H
#define RT_TIME_H

#include <stdbool.h>
#include <stdint.h>

uint64_t tsc_khz(void);
static inline uint64_t us_to_tsc(uint64_t us) { return us * tsc_khz() / 1000; }
static inline uint64_t tsc_to_us(uint64_t ticks) { return ticks * 1000 / tsc_khz(); }
/* The TSC value us microseconds from now, for tsc_reached(). */
uint64_t tsc_deadline_in_us(uint64_t us);
bool tsc_reached(uint64_t deadline);
/* Busy-waits (PAUSE loop, interrupts as they are). */
void delay_us(uint64_t us);

#endif
