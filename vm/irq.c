/* SPDX-License-Identifier: BSD-2-Clause */
/* A VM's interrupt lines (include/vm/irq.h): each change goes to the I/O APIC pin and, for
 * ISA IRQs, to the 8259 pair, whose output reaches vCPU 0 through LINT0. */
#include "vm/irq.h"

#include <stddef.h>

#include "devices/hpet.h"
#include "devices/ioapic.h"
#include "devices/vlapic.h"
#include "vm/platform.h"
#include "vm/vm.h"
#include "vmx/vcpu.h"

static void route(struct vm *vm, unsigned irq, bool high)
{
    /* ISA IRQ 0 (the PIT) is wired to pin 2, as on PCs; the MADT has the override. */
    vioapic_set_pin(vm, irq == 0 ? 2 : irq, high);
    if (irq < 16 && vm->pic)
        vpic_set_irq(vm, irq, high);
}

void vm_irq_line(struct vm *vm, unsigned irq, bool high)
{
    if (irq >= VM_IRQ_LINES || vhpet_owns_irq(vm, irq))
        return;
    route(vm, irq, high);
}

void vm_irq_line_hpet(struct vm *vm, unsigned irq, bool high)
{
    if (irq < VM_IRQ_LINES)
        route(vm, irq, high);
}

void vm_pic_intr_changed(struct vm *vm)
{
    struct vcpu *v = vm->vcpu_count ? vm->vcpus[0] : NULL;
    if (v && v->lapic && vlapic_accepts_pic(v->lapic)) {
        v->lapic->entry_work = true; /* makes the entry path look, at the PIC too */
        if (v->se.state == VCPU_BLOCKED)
            sched_wake(&v->se);
        else
            sched_kick(&v->se);
    }
}
