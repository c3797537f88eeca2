/* SPDX-License-Identifier: BSD-2-Clause */
/* GDT and TSSs (desc.h). Segment descriptors: SDM Vol. 3A 3.4.5; the 64-bit TSS and its
 * descriptor: 8.7 and 8.2.3. */
#include "desc.h"

#include "percpu.h"

#define GDT_FIXED 6 /* null, kernel code 64, kernel data, kernel code 32, user data, user code 64 */

static uint64_t gdt[GDT_FIXED + 2 * RT_MAX_CPUS] __attribute__((aligned(16)));
struct rt_tss rt_tss[RT_MAX_CPUS] __attribute__((aligned(16)));

void rt_gdt_init(void)
{
    gdt[0] = 0;
    gdt[1] = 0x00af9b000000ffffull; /* kernel code: 64-bit (L), DPL 0 */
    gdt[2] = 0x00cf93000000ffffull; /* kernel data */
    gdt[3] = 0x00cf9b000000ffffull; /* kernel code: 32-bit, 4 GiB */
    gdt[4] = 0x00cff3000000ffffull; /* user data, DPL 3 */
    gdt[5] = 0x00affb000000ffffull; /* user code: 64-bit, DPL 3 */
    for (unsigned i = 0; i < RT_MAX_CPUS; i++) {
        struct rt_tss *t = &rt_tss[i];
        t->rsp[0] = (uint64_t)(uintptr_t)rt_stack_top(&rt_stacks[i]);
        t->ist[0] = (uint64_t)(uintptr_t)rt_stack_top(&rt_ist_stacks[i]);
        t->iomap_base = sizeof(*t);
        uint64_t base = (uint64_t)(uintptr_t)t, limit = sizeof(*t) - 1;
        gdt[GDT_FIXED + 2 * i] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
                                 ((limit >> 16) << 48) | (((base >> 24) & 0xff) << 56); /* available 64-bit TSS */
        gdt[GDT_FIXED + 2 * i + 1] = base >> 32;
    }
}

uint64_t rt_gdt_base(void) { return (uint64_t)(uintptr_t)gdt; }
uint16_t rt_gdt_limit(void) { return sizeof(gdt) - 1; }

void rt_gdt_load(unsigned cpu)
{
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } gdtr = { rt_gdt_limit(), rt_gdt_base() };
    __asm__ volatile("lgdt %0\n\t"
                     "pushq %1\n\t"
                     "leaq 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "lretq\n"
                     "1:\n\t"
                     "movl %2, %%eax\n\t"
                     "movl %%eax, %%ds\n\t"
                     "movl %%eax, %%es\n\t"
                     "movl %%eax, %%ss\n\t"
                     : : "m"(gdtr), "i"(SEL_KERNEL_CODE), "i"(SEL_KERNEL_DATA) : "rax", "memory");
    /* LTR marks the descriptor busy and refuses a busy one (#GP): a vCPU started again after
     * INIT (smp_start() twice) finds its own mark from the last time. */
    gdt[GDT_FIXED + 2 * cpu] &= ~(2ull << 40);
    __asm__ volatile("ltr %w0" : : "r"((uint16_t)SEL_TSS(cpu)) : "memory");
}
