/* SPDX-License-Identifier: BSD-2-Clause */
/* VM objects: memory, bitmaps, device registries, stopping. */
#include "vm/vm.h"

#include <stdarg.h>

#include "arch/x86/percpu.h"
#include "arch/x86/xcall.h"
#include "kernel/heap.h"
#include "kernel/log.h"
#include "kernel/panic.h"
#include "kernel/page_alloc.h"
#include "lib/format.h"
#include "lib/string.h"
#include "vm/config.h"
#include "vmx/ept.h"
#include "vmx/vcpu.h"

struct vm *vms[MAX_VMS];
unsigned vm_count;

#define SIZE_2M (1ull << 21)
#define SIZE_1G (1ull << 30)

/* VMs between "stopped" and the decision what follows (vm_stop): counted as running, so no
 * CPU ends its scheduler loop in that moment when a restart is about to be decided. */
static volatile unsigned stops_in_progress;

unsigned vm_running_count(void)
{
    unsigned n = __atomic_load_n(&stops_in_progress, __ATOMIC_SEQ_CST);
    for (unsigned i = 0; i < vm_count; i++)
        n += vms[i]->state == VM_RUNNING || vms[i]->restart_pending;
    return n;
}

/* Takes the largest aligned host block that fits the rest of guest memory, falling back to
 * smaller ones when memory is fragmented. Large blocks let EPT use large pages. */
static int add_memory(struct vm *vm, uint64_t size)
{
    uint64_t gpa = 0;
    while (gpa < size) {
        uint64_t left = size - gpa, hpa = 0, chunk = 0;
        if (left >= SIZE_1G && !(gpa & (SIZE_1G - 1)) &&
            (hpa = pages_alloc_aligned(SIZE_1G / PAGE_SIZE, SIZE_1G / PAGE_SIZE)))
            chunk = SIZE_1G;
        else if (left >= SIZE_2M && !(gpa & (SIZE_2M - 1)) &&
                 (hpa = pages_alloc_aligned(SIZE_2M / PAGE_SIZE, SIZE_2M / PAGE_SIZE)))
            chunk = SIZE_2M;
        else
            for (chunk = left < SIZE_2M ? left : SIZE_2M; chunk >= PAGE_SIZE; chunk = (chunk / 2) & ~(PAGE_SIZE - 1))
                if ((hpa = pages_alloc(chunk / PAGE_SIZE)))
                    break;
        if (!hpa)
            return -1;
        if (vm->slot_count && vm->slots[vm->slot_count - 1].hpa + vm->slots[vm->slot_count - 1].size == hpa &&
            vm->slots[vm->slot_count - 1].gpa + vm->slots[vm->slot_count - 1].size == gpa) {
            vm->slots[vm->slot_count - 1].size += chunk;
        } else {
            if (vm->slot_count == VM_MAX_SLOTS)
                return -1;
            vm->slots[vm->slot_count++] = (struct mem_slot){ gpa, chunk, hpa };
        }
        memset(phys_to_virt(hpa), 0, chunk);
        if (ept_map(vm, gpa, hpa, chunk) < 0)
            return -1;
        gpa += chunk;
    }
    return 0;
}

