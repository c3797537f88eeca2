/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The VM's I/O APIC (Intel 82093AA I/O APIC datasheet; ACPI MADT describes it): 24 pins at
 * PLATFORM_IOAPIC_BASE, a redirection table entry per pin (vector, delivery and destination
 * mode, polarity, trigger mode, mask, destination), edge and level triggering with remote IRR,
 * and the EOI the local APICs forward for level-triggered vectors.
 */
#ifndef MHV_DEVICES_IOAPIC_H
#define MHV_DEVICES_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

struct vm;

void vioapic_attach(struct vm *vm);
/* The input level of pin `gsi` (true: asserted, before the entry's polarity applies). */
void vioapic_set_pin(struct vm *vm, unsigned gsi, bool high);
/* A local APIC finished a level-triggered `vector`: clear remote IRR of the pins using it,
 * and deliver again where the line is still asserted. */
void vioapic_eoi(struct vm *vm, uint8_t vector);

#endif
