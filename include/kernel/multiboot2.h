/* SPDX-License-Identifier: BSD-2-Clause */
/* Multiboot2 boot information parsing (multiboot2 specification, section 3.6). */
#ifndef MHV_KERNEL_MULTIBOOT2_H
#define MHV_KERNEL_MULTIBOOT2_H

#include <stdint.h>

#include "kernel/boot_info.h"

#define MB2_BOOTLOADER_MAGIC 0x36d76289u
#define MB2_INFO_MAX_SIZE (1u << 20) /* sanity bound: real information is a few KiB */

/*
 * Parses the information at `info` (whose physical address is info_phys), never reading past
 * total_size. `image` is the physical range of mhv's own image, which no module may overlap.
 *
 * Every problem is logged with what was wrong and where (tag number, type, byte offset).
 * Problems confined to one item (a module overlapping another, a memory map entry of zero
 * length, an unterminated string) drop that item and parsing goes on. Problems that make the
 * structure itself untrustworthy (total size, a tag size below 8 or running past the end,
 * no end tag, no memory map) return -1: mhv must not use the information at all.
 */
int mb2_parse(const void *info, uint64_t info_phys, uint64_t image_start, uint64_t image_end,
              struct boot_info *out);

#endif
