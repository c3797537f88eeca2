/* SPDX-License-Identifier: BSD-2-Clause */
/* printf-style formatting (see lib/format.h for what is supported). */
#include "lib/format.h"

#include <stdbool.h>
#include <stdint.h>

struct out {
    char *buf;
    size_t size;
    size_t len; /* characters produced so far, including those that did not fit */
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void put_repeat(struct out *o, char c, int n)
{
    while (n-- > 0)
        put(o, c);
}

struct spec {
    bool left, zero, plus, space, alt;
    int width;
    int precision; /* -1: not given */
};

/* Emits prefix + digits padded according to spec (the rules of C11 7.21.6.1). */
static void put_number(struct out *o, const struct spec *sp, const char *prefix, const char *digits, int ndigits)
{
    int plen = 0;
    while (prefix[plen])
        plen++;
    int zeros = sp->precision > ndigits ? sp->precision - ndigits : 0;
    int body = plen + zeros + ndigits;
    int pad = sp->width > body ? sp->width - body : 0;
    bool zero_pad = sp->zero && !sp->left && sp->precision < 0;

    if (!sp->left && !zero_pad)
        put_repeat(o, ' ', pad);
    for (int i = 0; i < plen; i++)
        put(o, prefix[i]);
    if (zero_pad)
        put_repeat(o, '0', pad);
    put_repeat(o, '0', zeros);
    for (int i = 0; i < ndigits; i++)
        put(o, digits[i]);
    if (sp->left)
        put_repeat(o, ' ', pad);
}

static void format_integer(struct out *o, const struct spec *sp, char conv, uint64_t v, bool negative)
{
    char digits[24];
    int n = 0;
    unsigned base = conv == 'o' ? 8 : (conv == 'x' || conv == 'X') ? 16 : 10;
    const char *set = conv == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];

    /* Precision 0 with value 0 prints no digits (C11 7.21.6.1p8). */
    if (!(v == 0 && sp->precision == 0)) {
        do {
            tmp[n++] = set[v % base];
            v /= base;
        } while (v);
    }
    for (int i = 0; i < n; i++)
        digits[i] = tmp[n - 1 - i];

    const char *prefix = "";
    if (conv == 'd' || conv == 'i')
        prefix = negative ? "-" : sp->plus ? "+" : sp->space ? " " : "";
    else if (sp->alt && conv == 'x' && n && !(n == 1 && digits[0] == '0'))
        prefix = "0x";
    else if (sp->alt && conv == 'X' && n && !(n == 1 && digits[0] == '0'))
        prefix = "0X";
    else if (sp->alt && conv == 'o' && (n == 0 || digits[0] != '0'))
        prefix = "0";
    put_number(o, sp, prefix, digits, n);
}

static void format_string(struct out *o, const struct spec *sp, const char *s)
{
    if (!s)
        s = "(null)";
    int n = 0;
    while (s[n] && (sp->precision < 0 || n < sp->precision))
        n++;
    int pad = sp->width > n ? sp->width - n : 0;
    if (!sp->left)
        put_repeat(o, ' ', pad);
    for (int i = 0; i < n; i++)
        put(o, s[i]);
    if (sp->left)
        put_repeat(o, ' ', pad);
}

static int parse_int(const char **p)
{
    int v = 0;
    while (**p >= '0' && **p <= '9') {
        if (v < 100000)
            v = v * 10 + (**p - '0');
        (*p)++;
    }
    return v;
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };
    const char *p = fmt;

    while (*p) {
        if (*p != '%') {
            put(&o, *p++);
            continue;
        }
        p++;
        struct spec sp = { .precision = -1 };
        for (;; p++) {
            if (*p == '-') sp.left = true;
            else if (*p == '0') sp.zero = true;
            else if (*p == '+') sp.plus = true;
            else if (*p == ' ') sp.space = true;
            else if (*p == '#') sp.alt = true;
            else break;
        }
        if (*p == '*') {
            sp.width = va_arg(ap, int);
            if (sp.width < 0) {
                sp.left = true;
                sp.width = -sp.width;
            }
            p++;
        } else {
            sp.width = parse_int(&p);
        }
        if (*p == '.') {
            p++;
            if (*p == '*') {
                sp.precision = va_arg(ap, int);
                if (sp.precision < 0)
                    sp.precision = -1;
                p++;
            } else {
                sp.precision = parse_int(&p);
            }
        }

        /* Length modifier: how many bytes the argument has (va_arg promotes below int). */
        int lng = 0; /* 0 int, 1 long, 2 long long, -1 short, -2 char */
        if (*p == 'h') {
            lng = -1;
            if (*++p == 'h') { lng = -2; p++; }
        } else if (*p == 'l') {
            lng = 1;
            if (*++p == 'l') { lng = 2; p++; }
        } else if (*p == 'z' || *p == 't' || *p == 'j') {
            lng = 2;
            p++;
        }

        char conv = *p;
        if (!conv)
            break;
        p++;
        switch (conv) {
        case 'd':
        case 'i': {
            int64_t v = lng >= 1 ? (lng == 1 ? va_arg(ap, long) : va_arg(ap, long long)) : va_arg(ap, int);
            if (lng == -1) v = (short)v;
            if (lng == -2) v = (signed char)v;
            uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
            format_integer(&o, &sp, conv, mag, v < 0);
            break;
        }
        case 'u':
        case 'x':
        case 'X':
        case 'o': {
            uint64_t v = lng >= 1 ? (lng == 1 ? va_arg(ap, unsigned long) : va_arg(ap, unsigned long long))
                                  : va_arg(ap, unsigned int);
            if (lng == -1) v = (unsigned short)v;
            if (lng == -2) v = (unsigned char)v;
            format_integer(&o, &sp, conv, v, false);
            break;
        }
        case 'p': {
            uintptr_t v = (uintptr_t)va_arg(ap, void *);
            char digits[16];
            for (int i = 15; i >= 0; i--, v >>= 4)
                digits[i] = "0123456789abcdef"[v & 0xf];
            struct spec ps = { .width = sp.width, .left = sp.left, .precision = -1 };
            put_number(&o, &ps, "0x", digits, 16);
            break;
        }
        case 'c': {
            char c = (char)va_arg(ap, int);
            int pad = sp.width > 1 ? sp.width - 1 : 0;
            if (!sp.left) put_repeat(&o, ' ', pad);
            put(&o, c);
            if (sp.left) put_repeat(&o, ' ', pad);
            break;
        }
        case 's':
            format_string(&o, &sp, va_arg(ap, const char *));
            break;
        case '%':
            put(&o, '%');
            break;
        default: /* unknown conversion: print it verbatim so the mistake is visible */
            put(&o, '%');
            put(&o, conv);
            break;
        }
    }
    if (size)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return (int)(o.len > 0x7fffffff ? 0x7fffffff : o.len);
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