struct vm *vm_create(const char *name, uint64_t mem_size)
{
    if (vm_count == MAX_VMS) {
        log_err("vm %s: more than %d VMs", name, MAX_VMS);
        return NULL;
    }
    struct vm *vm = kzalloc(sizeof(*vm));
    if (!vm)
        return NULL;
    vm->on_reboot = ACTION_RESTART; /* the configuration may say otherwise */
    ksnprintf(vm->name, sizeof(vm->name), "%s", name);
    vm->mem_size = (mem_size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    vm->io_bitmaps = pages_alloc(2);
    vm->msr_bitmap = pages_alloc(1);
    if (!vm->io_bitmaps || !vm->msr_bitmap || ept_init(vm) < 0 || add_memory(vm, vm->mem_size) < 0) {
        log_err("vm %s: out of memory for %lu MiB of guest memory and its tables", name, mem_size >> 20);
        return NULL; /* what was allocated stays allocated: VM creation happens once, at boot */
    }
    /* Every port and every MSR exits unless a device or the MSR code says otherwise. */
    memset(phys_to_virt(vm->io_bitmaps), 0xff, 2 * PAGE_SIZE);
    memset(phys_to_virt(vm->msr_bitmap), 0xff, PAGE_SIZE);
    vm->index = vm_count;
    vms[vm_count++] = vm;
    log_info("vm %s: %lu KiB of guest memory in %u host block%s, EPT root at 0x%lx", name, vm->mem_size >> 10,
             vm->slot_count, vm->slot_count > 1 ? "s" : "", vm->ept_root);
    return vm;
}

void *vm_gpa_to_hva(struct vm *vm, uint64_t gpa, uint64_t len)
{
    for (unsigned i = 0; i < vm->slot_count; i++) {
        const struct mem_slot *s = &vm->slots[i];
        if (gpa >= s->gpa && gpa - s->gpa < s->size && len <= s->size - (gpa - s->gpa))
            return phys_to_virt(s->hpa + (gpa - s->gpa));
    }
    return NULL;
}

/* Copies run by run: a guest buffer may span two host blocks. Checks the whole range first so
 * a failed copy changes nothing. */
static int copy_gpa(struct vm *vm, uint64_t gpa, uint8_t *buf, uint64_t len, bool to_guest)
{
    for (int pass = 0; pass < 2; pass++) {
        for (uint64_t done = 0; done < len;) {
            const struct mem_slot *s = NULL;
            for (unsigned i = 0; i < vm->slot_count && !s; i++)
                if (gpa + done >= vm->slots[i].gpa && gpa + done - vm->slots[i].gpa < vm->slots[i].size)
                    s = &vm->slots[i];
            if (!s)
                return -1;
            uint64_t offset = gpa + done - s->gpa, chunk = s->size - offset;
            if (chunk > len - done)
                chunk = len - done;
            if (chunk > VM_COPY_CHUNK)
                chunk = VM_COPY_CHUNK; /* a kernel of many MiB: other CPUs' calls are answered in between */
            if (pass == 1) {
                uint8_t *host = phys_to_virt(s->hpa + offset);
                if (to_guest)
                    memcpy(host, buf + done, chunk);
                else
                    memcpy(buf + done, host, chunk);
                xcall_poll();
            }
            done += chunk;
        }
    }
    return 0;
}

int vm_read_gpa(struct vm *vm, uint64_t gpa, void *dst, uint64_t len)
{
    return copy_gpa(vm, gpa, dst, len, false);
}

int vm_write_gpa(struct vm *vm, uint64_t gpa, const void *src, uint64_t len)
{
    return copy_gpa(vm, gpa, (uint8_t *)(uintptr_t)src, len, true); /* only read */
}

void vm_register_io(struct vm *vm, const struct io_handler *h)
{
    if (vm->io_count == VM_MAX_IO) {
        log_err("vm %s: too many I/O handlers; ports 0x%x-0x%x stay unclaimed", vm->name, h->base,
                h->base + h->count - 1);
        return;
    }
    vm->io[vm->io_count++] = *h;
}

void vm_register_reset(struct vm *vm, void (*reset)(struct vm *vm, void *ctx), void *ctx)
{
    if (vm->reset_count == VM_MAX_DEVICES)
        panic("vm %s: more than %d devices with state", vm->name, VM_MAX_DEVICES); /* a build-time limit */
    vm->resets[vm->reset_count++] = (struct device_reset){ reset, ctx };
}

void vm_reset_devices(struct vm *vm)
{
    for (unsigned i = 0; i < vm->reset_count; i++)
        vm->resets[i].reset(vm, vm->resets[i].ctx);
}

void vm_port_write(struct vm *vm, uint16_t port, unsigned size, uint32_t value)
{
    for (unsigned i = 0; i < vm->io_count; i++) {
        const struct io_handler *h = &vm->io[i];
        if (port >= h->base && port - h->base < h->count) {
            if (h->write)
                h->write(vm->vcpus[0], h->ctx, port, size, value);
            return;
        }
    }
}

void vm_register_mmio(struct vm *vm, const struct mmio_handler *h)
{
    if (vm->mmio_count == VM_MAX_MMIO) {
        log_err("vm %s: too many MMIO handlers; 0x%lx stays unclaimed", vm->name, h->base);
        return;
    }
    vm->mmio[vm->mmio_count++] = *h;
}

volatile bool machine_poweroff_requested;

void vm_stop(struct vm *vm, enum stop_kind kind, int status, const char *fmt, ...)
{
    uint64_t flags = spin_lock_irqsave(&vm->lock);
    bool first = vm->state == VM_RUNNING && !vm->restart_pending;
    if (first) {
        __atomic_add_fetch(&stops_in_progress, 1, __ATOMIC_SEQ_CST); /* before it stops running */
        vm->status = status;
        vm->stop_kind = (uint8_t)kind;
    }
    vm->state = VM_STOPPED;
    spin_unlock_irqrestore(&vm->lock, flags);
    if (!first)
        return;
    for (unsigned i = 0; i < vm->vcpu_count; i++)
        __atomic_store_n(&vm->vcpus[i]->se.state, VCPU_STOPPED, __ATOMIC_SEQ_CST); /* terminal: no swap needed */
    char why[192];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    status_line("vm %s: stopped: %s (status %d)", vm->name, why, status);
    vm_apply_stop_action(vm, kind == STOP_CRASH ? vm->on_crash : kind == STOP_POWEROFF ? vm->on_poweroff : vm->on_reboot);
    __atomic_sub_fetch(&stops_in_progress, 1, __ATOMIC_SEQ_CST);
    /* The last VM: CPUs halted in their idle loop must wake to see that there is no more work
     * (the boot CPU then reports and finishes). */
    if (!vm_running_count())
        for (unsigned c = 0; c < cpu_count; c++)
            if (cpus[c] && cpus[c] != this_cpu())
                smp_send_reschedule(c);
}

struct sched_entity *vm_platform_timer_owner(struct vm *vm)
{
    return &vm->vcpus[0]->se;
}
