/* SPDX-License-Identifier: BSD-2-Clause */
/* Multiboot (version 1) kernels, the kind QEMU boots with -kernel (Multiboot Specification
 * 0.6.96): the image is parsed here without touching any VM, so host tests can feed it
 * anything; vm/boot.c then builds the VM. */
#ifndef MHV_VM_MULTIBOOT1_H
#define MHV_VM_MULTIBOOT1_H

#include <stddef.h>
#include <stdint.h>

#define MB1_HEADER_MAGIC 0x1badb002u
#define MB1_BOOT_MAGIC 0x2badb002u
#define MB1_MAX_SEGMENTS 8

struct mb1_segment {
    uint64_t file_offset, file_size; /* bytes copied from the image */
    uint64_t addr, mem_size;         /* guest-physical; mem_size >= file_size, the rest zeroed */
};

struct mb1_image {
    uint32_t flags;                  /* the header's: bit 0 page-aligned modules, 1 memory info, 16 a.out kludge */
    uint64_t entry;
    struct mb1_segment segments[MB1_MAX_SEGMENTS];
    unsigned segment_count;
    uint64_t end;                    /* highest guest-physical address the image uses */
};

/* Parses the kernel image. Returns 0, or -1 with what is wrong written into why. */
int mb1_parse(const uint8_t *image, size_t size, struct mb1_image *out, char *why, size_t why_size);

/* A module the loader hands the kernel (spec 3.3, mods_addr): its contents and its string. */
struct mb1_module {
    const uint8_t *data;
    uint64_t size;
    const char *name;
};

struct vm;
struct vcpu_start_state;
/* Builds a VM's memory and vCPU 0 state for a parsed kernel: segments (BSS cleared), the
 * multiboot information (at 0x1000: memory sizes, memory map, command line, boot loader name,
 * and the module if there is one, placed on the first page after the kernel) and, in start
 * (already 32-bit protected mode at the entry), EAX = 0x2BADB002, EBX = the information.
 * Returns 0 or -1 (reported). */
int mb1_setup_vm(struct vm *vm, const uint8_t *image, const struct mb1_image *mb, const char *cmdline,
                 const struct mb1_module *module, struct vcpu_start_state *start);

#endif
