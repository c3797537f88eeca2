/* SPDX-License-Identifier: BSD-2-Clause */
/* The runtime's page tables (desc.h): like the ones mhv builds for a 64-bit guest (README "Entry
 * state"), but with the user bit at every level, so try_user() can run code at CPL 3, and in
 * the image's .bss, so a guest owns them. 4-level paging, 2 MiB pages (SDM Vol. 3A 5.5). */
#include "desc.h"

#define PTE_P (1ull << 0)
#define PTE_W (1ull << 1)
#define PTE_U (1ull << 2)
#define PTE_PS (1ull << 7)

static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd[4][512] __attribute__((aligned(4096)));

void rt_paging_init(void)
{
    pml4[0] = (uint64_t)(uintptr_t)pdpt | PTE_P | PTE_W | PTE_U;
    for (uint64_t i = 0; i < 4; i++) {
        pdpt[i] = (uint64_t)(uintptr_t)pd[i] | PTE_P | PTE_W | PTE_U;
        for (uint64_t j = 0; j < 512; j++)
            pd[i][j] = ((i * 512 + j) << 21) | PTE_P | PTE_W | PTE_U | PTE_PS;
    }
}

uint64_t rt_page_table_root(void) { return (uint64_t)(uintptr_t)pml4; }
