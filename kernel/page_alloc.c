/* SPDX-License-Identifier: BSD-2-Clause */
/* Bitmap page allocator (see include/kernel/page_alloc.h). First fit from a hint: simple and
 * good enough while allocations happen at boot and VM creation, not on the exit path. */
#include "kernel/page_alloc.h"

#include <stdbool.h>

#include "lib/string.h"

static bool page_used(const struct page_alloc *pa, uint64_t p)
{
    return pa->bitmap[p / 64] >> (p % 64) & 1;
}

static void set_used(struct page_alloc *pa, uint64_t p, bool used)
{
    if (used == page_used(pa, p))
        return;
    if (used) {
        pa->bitmap[p / 64] |= 1ull << (p % 64);
        pa->free_pages--;
    } else {
        pa->bitmap[p / 64] &= ~(1ull << (p % 64));
        pa->free_pages++;
    }
}

void page_alloc_init(struct page_alloc *pa, uint64_t *bitmap, uint64_t npages)
{
    pa->bitmap = bitmap;
    pa->npages = npages;
    pa->free_pages = 0;
    pa->hint = 1;
    memset(bitmap, 0xff, (npages + 63) / 64 * 8);
}

void page_alloc_add_free(struct page_alloc *pa, uint64_t base, uint64_t len)
{
    if (base + len < base)
        len = UINT64_MAX - base;
    uint64_t first = (base + PAGE_SIZE - 1) >> PAGE_SHIFT, end = (base + len) >> PAGE_SHIFT;
    if (end > pa->npages)
        end = pa->npages;
    for (uint64_t p = first ? first : 1; p < end; p++) /* page 0 stays taken: 0 means failure */
        set_used(pa, p, false);
}

void page_alloc_reserve(struct page_alloc *pa, uint64_t base, uint64_t len)
{
    if (!len)
        return;
    if (base + len < base)
        len = UINT64_MAX - base;
    uint64_t first = base >> PAGE_SHIFT, end = (base + len + PAGE_SIZE - 1) >> PAGE_SHIFT;
    if (end > pa->npages)
        end = pa->npages;
    for (uint64_t p = first; p < end; p++)
        set_used(pa, p, true);
}

uint64_t page_alloc_take(struct page_alloc *pa, uint64_t count, uint64_t align)
{
    if (!count || !align || (align & (align - 1)) || count > pa->free_pages)
        return 0;
    uint64_t p = (pa->hint + align - 1) & ~(align - 1);
    while (p + count <= pa->npages) {
        uint64_t run = 0;
        while (run < count && !page_used(pa, p + run))
            run++;
        if (run == count) {
            for (uint64_t i = 0; i < count; i++)
                set_used(pa, p + i, true);
            if (align == 1 && p == pa->hint)
                pa->hint = p + count;
            return p << PAGE_SHIFT;
        }
        /* Skip past the used page that ended the run, then realign. */
        p = (p + run + 1 + align - 1) & ~(align - 1);
    }
    return 0;
}

int page_alloc_give(struct page_alloc *pa, uint64_t addr, uint64_t count)
{
    uint64_t first = addr >> PAGE_SHIFT;
    if ((addr & (PAGE_SIZE - 1)) || first == 0 || first + count > pa->npages || first + count < first)
        return -1;
    for (uint64_t i = 0; i < count; i++)
        if (!page_used(pa, first + i))
            return -1; /* double free or never allocated: refuse the whole call */
    for (uint64_t i = 0; i < count; i++)
        set_used(pa, first + i, false);
    if (first < pa->hint)
        pa->hint = first;
    return 0;
}

uint64_t find_free_span(const struct mem_range *map, unsigned map_count, const struct mem_range *reserved,
                        unsigned reserved_count, uint64_t size, uint64_t limit)
{
    for (unsigned i = 0; i < map_count; i++) {
        if (map[i].type != MEM_USABLE)
            continue;
        uint64_t end = map[i].base + map[i].length;
        if (end > limit)
            end = limit;
        uint64_t cand = (map[i].base + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
        if (cand == 0)
            cand = PAGE_SIZE;
        bool moved = true;
        /* Each pass either finds no clash or moves past one; reserved ranges are finite. */
        while (moved && cand + size <= end && cand + size > cand) {
            moved = false;
            for (unsigned r = 0; r < reserved_count; r++) {
                uint64_t r0 = reserved[r].base, r1 = reserved[r].base + reserved[r].length;
                if (cand < r1 && r0 < cand + size) {
                    cand = (r1 + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
                    moved = true;
                }
            }
        }
        if (!moved && cand + size <= end && cand + size > cand)
            return cand;
    }
    return 0;
}
