/* SPDX-License-Identifier: BSD-2-Clause */
/* Per-CPU areas (see include/arch/x86/percpu.h). */
#include "arch/x86/percpu.h"

#include "arch/x86/msr.h"
#include "arch/x86/paging.h"
#include "kernel/heap.h"
#include "kernel/log.h"
#include "kernel/page_alloc.h"
#include "kernel/panic.h"
#include "lib/string.h"

static struct percpu *boot_cpus[1];
struct percpu **cpus = boot_cpus;
unsigned cpu_capacity = 1;
unsigned cpu_count;
static bool gs_ready;

static struct percpu boot_cpu __attribute__((aligned(4096)));
extern char boot_stack_top[]; /* boot/entry.asm: CPU_STACK_SIZE bytes above a guard page */

/* The log prefix names the CPU; before GS is set up that can only be the boot CPU. */
unsigned log_cpu_index(void)
{
    return gs_ready ? this_cpu()->index : 0;
}

uint64_t percpu_stack_guard(void)
{
    return gs_ready ? this_cpu()->stack_top - CPU_STACK_SIZE - PAGE_SIZE : 0;
}

void percpu_install(struct percpu *p)
{
    p->self = p;
    wrmsr(MSR_GS_BASE, (uint64_t)(uintptr_t)p);
}

void percpu_init_boot_cpu(uint32_t apic_id)
{
    boot_cpu.index = 0;
    boot_cpu.apic_id = apic_id;
    boot_cpu.online = true;
    boot_cpu.stack_top = (uint64_t)(uintptr_t)boot_stack_top;
    percpu_install(&boot_cpu);
    cpus[0] = &boot_cpu;
    cpu_count = 1;
    gs_ready = true;
}

int percpu_reserve(unsigned count)
{
    if (count <= cpu_capacity)
        return 0;
    struct percpu **more = kzalloc(count * sizeof(*more));
    if (!more)
        return -1;
    for (unsigned i = 0; i < cpu_capacity; i++)
        more[i] = cpus[i];
    cpus = more;
    cpu_capacity = count;
    return 0;
}

struct percpu *percpu_create(unsigned index, uint32_t apic_id, uint32_t acpi_uid)
{
    ASSERT(index > 0 && index < cpu_capacity && !cpus[index]);
    uint64_t pages = (sizeof(struct percpu) + PAGE_SIZE - 1) / PAGE_SIZE;
    uint64_t area = pages_alloc(pages);
    /* Stack plus one guard page below it, unmapped so an overflow faults (#DF on IST). */
    uint64_t stack = pages_alloc(1 + CPU_STACK_SIZE / PAGE_SIZE);
    if (!area || !stack)
        return NULL;
    paging_unmap_page(stack);

    struct percpu *p = phys_to_virt(area);
    memset(p, 0, sizeof(*p));
    p->self = p;
    p->index = index;
    p->apic_id = apic_id;
    p->acpi_uid = acpi_uid;
    p->stack_top = stack + PAGE_SIZE + CPU_STACK_SIZE;
    cpus[index] = p;
    if (index >= cpu_count)
        cpu_count = index + 1;
    return p;
}
