/* SPDX-License-Identifier: BSD-2-Clause */
/* fatal() and panic(): see include/kernel/panic.h. */
#include "kernel/panic.h"

#include "arch/x86/stacktrace.h"
#include "kernel/console.h"
#include "kernel/log.h"
#include "lib/format.h"

static void status_vline(const char *what, const char *fmt, va_list ap)
{
    char msg[200];
    kvsnprintf(msg, sizeof(msg), fmt, ap);
    status_line("%s: %s", what, msg);
}

void fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    status_vline("fatal", fmt, ap);
    va_end(ap);
    machine_stop(MHV_STATUS_FATAL);
}

void panic(const char *fmt, ...)
{
    __asm__ volatile("cli");
    log_emergency = true;
    console_emergency = true;
    va_list ap;
    va_start(ap, fmt);
    status_vline("panic", fmt, ap);
    va_end(ap);
    stacktrace_print_here();
    machine_stop(MHV_STATUS_PANIC);
}
