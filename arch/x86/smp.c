/* SPDX-License-Identifier: BSD-2-Clause */
/* AP bring-up (SDM Vol. 3A 9.4 "Multiple-Processor (MP) Initialization"). */
#include "arch/x86/smp.h"

#include "arch/x86/cpu.h"
#include "arch/x86/lapic.h"
#include "arch/x86/msr.h"
#include "arch/x86/paging.h"
#include "arch/x86/percpu.h"
#include "arch/x86/trap.h"
#include "arch/x86/tsc.h"
#include "arch/x86/xcall.h"
#include "kernel/log.h"
#include "kernel/memory.h"
#include "kernel/page_alloc.h"
#include "lib/string.h"

/* Must match the parameter block at offset 0x20 of boot/ap/trampoline.asm. */
struct ap_params {
    uint64_t cr3, stack, percpu, entry, efer;
};
#define AP_PARAMS_OFFSET 0x20

#define AP_START_TIMEOUT_US 200000

extern const uint8_t ap_trampoline_start[], ap_trampoline_end[];

unsigned smp_cpus_wanted = 1;
static void (*volatile idle_work)(void);

void smp_set_idle_work(void (*work)(void))
{
    idle_work = work;
}

unsigned smp_online_count(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < cpu_count; i++)
        n += cpus[i] && cpus[i]->online;
    return n;
}

__attribute__((noreturn)) static void ap_main(struct percpu *p)
{
    percpu_install(p);
    gdt_init_cpu(&p->descriptors);
    idt_load();
    lapic_enable_this_cpu();
    uint32_t id = lapic_id();
    if (id != p->apic_id)
        log_warn("smp: started as APIC id %u but the MADT entry says %u", id, p->apic_id);
    log_info("smp: online: APIC id %u, ACPI uid %u, %s", p->apic_id, p->acpi_uid,
             lapic_x2apic_mode() ? "x2APIC" : "xAPIC");
    __atomic_store_n(&p->online, true, __ATOMIC_RELEASE);
    /* Idle: cross-CPU calls arrive as interrupts; once there is work (VMs), do it. */
    for (;;) {
        if (idle_work)
            idle_work();
        __asm__ volatile("sti; hlt; cli" ::: "memory");
    }
}

/* A free page below 1 MiB for the trampoline: usable in the memory map and not holding the
 * boot information or a module. The STARTUP IPI can only name pages below 1 MiB. */
static uint64_t find_trampoline_page(const struct boot_info *bi)
{
    for (uint64_t page = 0x8000; page != 0x7000; page = page + PAGE_SIZE >= 0x9f000 ? 0x1000 : page + PAGE_SIZE) {
        bool usable = false;
        for (unsigned i = 0; i < bi->mem_count; i++)
            if (bi->mem[i].type == MEM_USABLE && bi->mem[i].base <= page &&
                bi->mem[i].base + bi->mem[i].length >= page + PAGE_SIZE)
                usable = true;
        for (unsigned i = 0; i < bi->module_count; i++)
            if (bi->modules[i].start < page + PAGE_SIZE && page < bi->modules[i].end)
                usable = false;
        if (bi->info_start < page + PAGE_SIZE && page < bi->info_end)
            usable = false;
        if (usable)
            return page;
    }
    return 0;
}

static bool wait_online(struct percpu *p, uint64_t us)
{
    uint64_t deadline = rdtsc() + tsc_us_to_ticks(us);
    while (!__atomic_load_n(&p->online, __ATOMIC_ACQUIRE)) {
        if ((int64_t)(rdtsc() - deadline) > 0)
            return false;
        cpu_relax();
    }
    return true;
}

/* INIT, 10 ms, STARTUP, 200 us, STARTUP (SDM Vol. 3A 9.4.4.1), then a bounded wait. */
static bool start_ap(struct percpu *p, uint64_t page)
{
    uint32_t vector = (uint32_t)(page >> 12);
    lapic_send_ipi(p->apic_id, ICR_INIT | ICR_LEVEL_ASSERT);
    tsc_delay_us(10000);
    lapic_send_ipi(p->apic_id, ICR_STARTUP | vector);
    tsc_delay_us(200);
    if (!p->online)
        lapic_send_ipi(p->apic_id, ICR_STARTUP | vector);
    if (wait_online(p, AP_START_TIMEOUT_US))
        return true;
    /* Park it with INIT so it cannot wake later on the next AP's parameters. */
    lapic_send_ipi(p->apic_id, ICR_INIT | ICR_LEVEL_ASSERT);
    return false;
}

static void count_answer(void *counter)
{
    __atomic_fetch_add((unsigned *)counter, 1, __ATOMIC_RELAXED);
}

