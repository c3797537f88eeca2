/* SPDX-License-Identifier: BSD-2-Clause */
/* 4-level paging (SDM Vol. 3A 5.5 "4-Level Paging and 5-Level Paging"). */
#include "arch/x86/paging.h"

#include <stdbool.h>

#include "arch/x86/cpu.h"
#include "arch/x86/msr.h"
#include "kernel/log.h"
#include "kernel/page_alloc.h"
#include "kernel/panic.h"
#include "lib/string.h"

#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_PS (1ull << 7)
#define PTE_NX (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull

#define SIZE_4K (1ull << 12)
#define SIZE_2M (1ull << 21)
#define SIZE_1G (1ull << 30)

uint64_t paging_mapped_top;

extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern char __data_start[], __kernel_end[];
extern char boot_stack_guard[];

static uint64_t *pml4;
static bool has_1g_pages, has_nx;

static uint64_t *new_table(void)
{
    uint64_t pa = pages_alloc(1);
    /* Tables must be reachable through the boot map (first 4 GiB) while we build them. */
    if (!pa || pa >= (4ull << 30))
        fatal("out of memory below 4 GiB for page tables");
    uint64_t *t = phys_to_virt(pa);
    memset(t, 0, PAGE_SIZE);
    return t;
}

/* Returns the next-level table behind entry e, creating it when absent. */
static uint64_t *next_table(uint64_t *e)
{
    if (!(*e & PTE_P))
        *e = virt_to_phys(new_table()) | PTE_P | PTE_RW; /* leaves decide the real rights */
    ASSERT(!(*e & PTE_PS));
    return phys_to_virt(*e & PTE_ADDR);
}

/* Maps one page of `size` (4K, 2M or 1G) at identity address addr. */
static void map_page(uint64_t addr, uint64_t size, uint64_t flags)
{
    if (!has_nx)
        flags &= ~PTE_NX;
    uint64_t *pdpt = next_table(&pml4[(addr >> 39) & 511]);
    uint64_t *e = &pdpt[(addr >> 30) & 511];
    if (size == SIZE_1G) {
        *e = addr | flags | PTE_PS;
        return;
    }
    uint64_t *pd = next_table(e);
    e = &pd[(addr >> 21) & 511];
    if (size == SIZE_2M) {
        *e = addr | flags | PTE_PS;
        return;
    }
    uint64_t *pt = next_table(e);
    pt[(addr >> 12) & 511] = addr | flags;
}

/* Identity-maps [start, end) (4 KiB aligned) with the largest pages that fit. */
static void map_range(uint64_t start, uint64_t end, uint64_t flags)
{
    while (start < end) {
        uint64_t size = SIZE_4K;
        if (has_1g_pages && !(start & (SIZE_1G - 1)) && end - start >= SIZE_1G)
            size = SIZE_1G;
        else if (!(start & (SIZE_2M - 1)) && end - start >= SIZE_2M)
            size = SIZE_2M;
        map_page(start, size, flags);
        start += size;
    }
}

/* Replaces the large page behind entry *e (of `size`) by a table of 512 pages of size / 512 with
 * the same rights. Only P, RW and NX are carried over: mhv sets no other attribute (and PAT sits
 * at bit 12 in large entries but bit 7 in 4 KiB ones). */
static void split_large_page(uint64_t *e, uint64_t size)
{
    uint64_t base = *e & PTE_ADDR & ~(size - 1);
    uint64_t flags = *e & (PTE_P | PTE_RW | PTE_NX);
    uint64_t child = size / 512;
    uint64_t *t = new_table();
    for (int i = 0; i < 512; i++)
        t[i] = (base + i * child) | flags | (child > SIZE_4K ? PTE_PS : 0);
    *e = virt_to_phys(t) | PTE_P | PTE_RW;
}

/* The 4 KiB entry mapping addr, splitting 1 GiB and 2 MiB pages on the way. */
static uint64_t *pte_for(uint64_t addr)
{
    ASSERT(addr < paging_mapped_top && !(addr & (SIZE_4K - 1)));
    uint64_t *e = &pml4[(addr >> 39) & 511];
    uint64_t sizes[] = { SIZE_1G, SIZE_2M };
    int shifts[] = { 30, 21 };
    for (int level = 0; level < 2; level++) {
        uint64_t *table = phys_to_virt(*e & PTE_ADDR);
        e = &table[(addr >> shifts[level]) & 511];
        if (*e & PTE_PS)
            split_large_page(e, sizes[level]);
    }
    uint64_t *pt = phys_to_virt(*e & PTE_ADDR);
    return &pt[(addr >> 12) & 511];
}

static void flush_this_cpu(void)
{
    write_cr3(read_cr3()); /* also drops entries of the large page just split */
}

void paging_unmap_page(uint64_t addr)
{
    *pte_for(addr) = 0;
    flush_this_cpu();
}

void paging_set_page(uint64_t addr, enum page_rights rights)
{
    uint64_t flags = PTE_P | (rights == PAGE_RW ? PTE_RW | PTE_NX : rights == PAGE_RWX ? PTE_RW : PTE_NX);
    if (!has_nx)
        flags &= ~PTE_NX;
    *pte_for(addr) = addr | flags;
    flush_this_cpu();
}

void paging_init(uint64_t ram_top)
{
    has_1g_pages = cpuid(0x80000001, 0).edx & (1u << 26); /* CPUID Page1GB */
    has_nx = rdmsr(MSR_IA32_EFER) & EFER_NXE;            /* boot/entry.asm set it if supported */
    pml4 = new_table();

    uint64_t text = (uintptr_t)__text_start, text_end = (uintptr_t)__text_end;
    uint64_t ro = (uintptr_t)__rodata_start, ro_end = (uintptr_t)__rodata_end;
    uint64_t data = (uintptr_t)__data_start, image_end = (uintptr_t)__kernel_end;
    uint64_t guard = (uintptr_t)boot_stack_guard;
    uint64_t top = ram_top > (4ull << 30) ? ram_top : (4ull << 30); /* MMIO lives below 4 GiB */
    top = (top + SIZE_2M - 1) & ~(SIZE_2M - 1);

    map_range(SIZE_4K, text, PTE_P | PTE_RW | PTE_NX); /* page 0 stays unmapped */
    map_range(text, text_end, PTE_P);
    map_range(ro, ro_end, PTE_P | PTE_NX);
    map_range(data, guard, PTE_P | PTE_RW | PTE_NX); /* the guard page stays unmapped */
    map_range(guard + SIZE_4K, image_end, PTE_P | PTE_RW | PTE_NX);
    map_range(image_end, top, PTE_P | PTE_RW | PTE_NX);

    /* Caching: PAT is left at its power-on default (WB for these entries); the firmware's
     * MTRRs make the MMIO holes below 4 GiB uncacheable (SDM Vol. 3A 13.5.2.2). */
    write_cr3(virt_to_phys(pml4));
    write_cr0(read_cr0() | CR0_WP); /* supervisor writes honour read-only pages */
    paging_mapped_top = top;
    log_info("paging: identity map of %lu MiB, %s pages, NX %s; text RX, rodata R, data RW", top >> 20,
             has_1g_pages ? "1 GiB" : "2 MiB", has_nx ? "on" : "unavailable");
}
