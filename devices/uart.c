/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The virtual 16550A UART every VM gets at 0x3f8 (IRQ 4), and any other ports vuart_attach is
 * given. Register behaviour follows the National Semiconductor PC16550D data sheet (June 1995;
 * "DS" below, its section "Registers" and tables): all eight registers and the divisor latch,
 * the 16-byte receive FIFO with its trigger levels, line and modem status with their delta
 * bits, loopback mode, and the four prioritised interrupt sources behind IIR.
 *
 * The serial line itself is virtual, so it has no speed of its own: a byte written to THR is
 * transmitted at once (LSR shows THRE and TEMT again before the next guest access) while mhv's
 * console has room for it; when the VMs' share of the console's queue is full (the physical
 * serial line is slower than the VMs; include/kernel/console.h), the byte waits in the
 * transmitter (THR, or the 16-byte transmit FIFO in FIFO mode), THRE and TEMT stay clear, and a
 * byte written while the transmitter is full is lost, as on a real UART; once the console has
 * room again the waiting bytes leave and THRE comes back with its interrupt. Bytes arriving
 * on the input wait in a queue standing in for the cable until the receive FIFO has room, so
 * typed or pasted input is never overrun (QEMU's 16550 does the same). The receive FIFO's
 * character-timeout condition (DS, "FIFO interrupt mode operation": characters below the
 * trigger level, none moved for four character times) is taken as met at once, since the
 * guest can only look between deliveries anyway.
 *
 * Where the transmitted bytes go: the UART at 0x3f8 is mhv's console for the VM (lines
 * "[<vm>] text", vm/console.c) and gets the console's input when the VM has the focus. A UART
 * at any other port has nothing on its line: what it transmits is dropped and nothing arrives,
 * though its registers, loopback and interrupts behave the same.
 *
 * The interrupt output is a level, driven with vm_irq_line. As on a PC's serial card, it
 * reaches the interrupt controller only while MCR.OUT2 is set (the card gates its IRQ driver
 * with the OUT2 pin), and so never in loopback mode, which forces the OUT pins inactive
 * (DS, Modem Control Register bit 4).
 *
 * Locking: the registers are used by whichever CPU runs a vCPU of the VM, and the receive
 * side by CPU 0's console poll: one spinlock per UART, held with interrupts off. The IRQ line
 * is driven under it, so level changes reach vm/irq.c in the order they happened.
 */
#include <stddef.h>

#include "devices/uart.h"

#include "arch/x86/spinlock.h"
#include "devices/vdev.h"
#include "kernel/console.h"
#include "kernel/log.h"
#include "vm/console.h"
#include "vm/irq.h"
#include "vm/platform.h"
#include "vm/vm.h"

/* Register offsets (DS, summary of accessible registers). DLAB = 1 turns offsets 0 and 1
 * into the divisor latch; offset 2 is always IIR on reads and FCR on writes. */
enum { REG_DATA, REG_IER, REG_IIR_FCR, REG_LCR, REG_MCR, REG_LSR, REG_MSR, REG_SCR };
#define UART_PORTS 8

#define IER_RX_DATA 0x01      /* ERBFI: received data available (and character timeout) */
#define IER_THR_EMPTY 0x02    /* ETBEI: transmitter holding register empty */
#define IER_LINE_STATUS 0x04  /* ELSI: receiver line status */
#define IER_MODEM_STATUS 0x08 /* EDSSI: modem status */
#define IER_BITS 0x0f         /* bits 4-7 are always 0 */

/* IIR interrupt identification, highest priority first (DS, interrupt control functions). */
#define IIR_NONE 0x01
#define IIR_LINE_STATUS 0x06
#define IIR_RX_DATA 0x04
#define IIR_RX_TIMEOUT 0x0c
#define IIR_THR_EMPTY 0x02
#define IIR_MODEM_STATUS 0x00
#define IIR_FIFOS_ON 0xc0     /* set while FCR0 is; Linux's 8250 probe reads them as "16550A" */

#define FCR_ENABLE 0x01
#define FCR_RX_RESET 0x02
#define FCR_TX_RESET 0x04
#define FCR_DMA_MODE 0x08
#define FCR_TRIGGER 0xc0

#define LCR_DLAB 0x80

