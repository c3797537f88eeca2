/* SPDX-License-Identifier: BSD-2-Clause */
/* Freestanding string helpers. Byte loops: small and obviously right; nothing here is hot. */
#include "lib/string.h"

#include <stdint.h>

/* memset and memcpy use the string instructions: guest memory, page tables and VMCS regions
 * are cleared and copied in bulk (fast-string operation, SDM Vol. 1 7.3.9.3). Eight bytes per
 * iteration, then the rest: an emulator (Bochs) pays per iteration, and a VM's hundreds of
 * MiB are cleared at every start. */
void *memset(void *dst, int c, size_t n)
{
    void *d = dst;
    size_t qwords = n / 8, rest = n % 8;
    uint64_t pattern = 0x0101010101010101ull * (uint8_t)c;
    __asm__ volatile("rep stosq" : "+D"(d), "+c"(qwords) : "a"(pattern) : "memory");
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(rest) : "a"(pattern) : "memory");
    return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
    void *d = dst;
    size_t qwords = n / 8, rest = n % 8;
    __asm__ volatile("rep movsq" : "+D"(d), "+S"(src), "+c"(qwords) : : "memory");
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(rest) : : "memory");
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d < s) {
        while (n--)
            *d++ = *s++;
    } else {
        while (n--)
            d[n] = s[n];
    }
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x - *y;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

size_t strnlen(const char *s, size_t max)
{
    size_t n = 0;
    while (n < max && s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b)
            return (unsigned char)*a - (unsigned char)*b;
        if (!*a)
            return 0;
    }
    return 0;
}

char *strchr(const char *s, int c)
{
    for (;; s++) {
        if (*s == (char)c)
            return (char *)(uintptr_t)s; /* as the C library's: the caller's string */
        if (!*s)
            return NULL;
    }
}
