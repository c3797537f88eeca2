/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Logging. Two kinds of lines reach the console:
 *  - log lines, "[cpuN] text", filtered by the log level (loglevel= on the command line);
 *  - status lines, "mhv: text", always printed, unprefixed and stable: the banner, the
 *    capability summary, fatal errors, the stop line. Scripts and tests key on these.
 * Every line also goes to an in-memory ring buffer, so lines logged before the console
 * exists are printed when it starts, and a crash dump can show recent history.
 */
#ifndef MHV_KERNEL_LOG_H
#define MHV_KERNEL_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

extern enum log_level log_threshold;
/* Set on the way to a panic stop: logging then never waits long for the log lock. */
extern bool log_emergency;

void log_write(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vwrite(enum log_level level, const char *fmt, va_list ap);
void status_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A line of a VM's console: "[<vm>] <text>", never filtered. */
void guest_line(const char *vm_name, const char *text);

/* Sends everything logged so far (and still in the ring) to the console; called once the
 * console has been started. */
void log_flush_to_console(void);
/* The index of the CPU that logs, for the "[cpuN]" prefix: 0 until SMP bring-up, whose
 * arch/x86/percpu.c overrides this weak default with the per-CPU lookup. */
unsigned log_cpu_index(void);

/* Parses "error|warn|info|debug" or "0".."3"; returns 0 and sets *out, or -1. */
int log_level_parse(const char *s, enum log_level *out);
const char *log_level_name(enum log_level level);

#define log_err(...) log_write(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_write(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_write(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_write(LOG_DEBUG, __VA_ARGS__)

#endif