#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define MCR_BITS 0x1f         /* bits 5-7 are always 0 */

#define LSR_DATA_READY 0x01
#define LSR_OVERRUN 0x02
#define LSR_PARITY 0x04
#define LSR_FRAMING 0x08
#define LSR_BREAK 0x10
#define LSR_THR_EMPTY 0x20
#define LSR_TX_EMPTY 0x40
#define LSR_ERRORS (LSR_OVERRUN | LSR_PARITY | LSR_FRAMING | LSR_BREAK)

#define MSR_DELTA_CTS 0x01
#define MSR_DELTA_DSR 0x02
#define MSR_RI_TRAILING 0x04
#define MSR_DELTA_DCD 0x08
#define MSR_DELTAS 0x0f
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80

#define UART_SLOTS (sizeof(((struct vm *)0)->uart) / sizeof(((struct vm *)0)->uart[0]))
#define RX_FIFO_SIZE 16
#define TX_FIFO_SIZE 16
#define LINE_QUEUE_SIZE 256

/* What the other end of the line shows on the modem inputs outside loopback: a terminal that
 * is on line and ready (clear to send, data set ready, carrier), never ringing. */
#define LINE_MODEM_INPUTS (MSR_CTS | MSR_DSR | MSR_DCD)

struct vuart {
    struct spinlock lock;
    struct vm *vm;
    uint16_t base;
    uint8_t irq;
    bool irq_high;            /* the level last driven */

    uint8_t ier, lcr, mcr, msr, scr, dll, dlm;
    uint8_t fcr;              /* FIFO enable, DMA mode and trigger bits as last programmed */
    uint8_t line_errors;      /* LSR bits 1-4, cleared by reading LSR */
    uint8_t last_rx;          /* what RBR reads when the FIFO is empty: the last byte again */
    bool thr_empty_pending;   /* the THRE interrupt condition (priority 3) */

    uint8_t rx[RX_FIFO_SIZE]; /* the receive FIFO; in 16450 mode only one byte, the RBR */
    unsigned rx_head, rx_count;

    uint8_t line[LINE_QUEUE_SIZE]; /* bytes on their way in, waiting for room in the FIFO */
    unsigned line_head, line_count;

    uint8_t tx[TX_FIFO_SIZE]; /* bytes written while the console had no room: THR/FIFO full */
    unsigned tx_head, tx_count;
};

static bool fifo_mode(const struct vuart *u)
{
    return u->fcr & FCR_ENABLE;
}

static unsigned rx_capacity(const struct vuart *u)
{
    return fifo_mode(u) ? RX_FIFO_SIZE : 1;
}

static unsigned tx_capacity(const struct vuart *u)
{
    return fifo_mode(u) ? TX_FIFO_SIZE : 1;
}

/* FCR bits 7-6: 1, 4, 8 or 14 bytes raise "received data available" (DS, FIFO Control Register). */
static unsigned rx_trigger(const struct vuart *u)
{
    static const uint8_t levels[4] = { 1, 4, 8, 14 };
    return levels[u->fcr >> 6];
}

/* The modem status inputs as the chip sees them: in loopback the outputs are wired back
 * (DS, MCR bit 4: DTR -> DSR, RTS -> CTS, OUT1 -> RI, OUT2 -> DCD), else the line's. */
static uint8_t modem_inputs(const struct vuart *u)
{
    if (!(u->mcr & MCR_LOOP))
        return LINE_MODEM_INPUTS;
    return (u->mcr & MCR_RTS ? MSR_CTS : 0) | (u->mcr & MCR_DTR ? MSR_DSR : 0) |
           (u->mcr & MCR_OUT1 ? MSR_RI : 0) | (u->mcr & MCR_OUT2 ? MSR_DCD : 0);
}

/* New input levels: MSR bits 0-3 record changes since MSR was last read (DS, Modem Status
 * Register): any change of CTS, DSR and DCD, and RI going from on to off (trailing edge). */
static void set_modem_inputs(struct vuart *u, uint8_t inputs)
{
    uint8_t old = u->msr & ~MSR_DELTAS, changed = old ^ inputs, deltas = 0;
    if (changed & MSR_CTS)
        deltas |= MSR_DELTA_CTS;
    if (changed & MSR_DSR)
        deltas |= MSR_DELTA_DSR;
    if (changed & MSR_DCD)
        deltas |= MSR_DELTA_DCD;
    if ((old & MSR_RI) && !(inputs & MSR_RI))
        deltas |= MSR_RI_TRAILING;
    u->msr = inputs | (u->msr & MSR_DELTAS) | deltas;
}

