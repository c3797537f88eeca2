/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Physical page allocator: one bit per 4 KiB page from address 0 to the top of usable RAM
 * (set = not available). It hands out runs of contiguous, aligned pages, which VMCS regions,
 * page tables and guest memory backed by large EPT pages all need.
 */
#ifndef MHV_KERNEL_PAGE_ALLOC_H
#define MHV_KERNEL_PAGE_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#include "kernel/boot_info.h"

#define PAGE_SIZE 4096ull
#define PAGE_SHIFT 12

struct page_alloc {
    uint64_t *bitmap;
    uint64_t npages;     /* pages covered: [0, npages * PAGE_SIZE) */
    uint64_t free_pages;
    uint64_t hint;       /* first page worth looking at */
};

/* Starts with every page unavailable. bitmap must hold (npages + 63) / 64 words. */
void page_alloc_init(struct page_alloc *pa, uint64_t *bitmap, uint64_t npages);
/* Makes the whole pages inside [base, base + len) available. */
void page_alloc_add_free(struct page_alloc *pa, uint64_t base, uint64_t len);
/* Makes every page touching [base, base + len) unavailable. */
void page_alloc_reserve(struct page_alloc *pa, uint64_t base, uint64_t len);
/* Returns the physical address of `count` free pages aligned to `align` pages (a power of
 * two), now taken; 0 when no such run exists (page 0 is never handed out). */
uint64_t page_alloc_take(struct page_alloc *pa, uint64_t count, uint64_t align);
/* Gives back pages; returns -1 (and changes nothing) if any of them was not taken. */
int page_alloc_give(struct page_alloc *pa, uint64_t addr, uint64_t count);

/*
 * Finds `size` bytes, page aligned, inside a usable range of `map` that overlap none of the
 * `reserved` ranges and end at or below `limit`. Returns the address or 0. Used to place the
 * bitmap itself before the allocator exists.
 */
uint64_t find_free_span(const struct mem_range *map, unsigned map_count, const struct mem_range *reserved,
                        unsigned reserved_count, uint64_t size, uint64_t limit);

/* The machine's allocator (kernel/memory.c sets it up from the boot information). */
uint64_t pages_alloc(uint64_t count);
uint64_t pages_free_count(void);
uint64_t pages_alloc_aligned(uint64_t count, uint64_t align);
void pages_free(uint64_t addr, uint64_t count);

/* mhv runs identity mapped: a physical address is its own virtual address. */
static inline void *phys_to_virt(uint64_t addr) { return (void *)(uintptr_t)addr; }
static inline uint64_t virt_to_phys(const void *p) { return (uint64_t)(uintptr_t)p; }

#endif
