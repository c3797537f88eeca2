/* SPDX-License-Identifier: BSD-2-Clause */
/* Serial output and printf (console.h). */
#include "console.h"

#include "cpu.h"
#include "hypercall.h"
#include "lib/format.h"
#include "lib/string.h"
#include "percpu.h"

/* A lock that its owner may take again: an exception report may come while this vCPU holds it. */
static volatile int owner = -1;
static unsigned depth;
static volatile int serial_only;

static void lock(void)
{
    int me = (int)this_cpu()->id;
    if (owner == me) {
        depth++;
        return;
    }
    int expected = -1;
    while (!__atomic_compare_exchange_n(&owner, &expected, me, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        expected = -1;
        cpu_relax();
    }
    depth = 1;
}

static void unlock(void)
{
    if (--depth == 0)
        __atomic_store_n(&owner, -1, __ATOMIC_RELEASE);
}

void serial_putc(char c)
{
    while (!(inb(COM1_PORT + 5) & 0x20)) /* LSR.THRE: mhv's console may be busy */
        cpu_relax();
    outb(COM1_PORT, (uint8_t)c);
}

void rt_console_serial_only(void)
{
    serial_only = 1;
}

void console_write(const char *s, size_t n)
{
    if (n == 0)
        return;
    /* The hypercall takes what mhv's console has room for (README "Hypercalls"): the rest is
     * written again; an error (not mhv, say) falls back to the UART. */
    while (!serial_only && n) {
        int64_t done = hc_console_write(s, n);
        if (done < 0)
            break;
        if (done == 0)
            cpu_relax();
        s += done;
        n -= (size_t)done;
    }
    for (size_t i = 0; i < n; i++)
        serial_putc(s[i]);
}

int vprintf(const char *fmt, va_list ap)
{
    char buf[512];
    int n = kvsnprintf(buf, sizeof(buf), fmt, ap);
    size_t len = n < 0 ? 0 : (size_t)n >= sizeof(buf) ? sizeof(buf) - 1 : (size_t)n;
    uint64_t flags = read_rflags();
    irq_disable(); /* an interrupt handler that prints must not wait for this vCPU */
    lock();
    console_write(buf, len);
    unlock();
    if (flags & RFLAGS_IF)
        irq_enable();
    return n;
}

int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}
