/* SPDX-License-Identifier: BSD-2-Clause */
/* The Linux x86 boot protocol (Documentation/arch/x86/boot.rst in the kernel tree), for
 * bzImages of protocol 2.12 or later: parsed here without a VM (host tests), placed in a VM by
 * linux_setup_vm. */
#ifndef MHV_VM_LINUX_H
#define MHV_VM_LINUX_H

#include <stddef.h>
#include <stdint.h>

struct linux_image {
    uint16_t version;        /* boot protocol, e.g. 0x020f */
    uint64_t setup_size;     /* bytes of real-mode setup before the protected-mode kernel */
    uint64_t kernel_size;    /* bytes of protected-mode kernel in the file */
    uint64_t load_address;   /* where it goes (pref_address) */
    uint64_t init_size;      /* memory it needs from there while it decompresses */
    uint32_t cmdline_max;    /* longest command line it takes */
    uint32_t initrd_addr_max;
    uint8_t header_end;      /* the setup header runs from 0x1f1 to 0x202 + this byte (its length byte) */
    int entry64;             /* XLF_KERNEL_64: enter at load + 0x200 in long mode */
};

/* Returns 0, or -1 with the reason in why ("not a bzImage", "boot protocol 2.6 is older ..."). */
int linux_parse(const uint8_t *image, size_t size, struct linux_image *out, char *why, size_t why_size);

struct vm;
struct vcpu_start_state;
/* Loads the kernel, the ramdisk (if any) and the command line, fills the zero page (e820 map
 * of the VM's memory, loader type, command line and initrd) and sets vCPU 0's start state
 * (already flat protected or long mode, per entry64) to the 64-bit (or 32-bit) entry with the
 * registers and selectors the protocol asks for. Returns 0 or -1 (reported). */
int linux_setup_vm(struct vm *vm, const uint8_t *image, const struct linux_image *li, const char *cmdline,
                   const uint8_t *ramdisk, uint64_t ramdisk_size, struct vcpu_start_state *start);

#endif
