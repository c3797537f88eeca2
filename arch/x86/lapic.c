/* SPDX-License-Identifier: BSD-2-Clause */
/* Local APIC driver (SDM Vol. 3A chapter 12 "Advanced Programmable Interrupt Controller"). */
#include "arch/x86/lapic.h"

#include "arch/x86/cpu.h"
#include "arch/x86/msr.h"
#include "arch/x86/percpu.h"
#include "arch/x86/trap.h"
#include "arch/x86/tsc.h"
#include "kernel/log.h"

/* Register offsets in the xAPIC MMIO page; in x2APIC mode register r is MSR 0x800 + r / 16
 * (SDM Vol. 3A 12.12.1.2). */
enum {
    REG_ID = 0x20, REG_VERSION = 0x30, REG_TPR = 0x80, REG_EOI = 0xb0, REG_SVR = 0xf0,
    REG_ESR = 0x280, REG_ICR_LOW = 0x300, REG_ICR_HIGH = 0x310, REG_LVT_TIMER = 0x320,
    REG_LVT_LINT0 = 0x350, REG_LVT_LINT1 = 0x360, REG_LVT_ERROR = 0x370,
    REG_TIMER_INITIAL = 0x380, REG_TIMER_CURRENT = 0x390, REG_TIMER_DIVIDE = 0x3e0,
};

#define APIC_BASE_EXTD (1ull << 10) /* x2APIC mode */
#define APIC_BASE_EN (1ull << 11)
#define SVR_ENABLE (1u << 8)
#define LVT_MASKED (1u << 16)
#define LVT_TIMER_TSC_DEADLINE (2u << 17)
#define ICR_DELIVERY_PENDING (1u << 12)
#define CPUID_1_ECX_X2APIC (1u << 21)
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)

static bool x2apic;
static bool tsc_deadline;
static volatile uint32_t *mmio;
static uint64_t timer_ticks_per_ms; /* one-shot count mode, measured against the TSC */

static uint32_t lapic_read(uint32_t reg)
{
    return x2apic ? (uint32_t)rdmsr(MSR_X2APIC_FIRST + reg / 16) : mmio[reg / 4];
}

static void lapic_write(uint32_t reg, uint32_t v)
{
    if (x2apic)
        wrmsr(MSR_X2APIC_FIRST + reg / 16, v);
    else
        mmio[reg / 4] = v;
}

bool lapic_x2apic_mode(void)
{
    return x2apic;
}

bool lapic_timer_uses_tsc_deadline(void)
{
    return tsc_deadline;
}

uint32_t cpu_apic_id_from_cpuid(void)
{
    if (cpuid(0, 0).eax >= 0xb && cpuid(0xb, 0).ebx != 0)
        return cpuid(0xb, 0).edx; /* x2APIC ID (SDM Vol. 2A CPUID leaf 0BH) */
    return cpuid(1, 0).ebx >> 24;
}

uint32_t lapic_id(void)
{
    uint32_t id = lapic_read(REG_ID);
    return x2apic ? id : id >> 24;
}

void lapic_eoi(void)
{
    lapic_write(REG_EOI, 0);
}

void lapic_send_ipi(uint32_t apic_id, uint32_t icr_low)
{
    if (x2apic) {
        /* One 64-bit write; no delivery-status bit to poll (SDM Vol. 3A 12.12.9). */
        wrmsr(MSR_X2APIC_FIRST + REG_ICR_LOW / 16, (uint64_t)apic_id << 32 | icr_low);
        return;
    }
    lapic_write(REG_ICR_HIGH, apic_id << 24);
    lapic_write(REG_ICR_LOW, icr_low);
    for (int i = 0; i < 1000000 && (lapic_read(REG_ICR_LOW) & ICR_DELIVERY_PENDING); i++)
        cpu_relax();
}

static void spurious_interrupt(struct trap_frame *f)
{
    (void)f; /* no EOI for the spurious vector (SDM Vol. 3A 12.9) */
}

static void apic_error_interrupt(struct trap_frame *f)
{
    (void)f;
    lapic_write(REG_ESR, 0); /* latch the error bits, then read them */
    log_warn("lapic: error interrupt, ESR 0x%x", lapic_read(REG_ESR));
    lapic_eoi();
}

static volatile uint64_t timer_fired_at;

static void timer_interrupt(struct trap_frame *f)
{
    (void)f;
    timer_fired_at = rdtsc();
    this_cpu()->need_resched = true; /* a slice end (no preemption timer) or a guest timer due */
    lapic_eoi();
}

