/* SPDX-License-Identifier: BSD-2-Clause */
/* Per-CPU GDT and TSS. 64-bit code ignores most segment fields (SDM Vol. 3A 3.2.4); the TSS
 * matters for the IST stacks of #DF, NMI and #MC. */
#include "arch/x86/gdt.h"

#include "lib/string.h"

static uint64_t tss_descriptor_low(uint64_t base, uint32_t limit)
{
    /* 64-bit available TSS, type 9, present (SDM Vol. 3A 8.2.3, figure 8-4). */
    return (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
           ((uint64_t)((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
}

void gdt_init_cpu(struct cpu_descriptors *d)
{
    memset(&d->tss, 0, sizeof(d->tss));
    for (int i = 0; i < IST_COUNT; i++)
        d->tss.ist[i] = (uint64_t)(uintptr_t)&d->ist_stacks[i][IST_STACK_SIZE]; /* grows down */
    d->tss.iomap_base = sizeof(d->tss); /* no I/O permission bitmap */

    uint64_t tss = (uint64_t)(uintptr_t)&d->tss;
    d->gdt[0] = 0;
    d->gdt[1] = 0x00af9a000000ffffull; /* GDT_KERNEL_CS: 64-bit code, DPL 0 */
    d->gdt[2] = 0x00cf92000000ffffull; /* GDT_KERNEL_DS: data, DPL 0 */
    d->gdt[3] = tss_descriptor_low(tss, sizeof(d->tss) - 1);
    d->gdt[4] = tss >> 32;

    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } gdtr = { sizeof(d->gdt) - 1, (uint64_t)(uintptr_t)d->gdt };

    __asm__ volatile("lgdt %0\n\t"
                     "pushq %1\n\t"
                     "leaq 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "lretq\n"
                     "1:\n\t"
                     "movw %w2, %%ax\n\t"
                     "movw %%ax, %%ds\n\t"
                     "movw %%ax, %%es\n\t"
                     "movw %%ax, %%ss\n\t"
                     "ltr %w3"
                     :
                     : "m"(gdtr), "i"(GDT_KERNEL_CS), "i"(GDT_KERNEL_DS), "r"((uint16_t)GDT_TSS)
                     : "rax", "memory");
}
