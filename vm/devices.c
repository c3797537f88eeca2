/* Standard per-VM devices. Small on purpose: the full virtual platform (16550 with receive and
 * interrupts, local APIC, I/O APIC, PIC, PIT, RTC, ACPI tables) is separate work, one file per
 * device; these are the pieces the exit handlers and test guests need now. */
#include <stddef.h>

#include "vm/devices.h"

#include "kernel/heap.h"
#include "kernel/log.h"
#include "sched/sched.h"
#include "vm/abi.h"
#include "vm/console.h"
#include "vm/vm.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs.h"

/* --- COM1, transmit only: THR takes bytes, LSR says "transmitter empty" (16550 data sheet). */
static uint32_t com1_read(struct vcpu *v, void *ctx, uint16_t port, unsigned size)
{
    (void)v, (void)ctx, (void)size;
    switch (port - MHV_COM1_PORT) {
    case 5: return 0x60; /* LSR: THR empty, transmitter idle */
    case 6: return 0xb0; /* MSR: CTS, DSR, DCD */
    default: return 0;
    }
}

static void com1_write(struct vcpu *v, void *ctx, uint16_t port, unsigned size, uint32_t value)
{
    (void)ctx, (void)size;
    if (port == MHV_COM1_PORT)
        vm_console_putc(v->vm, (char)value);
}

/* --- Debug exit: the value written is the VM's exit status. */
static void debug_exit_write(struct vcpu *v, void *ctx, uint16_t port, unsigned size, uint32_t value)
{
    (void)ctx, (void)port, (void)size;
    vm_console_flush(v->vm);
    vm_stop(v->vm, STOP_POWEROFF, (int)(value & 0xff), "debug-exit port 0x%x written with %u by vCPU %u", MHV_DEBUG_EXIT_PORT, value,
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

/* --- Minimal local APIC: ID (0x20), version (0x30), ICR (0x300, 0x310) for INIT and
 * STARTUP IPIs to other vCPUs of this VM (SDM Vol. 3A 12.6.1). */
struct mini_lapic {
    uint32_t icr_high[VM_MAX_VCPUS];
};

static uint64_t lapic_read(struct vcpu *v, void *ctx, uint64_t offset, unsigned size)
{
    (void)ctx, (void)size;
    if (offset == 0x20)
        return (uint64_t)v->id << 24;
    if (offset == 0x30)
        return 0x50014; /* version 0x14, 6 LVT entries */
    return 0;
}

static void start_vcpu(struct vcpu *t, uint32_t vector)
{
    /* SIPI: real mode at vector << 12 (SDM Vol. 3A 9.4.4). The target's VMCS is loaded only
     * by the CPU that runs it, so the entry state is set there (vmx/run.c). */
    t->sipi_vector = vector;
    t->state = VCPU_RUNNABLE;
    sched_kick(t); /* its CPU may be halted with nothing else to do */
}

static void lapic_write(struct vcpu *v, void *ctx, uint64_t offset, unsigned size, uint64_t value)
{
    (void)size;
    struct mini_lapic *l = ctx;
    if (offset == 0x310) {
        l->icr_high[v->id] = (uint32_t)value;
        return;
    }
    if (offset != 0x300)
        return;
    unsigned mode = (value >> 8) & 7, dest = l->icr_high[v->id] >> 24;
    struct vm *vm = v->vm;
    if (dest >= vm->vcpu_count || dest == v->id)
        return; /* no such vCPU: the IPI goes nowhere, as on hardware */
    struct vcpu *t = vm->vcpus[dest];
    if (mode == 5 && t->state != VCPU_STOPPED) /* INIT */
        t->state = VCPU_WAIT_FOR_SIPI;
    else if (mode == 6 && t->state == VCPU_WAIT_FOR_SIPI) /* STARTUP */
        start_vcpu(t, value & 0xff);
}

static void reset_testdev(struct vm *vm, void *ctx)
{
    (void)vm;
    *(struct testdev *)ctx = (struct testdev){ 0 };
}

static void reset_mini_lapic(struct vm *vm, void *ctx)
{
    (void)vm;
    *(struct mini_lapic *)ctx = (struct mini_lapic){ 0 };
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
    struct mini_lapic *lapic = kzalloc(sizeof(*lapic));
    uint32_t *post = kzalloc(sizeof(*post));
    vm_register_io(vm, &(struct io_handler){ MHV_COM1_PORT, 8, com1_read, com1_write, NULL });
    vm_register_io(vm, &(struct io_handler){ MHV_DEBUG_EXIT_PORT, 4, NULL, debug_exit_write, NULL });
    vm_register_io(vm, &(struct io_handler){ MHV_POST_PORT, 1, NULL, post_write, post });
    vm_register_mmio(vm, &(struct mmio_handler){ MHV_TESTDEV_BASE, 4096, testdev_read, testdev_write, testdev });
    vm_register_mmio(vm, &(struct mmio_handler){ MHV_LAPIC_BASE, 4096, lapic_read, lapic_write, lapic });
    vm_register_reset(vm, reset_testdev, testdev);
    vm_register_reset(vm, reset_mini_lapic, lapic);
    vm_register_reset(vm, reset_post, post);
    vm_register_reset(vm, reset_console, NULL);
}
