/* SPDX-License-Identifier: BSD-2-Clause */
/* 16550-compatible UART on an I/O port (the PC COM ports). */
#ifndef MHV_DRIVERS_UART16550_H
#define MHV_DRIVERS_UART16550_H

#include <stdbool.h>
#include <stdint.h>

struct uart16550 {
    uint16_t port;
    bool present;
};

#define UART16550_BAUD 115200
#define UART16550_CHAR_BITS 10 /* 8N1: a start bit, 8 data bits, a stop bit */

/* Programs 115200 8N1 with FIFOs. Returns 0, or -1 when nothing answers at that port. */
int uart16550_init(struct uart16550 *u, uint16_t port);
/* A second handle on a UART someone else programmed (the console's, for its receive side):
 * checks that it answers and changes none of its settings. 0, or -1 when nothing answers. */
int uart16550_open(struct uart16550 *u, uint16_t port);
void uart16550_putc(struct uart16550 *u, char c);
/* Without waiting: whether the transmitter (with FIFOs on, its 16-byte FIFO) is empty, and a
 * byte for it. After uart16550_tx_empty, UART16550_FIFO bytes may be written at once. */
#define UART16550_FIFO 16
bool uart16550_tx_empty(struct uart16550 *u);
void uart16550_tx_byte(struct uart16550 *u, char c);
/* Waits (bounded) until the transmitter is empty. */
void uart16550_wait_tx_empty(struct uart16550 *u);
/* Waits (bounded) until every queued byte has left the transmitter. */
void uart16550_flush(struct uart16550 *u);
/* Returns the next received byte, or -1 at once when none is waiting (non-blocking). */
int uart16550_getc(struct uart16550 *u);

#endif
