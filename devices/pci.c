/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * PCI configuration space of a VM, through configuration mechanism #1 (PCI Local Bus
 * Specification 3.0, 3.2.2.3.2): a dword write to CONFIG_ADDRESS at 0xcf8 names bus, device,
 * function and register when its bit 31 is set; CONFIG_DATA at 0xcfc-0xcff then reaches that
 * dword, with byte and word accesses at their offsets within it.
 *
 * Bus 0 holds one function, 00:00.0, a host bridge (class 06/00/00) with the IDs of the
 * i440FX's 82441FX (8086:1237), which guests know from QEMU. It has no BARs, no capabilities
 * and no interrupt pin; of its type 0 header (PCI 3.0 6.1) only the cache line size, the
 * latency timer and the interrupt line are writable, as scratch. Every other device and
 * function reads all-ones, "no device" (PCI 3.0 6.1), and ignores writes. Linux's probe
 * (arch/x86/pci/direct.c, pci_check_type1) writes 0x80000000 to 0xcf8 and wants it back,
 * then looks for a host bridge's class code on bus 0: both hold.
 *
 * Byte and word accesses to 0xcf8-0xcfb are not CONFIG_ADDRESS (only dword accesses are):
 * 0xcf9 is the reset control register (devices/reset.c); the rest read all-ones.
 */
#include <stdint.h>

#include "arch/x86/spinlock.h"
#include "devices/vdev.h"
#include "lib/string.h"
#include "vm/platform.h"
#include "vm/vm.h"

#define CONFIG_ADDRESS 0xcf8
#define CONFIG_DATA 0xcfc
#define ADDRESS_ENABLE (1u << 31)
/* Bits that hold what was written: enable, bus (23:16), device (15:11), function (10:8) and
 * register (7:2). Bits 30:24 are reserved and 1:0 read 0 (PCI 3.0 3.2.2.3.2). */
#define ADDRESS_BITS 0x80fffffcu

#define HOST_BRIDGE_VENDOR 0x8086
#define HOST_BRIDGE_DEVICE 0x1237
#define HOST_BRIDGE_REVISION 0x02

struct vpci {
    struct spinlock lock;
    uint32_t address;       /* CONFIG_ADDRESS */
    uint8_t host[256];      /* 00:00.0's configuration space */
};

/* Writable bytes of the host bridge's header: cache line size (0x0c), latency timer (0x0d),
 * interrupt line (0x3c). The command register reads "memory space and bus master enabled", the
 * host bridge's fixed state; status reads 0 (no capabilities list, no errors). */
static uint8_t host_write_mask(unsigned reg)
{
    return reg == 0x0c || reg == 0x0d || reg == 0x3c ? 0xff : 0x00;
}

static void host_bridge_init(uint8_t *c)
{
    memset(c, 0, 256);
    c[0x00] = HOST_BRIDGE_VENDOR & 0xff, c[0x01] = HOST_BRIDGE_VENDOR >> 8;
    c[0x02] = HOST_BRIDGE_DEVICE & 0xff, c[0x03] = HOST_BRIDGE_DEVICE >> 8;
    c[0x04] = 0x06;                 /* command: memory space, bus master */
    c[0x08] = HOST_BRIDGE_REVISION;
    c[0x09] = 0x00;                 /* programming interface */
    c[0x0a] = 0x00;                 /* subclass: host bridge */
    c[0x0b] = 0x06;                 /* base class: bridge */
    c[0x0e] = 0x00;                 /* header type 0, single function */
}

/* The configuration byte `reg` of the function an enabled CONFIG_ADDRESS names, or NULL
 * where there is no function. */
static uint8_t *config_byte(struct vpci *pci, uint32_t address, unsigned reg)
{
    unsigned bus = (address >> 16) & 0xff, devfn = (address >> 8) & 0xff;
    return bus == 0 && devfn == 0 ? &pci->host[reg & 0xff] : NULL;
}

/* CONFIG_ADDRESS holds a dword: narrower accesses reach nothing (a byte at 0xcf8 is no PCI
 * register; 0xcf9 is another device's). */
static uint64_t address_read(struct vcpu *v, void *state, uint64_t port, unsigned size)
{
    (void)v, (void)port;
    struct vpci *pci = state;
    return size == 4 ? pci->address : 0xffffffffu;
}

static void address_write(struct vcpu *v, void *state, uint64_t port, unsigned size, uint64_t value)
{
    (void)v, (void)port;
    struct vpci *pci = state;
    if (size == 4)
        pci->address = (uint32_t)value & ADDRESS_BITS;
}

/* CONFIG_DATA, a byte lane at a time (the dispatcher splits wider accesses, under the lock,
 * so every lane sees the same CONFIG_ADDRESS). */
static uint64_t data_read(struct vcpu *v, void *state, uint64_t port, unsigned size)
{
    (void)v, (void)size;
    struct vpci *pci = state;
    uint32_t address = pci->address;
    uint8_t *b = NULL;
    if (address & ADDRESS_ENABLE)
        b = config_byte(pci, address, (address & 0xfc) + (unsigned)(port - CONFIG_DATA));
    return b ? *b : 0xff;
}

static void data_write(struct vcpu *v, void *state, uint64_t port, unsigned size, uint64_t value)
{
    (void)v, (void)size;
    struct vpci *pci = state;
    uint32_t address = pci->address;
    if (!(address & ADDRESS_ENABLE))
        return;
    unsigned reg = (address & 0xfc) + (unsigned)(port - CONFIG_DATA);
    uint8_t *b = config_byte(pci, address, reg);
    if (b) {
        uint8_t mask = host_write_mask(reg);
        *b = (uint8_t)((*b & ~mask) | (value & mask));
    }
}

static void vpci_reset(struct vm *vm, void *state)
{
    (void)vm;
    struct vpci *pci = state;
    pci->address = 0;
    host_bridge_init(pci->host);
}

static void vpci_init(struct vm *vm, void *state, uint64_t where, const void *config)
{
    (void)where, (void)config;
    vpci_reset(vm, state);
    vm->pci = state;
}

/* CONFIG_ADDRESS is claimed at 0xcf8 alone: the I/O exit handler picks a handler by the
 * access's first port, and 0xcf9 belongs to the reset control register. */
static const struct vdev_range vpci_ranges[] = {
    { VDEV_PORT, CONFIG_ADDRESS, 1, VDEV_SIZE_ANY, address_read, address_write },
    { VDEV_PORT, CONFIG_DATA, 4, VDEV_SIZE_1, data_read, data_write },
};

static const struct vdev_ops vpci_ops = {
    .name = "PCI configuration space",
    .no_memory = "its PCI configuration space; it has none",
    .state_size = sizeof(struct vpci),
    .lock = VDEV_LOCK(struct vpci, lock),
    .ranges = vpci_ranges,
    .range_count = sizeof(vpci_ranges) / sizeof(vpci_ranges[0]),
    .init = vpci_init,
    .reset = vpci_reset,
};

void vpci_attach(struct vm *vm)
{
    vdev_attach(vm, &vpci_ops, 0, NULL);
}
