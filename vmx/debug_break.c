/* SPDX-License-Identifier: BSD-2-Clause */
/* Breakpoint matching for accesses mhv performs (see include/vmx/debug_break.h). */
#include "vmx/debug_break.h"

#include "arch/x86/cpu.h"

/* DR7's length field: 1, 2, 8 (64-bit mode; undefined before) or 4 bytes (SDM Vol. 3B 18.2.5). */
static const unsigned length_of[4] = { 1, 2, 8, 4 };

/* DR0-DR3: the guest's, in this CPU's registers while its vCPU is loaded (vmx/vcpu.c). */
static uint64_t breakpoint_address(unsigned n)
{
    switch (n) {
    case 0: return read_dr0();
    case 1: return read_dr1();
    case 2: return read_dr2();
    default: return read_dr3();
    }
}

unsigned debug_breakpoints_hit(struct vcpu *v, uint64_t dr7, uint64_t addr, unsigned len, enum debug_access a)
{
    unsigned hits = 0;
    for (unsigned n = 0; n < 4; n++) {
        if (!(dr7 >> (2 * n) & 3)) /* L and G both clear: disabled */
            continue;
        unsigned rw = (dr7 >> (16 + 4 * n)) & 3, size = length_of[(dr7 >> (18 + 4 * n)) & 3];
        bool kind = a == DEBUG_IO ? rw == 2 && (v->cr4 & CR4_DE) : a == DEBUG_WRITE ? rw == 1 || rw == 3 : rw == 3;
        if (!kind)
            continue;
        /* The breakpoint covers size bytes at its address aligned down to size (18.2.5). */
        uint64_t start = breakpoint_address(n) & ~(uint64_t)(size - 1);
        if (addr < start + size && start < addr + len)
            hits |= 1u << n;
    }
    return hits;
}
