/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Console output. printf() formats with mhv's own lib/format.c (C99 conversions, see
 * include/lib/format.h) and writes whole calls at once under a lock, so lines of different
 * vCPUs do not mix. Output goes through the CONSOLE_WRITE hypercall (one VM exit per call
 * instead of one per character; Bochs is slow) and falls back to COM1's transmit register when
 * the hypercall fails (rt_console_serial_only() forces that). mhv's console breaks a guest's
 * line after 127 characters (the [vm] prefix not counted): keep lines shorter.
 */
#ifndef RT_CONSOLE_H
#define RT_CONSOLE_H

#include <stdarg.h>
#include <stddef.h>

#define COM1_PORT 0x3f8

int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);
void console_write(const char *s, size_t n);
void serial_putc(char c);
void rt_console_serial_only(void);

#endif
