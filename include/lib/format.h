/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * printf-style formatting into a buffer, C99 semantics: the result is always NUL-terminated
 * (when size > 0) and the return value is the length the full output would have had.
 * Supports flags "-0+ #", width and precision (numbers or *), length modifiers hh h l ll z t j,
 * and conversions d i u x X o c s p %. %p prints 0x and 16 hex digits.
 */
#ifndef MHV_LIB_FORMAT_H
#define MHV_LIB_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
