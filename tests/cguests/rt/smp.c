/* SPDX-License-Identifier: BSD-2-Clause */
/* Starting the other vCPUs (smp.h): INIT, STARTUP, STARTUP through the local APIC, the way
 * firmware starts application processors (SDM Vol. 3A 9.4.4.1). */
#include "smp.h"

#include <stdint.h>

#include "apic.h"
#include "check.h"
#include "console.h"
#include "cpu.h"
#include "desc.h"
#include "header.h"
#include "lib/string.h"
#include "percpu.h"
#include "rt_internal.h"
#include "time.h"

struct trampoline_params {
    uint16_t gdt_limit;
    uint32_t gdt_base;
    uint16_t pad;
    uint64_t cr3, stack, entry, cpu;
} __attribute__((packed));

extern const uint8_t rt_trampoline_start[], rt_trampoline_end[], rt_trampoline_params[];

unsigned smp_cpus(void)
{
    unsigned n = rt_header.vcpus;
    return n > RT_MAX_CPUS ? RT_MAX_CPUS : n;
}

unsigned smp_id(void)
{
    return this_cpu()->id;
}

/* First C code of an application processor, on its own stack. */
__attribute__((noreturn)) void rt_ap_main(unsigned cpu)
{
    struct rt_cpu *c = &rt_cpus[cpu];
    rt_cpu_init(cpu);
    __atomic_store_n(&c->online, true, __ATOMIC_RELEASE);
    c->fn(cpu, c->arg);
    __atomic_store_n(&c->done, true, __ATOMIC_RELEASE);
    for (;;)
        __asm__ volatile("cli; hlt");
}

static bool wait_online(struct rt_cpu *c, uint64_t us)
{
    uint64_t end = tsc_deadline_in_us(us);
    while (!__atomic_load_n(&c->online, __ATOMIC_ACQUIRE))
        if (tsc_reached(end))
            return false;
        else
            cpu_relax();
    return true;
}

int smp_start(unsigned cpu, rt_cpu_fn fn, void *arg)
{
    if (cpu == 0 || cpu >= smp_cpus() || cpu == smp_id())
        return -1;
    struct rt_cpu *c = &rt_cpus[cpu];
    c->fn = fn;
    c->arg = arg;
    c->online = false;
    c->done = false;

    uint8_t *t = (uint8_t *)(uintptr_t)RT_TRAMPOLINE;
    memcpy(t, rt_trampoline_start, (size_t)(rt_trampoline_end - rt_trampoline_start));
    struct trampoline_params *p = (void *)(t + (rt_trampoline_params - rt_trampoline_start));
    p->gdt_limit = rt_gdt_limit();
    p->gdt_base = (uint32_t)rt_gdt_base();
    p->cr3 = rt_page_table_root();
    p->stack = (uint64_t)(uintptr_t)rt_stack_top(&rt_stacks[cpu]);
    p->entry = (uint64_t)(uintptr_t)rt_ap_main;
    p->cpu = cpu;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);

    apic_send_ipi(cpu, ICR_INIT | ICR_LEVEL_ASSERT);
    delay_us(100); /* 10 ms on hardware; mhv's INIT takes effect at once */
    for (int sipi = 0; sipi < 2; sipi++) {
        apic_send_ipi(cpu, ICR_STARTUP | (RT_TRAMPOLINE >> 12));
        if (wait_online(c, sipi ? 1000000 : 200000))
            return 0;
    }
    return -1;
}

unsigned smp_start_all(rt_cpu_fn fn, void *arg)
{
    unsigned started = 0;
    for (unsigned i = 1; i < smp_cpus(); i++) {
        if (smp_start(i, fn, arg) == 0)
            started++;
        else
            check(false, "vCPU %u came up after INIT/SIPI/SIPI", i);
    }
    return started;
}

bool smp_done(unsigned cpu)
{
    return cpu < RT_MAX_CPUS && __atomic_load_n(&rt_cpus[cpu].done, __ATOMIC_ACQUIRE);
}

void smp_wait_all(void)
{
    for (unsigned i = 1; i < smp_cpus(); i++)
        while (rt_cpus[i].online && !smp_done(i))
            cpu_relax();
}