/* Every online CPU must answer a cross-CPU call before anything relies on them (VMXON). */
static void check_cross_cpu_calls(void)
{
    unsigned answered = 0;
    xcall_all(count_answer, &answered, true);
    if (answered == smp_online_count())
        log_info("smp: cross-CPU calls answered by all %u CPUs", answered);
    else
        log_err("smp: only %u of %u CPUs answered a cross-CPU call", answered, smp_online_count());
}

void smp_boot(const struct acpi_info *acpi, const struct boot_info *bi, unsigned maxcpus)
{
    struct percpu *bsp = this_cpu();
    bsp->apic_id = lapic_id();
    unsigned found = 0, disabled = 0, skipped = 0, unreachable = 0;
    for (unsigned i = 0; i < acpi->cpu_entries; i++) {
        found += acpi->cpus[i].enabled;
        disabled += !acpi->cpus[i].enabled;
        if (acpi->cpus[i].apic_id == bsp->apic_id)
            bsp->acpi_uid = acpi->cpus[i].acpi_uid;
    }
    if (!acpi->has_madt)
        found = 1;
    log_info("smp: cpu0 is the boot CPU, APIC id %u", bsp->apic_id);
    /* Room for every enabled processor the MADT lists (one more should it leave out the boot
     * CPU itself): per-CPU tables are sized from cpu_capacity, not from a fixed maximum. */
    if (percpu_reserve(found + 1) < 0)
        log_err("smp: no memory for a table of %u CPUs; running on the boot CPU alone", found + 1);

    uint64_t page = acpi->has_madt && found > 1 ? find_trampoline_page(bi) : 0;
    if (found > 1 && !page)
        log_err("smp: no free page below 1 MiB for the AP trampoline; running on the boot CPU alone");
    if (page) {
        memcpy(phys_to_virt(page), ap_trampoline_start, ap_trampoline_end - ap_trampoline_start);
        paging_set_page(page, PAGE_RWX); /* the APs execute it with mhv's page tables on */
    }

    struct ap_params *params = phys_to_virt(page + AP_PARAMS_OFFSET);
    unsigned next_index = 1;
    for (unsigned i = 0; page && i < acpi->cpu_entries; i++) {
        const struct acpi_cpu *c = &acpi->cpus[i];
        if (!c->enabled || c->apic_id == bsp->apic_id)
            continue;
        if (maxcpus && next_index >= maxcpus) {
            skipped++;
            continue;
        }
        if (c->apic_id > 0xfe && !lapic_x2apic_mode()) {
            log_err("smp: APIC id %u needs x2APIC mode, which this CPU lacks; left out", c->apic_id);
            unreachable++;
            continue;
        }
        if (next_index >= cpu_capacity) {
            log_err("smp: no memory for more than %u CPUs; APIC id %u left out", cpu_capacity, c->apic_id);
            unreachable++;
            continue;
        }
        struct percpu *p = percpu_create(next_index, c->apic_id, c->acpi_uid);
        if (!p) {
            log_err("smp: out of memory for cpu%u", next_index);
            break;
        }
        next_index++;
        *params = (struct ap_params){
            .cr3 = read_cr3(),
            .stack = p->stack_top,
            .percpu = (uint64_t)(uintptr_t)p,
            .entry = (uint64_t)(uintptr_t)ap_main,
            .efer = rdmsr(MSR_IA32_EFER) & (EFER_LME | EFER_NXE),
        };
        if (!start_ap(p, page))
            log_err("smp: cpu%u (APIC id %u) did not start within %u ms; left out", p->index, p->apic_id,
                    AP_START_TIMEOUT_US / 1000);
    }
    if (page) {
        /* Back to W^X: data again. The APs left it long ago. */
        memset(phys_to_virt(page), 0, PAGE_SIZE);
        paging_set_page(page, PAGE_RW);
    }

    smp_cpus_wanted = next_index;
    if (skipped)
        log_info("smp: maxcpus=%u: %u more enabled CPU%s not started", maxcpus, skipped, skipped > 1 ? "s" : "");
    if (disabled)
        log_info("smp: %u processor entr%s disabled in the MADT (not present or hot-pluggable)", disabled,
                 disabled > 1 ? "ies" : "y");
    if (unreachable)
        log_err("smp: %u enabled CPU%s could not be addressed (see above)", unreachable, unreachable > 1 ? "s" : "");
    status_line("cpus: %u of %u online (%s)", smp_online_count(), smp_cpus_wanted,
                lapic_x2apic_mode() ? "x2APIC" : "xAPIC");
    check_cross_cpu_calls();
}
