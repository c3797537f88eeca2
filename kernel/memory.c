/* SPDX-License-Identifier: BSD-2-Clause */
/* The machine's page allocator, built from the boot memory map minus everything in use. */
#include "kernel/memory.h"

#include "arch/x86/spinlock.h"
#include "kernel/log.h"
#include "kernel/page_alloc.h"
#include "kernel/panic.h"

extern char __kernel_start[], __kernel_end[];

static struct page_alloc machine_pages;
static struct spinlock machine_pages_lock = SPINLOCK_INIT;
static uint64_t usable_top;

#define BOOT_ACCESSIBLE_LIMIT (4ull << 30) /* the boot page tables map the first 4 GiB */

uint64_t memory_top(void)
{
    return usable_top;
}

static void print_map(const struct boot_info *bi)
{
    uint64_t usable = 0;
    log_info("memory map (%s, %u ranges):", bi->mem_source, bi->mem_count);
    for (unsigned i = 0; i < bi->mem_count; i++) {
        const struct mem_range *r = &bi->mem[i];
        log_info("  [0x%016lx-0x%016lx] %-16s %8lu KiB", r->base, r->base + r->length - 1,
                 mem_type_name(r->type), r->length >> 10);
        if (r->type == MEM_USABLE)
            usable += r->length;
    }
    status_line("memory: %lu MiB usable in %u ranges", usable >> 20, bi->mem_count);
}

void memory_init(const struct boot_info *bi)
{
    print_map(bi);

    for (unsigned i = 0; i < bi->mem_count; i++)
        if (bi->mem[i].type == MEM_USABLE && bi->mem[i].base + bi->mem[i].length > usable_top)
            usable_top = bi->mem[i].base + bi->mem[i].length;
    usable_top &= ~(PAGE_SIZE - 1);
    if (usable_top <= LOW_MEMORY_END)
        fatal("no usable memory above 1 MiB in the %s", bi->mem_source);

    /* What must never be handed out, besides what the map itself calls non-usable. */
    struct mem_range in_use[3 + BOOT_MAX_MODULES];
    unsigned n = 0;
    in_use[n++] = (struct mem_range){ 0, LOW_MEMORY_END, MEM_RESERVED };
    in_use[n++] = (struct mem_range){ (uintptr_t)__kernel_start, (uintptr_t)__kernel_end - (uintptr_t)__kernel_start,
                                      MEM_RESERVED };
    in_use[n++] = (struct mem_range){ bi->info_start, bi->info_end - bi->info_start, MEM_RESERVED };
    for (unsigned i = 0; i < bi->module_count; i++)
        in_use[n++] = (struct mem_range){ bi->modules[i].start, bi->modules[i].end - bi->modules[i].start,
                                          MEM_RESERVED };

    uint64_t npages = usable_top / PAGE_SIZE;
    uint64_t bitmap_bytes = ((npages + 63) / 64 * 8 + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    uint64_t bitmap = find_free_span(bi->mem, bi->mem_count, in_use, n, bitmap_bytes, BOOT_ACCESSIBLE_LIMIT);
    if (!bitmap)
        fatal("no room below 4 GiB for the %lu KiB page allocator bitmap", bitmap_bytes >> 10);

    page_alloc_init(&machine_pages, phys_to_virt(bitmap), npages);
    for (unsigned i = 0; i < bi->mem_count; i++)
        if (bi->mem[i].type == MEM_USABLE)
            page_alloc_add_free(&machine_pages, bi->mem[i].base, bi->mem[i].length);
    /* Overlapping map entries happen on real firmware: anything not usable wins. */
    for (unsigned i = 0; i < bi->mem_count; i++)
        if (bi->mem[i].type != MEM_USABLE)
            page_alloc_reserve(&machine_pages, bi->mem[i].base, bi->mem[i].length);
    for (unsigned i = 0; i < n; i++)
        page_alloc_reserve(&machine_pages, in_use[i].base, in_use[i].length);
    page_alloc_reserve(&machine_pages, bitmap, bitmap_bytes);

    log_info("page allocator: %lu free pages (%lu MiB) below 0x%lx, bitmap at 0x%lx", machine_pages.free_pages,
             machine_pages.free_pages >> 8, usable_top, bitmap);
}

uint64_t pages_alloc_aligned(uint64_t count, uint64_t align)
{
    uint64_t flags = spin_lock_irqsave(&machine_pages_lock);
    uint64_t addr = page_alloc_take(&machine_pages, count, align);
    spin_unlock_irqrestore(&machine_pages_lock, flags);
    return addr;
}

uint64_t pages_free_count(void)
{
    return machine_pages.free_pages;
}

uint64_t pages_alloc(uint64_t count)
{
    return pages_alloc_aligned(count, 1);
}

void pages_free(uint64_t addr, uint64_t count)
{
    uint64_t flags = spin_lock_irqsave(&machine_pages_lock);
    int rc = page_alloc_give(&machine_pages, addr, count);
    spin_unlock_irqrestore(&machine_pages_lock, flags);
    if (rc < 0)
        panic("pages_free(0x%lx, %lu): pages not allocated (double free?)", addr, count);
}
