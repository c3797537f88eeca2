/* The operator's console: the serial line (later also per-VM consoles and a shell). */
#ifndef MHV_KERNEL_CONSOLE_H
#define MHV_KERNEL_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONSOLE_DEFAULT_PORT 0x3f8 /* COM1 */

/* Starts the console on a UART port; returns 0 or -1 when no UART answers there. */
int console_init(uint16_t port);
bool console_ready(void);
/* Writes text, turning "\n" into "\r\n". Does nothing before console_init(). */
void console_write(const char *s, size_t n);
/* Returns once everything written has left the UART (before power-off or reset). */
void console_flush(void);

#endif