static void rx_clear(struct vuart *u)
{
    u->rx_head = u->rx_count = 0;
}

/* A character completes in the receiver. With the FIFO (or RBR) full it is an overrun (DS,
 * Line Status Register bit 1): in FIFO mode the new character is lost, in 16450 mode it
 * overwrites the one in RBR. */
static void rx_push(struct vuart *u, uint8_t byte)
{
    if (u->rx_count == rx_capacity(u)) {
        u->line_errors |= LSR_OVERRUN;
        if (!fifo_mode(u))
            u->rx[(u->rx_head + u->rx_count - 1) % RX_FIFO_SIZE] = byte;
        return;
    }
    u->rx[(u->rx_head + u->rx_count) % RX_FIFO_SIZE] = byte;
    u->rx_count++;
}

/* Moves waiting line bytes into the FIFO while it has room. In loopback the serial input is
 * disconnected from the receiver (DS, MCR bit 4), so they keep waiting. */
static void line_to_fifo(struct vuart *u)
{
    if (u->mcr & MCR_LOOP)
        return;
    while (u->line_count && u->rx_count < rx_capacity(u)) {
        rx_push(u, u->line[u->line_head]);
        u->line_head = (u->line_head + 1) % LINE_QUEUE_SIZE;
        u->line_count--;
    }
}

/* The highest-priority pending interrupt that IER enables (DS, interrupt control functions). */
static uint8_t interrupt_id(const struct vuart *u)
{
    if ((u->ier & IER_LINE_STATUS) && (u->line_errors & LSR_ERRORS))
        return IIR_LINE_STATUS;
    if ((u->ier & IER_RX_DATA) && u->rx_count) {
        if (!fifo_mode(u) || u->rx_count >= rx_trigger(u))
            return IIR_RX_DATA;
        return IIR_RX_TIMEOUT;
    }
    if ((u->ier & IER_THR_EMPTY) && u->thr_empty_pending)
        return IIR_THR_EMPTY;
    if ((u->ier & IER_MODEM_STATUS) && (u->msr & MSR_DELTAS))
        return IIR_MODEM_STATUS;
    return IIR_NONE;
}

/* Drives the IRQ line to match the chip's interrupt output, gated by OUT2 (see the top). */
static void update_irq(struct vuart *u)
{
    bool high = interrupt_id(u) != IIR_NONE && (u->mcr & (MCR_OUT2 | MCR_LOOP)) == MCR_OUT2;
    if (high == u->irq_high)
        return;
    u->irq_high = high;
    vm_irq_line(u->vm, u->irq, high);
}

/* Sends what waits in the transmitter while the console takes it; the transmitter empty
 * again raises the THRE interrupt (DS, interrupt control functions). Lock held. */
static void tx_send(struct vuart *u)
{
    while (u->tx_count && console_guest_room(1)) {
        vm_console_putc(u->vm, (char)u->tx[u->tx_head]);
        u->tx_head = (u->tx_head + 1) % TX_FIFO_SIZE;
        u->tx_count--;
    }
    if (!u->tx_count)
        u->thr_empty_pending = true;
}

/* THR written: writing it clears the THRE interrupt; the byte leaves at once (looped back to
 * the receiver in loopback mode, where the serial output is held marking, DS MCR bit 4; on
 * the console's line when it has room; nowhere on a UART without a line), or waits in the
 * transmitter (see the top). */
static void transmit(struct vuart *u, uint8_t byte)
{
    u->thr_empty_pending = false;
    if (u->mcr & MCR_LOOP) {
        rx_push(u, byte);
    } else if (u->base == VUART_CONSOLE_BASE) {
        if (u->tx_count == tx_capacity(u))
            return; /* written into a full transmitter: lost */
        u->tx[(u->tx_head + u->tx_count) % TX_FIFO_SIZE] = byte;
        u->tx_count++;
        tx_send(u);
        return;
    }
    u->thr_empty_pending = true;
}

