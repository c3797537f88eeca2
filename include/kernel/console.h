/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The operator's console: the serial line. Everything mhv and its VMs print goes through one
 * queue, in order. Until the scheduler starts (console_start_queue), and again once the
 * machine is going down (console_emergency), writes wait for the UART as they go. In between
 * nothing waits for the line: text is queued and sent a UART FIFO's worth (16 bytes) at a
 * time whenever the UART is empty, by whichever CPU writes or polls (console_drain: CPU 0's
 * scheduler loop and idle wake-ups, and every VM's UART status read), so that no CPU spends
 * its time, with interrupts off, waiting for a slow line (115200 baud: 87 us a character).
 *
 * VMs get half the queue (console_guest_room): a VM that finds it full
 * waits, as a real UART's transmitter makes it wait (its THRE bit stays clear, devices/uart.c), and
 * is told when there is room again; mhv's own lines always find room (they wait for the line
 * when even their half is full), so the VMs' output can delay them but never lose them.
 */
#ifndef MHV_KERNEL_CONSOLE_H
#define MHV_KERNEL_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONSOLE_DEFAULT_PORT 0x3f8 /* COM1 */

/* Starts the console on a UART port; returns 0 or -1 when no UART answers there. */
int console_init(uint16_t port);
bool console_ready(void);
/* From now on writes are queued; `room` is called (from whichever CPU drains) once VMs that
 * found the queue full can go on. */
void console_start_queue(void (*room)(void));
/* Set on the way down (panic, machine stop): writes wait for the line again, locks are
 * waited for a bounded time only. */
extern bool console_emergency;

/* Writes mhv's text, turning "\n" into "\r\n". Does nothing before console_init(). */
void console_write(const char *s, size_t n);
/* Whether n more bytes of a VM's text fit in the VMs' share now; if not, the room callback
 * runs once they do. The text itself then goes through console_write (vm/console.c's lines). */
bool console_guest_room(size_t n);
/* Feeds the UART what it takes now; returns at once. Any CPU, any time. */
void console_drain(void);
/* Whether text is still waiting for the line. Inline: the VM-exit path asks after every exit. */
extern uint64_t console_queued_in, console_queued_out; /* bytes ever queued, ever sent (kernel/console.c) */
static inline bool console_pending(void)
{
    return console_queued_out != __atomic_load_n(&console_queued_in, __ATOMIC_ACQUIRE);
}
/* Returns once everything written has left the UART (before power-off or reset). */
void console_flush(void);

#endif
