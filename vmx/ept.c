/* SPDX-License-Identifier: BSD-2-Clause */
/* EPT construction (SDM Vol. 3C 30.3.2 "EPT Translation Mechanism", 30.3.7 memory typing). */
#include "vmx/ept.h"

#include "kernel/page_alloc.h"
#include "lib/string.h"
#include "vm/vm.h"
#include "vmx/caps.h"
#include "vmx/preflight.h"

#define EPT_READ (1ull << 0)
#define EPT_WRITE (1ull << 1)
#define EPT_EXEC (1ull << 2)
#define EPT_RWX (EPT_READ | EPT_WRITE | EPT_EXEC)
#define EPT_MEMTYPE_WB (6ull << 3) /* leaf entries: the memory type of the page */
#define EPT_LEAF_LARGE (1ull << 7)
#define EPT_ADDR 0x000ffffffffff000ull

#define EPTP_WB 6ull
#define EPTP_WALK_4 (3ull << 3) /* page-walk length minus one */
#define EPTP_AD (1ull << 6)

#define SIZE_4K (1ull << 12)
#define SIZE_2M (1ull << 21)
#define SIZE_1G (1ull << 30)

static uint64_t *new_table(void)
{
    uint64_t pa = pages_alloc(1);
    if (!pa)
        return NULL;
    memset(phys_to_virt(pa), 0, PAGE_SIZE);
    return phys_to_virt(pa);
}

int ept_init(struct vm *vm)
{
    uint64_t *root = new_table();
    if (!root)
        return -1;
    vm->ept_root = virt_to_phys(root);
    vm->eptp = vm->ept_root | EPTP_WB | EPTP_WALK_4 |
               (vmx_ept_cap(&vmx_boot_caps, EPT_CAP_AD) ? EPTP_AD : 0);
    return 0;
}

/* The table behind *e, created on first use. Non-leaf entries grant everything; the leaves
 * decide (SDM 30.3.3: access needs every level's permission). */
static uint64_t *next_level(uint64_t *e)
{
    if (!(*e & EPT_RWX)) {
        uint64_t *t = new_table();
        if (!t)
            return NULL;
        *e = virt_to_phys(t) | EPT_RWX;
    }
    return phys_to_virt(*e & EPT_ADDR);
}

static int map_page(struct vm *vm, uint64_t gpa, uint64_t hpa, uint64_t size)
{
    uint64_t *t = phys_to_virt(vm->ept_root);
    int shift = 39;
    uint64_t leaf = hpa | EPT_RWX | EPT_MEMTYPE_WB;
    for (;;) {
        uint64_t *e = &t[(gpa >> shift) & 511];
        if ((1ull << shift) == size) {
            *e = leaf | (size > SIZE_4K ? EPT_LEAF_LARGE : 0);
            return 0;
        }
        t = next_level(e);
        if (!t)
            return -1;
        shift -= 9;
    }
}

int ept_map(struct vm *vm, uint64_t gpa, uint64_t hpa, uint64_t size)
{
    bool has_1g = vmx_ept_cap(&vmx_boot_caps, EPT_CAP_1G), has_2m = vmx_ept_cap(&vmx_boot_caps, EPT_CAP_2M);
    while (size) {
        uint64_t page = SIZE_4K;
        if (has_1g && !((gpa | hpa) & (SIZE_1G - 1)) && size >= SIZE_1G)
            page = SIZE_1G;
        else if (has_2m && !((gpa | hpa) & (SIZE_2M - 1)) && size >= SIZE_2M)
            page = SIZE_2M;
        if (map_page(vm, gpa, hpa, page) < 0)
            return -1;
        gpa += page, hpa += page, size -= page;
    }
    return 0;
}