/* Arms a 1 ms one-shot and waits (halted) for it: proves the timer, the vector and the local
 * interrupt path before anything depends on them. Returns microseconds, or 0 if it never fired. */
static uint64_t check_timer(void)
{
    timer_fired_at = 0;
    uint64_t start = rdtsc(), limit = start + tsc_us_to_ticks(50 * 1000);
    lapic_timer_oneshot_ns(1000000);
    while (!timer_fired_at && (int64_t)(rdtsc() - limit) < 0)
        irq_window();
    return timer_fired_at ? tsc_ticks_to_us(timer_fired_at - start) : 0;
}

void lapic_enable_this_cpu(void)
{
    uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
    base |= APIC_BASE_EN;
    wrmsr(MSR_IA32_APIC_BASE, base);
    if (x2apic)
        wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_EXTD); /* xAPIC -> x2APIC: EN first, then EXTD */
    lapic_write(REG_TPR, 0);
    lapic_write(REG_LVT_TIMER, LVT_MASKED | VECTOR_LAPIC_TIMER);
    lapic_write(REG_LVT_LINT0, LVT_MASKED);
    lapic_write(REG_LVT_LINT1, LVT_MASKED);
    lapic_write(REG_LVT_ERROR, VECTOR_LAPIC_ERROR);
    lapic_write(REG_ESR, 0);
    lapic_write(REG_SVR, SVR_ENABLE | VECTOR_SPURIOUS);
}

/* Count-mode timer rate: let the timer run from its maximum for a millisecond of TSC time. */
static void measure_timer_rate(void)
{
    lapic_write(REG_TIMER_DIVIDE, 0x3); /* divide by 16 */
    lapic_write(REG_LVT_TIMER, LVT_MASKED | VECTOR_LAPIC_TIMER);
    lapic_write(REG_TIMER_INITIAL, 0xffffffff);
    tsc_delay_us(1000);
    timer_ticks_per_ms = 0xffffffffu - lapic_read(REG_TIMER_CURRENT);
    lapic_write(REG_TIMER_INITIAL, 0);
}

void lapic_timer_oneshot_ns(uint64_t ns)
{
    if (tsc_deadline) {
        lapic_write(REG_LVT_TIMER, LVT_TIMER_TSC_DEADLINE | VECTOR_LAPIC_TIMER);
        __asm__ volatile("mfence" ::: "memory"); /* order the LVT write before the MSR (SDM 12.5.4.1) */
        wrmsr(MSR_IA32_TSC_DEADLINE, rdtsc() + tsc_ns_to_ticks(ns));
        return;
    }
    uint64_t count = timer_ticks_per_ms * ns / 1000000;
    lapic_write(REG_LVT_TIMER, VECTOR_LAPIC_TIMER); /* one-shot mode */
    lapic_write(REG_TIMER_INITIAL, count ? (count > 0xffffffffu ? 0xffffffffu : (uint32_t)count) : 1);
}

void lapic_init(uint64_t mmio_base)
{
    struct cpuid_regs r = cpuid(1, 0);
    x2apic = r.ecx & CPUID_1_ECX_X2APIC;
    tsc_deadline = r.ecx & CPUID_1_ECX_TSC_DEADLINE;
    if (!mmio_base)
        mmio_base = rdmsr(MSR_IA32_APIC_BASE) & 0xffffff000ull;
    mmio = (volatile uint32_t *)(uintptr_t)mmio_base;

    trap_set_handler(VECTOR_SPURIOUS, spurious_interrupt);
    trap_set_handler(VECTOR_LAPIC_ERROR, apic_error_interrupt);
    trap_set_handler(VECTOR_LAPIC_TIMER, timer_interrupt);
    lapic_enable_this_cpu();
    if (!tsc_deadline)
        measure_timer_rate();
    log_info("lapic: %s mode%s, version 0x%x, boot CPU APIC id %u", x2apic ? "x2APIC" : "xAPIC",
             x2apic ? "" : " (MMIO)", lapic_read(REG_VERSION) & 0xff, lapic_id());
    uint64_t us = check_timer();
    if (us)
        log_info("lapic: timer (%s mode): a 1 ms one-shot fired after %lu us",
                 tsc_deadline ? "TSC-deadline" : "one-shot count", us);
    else
        log_err("lapic: timer (%s mode): a 1 ms one-shot did not fire within 50 ms",
                tsc_deadline ? "TSC-deadline" : "one-shot count");
}
