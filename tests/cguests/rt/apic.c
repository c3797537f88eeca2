/* SPDX-License-Identifier: BSD-2-Clause */
/* Local APIC access (apic.h). */
#include "apic.h"

#include "cpu.h"
#include "percpu.h"
#include "time.h"
#include "trap.h"

#define APIC_BASE_EXTD (1ull << 10)
#define APIC_BASE_ENABLE (1ull << 11)
#define ICR_DELIVERY_PENDING (1u << 12)

static volatile uint32_t *mmio(unsigned reg)
{
    return (volatile uint32_t *)(uintptr_t)(APIC_MMIO_BASE + reg);
}

bool apic_is_x2apic(void)
{
    return this_cpu()->x2apic;
}

uint32_t apic_read(unsigned reg)
{
    if (apic_is_x2apic())
        return (uint32_t)rdmsr(0x800 + reg / 16);
    return *mmio(reg);
}

void apic_write(unsigned reg, uint32_t value)
{
    if (apic_is_x2apic())
        wrmsr(0x800 + reg / 16, value);
    else
        *mmio(reg) = value;
}

uint32_t apic_id(void)
{
    uint32_t id = apic_read(APIC_ID);
    return apic_is_x2apic() ? id : id >> 24;
}

void apic_eoi(void)
{
    apic_write(APIC_EOI, 0);
}

void apic_init(void)
{
    this_cpu()->x2apic = (rdmsr(MSR_APIC_BASE) & APIC_BASE_EXTD) != 0;
    apic_write(APIC_SVR, 0x100 | RT_VEC_SPURIOUS);
}

bool apic_x2apic_supported(void)
{
    return cpuid(1, 0).ecx & (1u << 21);
}

int apic_enable_x2apic(void)
{
    if (!apic_x2apic_supported())
        return -1;
    /* xAPIC to x2APIC needs EN already set; both bits together (SDM Vol. 3A 11.12.5). */
    wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | APIC_BASE_ENABLE | APIC_BASE_EXTD);
    this_cpu()->x2apic = true;
    return 0;
}

void apic_send_ipi(uint32_t dest, uint32_t icr_low)
{
    if (apic_is_x2apic()) {
        wrmsr(0x830, ((uint64_t)dest << 32) | icr_low);
        return;
    }
    apic_write(APIC_ICR_HIGH, dest << 24);
    apic_write(APIC_ICR_LOW, icr_low);
    for (unsigned i = 0; i < 1000000 && (apic_read(APIC_ICR_LOW) & ICR_DELIVERY_PENDING); i++)
        cpu_relax();
}

uint64_t apic_timer_khz(void)
{
    uint32_t khz = cpuid(0x40000000, 0).eax >= 0x40000010 ? cpuid(0x40000010, 0).ebx : 0;
    return khz ? khz : tsc_khz();
}

void apic_timer_oneshot(uint8_t vector, uint32_t ticks)
{
    apic_write(APIC_TIMER_DIVIDE, 0xb); /* divide by 1 */
    apic_write(APIC_LVT_TIMER, vector);
    apic_write(APIC_TIMER_INITIAL, ticks);
}

void apic_timer_periodic(uint8_t vector, uint32_t ticks)
{
    apic_write(APIC_TIMER_DIVIDE, 0xb);
    apic_write(APIC_LVT_TIMER, LVT_TIMER_PERIODIC | vector);
    apic_write(APIC_TIMER_INITIAL, ticks);
}

void apic_timer_stop(void)
{
    apic_write(APIC_TIMER_INITIAL, 0);
    apic_write(APIC_LVT_TIMER, LVT_MASKED);
    if (cpuid(1, 0).ecx & (1u << 24))
        wrmsr(MSR_TSC_DEADLINE, 0);
}

int apic_timer_deadline(uint8_t vector, uint64_t deadline)
{
    if (!(cpuid(1, 0).ecx & (1u << 24)))
        return -1;
    apic_write(APIC_LVT_TIMER, LVT_TIMER_TSC_DEADLINE | vector);
    /* Writes to IA32_TSC_DEADLINE are not ordered with the LVT write (SDM 11.5.4.1): MFENCE. */
    __asm__ volatile("mfence" ::: "memory");
    wrmsr(MSR_TSC_DEADLINE, deadline);
    return 0;
}
