/* SPDX-License-Identifier: BSD-2-Clause */
/* The VM's I/O APIC (include/devices/ioapic.h; 82093AA datasheet section 3). */
#include "devices/ioapic.h"

#include "arch/x86/spinlock.h"
#include "devices/vdev.h"
#include "devices/vlapic.h"
#include "vm/platform.h"
#include "vm/vm.h"
#include "vmx/vcpu.h"

#define REG_SELECT 0x00
#define REG_WINDOW 0x10
#define REG_EOI 0x40       /* version 0x20 I/O APICs: direct EOI by vector */

#define INDEX_ID 0
#define INDEX_VERSION 1
#define INDEX_ARBITRATION 2
#define INDEX_TABLE 0x10

#define ENTRY_MASKED (1ull << 16)
#define ENTRY_LEVEL (1ull << 15)
#define ENTRY_REMOTE_IRR (1ull << 14)
#define ENTRY_ACTIVE_LOW (1ull << 13)
#define ENTRY_LOGICAL (1ull << 11)
#define ENTRY_READ_ONLY (ENTRY_REMOTE_IRR | (1ull << 12)) /* remote IRR, delivery status */
#define DELIVERY_EXTINT 7

struct vioapic {
    struct spinlock lock;
    uint32_t select;
    uint32_t id;
    uint64_t table[PLATFORM_IOAPIC_PINS];
    bool line[PLATFORM_IOAPIC_PINS];   /* input levels as the devices drive them */
};

/* Level-triggered, with remote IRR. ExtINT entries are edge-triggered whatever bit 15 says:
 * the datasheet requires edge trigger for ExtINT (3.2.4), and no local APIC EOI ever ends an
 * ExtINT interrupt (its vector is the 8259's), so remote IRR would never clear. */
static bool level(uint64_t entry)
{
    return (entry & ENTRY_LEVEL) && ((entry >> 8) & 7) != DELIVERY_EXTINT;
}

/* The pin's interrupt message goes to the local APICs it names (section 3.2.4). Called with
 * the lock held: delivery only sets IRR bits and wakes vCPUs, it never comes back here. */
static void send(struct vm *vm, uint64_t entry)
{
    unsigned mode = (entry >> 8) & 7;
    /* Delivery modes 011 and 110 are reserved in a redirection entry (3.2.4): no I/O APIC
     * sends such a message, and 110 on the APIC bus would be a STARTUP IPI, which would start
     * a vCPU waiting for one at the entry's vector. The entry delivers nothing. */
    if (mode == 3 || mode == 6)
        return;
    /* ExtINT (111): the CPUs named take an interrupt whose vector the 8259 supplies in their
     * acknowledge cycle (3.2.4); the entry's vector field goes unused (vlapic_extint). */
    bool logical = entry & ENTRY_LOGICAL;
    vlapic_deliver(vm, NULL, (uint32_t)(entry >> 56), logical, mode, (uint8_t)entry, level(entry), 0);
}

static bool asserted(const struct vioapic *a, unsigned pin)
{
    return a->line[pin] != !!(a->table[pin] & ENTRY_ACTIVE_LOW);
}

void vioapic_set_pin(struct vm *vm, unsigned gsi, bool high)
{
    struct vioapic *a = vm->ioapic;
    if (!a || gsi >= PLATFORM_IOAPIC_PINS)
        return;
    uint64_t flags = spin_lock_irqsave(&a->lock);
    bool was = asserted(a, gsi);
    a->line[gsi] = high;
    bool now = asserted(a, gsi);
    uint64_t *e = &a->table[gsi];
    if (now && !(*e & ENTRY_MASKED)) {
        if (!level(*e)) {
            if (!was)
                send(vm, *e); /* edge: only the transition counts */
        } else if (!(*e & ENTRY_REMOTE_IRR)) {
            *e |= ENTRY_REMOTE_IRR; /* level: once, until the local APIC's EOI */
            send(vm, *e);
        }
    }
    spin_unlock_irqrestore(&a->lock, flags);
}

void vioapic_eoi(struct vm *vm, uint8_t vector)
{
    struct vioapic *a = vm->ioapic;
    if (!a)
        return;
    uint64_t flags = spin_lock_irqsave(&a->lock);
    for (unsigned pin = 0; pin < PLATFORM_IOAPIC_PINS; pin++) {
        uint64_t *e = &a->table[pin];
        if ((uint8_t)*e != vector || !(*e & ENTRY_REMOTE_IRR))
            continue;
        *e &= ~ENTRY_REMOTE_IRR;
        if (level(*e) && asserted(a, pin) && !(*e & ENTRY_MASKED)) {
            *e |= ENTRY_REMOTE_IRR;
            send(vm, *e);
        }
    }
    spin_unlock_irqrestore(&a->lock, flags);
}

