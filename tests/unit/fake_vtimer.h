/* SPDX-License-Identifier: BSD-2-Clause */
/* A fake of the scheduler's timers for host tests of one device (tests/unit/fake_vtimer.c):
 * arming only records the deadline, and the test fires the timer itself. */
#ifndef MHV_TESTS_FAKE_VTIMER_H
#define MHV_TESTS_FAKE_VTIMER_H

#include <stdint.h>

#include "sched/vtimer.h"

extern struct vtimer *armed_timer; /* the timer armed last */
extern uint64_t armed_deadline;    /* its deadline; 0 after a cancel */

#endif
