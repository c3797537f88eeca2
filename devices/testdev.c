/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * QEMU's ISA test device ("-device pc-testdev", QEMU's hw/misc/pc-testdev.c), which
 * kvm-unit-tests' x86 tests expect next to the debug-exit port: opt-in per VM with
 * `testdev = true` in the configuration (include/vm/platform.h). What the guest sees:
 *
 *   0xe0-0xe3      a 32-bit scratch register: an access of n bytes at port 0xe0 + k reads or
 *                  writes its bytes k .. k+n-1 (bytes past the fourth are dropped); the
 *                  emulator and realmode tests check port I/O of every width and string I/O
 *                  through it
 *   0xe4-0xe7      "flush page": a 32-bit write of a guest-physical address. Under KVM the host
 *                  unmaps that page, so the guest's next access to it exits (eventinj uses it
 *                  to make an interrupt's delivery fault into the hypervisor). mhv's EPT maps
 *                  guest memory once and for all, so there is nothing to flush: the write is
 *                  taken and has no effect the guest could see
 *   0xe8-0xeb      the same scratch register again, accessed a byte at a time (the result is
 *                  the same for every width)
 *   0x2000-0x2017  interrupt lines: a byte written to 0x2000 + n drives line n high (non-zero)
 *                  or low (zero), ISA IRQ n for n < 16 (the 8259 pair and the I/O APIC; IRQ 0
 *                  on pin 2, as the MADT says) and I/O APIC pin n above; the ioapic test
 *                  raises, lowers and pulses lines with it
 *   0xff000000     64 KiB of memory behind MMIO emulation ("IORAM"): reads return what was
 *                  written, at any width; the emulator test runs its instruction emulation
 *                  checks on it
 *
 * A VM reset lowers the lines the device raised, clears the register and the memory.
 */
#include <stddef.h>

#include "arch/x86/spinlock.h"
#include "devices/vdev.h"
#include "lib/string.h"
#include "vm/irq.h"
#include "vm/platform.h"
#include "vm/vm.h"

#define SCRATCH_PORT 0xe0
#define FLUSH_PORT 0xe4
#define SCRATCH_BYTE_PORT 0xe8
#define IRQ_PORT_BASE 0x2000

struct pc_testdev {
    struct spinlock lock;
    struct vm *vm;
    uint32_t scratch;
    uint32_t raised;           /* lines this device drives high, bit n for line n */
    uint8_t iomem[PC_TESTDEV_IOMEM_SIZE];
};

static uint64_t scratch_read(struct vcpu *v, void *state, uint64_t port, unsigned size)
{
    (void)v;
    struct pc_testdev *d = state;
    unsigned first = port & 3;
    uint32_t value = 0;
    for (unsigned i = 0; i < size && first + i < 4; i++)
        value |= ((d->scratch >> (8 * (first + i))) & 0xff) << (8 * i);
    return value;
}

static void scratch_write(struct vcpu *v, void *state, uint64_t port, unsigned size, uint64_t value)
{
    (void)v;
    struct pc_testdev *d = state;
    unsigned first = port & 3;
    for (unsigned i = 0; i < size && first + i < 4; i++) {
        unsigned shift = 8 * (first + i);
        d->scratch = (d->scratch & ~(0xffu << shift)) | (uint32_t)(((value >> (8 * i)) & 0xff) << shift);
    }
}

static void flush_write(struct vcpu *v, void *state, uint64_t port, unsigned size, uint64_t value)
{
    (void)v, (void)state, (void)port, (void)size, (void)value; /* see the comment at the top */
}

/* Only byte writes drive a line (QEMU's device takes no other width). */
static void irq_write(struct vcpu *v, void *state, uint64_t port, unsigned size, uint64_t value)
{
    (void)v;
    struct pc_testdev *d = state;
    unsigned line = (unsigned)(port - IRQ_PORT_BASE);
    bool high = value & 0xff;
    if (size != 1 || line >= PC_TESTDEV_IRQ_LINES)
        return;
    d->raised = high ? d->raised | (1u << line) : d->raised & ~(1u << line);
    vm_irq_line(d->vm, line, high); /* under the lock: two CPUs' changes arrive in order */
}

static uint64_t iomem_read(struct vcpu *v, void *state, uint64_t offset, unsigned size)
{
    (void)v;
    struct pc_testdev *d = state;
    uint64_t value = 0;
    for (unsigned i = 0; i < size && i < 8 && offset + i < PC_TESTDEV_IOMEM_SIZE; i++)
        value |= (uint64_t)d->iomem[offset + i] << (8 * i);
    return value;
}

static void iomem_write(struct vcpu *v, void *state, uint64_t offset, unsigned size, uint64_t value)
{
    (void)v;
    struct pc_testdev *d = state;
    for (unsigned i = 0; i < size && i < 8 && offset + i < PC_TESTDEV_IOMEM_SIZE; i++)
        d->iomem[offset + i] = (uint8_t)(value >> (8 * i));
}

static void pc_testdev_reset(struct vm *vm, void *state)
{
    struct pc_testdev *d = state;
    for (unsigned line = 0; line < PC_TESTDEV_IRQ_LINES; line++)
        if (d->raised & (1u << line))
            vm_irq_line(vm, line, false);
    d->raised = 0;
    d->scratch = 0;
    memset(d->iomem, 0, sizeof(d->iomem));
}

static void pc_testdev_init(struct vm *vm, void *state, uint64_t where, const void *config)
{
    (void)where, (void)config;
    struct pc_testdev *d = state;
    d->vm = vm;
}

/* The scratch register and the memory take every width whole: bytes of an access past their
 * end are dropped (they read 0 within it), as QEMU's device does. The flush and interrupt
 * ports are write-only (reads: all ones). */
static const struct vdev_range pc_testdev_ranges[] = {
    { VDEV_PORT, SCRATCH_PORT, 4, VDEV_SIZE_ANY, scratch_read, scratch_write },
    { VDEV_PORT, FLUSH_PORT, 4, VDEV_SIZE_ANY, NULL, flush_write },
    { VDEV_PORT, SCRATCH_BYTE_PORT, 4, VDEV_SIZE_ANY, scratch_read, scratch_write },
    { VDEV_PORT, IRQ_PORT_BASE, PC_TESTDEV_IRQ_LINES, VDEV_SIZE_ANY, NULL, irq_write },
    { VDEV_MMIO, PC_TESTDEV_IOMEM_BASE, PC_TESTDEV_IOMEM_SIZE, VDEV_SIZE_ANY, iomem_read, iomem_write },
};

static const struct vdev_ops pc_testdev_ops = {
    .name = "pc-testdev",
    .no_memory = "its test device; it has none",
    .state_size = sizeof(struct pc_testdev),
    .lock = VDEV_LOCK(struct pc_testdev, lock),
    .ranges = pc_testdev_ranges,
    .range_count = sizeof(pc_testdev_ranges) / sizeof(pc_testdev_ranges[0]),
    .init = pc_testdev_init,
    .reset = pc_testdev_reset,
};

void pc_testdev_attach(struct vm *vm)
{
    vdev_attach(vm, &pc_testdev_ops, 0, NULL);
}