static uint32_t read_indexed(struct vioapic *a, uint32_t index)
{
    switch (index) {
    case INDEX_ID: return a->id << 24;
    case INDEX_VERSION: return ((PLATFORM_IOAPIC_PINS - 1) << 16) | 0x20;
    case INDEX_ARBITRATION: return a->id << 24;
    default:
        if (index >= INDEX_TABLE && index < INDEX_TABLE + 2 * PLATFORM_IOAPIC_PINS) {
            uint64_t e = a->table[(index - INDEX_TABLE) / 2];
            return index & 1 ? (uint32_t)(e >> 32) : (uint32_t)e;
        }
        return 0;
    }
}

static void write_indexed(struct vm *vm, struct vioapic *a, uint32_t index, uint32_t value)
{
    if (index == INDEX_ID) {
        a->id = (value >> 24) & 0xf;
        return;
    }
    if (index < INDEX_TABLE || index >= INDEX_TABLE + 2 * PLATFORM_IOAPIC_PINS)
        return;
    unsigned pin = (index - INDEX_TABLE) / 2;
    uint64_t *e = &a->table[pin];
    if (index & 1)
        *e = (*e & 0xffffffffull) | ((uint64_t)(value & 0xff000000u) << 32);
    else
        *e = (*e & (0xffffffff00000000ull | ENTRY_READ_ONLY)) | (value & ~(uint32_t)ENTRY_READ_ONLY);
    if (!level(*e))
        *e &= ~ENTRY_REMOTE_IRR;
    /* Unmasking a level-triggered pin whose line is asserted delivers it now. */
    if (level(*e) && !(*e & (ENTRY_MASKED | ENTRY_REMOTE_IRR)) && asserted(a, pin)) {
        *e |= ENTRY_REMOTE_IRR;
        send(vm, *e);
    }
}

static uint64_t mmio_read(struct vcpu *v, void *state, uint64_t offset, unsigned size)
{
    (void)v, (void)size;
    struct vioapic *a = state;
    uint64_t flags = spin_lock_irqsave(&a->lock);
    uint32_t value = offset == REG_SELECT ? a->select : offset == REG_WINDOW ? read_indexed(a, a->select) : 0;
    spin_unlock_irqrestore(&a->lock, flags);
    return value;
}

static void mmio_write(struct vcpu *v, void *state, uint64_t offset, unsigned size, uint64_t value)
{
    (void)size;
    struct vioapic *a = state;
    if (offset == REG_EOI) {
        vioapic_eoi(v->vm, (uint8_t)value);
        return;
    }
    uint64_t flags = spin_lock_irqsave(&a->lock);
    if (offset == REG_SELECT)
        a->select = (uint32_t)value & 0xff;
    else if (offset == REG_WINDOW)
        write_indexed(v->vm, a, a->select, (uint32_t)value);
    spin_unlock_irqrestore(&a->lock, flags);
}

static void reset(struct vm *vm, void *state)
{
    struct vioapic *a = state;
    a->select = 0;
    a->id = vm->vcpu_count; /* after the local APIC IDs, as the MADT says */
    for (unsigned i = 0; i < PLATFORM_IOAPIC_PINS; i++) {
        a->table[i] = ENTRY_MASKED;
        a->line[i] = false;
    }
}

static void init(struct vm *vm, void *state, uint64_t where, const void *config)
{
    (void)where, (void)config;
    reset(vm, state);
    vm->ioapic = state;
}

static const struct vdev_range ranges[] = {
    { VDEV_MMIO, PLATFORM_IOAPIC_BASE, 0x1000, VDEV_SIZE_ANY, mmio_read, mmio_write },
};

/* Locks for itself: the EOI register reaches vioapic_eoi, which the local APICs call too. */
static const struct vdev_ops vioapic_ops = {
    .name = "I/O APIC",
    .state_size = sizeof(struct vioapic),
    .ranges = ranges,
    .range_count = sizeof(ranges) / sizeof(ranges[0]),
    .init = init,
    .reset = reset,
};

void vioapic_attach(struct vm *vm)
{
    vdev_attach(vm, &vioapic_ops, 0, NULL);
}
