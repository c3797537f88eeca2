/* SPDX-License-Identifier: BSD-2-Clause */
/* See stubs.h. */
#include "stubs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/console.h"
#include "kernel/log.h"
#include "kernel/panic.h"

char console_capture[1 << 16];
static size_t capture_len;
bool stub_console_up = true;

void console_capture_reset(void)
{
    capture_len = 0;
    console_capture[0] = '\0';
}

bool console_saw(const char *needle)
{
    return strstr(console_capture, needle) != NULL;
}

/* Weak: test_console links the real kernel/console.c instead. */
__attribute__((weak)) int console_init(uint16_t port)
{
    (void)port;
    return 0;
}

__attribute__((weak)) bool console_ready(void)
{
    return stub_console_up;
}

__attribute__((weak)) void console_write(const char *s, size_t n)
{
    if (capture_len + n >= sizeof(console_capture))
        n = sizeof(console_capture) - 1 - capture_len;
    memcpy(console_capture + capture_len, s, n);
    capture_len += n;
    console_capture[capture_len] = '\0';
}

__attribute__((weak)) void console_flush(void) {}

__attribute__((noreturn)) static void fail_with(const char *kind, const char *fmt, va_list ap)
{
    static char msg[512]; /* cmocka prints it after longjmp: must outlive this frame */
    int n = snprintf(msg, sizeof(msg), "%s: ", kind);
    vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
    mock_assert(0, msg, __FILE__, __LINE__);
    abort(); /* not reached when the test expected the failure */
}

void panic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fail_with("panic", fmt, ap);
}

void fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fail_with("fatal", fmt, ap);
}
