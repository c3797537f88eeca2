/* SPDX-License-Identifier: BSD-2-Clause */
/* Standard per-VM devices. Small on purpose: the full virtual platform (the 16550 at COM1 in
 * vm/uart.c, local APIC, I/O APIC, PIC, PIT, RTC, ACPI tables) is separate work, one file per
 * device; these are the pieces the exit handlers and test guests need now. */
#include <stddef.h>

#include "devices/standard.h"

#include "kernel/heap.h"
#include "kernel/log.h"
#include "sched/sched.h"
#include "vm/abi.h"
#include "vm/console.h"
#include "devices/vlapic.h"
#include "vm/vm.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs.h"

/* --- Debug exit: the value written is the VM's exit status. */
static void debug_exit_write(struct vcpu *v, void *ctx, uint16_t port, unsigned size, uint32_t value)
{
    (void)ctx, (void)size;
    vm_console_flush(v->vm);
    vm_stop(v->vm, STOP_POWEROFF, (int)(value & 0xff), "debug-exit port 0x%x written with %u by vCPU %u", port, value,
            v->id);
}

/* --- POST codes: kept, so a stopped VM's report says how far its firmware or kernel got. */
static void post_write(struct vcpu *v, void *ctx, uint16_t port, unsigned size, uint32_t value)
{
    (void)v, (void)port, (void)size;
    *(uint32_t *)ctx = value;
}

/* --- MMIO test device at MHV_TESTDEV_BASE: 0x0 reads the ID "mhvt", 0x8 is a 64-bit scratch
 * register, 0x10 counts its own reads. */
struct testdev {
    uint64_t scratch, reads;
};

static uint64_t testdev_read(struct vcpu *v, void *ctx, uint64_t offset, unsigned size)
{
    (void)v;
    struct testdev *d = ctx;
    uint64_t value = offset == 0 ? 0x7476686d : offset == 8 ? d->scratch : offset == 0x10 ? ++d->reads : ~0ull;
    return size == 8 ? value : value & ((1ull << (8 * size)) - 1);
}

static void testdev_write(struct vcpu *v, void *ctx, uint64_t offset, unsigned size, uint64_t value)
{
    (void)v, (void)size;
    if (offset == 8)
        ((struct testdev *)ctx)->scratch = value;
}

static void reset_testdev(struct vm *vm, void *ctx)
{
    (void)vm;
    *(struct testdev *)ctx = (struct testdev){ 0 };
}

static void reset_post(struct vm *vm, void *ctx)
{
    (void)vm;
    *(uint32_t *)ctx = 0;
}

static void reset_console(struct vm *vm, void *ctx)
{
    (void)ctx;
    vm->console_len = 0;
}

void vm_add_standard_devices(struct vm *vm)
{
    struct testdev *testdev = kzalloc(sizeof(*testdev));
    uint32_t *post = kzalloc(sizeof(*post));
    vm_register_io(vm, &(struct io_handler){ MHV_DEBUG_EXIT_PORT, 4, NULL, debug_exit_write, NULL });
    vm_register_io(vm, &(struct io_handler){ MHV_POST_PORT, 1, NULL, post_write, post });
    vm_register_mmio(vm, &(struct mmio_handler){ MHV_TESTDEV_BASE, 4096, testdev_read, testdev_write, testdev });
    vm_register_mmio(vm, &(struct mmio_handler){ MHV_LAPIC_BASE, 4096, vlapic_mmio_read, vlapic_mmio_write, NULL });
    vm_register_reset(vm, reset_testdev, testdev);
    vm_register_reset(vm, reset_post, post);
    vm_register_reset(vm, reset_console, NULL);
}
