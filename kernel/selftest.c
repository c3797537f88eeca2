/* SPDX-License-Identifier: BSD-2-Clause */
/* Deliberate faults, so tests can check that mhv reports its own bugs with a full dump and
 * that the memory protections (NULL page, NX, W^X, stack guard) are really in force. */
#include "kernel/selftest.h"

#include <stdint.h>

#include "kernel/log.h"
#include "kernel/panic.h"
#include "lib/string.h"

static uint8_t data_ret_instruction[16] = { 0xc3 }; /* RET, in a writable, NX data page */
static volatile int recursion_limit = -1;           /* never reached: recursion goes on */
/* NULL, read at run time: the fault is deliberate, and a literal NULL dereference would be a
 * finding of the static analyzer (make check). */
static volatile uint64_t *volatile null_pointer;

__attribute__((noinline)) static int recurse(int depth)
{
    volatile char frame[512];
    frame[0] = (char)depth;
    if (depth == recursion_limit)
        return 0;
    return recurse(depth + 1) + frame[0];
}

void selftest_run(const char *name)
{
    log_info("selftest: %s", name);
    if (!strcmp(name, "panic"))
        panic("selftest: deliberate panic");
    if (!strcmp(name, "fault-ud"))
        __asm__ volatile("ud2");
    if (!strcmp(name, "fault-null"))
        (void)*null_pointer;
    if (!strcmp(name, "fault-nx"))
        ((void (*)(void))(uintptr_t)data_ret_instruction)();
    if (!strcmp(name, "fault-wp"))
        *(volatile uint8_t *)(uintptr_t)selftest_run = 0x90;
    if (!strcmp(name, "stack-overflow"))
        recurse(0);
    panic("selftest %s did not fault", name);
}
