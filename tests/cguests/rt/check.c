/* SPDX-License-Identifier: BSD-2-Clause */
/* Checks and exits (check.h). */
#include "check.h"

#include <stdarg.h>

#include "console.h"
#include "cpu.h"
#include "lib/format.h"

#define DEBUG_EXIT_PORT 0xf4

static unsigned checks, failures;

static bool report(bool ok, const char *detail, const char *fmt, va_list ap)
{
    char name[400];
    kvsnprintf(name, sizeof(name), fmt, ap);
    __atomic_add_fetch(&checks, 1, __ATOMIC_SEQ_CST);
    if (!ok)
        __atomic_add_fetch(&failures, 1, __ATOMIC_SEQ_CST);
    printf("%s - %s%s\n", ok ? "ok" : "not ok", name, detail);
    return ok;
}

bool check(bool ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(ok, "", fmt, ap);
    va_end(ap);
    return ok;
}

bool check_eq(uint64_t got, uint64_t want, const char *fmt, ...)
{
    char detail[80] = "";
    if (got != want)
        ksnprintf(detail, sizeof(detail), " (got 0x%lx, expected 0x%lx)", got, want);
    va_list ap;
    va_start(ap, fmt);
    report(got == want, detail, fmt, ap);
    va_end(ap);
    return got == want;
}

unsigned check_failures(void) { return __atomic_load_n(&failures, __ATOMIC_SEQ_CST); }
unsigned check_count(void) { return __atomic_load_n(&checks, __ATOMIC_SEQ_CST); }

void exit(int status)
{
    irq_disable();
    outb(DEBUG_EXIT_PORT, (uint8_t)status);
    for (;;)
        halt(); /* not reached: the write stops the VM */
}

void rt_finish(void)
{
    unsigned f = check_failures();
    printf("done: %u checks, %u failed\n", check_count(), f);
    exit(f > RT_STATUS_MAX_FAILURES ? RT_STATUS_MAX_FAILURES : (int)f);
}

void rt_exit_crash(void)
{
    exit(RT_STATUS_CRASH);
}
