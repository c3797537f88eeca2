/* SPDX-License-Identifier: BSD-2-Clause */
// The VM-side functions device files call to register themselves, for host tests that
// attach one device to a zeroed struct vm: handlers and resets land in the VM's own arrays,
// the heap is the C library's.
#include <stdlib.h>

#include "vm/vm.h"

void *kzalloc(size_t size)
{
    return calloc(1, size);
}

void vm_register_io(struct vm *v, const struct io_handler *h)
{
    v->io[v->io_count++] = *h;
}

void vm_register_reset(struct vm *v, void (*reset)(struct vm *vm, void *ctx), void *ctx)
{
    v->resets[v->reset_count++] = (struct device_reset){ reset, ctx };
}

void vm_register_mmio(struct vm *v, const struct mmio_handler *h)
{
    v->mmio[v->mmio_count++] = *h;
}
