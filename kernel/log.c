/* SPDX-License-Identifier: BSD-2-Clause */
/* Log and status lines (see include/kernel/log.h). */
#include "kernel/log.h"

#include <stdbool.h>

#include "arch/x86/spinlock.h"
#include "kernel/console.h"
#include "lib/format.h"
#include "lib/string.h"

enum log_level log_threshold = LOG_INFO;

#define LOG_LINE_MAX 512
#define LOG_RING_SIZE 16384 /* power of two */

static char ring[LOG_RING_SIZE];
static size_t ring_head;    /* total bytes ever written; ring[head % size] is next */
static size_t ring_flushed; /* bytes of the ring already sent to the console */

/* Until SMP bring-up there is only the boot CPU (include/kernel/log.h). */
__attribute__((weak)) unsigned log_cpu_index(void)
{
    return 0;
}

static void ring_put(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ring[(ring_head + i) & (LOG_RING_SIZE - 1)] = s[i];
    ring_head += n;
}

/* One lock orders whole lines from all CPUs. A CPU reporting a panic must not wait forever for
 * a lock another CPU may hold while stuck: it waits a bounded time, then writes anyway. */
static struct spinlock log_lock = SPINLOCK_INIT;
bool log_emergency;

static uint64_t log_lock_take(bool *locked)
{
    uint64_t flags = irq_save();
    *locked = true;
    if (!log_emergency) {
        spin_lock(&log_lock);
        return flags;
    }
    for (long i = 0; i < 100000000; i++)
        if (spin_trylock(&log_lock))
            return flags;
    *locked = false;
    return flags;
}

static void log_lock_give(bool locked, uint64_t flags)
{
    if (locked)
        spin_unlock(&log_lock);
    irq_restore(flags);
}

/* Each ring line starts with one byte holding its level, so a later flush can apply the
 * threshold known by then (the command line is parsed after the first lines are logged). */
static void emit(const char *line, size_t n, enum log_level level)
{
    bool locked;
    uint64_t flags = log_lock_take(&locked);
    char tag = (char)level;
    ring_put(&tag, 1);
    ring_put(line, n);
    /* Lines that arrive before the console stay in the ring until log_flush_to_console(). */
    if (console_ready()) {
        if (level <= log_threshold)
            console_write(line, n);
        ring_flushed = ring_head;
    }
    log_lock_give(locked, flags);
}

void log_flush_to_console(void)
{
    bool locked;
    uint64_t flags = log_lock_take(&locked);
    size_t i = ring_flushed;
    if (ring_head - i > LOG_RING_SIZE) {
        /* The oldest lines were overwritten: resume at the first whole line still there. */
        i = ring_head - LOG_RING_SIZE;
        while (i < ring_head && ring[i++ & (LOG_RING_SIZE - 1)] != '\n')
            ;
    }
    while (i < ring_head) {
        enum log_level level = (enum log_level)ring[i++ & (LOG_RING_SIZE - 1)];
        for (; i < ring_head; i++) {
            char c = ring[i & (LOG_RING_SIZE - 1)];
            if (level <= log_threshold)
                console_write(&c, 1);
            if (c == '\n') {
                i++;
                break;
            }
        }
    }
    ring_flushed = ring_head;
    log_lock_give(locked, flags);
}

static const char *const level_names[] = { "error", "warn", "info", "debug" };

const char *log_level_name(enum log_level level)
{
    return level <= LOG_DEBUG ? level_names[level] : "?";
}

int log_level_parse(const char *s, enum log_level *out)
{
    for (int i = LOG_ERROR; i <= LOG_DEBUG; i++) {
        if (!strcmp(s, level_names[i]) || (s[0] == '0' + i && !s[1])) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

void log_vwrite(enum log_level level, const char *fmt, va_list ap)
{
    char line[LOG_LINE_MAX];
    int n = ksnprintf(line, sizeof(line), "[cpu%u] %s", log_cpu_index(),
                      level == LOG_ERROR ? "error: " : level == LOG_WARN ? "warning: " : "");
    n += kvsnprintf(line + n, sizeof(line) - n, fmt, ap);
    if (n > LOG_LINE_MAX - 2)
        n = LOG_LINE_MAX - 2; /* truncated; keep room for the newline */
    line[n++] = '\n';
    emit(line, n, level);
}

void log_write(enum log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(level, fmt, ap);
    va_end(ap);
}

void guest_line(const char *vm_name, const char *text)
{
    char line[LOG_LINE_MAX];
    int n = ksnprintf(line, sizeof(line), "[%s] %s", vm_name, text);
    if (n > LOG_LINE_MAX - 2)
        n = LOG_LINE_MAX - 2;
    line[n++] = '\n';
    emit(line, n, LOG_ERROR);
}

void status_line(const char *fmt, ...)
{
    char line[LOG_LINE_MAX];
    int n = ksnprintf(line, sizeof(line), "mhv: ");
    va_list ap;
    va_start(ap, fmt);
    n += kvsnprintf(line + n, sizeof(line) - n, fmt, ap);
    va_end(ap);
    if (n > LOG_LINE_MAX - 2)
        n = LOG_LINE_MAX - 2;
    line[n++] = '\n';
    emit(line, n, LOG_ERROR); /* status lines are never filtered */
}
