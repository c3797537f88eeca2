/* SPDX-License-Identifier: BSD-2-Clause */
// sources: kernel/console.c
/* The console's output queue (include/kernel/console.h): in order, "\n" as "\r\n", at most a
 * UART FIFO (16 bytes) at a time and never waiting once queued, the VMs' half of the queue
 * and the call that tells them there is room again, mhv's own lines never lost, and the way
 * down (emergency) waiting for the line again, after what was queued. The UART is a fake whose
 * transmitter is busy or empty as the test says. */
#include "stubs.h"

#include <string.h>

#include "drivers/uart16550.h"
#include "kernel/console.h"

static char line[1 << 18];     /* what went out on the serial line */
static size_t line_len;
static bool tx_empty_now;      /* what LSR.THRE says */
static unsigned burst;         /* bytes written since THRE was last read as set */
static unsigned rooms;         /* calls of the room callback */
static unsigned lsr_reads;     /* looks at the transmitter */
uint64_t tsc_hz;               /* 0: no pacing (the TSC not calibrated yet), until the last test */

int uart16550_init(struct uart16550 *u, uint16_t port)
{
    u->port = port;
    u->present = true;
    return 0;
}

bool uart16550_tx_empty(struct uart16550 *u)
{
    (void)u;
    lsr_reads++;
    if (tx_empty_now)
        burst = 0;
    return tx_empty_now;
}

void uart16550_tx_byte(struct uart16550 *u, char c)
{
    (void)u;
    if (++burst > UART16550_FIFO)
        fail_msg("more than a FIFO's worth written after one THRE");
    line[line_len++] = c;
    tx_empty_now = false; /* the FIFO holds something until the line takes it */
}

void uart16550_wait_tx_empty(struct uart16550 *u)
{
    (void)u;
    tx_empty_now = true; /* the line caught up */
    burst = 0;
}

void uart16550_putc(struct uart16550 *u, char c)
{
    (void)u;
    line[line_len++] = c;
}

void uart16550_flush(struct uart16550 *u) { (void)u; }

static void room(void)
{
    rooms++;
}

/* Drains as an idle CPU does, the UART emptying between drains. */
static void drain_all(void)
{
    for (int i = 0; i < 100000 && console_pending(); i++) {
        tx_empty_now = true;
        console_drain();
    }
}

static bool line_is(const char *text)
{
    return line_len == strlen(text) && !memcmp(line, text, line_len);
}

static void test_console_queue(void **state)
{
    (void)state;
    assert_int_equal(console_init(0x3f8), 0);

    /* Before the scheduler: synchronous, in order. */
    console_write("boot\n", 5);
    assert_true(line_is("boot\r\n"));
    assert_false(console_pending());

    /* Queued: nothing waits for a busy UART, and it goes out a FIFO at a time. */
    console_start_queue(room);
    line_len = 0;
    tx_empty_now = false;
    console_write("queued line one\n", 16);
    assert_int_equal(line_len, 0);
    assert_true(console_pending());
    tx_empty_now = true;
    console_drain();
    assert_int_equal(line_len, 16);
    drain_all();
    assert_true(line_is("queued line one\r\n"));

    /* The VMs' half: refused beyond it, told once the queue has drained below a quarter. */
    line_len = 0;
    tx_empty_now = false;
    static char text[40000];
    memset(text, 'x', sizeof(text));
    console_write(text, sizeof(text));       /* mhv's own: taken whole */
    assert_false(console_guest_room(1));
    assert_int_equal(rooms, 0);
    drain_all();
    assert_int_equal(line_len, sizeof(text));
    assert_int_equal(rooms, 1);
    assert_true(console_guest_room(1));

    /* mhv's lines are never lost: more than the whole queue, with the UART busy, goes out in
     * order (console_write waits for the line once the queue is full). */
    line_len = 0;
    tx_empty_now = false;
    static char big[100000];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)('a' + i % 26);
    console_write(big, sizeof(big));
    drain_all();
    assert_int_equal(line_len, sizeof(big));
    assert_memory_equal(line, big, sizeof(big));

    /* On the way down: what was queued goes first, then the new text, synchronously. */
    line_len = 0;
    tx_empty_now = false;
    console_write("before\n", 7);
    console_emergency = true;
    console_write("panic\n", 6);
    assert_true(line_is("before\r\npanic\r\n"));
    console_emergency = false;

    /* Paced: once a FIFO's worth went out, the UART is left alone until the line can have
     * taken it (16 characters at 115200 baud; here, with this TSC rate, minutes), however
     * often the exit path asks. */
    line_len = 0;
    tx_empty_now = false;
    console_write("a line longer than one FIFO\n", 28);
    tsc_hz = 1000000000000000ull;
    tx_empty_now = true;
    console_drain();
    assert_int_equal(line_len, 16);
    unsigned looks = lsr_reads;
    for (int i = 0; i < 100; i++) {
        tx_empty_now = true;
        console_drain();
    }
    assert_int_equal(line_len, 16);
    assert_int_equal(lsr_reads, looks);
    console_flush(); /* the way down waits for the line whatever the pace */
    assert_true(line_is("a line longer than one FIFO\r\n"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_console_queue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