void vuart_console_room(struct vuart *u)
{
    uint64_t flags = spin_lock_irqsave(&u->lock);
    if (u->tx_count) {
        tx_send(u);
        update_irq(u);
    }
    spin_unlock_irqrestore(&u->lock, flags);
}

static uint8_t read_register(struct vuart *u, unsigned reg)
{
    uint8_t value;
    switch (reg) {
    case REG_DATA:
        if (u->lcr & LCR_DLAB)
            return u->dll;
        if (u->rx_count) {
            u->last_rx = u->rx[u->rx_head];
            u->rx_head = (u->rx_head + 1) % RX_FIFO_SIZE;
            u->rx_count--;
            line_to_fifo(u);
        }
        return u->last_rx;
    case REG_IER:
        return u->lcr & LCR_DLAB ? u->dlm : u->ier;
    case REG_IIR_FCR:
        value = interrupt_id(u);
        /* Reading IIR clears a THRE interrupt when that is what it reports (DS, same table). */
        if (value == IIR_THR_EMPTY)
            u->thr_empty_pending = false;
        return value | (fifo_mode(u) ? IIR_FIFOS_ON : 0);
    case REG_LCR:
        return u->lcr;
    case REG_MCR:
        return u->mcr;
    case REG_LSR:
        /* The error bits clear on reading (DS, Line Status Register). Bit 7 (an error among
         * the FIFO's characters) stays 0: characters never arrive with parity, framing or
         * break errors. */
        value = u->line_errors | (u->rx_count ? LSR_DATA_READY : 0) | (u->tx_count ? 0 : LSR_THR_EMPTY | LSR_TX_EMPTY);
        u->line_errors = 0;
        return value;
    case REG_MSR:
        value = u->msr;
        u->msr &= ~MSR_DELTAS; /* reading clears the delta bits (DS, MSR) */
        return value;
    default:
        return u->scr;
    }
}

static void write_fcr(struct vuart *u, uint8_t value)
{
    /* FCR0 = 0 turns the FIFOs off, and the other bits are not programmed unless it is 1;
     * switching between FIFO and 16450 mode empties the FIFOs (DS, FIFO Control Register).
     * FCR2 empties the transmit FIFO, as does a switch of mode. */
    bool was_on = fifo_mode(u), on = value & FCR_ENABLE;
    if (was_on != on || (on && (value & FCR_RX_RESET)))
        rx_clear(u);
    if (was_on != on || (on && (value & FCR_TX_RESET))) {
        u->tx_head = u->tx_count = 0;
        u->thr_empty_pending = true;
    }
    u->fcr = on ? value & (FCR_ENABLE | FCR_DMA_MODE | FCR_TRIGGER) : 0;
    line_to_fifo(u);
}

static void write_register(struct vuart *u, unsigned reg, uint8_t value)
{
    switch (reg) {
    case REG_DATA:
        if (u->lcr & LCR_DLAB)
            u->dll = value;
        else
            transmit(u, value);
        break;
    case REG_IER:
        if (u->lcr & LCR_DLAB) {
            u->dlm = value;
            break;
        }
        /* Enabling ETBEI while THR is empty raises the THRE interrupt; Linux's 8250 driver
         * checks that a UART does this each time (its "THRE test" at port startup). */
        if (!(u->ier & IER_THR_EMPTY) && (value & IER_THR_EMPTY))
            u->thr_empty_pending = true;
        u->ier = value & IER_BITS;
        break;
    case REG_IIR_FCR:
        write_fcr(u, value);
        break;
    case REG_LCR:
        /* Break control (bit 6) is kept but sends nothing: the virtual line has no break. */
        u->lcr = value;
        break;
    case REG_MCR: {
        bool was_loop = u->mcr & MCR_LOOP;
        u->mcr = value & MCR_BITS;
        set_modem_inputs(u, modem_inputs(u));
        if (was_loop && !(u->mcr & MCR_LOOP))
            line_to_fifo(u);
        break;
    }
    case REG_SCR:
        u->scr = value;
        break;
    default:
        break; /* LSR and MSR: writes are for factory test only (DS); ignored */
    }
}

/* Byte registers: the dispatcher makes an access wider than a byte reach consecutive
 * registers, as an ISA bus splits it; bytes beyond the UART's eight ports read as nothing
 * there (all ones). */
