/* SPDX-License-Identifier: BSD-2-Clause */
/* The legacy 8259A PIC pair. */
#ifndef MHV_DRIVERS_I8259_H
#define MHV_DRIVERS_I8259_H

/* Moves the PICs' vectors to 0x20-0x2f (away from exceptions) and masks every line: mhv
 * takes its interrupts through the local APIC. */
void i8259_disable(void);

#endif
