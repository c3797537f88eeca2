/* SPDX-License-Identifier: BSD-2-Clause */
/* IDT: all 256 vectors enter through arch/x86/isr.asm (SDM Vol. 3A 7.10-7.14). */
#include "arch/x86/cpu.h"
#include "arch/x86/gdt.h"
#include "arch/x86/percpu.h"
#include "kernel/panic.h"
#include "arch/x86/trap.h"
#include "kernel/log.h"

struct __attribute__((packed)) idt_gate {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t offset_mid;
    uint32_t offset_high;
    uint32_t reserved;
};

extern const uint64_t isr_stub_table[256];

static struct idt_gate idt[256] __attribute__((aligned(16)));
static trap_handler_fn handlers[256];

enum { VEC_NMI = 2, VEC_DOUBLE_FAULT = 8, VEC_MACHINE_CHECK = 18, FIRST_IRQ_VECTOR = 32 };

static void set_gate(int vector, uint64_t addr, uint8_t ist)
{
    idt[vector] = (struct idt_gate){
        .offset_low = addr & 0xffff,
        .selector = GDT_KERNEL_CS,
        .ist = ist,
        .type_attr = 0x8e, /* present, DPL 0, 64-bit interrupt gate: IF cleared on entry */
        .offset_mid = (addr >> 16) & 0xffff,
        .offset_high = addr >> 32,
    };
}

uint64_t idt_base(void)
{
    return (uint64_t)(uintptr_t)idt;
}

void idt_load(void)
{
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } idtr = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
    __asm__ volatile("lidt %0" : : "m"(idtr));
}

void idt_init(void)
{
    for (int v = 0; v < 256; v++) {
        uint8_t ist = v == VEC_DOUBLE_FAULT ? IST_DOUBLE_FAULT
                    : v == VEC_NMI ? IST_NMI
                    : v == VEC_MACHINE_CHECK ? IST_MACHINE_CHECK : 0;
        set_gate(v, isr_stub_table[v], ist);
    }
    idt_load();
}

void trap_set_handler(uint8_t vector, trap_handler_fn handler)
{
    if (vector >= FIRST_IRQ_VECTOR)
        handlers[vector] = handler;
}

void trap_dispatch(struct trap_frame *frame)
{
    if (frame->vector == VEC_NMI && machine_stopping)
        cpu_halt_forever(); /* another CPU is stopping the machine */
    if (frame->vector < FIRST_IRQ_VECTOR)
        exception_fatal(frame);
    this_cpu()->interrupts++;
    trap_handler_fn h = handlers[frame->vector];
    if (h)
        h(frame);
    else
        log_warn("unexpected interrupt on vector %lu ignored", frame->vector);
}
