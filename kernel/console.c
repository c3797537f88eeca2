/* SPDX-License-Identifier: BSD-2-Clause */
/* Console: where log lines, status lines and the VMs' console lines go, the serial line (see
 * include/kernel/console.h for the queue and who drains it). */
#include "kernel/console.h"

#include "arch/x86/cpu.h"
#include "arch/x86/spinlock.h"
#include "arch/x86/tsc.h"
#include "drivers/uart16550.h"

#define QUEUE_SIZE (1u << 16)        /* power of two */
#define GUEST_SHARE (QUEUE_SIZE / 2) /* VMs' text may fill the queue this far; mhv's lines the rest */
#define LOCK_SPINS 100000000         /* the emergency path's bound on waiting for a lock */

static struct uart16550 console_uart;

static char queue[QUEUE_SIZE];
uint64_t console_queued_in, console_queued_out; /* bytes ever queued, ever sent: [out, in) waits */
static struct spinlock queue_lock = SPINLOCK_INIT;
static struct spinlock drain_lock = SPINLOCK_INIT;  /* one CPU feeds the UART at a time */
static bool queue_on;                  /* console_start_queue() was called */
static volatile bool guests_waiting;   /* a VM found no room: tell it when there is (room_cb) */
static void (*room_cb)(void);
static uint64_t feed_due; /* TSC before which the UART has no room again (drain without waiting) */
bool console_emergency;

int console_init(uint16_t port)
{
    return uart16550_init(&console_uart, port);
}

bool console_ready(void)
{
    return console_uart.present;
}

void console_start_queue(void (*room)(void))
{
    room_cb = room;
    queue_on = true;
}

/* A lock taken with interrupts off; in an emergency (a panic, the machine stopping while
 * another CPU may hold it, frozen) waiting is bounded and the caller goes on without it. */
static bool lock_bounded(struct spinlock *l)
{
    if (!console_emergency) {
        spin_lock(l);
        return true;
    }
    for (long i = 0; i < LOCK_SPINS; i++)
        if (spin_trylock(l))
            return true;
    return false;
}

/* How long the line takes for one character, in TSC ticks (0 before the TSC is calibrated). */
static uint64_t char_ticks(void)
{
    return tsc_hz * UART16550_CHAR_BITS / UART16550_BAUD;
}

/* Sends what the UART takes now without waiting: a FIFO's worth (16 bytes) each time it is
 * empty; with `wait`, everything. Only the drain lock's holder moves `console_queued_out`. */
static void feed_uart(bool wait)
{
    uint64_t in;
    while (console_queued_out != (in = __atomic_load_n(&console_queued_in, __ATOMIC_ACQUIRE))) {
        if (!uart16550_tx_empty(&console_uart)) {
            if (!wait) {
                feed_due = rdtsc() + char_ticks();
                return;
            }
            uart16550_wait_tx_empty(&console_uart);
        }
        uint64_t out = console_queued_out;
        unsigned n = 0;
        for (; n < UART16550_FIFO && out != in; n++, out++)
            uart16550_tx_byte(&console_uart, queue[out & (QUEUE_SIZE - 1)]);
        __atomic_store_n(&console_queued_out, out, __ATOMIC_RELEASE);
        feed_due = rdtsc() + n * char_ticks();
    }
}

static void drain(bool wait)
{
    if (!console_uart.present)
        return;
    uint64_t flags = irq_save();
    bool locked = wait ? lock_bounded(&drain_lock) : spin_trylock(&drain_lock);
    if (!locked && !wait) {
        irq_restore(flags);
        return; /* another CPU is at it */
    }
    feed_uart(wait);
    bool notify = guests_waiting && console_queued_in - console_queued_out < GUEST_SHARE / 2;
    if (notify)
        guests_waiting = false;
    if (locked)
        spin_unlock(&drain_lock);
    irq_restore(flags);
    if (notify && room_cb)
        room_cb();
}

/* Not before the UART can have room: the bytes fed last take their time on the line, and a
 * look at the UART (a port read, an exit's worth on real hardware) would find it still busy.
 * The VM-exit path calls this after every exit while text waits. */
void console_drain(void)
{
    if (console_queued_out != __atomic_load_n(&console_queued_in, __ATOMIC_ACQUIRE) &&
        (int64_t)(rdtsc() - feed_due) >= 0)
        drain(false);
}

/* Queues text ("\n" as "\r\n") while at most `limit` bytes would then wait; returns how many
 * of the n bytes went in. Queue lock held; the bytes are in place before `console_queued_in` says so. */
static size_t enqueue(const char *s, size_t n, uint64_t limit)
{
    uint64_t in = console_queued_in, out = __atomic_load_n(&console_queued_out, __ATOMIC_ACQUIRE);
    size_t i = 0;
    for (; i < n; i++) {
        unsigned need = s[i] == '\n' ? 2 : 1;
        if (in - out + need > limit)
            break;
        if (s[i] == '\n')
            queue[in++ & (QUEUE_SIZE - 1)] = '\r';
        queue[in++ & (QUEUE_SIZE - 1)] = s[i];
    }
    __atomic_store_n(&console_queued_in, in, __ATOMIC_RELEASE);
    return i;
}

void console_write(const char *s, size_t n)
{
    if (!console_uart.present)
        return;
    if (!queue_on || console_emergency) {
        /* Before the scheduler runs, or going down: in order, waiting for the UART. */
        drain(true);
        for (size_t i = 0; i < n; i++) {
            if (s[i] == '\n')
                uart16550_putc(&console_uart, '\r');
            uart16550_putc(&console_uart, s[i]);
        }
        return;
    }
    while (n) {
        uint64_t flags = irq_save();
        size_t done = 0;
        if (lock_bounded(&queue_lock)) {
            done = enqueue(s, n, QUEUE_SIZE);
            spin_unlock(&queue_lock);
        }
        irq_restore(flags);
        s += done;
        n -= done;
        drain(n != 0); /* mhv's own lines are never dropped: a full queue is waited for */
    }
}

bool console_guest_room(size_t n)
{
    if (!console_uart.present)
        return true; /* nowhere to go: taken and lost, as on a line with nothing attached */
    if (console_queued_in - __atomic_load_n(&console_queued_out, __ATOMIC_ACQUIRE) + 2 * n <= GUEST_SHARE)
        return true;
    guests_waiting = true;
    return false;
}

void console_flush(void)
{
    drain(true);
    uart16550_flush(&console_uart);
}
