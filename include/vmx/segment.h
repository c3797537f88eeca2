/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Segmentation as the CPU applies it to a memory access (SDM Vol. 3A 3.4 and 5.x "Protection":
 * limit checks 6.3, type checks 6.4; Vol. 1 3.3.7 canonical addresses in 64-bit mode), on the
 * segment registers' cached descriptors in the VMCS format (include/vmx/guest_check.h). Pure:
 * host tests use it as it is.
 */
#ifndef MHV_VMX_SEGMENT_H
#define MHV_VMX_SEGMENT_H

#include <stdbool.h>
#include <stdint.h>

#include "vmx/guest_check.h"

/* Access-rights bits of the VMCS format (SDM Vol. 3C 25.4.1, table 25-2). */
#define SEG_AR_TYPE(a) ((a) & 0xfu)
#define SEG_AR_S (1u << 4)
#define SEG_AR_DPL(a) (((a) >> 5) & 3u)
#define SEG_AR_P (1u << 7)
#define SEG_AR_L (1u << 13)
#define SEG_AR_DB (1u << 14)
#define SEG_AR_G (1u << 15)
#define SEG_AR_UNUSABLE (1u << 16)
/* Type bits of a code or data segment (S = 1). */
#define SEG_TYPE_ACCESSED 1u
#define SEG_TYPE_RW 2u          /* data: writable; code: readable */
#define SEG_TYPE_DOWN_CONF 4u   /* data: expand-down; code: conforming */
#define SEG_TYPE_CODE 8u

/* How addresses are formed: real-address and virtual-8086 mode check limits only; protected
 * (and compatibility) mode also the segment's type; 64-bit mode neither, but canonical form. */
enum seg_addressing { SEG_ADDR_REAL, SEG_ADDR_PROTECTED, SEG_ADDR_64 };

enum seg_access { SEG_READ, SEG_WRITE, SEG_FETCH };

/* The linear address of an access of `size` bytes at `offset` (already truncated to the
 * address size) through segment `seg` (SEG_ES..SEG_GS) whose cache is s. Returns 0, or the
 * vector the CPU raises with error code 0: 12 (#SS) for SS, 13 (#GP) otherwise. va_bits is
 * the width of canonical addresses in 64-bit mode (48, or 57 with 5-level paging). */
int segment_linear(const struct vmx_segment *s, unsigned seg, enum seg_addressing mode, unsigned va_bits,
                   uint64_t offset, unsigned size, enum seg_access access, uint64_t *linear);

/* Whether linear is canonical for va_bits-wide linear addresses. */
bool linear_is_canonical(uint64_t linear, unsigned va_bits);

/* A code, data or system-segment descriptor (8 bytes as in the GDT, SDM Vol. 3A 3.4.5) as the
 * VMCS caches it: base, limit scaled by G, access rights (not marked unusable). */
void segment_from_descriptor(uint64_t descriptor, uint16_t selector, struct vmx_segment *s);

#endif
