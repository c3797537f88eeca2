/* SPDX-License-Identifier: BSD-2-Clause */
/* Fatal paths. Every one ends in machine_stop(): a status line, then power off / halt. */
#ifndef MHV_KERNEL_PANIC_H
#define MHV_KERNEL_PANIC_H

#include <stdbool.h>

/* Exit statuses reported by the stop line and, under QEMU, by isa-debug-exit. */
enum mhv_status {
    MHV_STATUS_OK = 0,    /* clean shutdown */
    MHV_STATUS_FATAL = 1, /* mhv cannot run here (no VMX, malformed boot information, ...) */
    MHV_STATUS_PANIC = 2, /* a bug in mhv: panic, assertion or exception */
    MHV_STATUS_VM_FAILED = 3, /* vms_done=poweroff, and some VM stopped with a status other than 0 */
};

/* Set once machine_stop() has begun: NMIs then mean "halt". */
extern volatile bool machine_stopping;

/* Prints "mhv: stop: status N", leaves emulators through their exit ports, otherwise halts. */
__attribute__((noreturn)) void machine_stop(enum mhv_status status);

/* "mhv: fatal: <message>" and stop with MHV_STATUS_FATAL: for conditions outside mhv's
 * control (unsupported machine, broken boot information). */
__attribute__((noreturn, format(printf, 1, 2))) void fatal(const char *fmt, ...);

/* "mhv: panic: <message>", a stack trace, and stop with MHV_STATUS_PANIC: for mhv's bugs. */
__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt, ...);

#define ASSERT(cond)                                                                        \
    do {                                                                                    \
        if (!(cond))                                                                        \
            panic("assertion failed: %s at %s:%d", #cond, __FILE__, __LINE__);              \
    } while (0)

#endif
