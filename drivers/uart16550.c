/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * 16550 UART driver. Register layout and bits from the PC16550D data sheet: THR/RBR 0,
 * IER 1, FCR/IIR 2, LCR 3, MCR 4, LSR 5, MSR 6, SCR 7; divisor latch at 0/1 while LCR.DLAB = 1.
 */
#include "drivers/uart16550.h"

#include "arch/x86/cpu.h"
#include "arch/x86/io.h"

enum { THR = 0, RBR = 0, IER = 1, FCR = 2, LCR = 3, MCR = 4, LSR = 5, SCR = 7 };
enum { LSR_DATA_READY = 0x01, LSR_THR_EMPTY = 0x20, LSR_TX_IDLE = 0x40 };

#define UART_CLOCK_DIVISOR_115200 1 /* 1.8432 MHz / 16 / 115200 */
#define TX_SPIN_LIMIT 1000000        /* a stuck or absent UART must not hang mhv */

/* With nothing decoding the port, reads float to 0xff; the scratch register must hold a value
 * we write. Either failing means there is no UART here. Touches nothing a user of the UART
 * relies on (the scratch register is nobody's). */
static bool answers(uint16_t port)
{
    if (inb(port + LSR) == 0xff)
        return false;
    outb(port + SCR, 0x5a);
    return inb(port + SCR) == 0x5a;
}

int uart16550_init(struct uart16550 *u, uint16_t port)
{
    u->port = port;
    u->present = false;
    if (!answers(port))
        return -1;

    outb(port + IER, 0x00);               /* polled: no UART interrupts */
    outb(port + LCR, 0x80);               /* DLAB on to reach the divisor */
    outb(port + THR, UART_CLOCK_DIVISOR_115200 & 0xff);
    outb(port + IER, UART_CLOCK_DIVISOR_115200 >> 8);
    outb(port + LCR, 0x03);               /* 8 data bits, no parity, 1 stop bit, DLAB off */
    outb(port + FCR, 0xc7);               /* FIFOs on and cleared, 14-byte RX trigger */
    outb(port + MCR, 0x03);               /* DTR + RTS */
    u->present = true;
    return 0;
}

int uart16550_open(struct uart16550 *u, uint16_t port)
{
    u->port = port;
    u->present = answers(port);
    return u->present ? 0 : -1;
}

void uart16550_wait_tx_empty(struct uart16550 *u)
{
    for (int i = 0; u->present && i < TX_SPIN_LIMIT && !(inb(u->port + LSR) & LSR_THR_EMPTY); i++)
        cpu_relax();
}

void uart16550_putc(struct uart16550 *u, char c)
{
    if (!u->present)
        return;
    uart16550_wait_tx_empty(u);
    outb(u->port + THR, (uint8_t)c);
}

bool uart16550_tx_empty(struct uart16550 *u)
{
    /* LSR.THRE: with FIFOs on, the transmit FIFO is empty (PC16550D data sheet, LSR bit 5). */
    return u->present && (inb(u->port + LSR) & LSR_THR_EMPTY);
}

void uart16550_tx_byte(struct uart16550 *u, char c)
{
    if (u->present)
        outb(u->port + THR, (uint8_t)c);
}

void uart16550_flush(struct uart16550 *u)
{
    /* LSR.TEMT: FIFO and shift register both empty. */
    for (int i = 0; u->present && i < TX_SPIN_LIMIT && !(inb(u->port + LSR) & LSR_TX_IDLE); i++)
        cpu_relax();
}

int uart16550_getc(struct uart16550 *u)
{
    /* LSR.DR: at least one character in RBR or the receive FIFO. Never waits. */
    if (!u->present || !(inb(u->port + LSR) & LSR_DATA_READY))
        return -1;
    return inb(u->port + RBR);
}
