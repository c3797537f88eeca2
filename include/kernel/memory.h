/* SPDX-License-Identifier: BSD-2-Clause */
/* Sets up the machine's page allocator from the boot information. */
#ifndef MHV_KERNEL_MEMORY_H
#define MHV_KERNEL_MEMORY_H

#include <stdint.h>

#include "kernel/boot_info.h"

/* Everything below this stays out of the allocator: real-mode IVT, BDA, EBDA, option ROMs and
 * BIOS areas, and the future AP start-up trampoline which needs a page below 1 MiB. */
#define LOW_MEMORY_END 0x100000ull

/* Prints the memory map and brings up the page allocator; fatal() if no memory is usable. */
void memory_init(const struct boot_info *bi);

/* Highest address + 1 of usable RAM (the page allocator's reach). */
uint64_t memory_top(void);

#endif
