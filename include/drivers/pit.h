/* SPDX-License-Identifier: BSD-2-Clause */
/* The 8254 programmable interval timer: a known 1.193182 MHz clock for calibration. */
#ifndef MHV_DRIVERS_PIT_H
#define MHV_DRIVERS_PIT_H

#include <stdint.h>

/* TSC ticks elapsed during `ms` milliseconds (at most 50) of PIT channel 2; 0 if the PIT
 * never signalled the end (no PIT). */
uint64_t pit_measure_tsc_ticks(unsigned ms);

#endif
