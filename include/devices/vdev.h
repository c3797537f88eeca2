/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The virtual-device model (devices/vdev.c). A device is described once, by a constant
 * struct vdev_ops: its name, the port and MMIO ranges it answers with their read and write
 * callbacks and the access widths those take whole, its reset, and the size of its state.
 * vdev_attach is the one way a device joins a VM: it allocates the state, has the device set
 * it up, and enters the ranges into the VM's I/O and MMIO registries (include/vm/vm.h) and
 * the reset into its reset list.
 *
 * Every access then comes through one dispatcher, which takes the device's lock (where the
 * device lets it), splits an access the device does not take whole into byte accesses, one
 * per byte lane from the lowest address up (as an ISA bus splits a wide access to 8-bit
 * registers), and gives the device one point under the lock and one after it to bring its
 * outputs (interrupt lines, timers) up to date. Where there is none of that to do (no lock,
 * no hooks, every width taken whole), vdev_attach registers the device's callbacks directly,
 * so that such exits cost one call.
 */
#ifndef MHV_DEVICES_VDEV_H
#define MHV_DEVICES_VDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vcpu;
struct vm;

/* Access widths, one bit per byte count. */
#define VDEV_SIZE_1 (1u << 1)
#define VDEV_SIZE_2 (1u << 2)
#define VDEV_SIZE_4 (1u << 4)
#define VDEV_SIZE_8 (1u << 8)
#define VDEV_SIZE_ANY (VDEV_SIZE_1 | VDEV_SIZE_2 | VDEV_SIZE_4 | VDEV_SIZE_8)

enum vdev_space { VDEV_PORT, VDEV_MMIO };

/*
 * A range of ports, or of guest-physical addresses, that one pair of callbacks serves. `addr`
 * is the port for VDEV_PORT ranges and the offset into the range for VDEV_MMIO ones; `v` is
 * the vCPU making the access (vCPU 0 for the firmware's own writes, vm_port_write). An access
 * whose width is in `sizes` reaches the callback whole; any other is split into byte accesses,
 * and the bytes that fall past the range's end read all ones and are not written. A NULL read
 * reads all ones, a NULL write drops the value.
 */
struct vdev_range {
    enum vdev_space space;
    uint64_t base, size;
    unsigned sizes;
    uint64_t (*read)(struct vcpu *v, void *state, uint64_t addr, unsigned size);
    void (*write)(struct vcpu *v, void *state, uint64_t addr, unsigned size, uint64_t value);
};

/* What brought a device's sync hook on. */
enum vdev_event { VDEV_READ, VDEV_WRITE, VDEV_RESET };

#define VDEV_MAX_RANGES 6
/* struct vdev_ops.lock: the state's member `member` is its struct spinlock. */
#define VDEV_LOCK(type, member) (offsetof(type, member) + 1)

struct vdev_ops {
    const char *name;           /* what the device is, for people: "8259 PIC pair" */
    /* What the VM lacks when the state cannot be allocated, logged as "vm <name>: out of
     * memory for <no_memory>"; NULL: the device says so itself (vdev_attach returns NULL). */
    const char *no_memory;
    size_t state_size;          /* zeroed state, allocated by vdev_attach */
    /* VDEV_LOCK(type, member): the state's spinlock, which the dispatcher holds around every
     * access and reset, so the callbacks run with it held. 0: the device locks for itself (its
     * accesses stop the VM or come back into it, which must not happen under its lock). */
    size_t lock;
    const struct vdev_range *ranges;
    unsigned range_count;
    /* Sets the state up at attach, before any access, from vdev_attach's `where` and `config`.
     * NULL: the reset does it. */
    void (*init)(struct vm *vm, void *state, uint64_t where, const void *config);
    /* A VM restart: back to the state after a reset of the machine. NULL: the device keeps
     * its state. */
    void (*reset)(struct vm *vm, void *state);
    /* Under the lock, once after each access (all its byte lanes) and after each reset:
     * brings the device's outputs up to date. A non-zero result is handed to `after`. */
    unsigned (*sync)(void *state, enum vdev_event event);
    /* After the lock is dropped, when sync returned non-zero: what must not run under it. */
    void (*after)(void *state, unsigned work);
};

/* Creates the device described by ops in vm and attaches it: its ranges, shifted by `where`
 * (0 for devices at fixed addresses), and its reset; `config` is for its init. Returns the
 * device's state, or NULL (reported as ops->no_memory says) when out of memory. */
void *vdev_attach(struct vm *vm, const struct vdev_ops *ops, uint64_t where, const void *config);

/* The dispatcher's entries in the VM's registries (struct io_handler, struct mmio_handler):
 * `ctx` is the range's binding that vdev_attach registered. (A range of a device without lock
 * and hooks that takes every width whole is registered with its own callbacks instead: the
 * dispatcher would only pass the call on.) */
uint64_t vdev_port_read(struct vcpu *v, void *ctx, uint64_t port, unsigned size);
void vdev_port_write(struct vcpu *v, void *ctx, uint64_t port, unsigned size, uint64_t value);
uint64_t vdev_mmio_read(struct vcpu *v, void *ctx, uint64_t offset, unsigned size);
void vdev_mmio_write(struct vcpu *v, void *ctx, uint64_t offset, unsigned size, uint64_t value);

#endif
