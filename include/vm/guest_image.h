/* SPDX-License-Identifier: BSD-2-Clause */
/* Guest images: multiboot2 modules that start with a struct mhv_guest_header (vm/abi.h). */
#ifndef MHV_VM_GUEST_IMAGE_H
#define MHV_VM_GUEST_IMAGE_H

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct vcpu;
struct vcpu_start_state;

#include "vm/abi.h"
#include "vm/config.h"
#include "vm/linux.h"
#include "vm/multiboot1.h"

/* Everything needed to build a VM from an image, from its header or from a configuration. */
struct guest_spec {
    char name[21];
    unsigned mode;          /* 16, 32 or 64 */
    uint64_t load, entry;
    uint64_t memory;        /* bytes */
    unsigned vcpus;
    uint32_t flags;         /* MHV_GUEST_FLAG_* */
    struct mhv_guest_sched sched;
    uint64_t affinity_rest; /* vCPUs beyond the header's affinities: a configuration's mask (0: any) */
    unsigned serial_ports;  /* 16550As at COM1..COMn (0: 1) */
    bool bios;              /* the firmware leaves what a PC BIOS leaves a boot loader: the
                             * interrupt vector table, the BIOS data area, the 8259s' BIOS
                             * masks and the PIT's 18.2 Hz tick (vm/firmware.c; multiboot) */
    bool no_hpet;           /* `hpet = false`: no HPET and no ACPI HPET table */
};

/* Checks the header of the image at [data, data + size) and fills *spec from it. Returns 0, or
 * -1 after reporting what was wrong (module named `what`). */
int guest_image_read_header(const char *what, const uint8_t *data, uint64_t size, struct guest_spec *spec);

/* What a VM is built from, kept with the VM so that a restart rebuilds it the same way: the
 * spec (memory, vCPUs, mode and entry of vCPU 0) and a loader that places the kernel and
 * whatever else it needs (boot information, command line, ramdisk) into zeroed memory, and
 * adjusts vCPU 0's start state, which is already at spec.entry in spec.mode, to what its boot
 * protocol asks (registers, selectors); vmx/ applies it after. place returns 0, or -1 after a
 * report. */
struct guest_boot {
    struct guest_spec spec;
    int (*place)(struct vm *vm, const struct guest_boot *b, struct vcpu_start_state *start);
    const uint8_t *kernel, *ramdisk;
    uint64_t kernel_size, ramdisk_size;
    char cmdline[CONFIG_CMDLINE_MAX + 1]; /* for the Linux and multiboot loaders */
    char ramdisk_name[CONFIG_MODULE_MAX + 1]; /* the multiboot module's string */
    union {
        struct mb1_image mb;
        struct linux_image li;
    };
};

/* Creates the VM with its devices and vCPUs from *b (copied into the VM) and places the
 * kernel. NULL after a report; a VM whose kernel could not be placed is returned stopped. */
struct vm *guest_boot_create(const char *what, const struct guest_boot *b);

/* Restart: zeroes the VM's memory, puts vCPU 0 at the entry and places the kernel again
 * (every vCPU reset with vcpu_reset; vCPU 0's VMCS current here). 0, or -1 (reported). */
int guest_boot_rebuild(struct vm *vm, struct vcpu *v0);

/* The loader for images that carry everything themselves: copies the image to spec.load. */
int guest_image_place(struct vm *vm, const struct guest_boot *b, struct vcpu_start_state *start);

/* Checks spec against the image and creates the VM with the image at spec->load and vCPU 0 at
 * spec->entry in spec->mode. NULL after a report. */
struct vm *guest_image_create(const char *what, const uint8_t *data, uint64_t size, const struct guest_spec *spec);

/* Both, for a module that carries its own header. */
struct vm *guest_image_load(const char *what, const uint8_t *data, uint64_t size);

/* True when the module starts with the guest image magic. */
int guest_image_is(const uint8_t *data, uint64_t size);

#endif
