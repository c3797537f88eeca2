/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TAP-style checks: each prints "ok - <name>" or "not ok - <name>" on its own line (what the
 * boot tests grep for); the failures are counted over all vCPUs. rt_finish() prints
 * "done: N checks, M failed" and exits with status M (at most RT_STATUS_MAX_FAILURES);
 * returning from guest_main() does the same. exit() writes the debug-exit port 0xf4, which
 * stops the whole VM (README "What every VM has") from any vCPU.
 */
#ifndef RT_CHECK_H
#define RT_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#define RT_STATUS_MAX_FAILURES 200 /* more failures exit with this status too */
#define RT_STATUS_CRASH 222        /* an unexpected exception, or the runtime could not go on */

bool check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Passes when got == want; a failure also prints both values. */
bool check_eq(uint64_t got, uint64_t want, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
unsigned check_failures(void);
unsigned check_count(void);

__attribute__((noreturn)) void exit(int status);
__attribute__((noreturn)) void rt_finish(void);
__attribute__((noreturn)) void rt_exit_crash(void);

#endif
