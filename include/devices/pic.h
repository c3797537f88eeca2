/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The 8259A programmable interrupt controller pair of each VM (devices/pic.c), as a PC wires it:
 * the master at ports 0x20/0x21 takes ISA IRQs 0-7, the slave at 0xa0/0xa1 takes IRQs 8-15
 * and drives the master's IR2 (cascade), and the edge/level control registers (ELCR) of the
 * PIIX/ICH south bridges sit at 0x4d0/0x4d1. The chip logic (struct pic8259, struct pic_pair)
 * has no VM in it, so host unit tests drive it directly; the VM glue (vpic_* in
 * include/vm/platform.h) adds the lock, the ports and the notification of the local APIC.
 */
#ifndef MHV_DEVICES_PIC_H
#define MHV_DEVICES_PIC_H

#include <stdbool.h>
#include <stdint.h>

#include "vm/irq.h"

struct vm;

/* One 8259A (Intel 8259A data sheet, "Functional description" and "Programming the 8259A"). */
struct pic8259 {
    uint8_t irr;            /* interrupt request register */
    uint8_t isr;            /* in-service register */
    uint8_t imr;            /* interrupt mask register (OCW1) */
    uint8_t lines;          /* the IR inputs' levels now, for edge detection */
    uint8_t elcr;           /* level-triggered inputs (ELCR) */
    uint8_t elcr_mask;      /* the ELCR bits that exist on this chip */
    uint8_t vector_base;    /* ICW2: T7-T3 */
    uint8_t icw3;           /* master: which IRs have slaves; slave: its ID */
    uint8_t lowest;         /* the IR with the lowest priority (7 unless rotated) */
    uint8_t init_step;      /* 0: initialised; 2, 3, 4: the next data port write is ICW2/3/4 */
    bool master;
    bool need_icw4;         /* ICW1 IC4 */
    bool single;            /* ICW1 SNGL: no cascade, no ICW3 */
    bool auto_eoi;          /* ICW4 AEOI */
    bool fully_nested;      /* ICW4 SFNM: special fully nested mode */
    bool rotate_on_aeoi;    /* OCW2 R=1 SL=0 EOI=0 */
    bool special_mask;      /* OCW3 ESMM/SMM */
    bool read_isr;          /* OCW3 RR/RIS: a read of the command port returns ISR, not IRR */
    bool poll;              /* OCW3 P: the next read is a poll (and acknowledges) */
};

/* Power-on state; elcr_mask says which inputs can be level-triggered. */
void pic8259_reset(struct pic8259 *p, bool master, uint8_t elcr_mask);
/* The level of input `ir` (0-7). An edge-triggered input latches a request in IRR on a rising
 * edge; a level-triggered one requests while it is high. */
void pic8259_set_line(struct pic8259 *p, unsigned ir, bool high);
/* A write to the command port (a0 = 0: ICW1, OCW2, OCW3) or the data port (a0 = 1: ICW2-4,
 * OCW1). */
void pic8259_write(struct pic8259 *p, unsigned a0, uint8_t value);
/* A read: IRR or ISR (command port), IMR (data port), or the poll word after OCW3 P. */
uint8_t pic8259_read(struct pic8259 *p, unsigned a0);
/* The input this chip asks the CPU to serve now (its INT output), or -1. */
int pic8259_pending(const struct pic8259 *p);
/* The interrupt-acknowledge cycle for input `ir`: the request moves from IRR to ISR (or, in
 * auto-EOI mode, is simply consumed). */
void pic8259_acknowledge(struct pic8259 *p, unsigned ir);

/* The PC's pair: slave INT on master IR2. */
struct pic_pair {
    struct pic8259 master, slave;
};

/* As a PC BIOS leaves them before it enables any device line: vectors 0x08 and 0x70, slave on
 * IR2, every line masked but the cascade, all edge-triggered. */
void pic_pair_reset(struct pic_pair *pp);
void pic_pair_set_irq(struct pic_pair *pp, unsigned irq, bool high);
/* The vector the pair would hand the CPU on an INTA cycle now, or -1 (INTR low). */
int pic_pair_pending_vector(const struct pic_pair *pp);
/* The CPU's interrupt acknowledge cycle: the vector of the highest request now, its ISR bit
 * set (the master's IR2 as well for a slave interrupt); with no request left, the spurious
 * IR7 vector of the chip asked (IRQ 7, or IRQ 15 through the cascade), nothing in service. */
int pic_pair_intack(struct pic_pair *pp);
/* Port access: 0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1 (other ports read 0xff). */
uint8_t pic_pair_read(struct pic_pair *pp, uint16_t port);
void pic_pair_write(struct pic_pair *pp, uint16_t port, uint8_t value);

/* vm_pic_intr_changed (include/vm/irq.h) is how the pair reports a new vector on offer. */

#endif
