/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * QEMU's firmware configuration device (fw_cfg), traditional I/O interface only, as QEMU's
 * docs/specs/fw_cfg.rst describes it for x86: a 16-bit write to the selector at 0x510 picks an
 * item and rewinds the data offset; each read of the data port 0x511 returns the item's next
 * byte (a wider read, the next bytes in increasing address order) and reads past the item's
 * end return 0. The selector is write-only (reads see all-ones, nothing drives the bus); data
 * writes are ignored (QEMU 2.4 onwards); there is no DMA interface (port 0x514 is unclaimed
 * and FW_CFG_ID says so).
 *
 * Items, with QEMU's keys and formats: SIGNATURE "QEMU"; ID 1 (32-bit: traditional interface);
 * RAM_SIZE (64-bit); NB_CPUS and MAX_CPUS (16-bit: the VM's vCPUs, all present from the
 * start); CMDLINE_SIZE (32-bit, with the terminating NUL) and CMDLINE_DATA (the VM's command
 * line, NUL-terminated, possibly just the NUL); FILE_DIR with no files (a big-endian count of
 * 0). Every other key, the architecture-specific ones (bit 15) among them, selects an empty
 * item. Multi-byte numbers are little-endian unless said otherwise.
 */
#include <stdint.h>

#include "arch/x86/spinlock.h"
#include "devices/vdev.h"
#include "lib/string.h"
#include "vm/guest_image.h"
#include "vm/platform.h"
#include "vm/vm.h"
#include "vmx/vcpu.h"

#define SELECTOR_PORT PLATFORM_FW_CFG_PORT
#define DATA_PORT (PLATFORM_FW_CFG_PORT + 1)

enum fw_cfg_key {
    FW_CFG_SIGNATURE = 0x00,
    FW_CFG_ID = 0x01,
    FW_CFG_RAM_SIZE = 0x03,
    FW_CFG_NB_CPUS = 0x05,
    FW_CFG_MAX_CPUS = 0x0f,
    FW_CFG_CMDLINE_SIZE = 0x14,
    FW_CFG_CMDLINE_DATA = 0x15,
    FW_CFG_FILE_DIR = 0x19,
};
#define FW_CFG_WRITE_CHANNEL 0x4000 /* selector bit 14: "write mode", for the ignored data writes */
#define FW_CFG_ARCH_LOCAL 0x8000    /* selector bit 15: architecture-specific items */
#define FW_CFG_ID_TRADITIONAL 1u    /* FW_CFG_ID bit 0; bit 1 (DMA) stays clear */

/* Large enough for the longest item, the command line with its NUL (struct guest_boot). */
#define ITEM_MAX (CONFIG_CMDLINE_MAX + 1)

struct fw_cfg {
    struct spinlock lock;
    uint16_t selector;
    uint32_t offset;        /* into the selected item */
    uint32_t length;        /* of the selected item, fixed when it was selected */
    uint8_t item[ITEM_MAX];
};

static uint32_t put_le(uint8_t *out, uint64_t value, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++)
        out[i] = (uint8_t)(value >> (8 * i));
    return bytes;
}

/* Writes item `key` of vm into out (ITEM_MAX bytes); returns its length. The values are taken
 * now, when the guest selects the item: the vCPUs and the boot description exist only after
 * the device was attached. */
static uint32_t item_content(struct vm *vm, uint16_t key, uint8_t *out)
{
    if (key & FW_CFG_ARCH_LOCAL)
        return 0;
    const char *cmdline = vm->boot ? vm->boot->cmdline : "";
    uint32_t cmdline_size = (uint32_t)strnlen(cmdline, sizeof(vm->boot->cmdline) - 1) + 1;
    switch (key & ~FW_CFG_WRITE_CHANNEL) {
    case FW_CFG_SIGNATURE:
        memcpy(out, "QEMU", 4);
        return 4;
    case FW_CFG_ID:
        return put_le(out, FW_CFG_ID_TRADITIONAL, 4);
    case FW_CFG_RAM_SIZE:
        return put_le(out, vm->mem_size, 8);
    case FW_CFG_NB_CPUS:
    case FW_CFG_MAX_CPUS:
        return put_le(out, vm->vcpu_count, 2);
    case FW_CFG_CMDLINE_SIZE:
        return put_le(out, cmdline_size, 4);
    case FW_CFG_CMDLINE_DATA:
        memcpy(out, cmdline, cmdline_size - 1);
        out[cmdline_size - 1] = '\0';
        return cmdline_size;
    case FW_CFG_FILE_DIR:
        return put_le(out, 0, 4); /* count 0: the same in either byte order */
    default:
        return 0;
    }
}

/* The data port streams the selected item: an access of n bytes takes its next n bytes (past
 * the end: 0 bytes), so the device takes every width whole. The dispatcher holds the lock. */
static uint64_t fw_cfg_read(struct vcpu *v, void *state, uint64_t port, unsigned size)
{
    (void)v;
    struct fw_cfg *f = state;
    if (port != DATA_PORT)
        return 0xffffffffu;
    uint32_t value = 0;
    for (unsigned i = 0; i < size && f->offset < f->length; i++)
        value |= (uint32_t)f->item[f->offset++] << (8 * i);
    return value;
}

static void select_item(struct vm *vm, struct fw_cfg *f, uint16_t key)
{
    f->selector = key;
    f->offset = 0;
    f->length = item_content(vm, key, f->item);
}

static void fw_cfg_write(struct vcpu *v, void *state, uint64_t port, unsigned size, uint64_t value)
{
    if (port != SELECTOR_PORT || size < 2)
        return; /* data writes are ignored, and the selector is 16 bits wide */
    select_item(v->vm, state, (uint16_t)value);
}

/* At power-on the signature is selected, so the data port reads "QEMU" before any selection. */
static void fw_cfg_reset(struct vm *vm, void *state)
{
    select_item(vm, state, FW_CFG_SIGNATURE);
}

static void fw_cfg_init(struct vm *vm, void *state, uint64_t where, const void *config)
{
    (void)where, (void)config;
    fw_cfg_reset(vm, state);
    vm->fw_cfg = state;
}

static const struct vdev_range fw_cfg_ranges[] = {
    { VDEV_PORT, SELECTOR_PORT, 2, VDEV_SIZE_ANY, fw_cfg_read, fw_cfg_write },
};

static const struct vdev_ops fw_cfg_ops = {
    .name = "fw_cfg",
    .no_memory = "its fw_cfg device; it has none",
    .state_size = sizeof(struct fw_cfg),
    .lock = VDEV_LOCK(struct fw_cfg, lock),
    .ranges = fw_cfg_ranges,
    .range_count = sizeof(fw_cfg_ranges) / sizeof(fw_cfg_ranges[0]),
    .init = fw_cfg_init,
    .reset = fw_cfg_reset,
};

void fw_cfg_attach(struct vm *vm)
{
    vdev_attach(vm, &fw_cfg_ops, 0, NULL);
}
