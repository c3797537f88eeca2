/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Power management of a VM (include/vm/platform.h): the ACPI fixed hardware the FADT
 * describes (vm/acpi_tables.c; ACPI 6.5 4.8, "ACPI Register Model": PM1 Event and Control
 * Registers, Power Management Timer).
 *
 *   0x600  PM1a_STS  (16 bits)  write 1 to clear
 *   0x602  PM1a_EN   (16 bits)
 *   0x604  PM1a_CNT  (16 bits)  SCI_EN reads 1; SLP_TYP = \_S5's value with SLP_EN powers off
 *   0x608  PM_TMR    (32 bits)  24-bit counter at 3.579545 MHz, read-only
 *
 * The resets (0xcf9, port 0x92, the keyboard controller) are in devices/reset.c.
 *
 * The only event mhv's fixed hardware knows is the timer's carry: TMR_STS is kept exactly,
 * but the carry interrupt is not offered (TMR_EN does not stick, the way ACPICA learns that an
 * event is unavailable; Linux never enables it). The other enable bits are read/write, so
 * ACPICA's enable-and-read-back checks pass, but their events never occur here: no fixed
 * buttons (FADT flags), no firmware that could hold the global lock, no RTC wake in fixed
 * hardware. So the SCI is never raised.
 */
#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/cpu.h"
#include "arch/x86/spinlock.h"
#include "arch/x86/tsc.h"
#include "devices/vdev.h"
#include "kernel/log.h"
#include "vm/acpi_tables.h"
#include "vm/console.h"
#include "vm/platform.h"
#include "vm/vm.h"
#include "vmx/vcpu.h"

#define PM_BLOCK_PORTS 12
#define PM1_STS 0
#define PM1_EN 2
#define PM1_CNT 4
#define PM_TMR 8

/* PM1 Status and Enable register bits (ACPI 6.5 4.8, "PM1 Event Grouping"). */
#define TMR_STS (1u << 0)
#define EN_GBL (1u << 5)
#define EN_PWRBTN (1u << 8)
#define EN_SLPBTN (1u << 9)
#define EN_RTC (1u << 10)
#define EN_PCIEXP_WAKE_DIS (1u << 14)
#define EN_STICKY (EN_GBL | EN_PWRBTN | EN_SLPBTN | EN_RTC | EN_PCIEXP_WAKE_DIS)
/* PM1 Control register bits (ACPI 6.5 4.8, "PM1 Control Grouping"). SCI_EN is fixed at 1:
 * SMI_CMD is 0, so the platform never leaves ACPI mode. GBL_RLS and SLP_EN are write-only and
 * read 0. */
#define CNT_SCI_EN (1u << 0)
#define CNT_BM_RLS (1u << 1)
#define CNT_SLP_TYP_SHIFT 10
#define CNT_SLP_TYP (7u << CNT_SLP_TYP_SHIFT)
#define CNT_SLP_EN (1u << 13)
#define CNT_STORED (CNT_BM_RLS | CNT_SLP_TYP)

/* The timer's most significant bit (24-bit timer, FADT TMR_VAL_EXT clear): TMR_STS is set
 * whenever it changes (ACPI 6.5 4.8, "Power Management Timer"). */
#define TMR_MSB_SHIFT 23

struct vpm {
    struct spinlock lock;
    uint16_t enable;          /* PM1_EN: the sticky bits as written */
    uint16_t control;         /* PM1_CNT: BM_RLS and SLP_TYP as written */
    uint64_t timer_at_clear;  /* PM timer count when TMR_STS was last cleared */
    bool warned_sleep_type;   /* a guest asking for a missing sleep state is reported once */
};

/* The PM timer's count: TSC ticks scaled to 3.579545 MHz, in two steps so the product cannot
 * overflow (whole seconds, then the remainder: under tsc_hz * 2^22). Every CPU's TSC runs in
 * step (invariant TSC), so all vCPUs of a VM read one monotonic timer. */
static uint64_t pm_timer_count(void)
{
    uint64_t tsc = rdtsc(), hz = tsc_hz ? tsc_hz : 1;
    return tsc / hz * PLATFORM_PM_TIMER_HZ + tsc % hz * PLATFORM_PM_TIMER_HZ / hz;
}

static uint16_t pm1_status(const struct vpm *pm, uint64_t now)
{
    return (now >> TMR_MSB_SHIFT) != (pm->timer_at_clear >> TMR_MSB_SHIFT) ? TMR_STS : 0;
}

/* Accesses of any width at any offset of the block: ACPICA uses 16-bit accesses for the PM1
 * registers (the FADT GAS widths) and 32-bit ones for the timer; others assemble the bytes. */
