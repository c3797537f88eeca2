/* SPDX-License-Identifier: BSD-2-Clause */
/* Operand distributions (fuzz.h): uniform random numbers almost never hit the values where
 * emulation goes wrong, so most draws come from the corners. */
#include "fuzz.h"

uint64_t fz_value(struct fuzz_op *op)
{
    uint64_t r = fz_next(op);
    switch (fz_below(op, 16)) {
    case 0: return 0;
    case 1: return ~0ull;
    case 2: return 1ull << fz_below(op, 64);                 /* one bit */
    case 3: return ~(1ull << fz_below(op, 64));              /* all bits but one */
    case 4: return fz_below(op, 256);                        /* small */
    case 5: return (uint8_t)r;
    case 6: return (uint16_t)r;
    case 7: return (uint32_t)r;
    case 8: return 0x80000000ull | (r & 1);                  /* 32-bit sign boundary */
    case 9: return 0x8000000000000000ull | (r & 1);          /* 64-bit sign boundary */
    case 10: return 0x0000800000000000ull | (r & 0xfff);     /* first non-canonical address */
    case 11: return 0xffff7fffffffffffull - (r & 0xfff);     /* last non-canonical address */
    case 12: return 0x00007ffffffff000ull | (r & 0xfff);     /* last canonical page */
    case 13: return (uint64_t)(int64_t)(int32_t)r;          /* sign-extended 32-bit */
    case 14: return r & (r >> 7) & (r >> 13);                /* sparse */
    default: return r;
    }
}

uint8_t fz_vector(struct fuzz_op *op)
{
    if (fz_chance(op, 3))
        return (uint8_t)fz_below(op, 16); /* illegal: refused by the APIC */
    return (uint8_t)fz_range(op, 0x20, 0xfe);
}