static uint64_t uart_read(struct vcpu *v, void *state, uint64_t port, unsigned size)
{
    (void)v, (void)size;
    struct vuart *u = state;
    return read_register(u, (unsigned)(port - u->base));
}

static void uart_write(struct vcpu *v, void *state, uint64_t port, unsigned size, uint64_t value)
{
    (void)v, (void)size;
    struct vuart *u = state;
    write_register(u, (unsigned)(port - u->base), (uint8_t)value);
}

/* After every access and reset, under the lock: the IRQ line follows the registers. A read
 * that finds bytes still waiting for the console asks for `after`. */
static unsigned uart_sync(void *state, enum vdev_event event)
{
    struct vuart *u = state;
    update_irq(u);
    return event == VDEV_READ && u->tx_count;
}

static void uart_after(void *state, unsigned work)
{
    (void)state, (void)work;
    console_drain(); /* a guest polling a full transmitter: help the line along */
}

/* Master reset (DS, UART reset configuration): IER, FCR, LCR, MCR and the error bits
 * cleared, no interrupt pending, the FIFOs empty. A real chip leaves the divisor latch and
 * the scratch register alone; mhv starts them at 115200 baud and 0. The line's queue is
 * emptied too: what was typed to the VM before it restarted is not for the new boot. */
static void reset_registers(struct vuart *u)
{
    u->ier = u->lcr = u->mcr = u->fcr = u->scr = 0;
    u->dll = 1;
    u->dlm = 0;
    u->line_errors = 0;
    u->last_rx = 0;
    u->thr_empty_pending = false;
    u->msr = modem_inputs(u);
    rx_clear(u);
    u->line_head = u->line_count = 0;
    u->tx_head = u->tx_count = 0;
}

static void uart_reset(struct vm *vm, void *state)
{
    (void)vm;
    reset_registers(state);
}

/* The port comes as vdev_attach's `where`, the IRQ as its config. */
static void uart_init(struct vm *vm, void *state, uint64_t where, const void *config)
{
    struct vuart *u = state;
    unsigned slot = 0;
    while (vm->uart[slot])
        slot++; /* vuart_attach made sure there is room */
    u->vm = vm;
    u->base = (uint16_t)where;
    u->irq = *(const uint8_t *)config;
    reset_registers(u);
    vm->uart[slot] = u;
}

static const struct vdev_range uart_ranges[] = {
    { VDEV_PORT, 0, UART_PORTS, VDEV_SIZE_1, uart_read, uart_write },
};

static const struct vdev_ops vuart_ops = {
    .name = "16550A UART",
    .no_memory = NULL, /* vuart_attach says which port is missing */
    .state_size = sizeof(struct vuart),
    .lock = VDEV_LOCK(struct vuart, lock),
    .ranges = uart_ranges,
    .range_count = sizeof(uart_ranges) / sizeof(uart_ranges[0]),
    .init = uart_init,
    .reset = uart_reset,
    .sync = uart_sync,
    .after = uart_after,
};

void vuart_attach(struct vm *vm, uint16_t base, unsigned irq)
{
    unsigned slot = 0;
    while (slot < UART_SLOTS && vm->uart[slot])
        slot++;
    uint8_t line = (uint8_t)irq;
    if (slot == UART_SLOTS || !vdev_attach(vm, &vuart_ops, base, &line))
        log_err("vm %s: no UART at port 0x%x (%s)", vm->name, base,
                slot < UART_SLOTS ? "out of memory" : "it has four already");
}

struct vuart *vuart_console(struct vm *vm)
{
    for (unsigned i = 0; i < UART_SLOTS; i++)
        if (vm->uart[i] && vm->uart[i]->base == VUART_CONSOLE_BASE)
            return vm->uart[i];
    return NULL;
}

bool vuart_receive(struct vuart *u, uint8_t byte)
{
    uint64_t flags = spin_lock_irqsave(&u->lock);
    bool queued = u->line_count < LINE_QUEUE_SIZE;
    if (queued) {
        u->line[(u->line_head + u->line_count) % LINE_QUEUE_SIZE] = byte;
        u->line_count++;
        line_to_fifo(u);
        update_irq(u);
    }
    spin_unlock_irqrestore(&u->lock, flags);
    return queued;
}