static uint64_t pm_read(struct vcpu *v, void *state, uint64_t port, unsigned size)
{
    (void)v;
    struct vpm *pm = state;
    uint64_t now = pm_timer_count();
    uint8_t regs[PM_BLOCK_PORTS];
    uint64_t flags = spin_lock_irqsave(&pm->lock);
    uint16_t sts = pm1_status(pm, now), en = pm->enable, cnt = pm->control | CNT_SCI_EN;
    spin_unlock_irqrestore(&pm->lock, flags);
    uint32_t timer = now & 0xffffff;
    regs[PM1_STS] = (uint8_t)sts, regs[PM1_STS + 1] = (uint8_t)(sts >> 8);
    regs[PM1_EN] = (uint8_t)en, regs[PM1_EN + 1] = (uint8_t)(en >> 8);
    regs[PM1_CNT] = (uint8_t)cnt, regs[PM1_CNT + 1] = (uint8_t)(cnt >> 8);
    regs[6] = regs[7] = 0xff; /* PM1_CNT_LEN is 2: nothing answers here */
    for (unsigned i = 0; i < 4; i++)
        regs[PM_TMR + i] = (uint8_t)(timer >> (8 * i));
    unsigned off = (unsigned)(port - PLATFORM_PM_BASE);
    uint32_t value = 0;
    for (unsigned i = 0; i < size; i++)
        value |= (uint32_t)(off + i < PM_BLOCK_PORTS ? regs[off + i] : 0xff) << (8 * i);
    return value;
}

static void pm_write(struct vcpu *v, void *state, uint64_t port, unsigned size, uint64_t value)
{
    struct vpm *pm = state;
    /* Which bytes of the three 16-bit PM1 registers this access writes, and with what. */
    uint16_t val[3] = { 0 }, mask[3] = { 0 };
    unsigned off = (unsigned)(port - PLATFORM_PM_BASE);
    for (unsigned i = 0; i < size && off + i < PM1_CNT + 2; i++) {
        unsigned reg = (off + i) / 2, shift = 8 * ((off + i) % 2);
        val[reg] |= (uint16_t)(((value >> (8 * i)) & 0xff) << shift);
        mask[reg] |= (uint16_t)(0xff << shift);
    }
    uint64_t now = pm_timer_count();
    uint64_t flags = spin_lock_irqsave(&pm->lock);
    if (val[0] & mask[0] & TMR_STS)
        pm->timer_at_clear = now;
    pm->enable = (pm->enable & ~mask[1]) | (val[1] & mask[1] & EN_STICKY);
    pm->control = (pm->control & ~(mask[2] & CNT_STORED)) | (val[2] & mask[2] & CNT_STORED);
    bool sleep = val[2] & mask[2] & CNT_SLP_EN;
    unsigned type = (pm->control & CNT_SLP_TYP) >> CNT_SLP_TYP_SHIFT;
    bool first_bad_type = sleep && type != ACPI_S5_SLP_TYP && !pm->warned_sleep_type;
    if (first_bad_type)
        pm->warned_sleep_type = true;
    spin_unlock_irqrestore(&pm->lock, flags);
    if (!sleep)
        return;
    if (type != ACPI_S5_SLP_TYP) {
        /* Only \_S5 is in the DSDT: an OS takes sleep types from there and nowhere else. The
         * write has no effect, as on hardware given an unimplemented type. */
        if (first_bad_type)
            log_warn("vm %s: vCPU %u asked for sleep type %u, which the VM's DSDT does not offer; ignored "
                     "(reported once)", v->vm->name, v->id, type);
        return;
    }
    vm_console_flush(v->vm);
    vm_stop(v->vm, STOP_POWEROFF, 0, "ACPI S5 (power off) by vCPU %u", v->id);
}

static void vpm_reset(struct vm *vm, void *state)
{
    (void)vm;
    struct vpm *pm = state;
    uint64_t flags = spin_lock_irqsave(&pm->lock);
    pm->enable = 0;
    pm->control = 0;
    pm->timer_at_clear = pm_timer_count();
    pm->warned_sleep_type = false;
    spin_unlock_irqrestore(&pm->lock, flags);
}

static void vpm_init(struct vm *vm, void *state, uint64_t where, const void *config)
{
    (void)where, (void)config;
    struct vpm *pm = state;
    pm->lock = (struct spinlock)SPINLOCK_INIT;
    vpm_reset(vm, pm);
    vm->pm = pm;
}

/* Accesses of any width at any offset, taken whole: the registers are read at one moment. */
static const struct vdev_range vpm_ranges[] = {
    { VDEV_PORT, PLATFORM_PM_BASE, PM_BLOCK_PORTS, VDEV_SIZE_ANY, pm_read, pm_write },
};

/* Locks for itself: a write may power the VM off, which resets every device. */
static const struct vdev_ops vpm_ops = {
    .name = "ACPI PM registers",
    .no_memory = "its power management registers; it has none",
    .state_size = sizeof(struct vpm),
    .ranges = vpm_ranges,
    .range_count = sizeof(vpm_ranges) / sizeof(vpm_ranges[0]),
    .init = vpm_init,
    .reset = vpm_reset,
};

void vpm_attach(struct vm *vm)
{
    vdev_attach(vm, &vpm_ops, 0, NULL);
}
