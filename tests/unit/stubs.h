/* SPDX-License-Identifier: BSD-2-Clause */
/* Host stand-ins for mhv's hardware edges, shared by the unit tests. The console is replaced
 * by a capture buffer, so tests can assert on the exact lines mhv would print; panic() and
 * fatal() become cmocka assertion failures (expect_assert_failure catches them). */
#ifndef MHV_TESTS_UNIT_STUBS_H
#define MHV_TESTS_UNIT_STUBS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>

/* Everything the console received since the last console_capture_reset(). */
extern char console_capture[1 << 16];
extern bool stub_console_up; /* what console_ready() answers; true by default */

void console_capture_reset(void);
/* True when the captured console output contains `needle`. */
bool console_saw(const char *needle);
/* Asserts that the console output contains needle, printing it all when it does not. */
#define assert_console_saw(needle)                                                         \
    do {                                                                                   \
        if (!console_saw(needle))                                                          \
            fail_msg("console output lacks \"%s\"; it was:\n%s", (needle), console_capture); \
    } while (0)

#endif
