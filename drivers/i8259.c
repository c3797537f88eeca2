/* SPDX-License-Identifier: BSD-2-Clause */
/* 8259A PIC: initialize (ICW1-4) to harmless vectors, then mask all lines (Intel 8259A data
 * sheet). A masked PIC can still raise a spurious IRQ 7/15; those land on 0x27/0x2f. */
#include "drivers/i8259.h"

#include "arch/x86/io.h"
#include "arch/x86/trap.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0
#define PIC2_DATA 0xa1
#define PIC_VECTOR_BASE 0x20

static void ignore(struct trap_frame *f)
{
    (void)f;
}

void i8259_disable(void)
{
    outb(PIC1_CMD, 0x11); /* ICW1: edge, cascade, ICW4 follows */
    outb(PIC2_CMD, 0x11);
    outb(PIC1_DATA, PIC_VECTOR_BASE);     /* ICW2: vector base */
    outb(PIC2_DATA, PIC_VECTOR_BASE + 8);
    outb(PIC1_DATA, 0x04);                /* ICW3: slave on IRQ 2 */
    outb(PIC2_DATA, 0x02);
    outb(PIC1_DATA, 0x01);                /* ICW4: 8086 mode */
    outb(PIC2_DATA, 0x01);
    outb(PIC1_DATA, 0xff);                /* OCW1: mask everything */
    outb(PIC2_DATA, 0xff);
    for (int v = PIC_VECTOR_BASE; v < PIC_VECTOR_BASE + 16; v++)
        trap_set_handler((uint8_t)v, ignore);
}
