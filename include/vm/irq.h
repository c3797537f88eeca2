/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A VM's interrupt lines. Devices drive ISA IRQ lines 0-15 (and PCI-style GSIs 16-23) by
 * level; vm/irq.c fans each change out to the I/O APIC pin the VM's MADT names for it (ISA IRQ
 * 0 is GSI 2, every other ISA IRQ n is GSI n) and to the 8259 PIC pair (ISA IRQs only). An
 * edge-triggered device raises and lowers its line (vm_irq_pulse). Callable from any CPU,
 * from exit handlers and from timer callbacks; never touches a VMCS.
 */
#ifndef MHV_VM_IRQ_H
#define MHV_VM_IRQ_H

#include <stdbool.h>

struct vm;

#define VM_IRQ_LINES 24

void vm_irq_line(struct vm *vm, unsigned irq, bool high);

/* The 8259 pair's output (INTR) may have changed: vCPU 0 looks again (LINT0 in ExtINT mode). */
void vm_pic_intr_changed(struct vm *vm);

/* The HPET's legacy replacement route (devices/hpet.c): IRQ 0 and 8 driven by the HPET's
 * timers 0 and 1. While the route is on, vm_irq_line drops the PIT's and the CMOS clock's
 * changes of those two lines (HPET 1.0a 2.4). */
void vm_irq_line_hpet(struct vm *vm, unsigned irq, bool high);

static inline void vm_irq_pulse(struct vm *vm, unsigned irq)
{
    vm_irq_line(vm, irq, true);
    vm_irq_line(vm, irq, false);
}

#endif
