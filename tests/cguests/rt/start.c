/* SPDX-License-Identifier: BSD-2-Clause */
/* Start-up of the C test-guest runtime (rt.h): vCPU 0 arrives from entry.asm, the others from
 * the trampoline through smp.c. */
#include "rt.h"
#include "rt_internal.h"

struct rt_cpu rt_cpus[RT_MAX_CPUS];
struct rt_stack rt_stacks[RT_MAX_CPUS];
struct rt_stack rt_ist_stacks[RT_MAX_CPUS];

void rt_cpu_init(unsigned cpu)
{
    struct rt_cpu *c = &rt_cpus[cpu];
    c->id = cpu;
    rt_stacks[cpu].owner = c;
    rt_stacks[cpu].canary = RT_STACK_CANARY;
    rt_ist_stacks[cpu].owner = c;
    rt_ist_stacks[cpu].canary = RT_STACK_CANARY;
    rt_idt_load(); /* first: a fault from here on is reported, not a triple fault */
    rt_gdt_load(cpu);
    /* SSE usable (OSFXSR, OSXMMEXCPT; CR0.MP, no EM): guests may use it in inline asm, and
     * XSAVE-based tests start from here. The runtime itself is built without SSE. */
    write_cr0((read_cr0() & ~CR0_EM) | CR0_MP | CR0_NE);
    write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
    apic_init();
}

__attribute__((noreturn)) void rt_start(void)
{
    /* this_cpu() works from here: the owner word of vCPU 0's stack is set first. */
    rt_stacks[0].owner = &rt_cpus[0];
    rt_paging_init();
    write_cr3(rt_page_table_root());
    rt_gdt_init();
    rt_idt_init();
    rt_cpu_init(0);
    guest_main();
    rt_finish();
}
