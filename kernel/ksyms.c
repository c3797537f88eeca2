/* SPDX-License-Identifier: BSD-2-Clause */
/* Symbol lookup for stack traces: binary search in the generated, sorted table. */
#include "kernel/ksyms.h"

#include <stddef.h>

extern char __text_start[], __text_end[];

const char *ksym_lookup(uint64_t addr, uint64_t *offset)
{
    if (!ksyms_count || addr < (uint64_t)(uintptr_t)__text_start || addr >= (uint64_t)(uintptr_t)__text_end)
        return NULL;
    unsigned lo = 0, hi = ksyms_count; /* find the last entry with entry.addr <= addr */
    while (hi - lo > 1) {
        unsigned mid = lo + (hi - lo) / 2;
        if (ksyms_table[mid].addr <= addr)
            lo = mid;
        else
            hi = mid;
    }
    if (ksyms_table[lo].addr > addr)
        return NULL;
    *offset = addr - ksyms_table[lo].addr;
    return ksyms_table[lo].name;
}
