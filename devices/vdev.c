/* SPDX-License-Identifier: BSD-2-Clause */
/* The virtual-device model: attaching a device to a VM, and the one dispatcher every port and
 * MMIO access to a device goes through (include/devices/vdev.h). */
#include "devices/vdev.h"

#include "arch/x86/spinlock.h"
#include "kernel/heap.h"
#include "kernel/log.h"
#include "kernel/panic.h"
#include "vm/vm.h"

struct vdev;

/* What a registry entry's ctx points at: one range of one device, where it was placed. */
struct vdev_binding {
    struct vdev *dev;
    const struct vdev_range *range;
    uint64_t base;
};

/* One allocation per device (a VM's devices live as long as it does): the model's part, then
 * the device's state. */
struct vdev {
    const struct vdev_ops *ops;
    struct spinlock *lock; /* in the state; NULL: the device locks for itself */
    struct vdev_binding bind[VDEV_MAX_RANGES];
    unsigned char state[] __attribute__((aligned(16)));
};

/* Inline, as the locking and the loops were in each device: these run on every exit to one. */
#define HOT static inline __attribute__((always_inline))

HOT uint64_t lock(struct vdev *d)
{
    return d->lock ? spin_lock_irqsave(d->lock) : 0;
}

/* The end of an access or a reset: the device's sync under the lock, its after-work outside. */
HOT void finish(struct vdev *d, enum vdev_event event, uint64_t flags)
{
    unsigned work = d->ops->sync ? d->ops->sync(d->state, event) : 0;
    if (d->lock)
        spin_unlock_irqrestore(d->lock, flags);
    if (work && d->ops->after)
        d->ops->after(d->state, work);
}

HOT bool whole(const struct vdev_range *r, unsigned size)
{
    return size <= 8 && (r->sizes & (1u << size));
}

/* `addr` as the callbacks see it (the port, or the offset into an MMIO range); `first` the
 * access's offset into the range, for the byte lanes that fall past its end. */
HOT uint64_t dispatch_read(struct vcpu *v, const struct vdev_binding *b, uint64_t addr, uint64_t first,
                           unsigned size)
{
    const struct vdev_range *r = b->range;
    struct vdev *d = b->dev;
    if (!r->read)
        return ~0ull;
    uint64_t flags = lock(d), value = 0;
    if (whole(r, size)) {
        value = r->read(v, d->state, addr, size);
    } else {
        for (unsigned i = 0; i < size; i++) {
            uint64_t byte = first + i < r->size ? r->read(v, d->state, addr + i, 1) & 0xff : 0xff;
            value |= byte << (8 * i);
        }
    }
    finish(d, VDEV_READ, flags);
    return value;
}

HOT void dispatch_write(struct vcpu *v, const struct vdev_binding *b, uint64_t addr, uint64_t first,
                        unsigned size, uint64_t value)
{
    const struct vdev_range *r = b->range;
    struct vdev *d = b->dev;
    if (!r->write)
        return;
    uint64_t flags = lock(d);
    if (whole(r, size)) {
        r->write(v, d->state, addr, size, value);
    } else {
        for (unsigned i = 0; i < size && first + i < r->size; i++)
            r->write(v, d->state, addr + i, 1, (value >> (8 * i)) & 0xff);
    }
    finish(d, VDEV_WRITE, flags);
}

uint64_t vdev_port_read(struct vcpu *v, void *ctx, uint64_t port, unsigned size)
{
    const struct vdev_binding *b = ctx;
    return dispatch_read(v, b, port, port - b->base, size);
}

void vdev_port_write(struct vcpu *v, void *ctx, uint64_t port, unsigned size, uint64_t value)
{
    const struct vdev_binding *b = ctx;
    dispatch_write(v, b, port, port - b->base, size, value);
}

uint64_t vdev_mmio_read(struct vcpu *v, void *ctx, uint64_t offset, unsigned size)
{
    return dispatch_read(v, ctx, offset, offset, size);
}

void vdev_mmio_write(struct vcpu *v, void *ctx, uint64_t offset, unsigned size, uint64_t value)
{
    dispatch_write(v, ctx, offset, offset, size, value);
}

static void vdev_reset(struct vm *vm, void *ctx)
{
    struct vdev *d = ctx;
    uint64_t flags = lock(d);
    d->ops->reset(vm, d->state);
    finish(d, VDEV_RESET, flags);
}

void *vdev_attach(struct vm *vm, const struct vdev_ops *ops, uint64_t where, const void *config)
{
    ASSERT(ops->range_count <= VDEV_MAX_RANGES);
    struct vdev *d = kzalloc(sizeof(*d) + ops->state_size);
    if (!d) {
        if (ops->no_memory)
            log_err("vm %s: out of memory for %s", vm->name, ops->no_memory);
        return NULL;
    }
    d->ops = ops;
    if (ops->lock) {
        d->lock = (struct spinlock *)(void *)(d->state + ops->lock - 1);
        *d->lock = (struct spinlock)SPINLOCK_INIT;
    }
    if (ops->init)
        ops->init(vm, d->state, where, config);
    else if (ops->reset)
        ops->reset(vm, d->state);
    /* A range the device takes whole at every width, with no lock or hook around the call,
     * needs nothing of the dispatcher: its callbacks and state go into the registry as they
     * are, and every exit to it is one call, as the debug-exit and POST ports and the test
     * device (every benchmark's devices) were before the device model. */
    bool direct = !d->lock && !ops->sync;
    for (unsigned i = 0; i < ops->range_count; i++) {
        const struct vdev_range *r = &ops->ranges[i];
        d->bind[i] = (struct vdev_binding){ d, r, r->base + where };
        bool whole_only = direct && r->sizes == VDEV_SIZE_ANY;
        void *ctx = whole_only ? (void *)d->state : &d->bind[i];
        if (r->space == VDEV_PORT)
            vm_register_io(vm, &(struct io_handler){ (uint16_t)(r->base + where), (uint16_t)r->size,
                                                     whole_only ? r->read : vdev_port_read,
                                                     whole_only ? r->write : vdev_port_write, ctx });
        else
            vm_register_mmio(vm, &(struct mmio_handler){ r->base + where, r->size, whole_only ? r->read : vdev_mmio_read,
                                                         whole_only ? r->write : vdev_mmio_write, ctx });
    }
    if (ops->reset)
        vm_register_reset(vm, vdev_reset, d);
    return d->state;
}
