/* SPDX-License-Identifier: BSD-2-Clause */
/* The small devices every VM gets (include/devices/standard.h), one virtual device: the pieces
 * the exit handlers and mhv's test guests need. The rest of the virtual platform (COM1 in
 * devices/uart.c, the I/O APIC, PIC, PIT, RTC, ACPI tables) is one file per device. */
#include <stddef.h>

#include "devices/standard.h"

#include "devices/vdev.h"
#include "devices/vlapic.h"
#include "vm/abi.h"
#include "vm/console.h"
#include "vm/vm.h"
#include "vmx/vcpu.h"

/* --- MMIO test device at MHV_TESTDEV_BASE: 0x0 reads the ID "mhvt", 0x8 is a 64-bit scratch
 * register, 0x10 counts its own reads. */
struct testdev {
    uint64_t scratch, reads;
};

struct standard_devices {
    struct testdev testdev;
    uint32_t post;          /* the last POST code */
};

/* --- Debug exit: the value written is the VM's exit status. */
static void debug_exit_write(struct vcpu *v, void *state, uint64_t port, unsigned size, uint64_t value)
{
    (void)state, (void)size;
    vm_console_flush(v->vm);
    vm_stop(v->vm, STOP_POWEROFF, (int)(value & 0xff), "debug-exit port 0x%x written with %u by vCPU %u",
            (unsigned)port, (unsigned)value, v->id);
}

/* --- POST codes: kept, so a stopped VM's report says how far its firmware or kernel got. */
static void post_write(struct vcpu *v, void *state, uint64_t port, unsigned size, uint64_t value)
{
    (void)v, (void)port, (void)size;
    ((struct standard_devices *)state)->post = (uint32_t)value;
}

static uint64_t testdev_read(struct vcpu *v, void *state, uint64_t offset, unsigned size)
{
    (void)v;
    struct testdev *d = &((struct standard_devices *)state)->testdev;
    uint64_t value = offset == 0 ? 0x7476686d : offset == 8 ? d->scratch : offset == 0x10 ? ++d->reads : ~0ull;
    return size == 8 ? value : value & ((1ull << (8 * size)) - 1);
}

static void testdev_write(struct vcpu *v, void *state, uint64_t offset, unsigned size, uint64_t value)
{
    (void)v, (void)size;
    if (offset == 8)
        ((struct standard_devices *)state)->testdev.scratch = value;
}

/* --- The local APIC page at 0xfee00000: each vCPU's own APIC (devices/vlapic_regs.c), which
 * takes a NULL ctx as "the page at its default address". */
static uint64_t lapic_read(struct vcpu *v, void *state, uint64_t offset, unsigned size)
{
    (void)state;
    return vlapic_mmio_read(v, NULL, offset, size);
}

static void lapic_write(struct vcpu *v, void *state, uint64_t offset, unsigned size, uint64_t value)
{
    (void)state;
    vlapic_mmio_write(v, NULL, offset, size, value);
}

/* Power-on state (zeroed), at attach and at every restart; also forgets the VM's console line
 * being assembled. */
static void standard_reset(struct vm *vm, void *state)
{
    struct standard_devices *d = state;
    d->testdev = (struct testdev){ 0 };
    d->post = 0;
    vm->console_len = 0;
}

static const struct vdev_range standard_ranges[] = {
    { VDEV_PORT, MHV_DEBUG_EXIT_PORT, 4, VDEV_SIZE_ANY, NULL, debug_exit_write },
    { VDEV_PORT, MHV_POST_PORT, 1, VDEV_SIZE_ANY, NULL, post_write },
    { VDEV_MMIO, MHV_TESTDEV_BASE, 4096, VDEV_SIZE_ANY, testdev_read, testdev_write },
    { VDEV_MMIO, MHV_LAPIC_BASE, 4096, VDEV_SIZE_ANY, lapic_read, lapic_write },
};

/* No lock: the debug-exit port stops the VM, the APIC page is per vCPU, and the test device
 * is for one vCPU's tests. */
static const struct vdev_ops standard_ops = {
    .name = "standard devices",
    .state_size = sizeof(struct standard_devices),
    .ranges = standard_ranges,
    .range_count = sizeof(standard_ranges) / sizeof(standard_ranges[0]),
    .reset = standard_reset,
};

void vm_add_standard_devices(struct vm *vm)
{
    vdev_attach(vm, &standard_ops, 0, NULL);
}
