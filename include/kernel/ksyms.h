/* SPDX-License-Identifier: BSD-2-Clause */
/* Kernel symbol table for stack traces, generated at link time (tools/gen-ksyms). */
#ifndef MHV_KERNEL_KSYMS_H
#define MHV_KERNEL_KSYMS_H

#include <stdint.h>

struct ksym {
    uint64_t addr;
    const char *name;
};

/* Sorted by address; the build links a second time with the real table. */
extern const struct ksym ksyms_table[];
extern const unsigned ksyms_count;

/* Name of the function containing addr and the offset into it, or NULL. */
const char *ksym_lookup(uint64_t addr, uint64_t *offset);

#endif
