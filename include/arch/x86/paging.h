/* SPDX-License-Identifier: BSD-2-Clause */
/* mhv's own page tables: an identity map of RAM with W^X for the kernel image. */
#ifndef MHV_ARCH_X86_PAGING_H
#define MHV_ARCH_X86_PAGING_H

#include <stdint.h>

/* Everything below this address is identity mapped once paging_init() has run. */
extern uint64_t paging_mapped_top;

/*
 * Builds the final tables and switches to them: [0, 4 KiB) unmapped (NULL dereferences fault),
 * kernel text read-only + executable, read-only data read-only + NX, data and stacks
 * writable + NX, the boot stack's guard page unmapped, and the rest of the first
 * max(4 GiB, ram_top) writable + NX with the largest pages the CPU offers.
 */
void paging_init(uint64_t ram_top);

/* Both change one 4 KiB page of the identity map (splitting large pages as needed) and flush
 * this CPU's TLB; other CPUs must not be relying on the old mapping. */
enum page_rights { PAGE_R, PAGE_RW, PAGE_RWX };
void paging_unmap_page(uint64_t addr);
void paging_set_page(uint64_t addr, enum page_rights rights);

#endif
