/* SPDX-License-Identifier: BSD-2-Clause */
/* Segment limit, type and canonical-address checks (see include/vmx/segment.h). */
#include "vmx/segment.h"

#define VEC_SS 12
#define VEC_GP 13

bool linear_is_canonical(uint64_t linear, unsigned va_bits)
{
    int64_t x = (int64_t)(linear << (64 - va_bits)) >> (64 - va_bits);
    return (uint64_t)x == linear;
}

int segment_linear(const struct vmx_segment *s, unsigned seg, enum seg_addressing mode, unsigned va_bits,
                   uint64_t offset, unsigned size, enum seg_access access, uint64_t *linear)
{
    int fault = seg == SEG_SS ? VEC_SS : VEC_GP;
    uint64_t last = size ? size - 1 : 0;
    if (mode == SEG_ADDR_64) {
        /* Only FS and GS keep a base; no limits or types (SDM Vol. 3A 3.2.4). Both ends of the
         * access must be canonical (Vol. 1 3.3.7.1). */
        uint64_t base = seg == SEG_FS || seg == SEG_GS ? s->base : 0;
        *linear = base + offset;
        if (!linear_is_canonical(*linear, va_bits) || !linear_is_canonical(*linear + last, va_bits))
            return fault;
        return 0;
    }
    uint32_t ar = s->access, type = SEG_AR_TYPE(ar);
    if (mode == SEG_ADDR_PROTECTED) {
        /* A null selector leaves the register unusable; code segments are never writable and
         * read only when readable; data segments written only when writable (5.x, 6.4). */
        if (ar & SEG_AR_UNUSABLE)
            return fault;
        if (access == SEG_WRITE && ((type & SEG_TYPE_CODE) || !(type & SEG_TYPE_RW)))
            return fault;
        if (access == SEG_READ && (type & SEG_TYPE_CODE) && !(type & SEG_TYPE_RW))
            return fault;
    }
    uint64_t limit = s->limit;
    if (!(type & SEG_TYPE_CODE) && (type & SEG_TYPE_DOWN_CONF)) {
        /* Expand-down: valid offsets lie above the limit, up to 0xffff or, with B set,
         * 0xffffffff (SDM Vol. 3A 3.4.5.1). */
        uint64_t upper = (ar & SEG_AR_DB) ? 0xffffffffull : 0xffffull;
        if (offset <= limit || offset > upper || last > upper - offset)
            return fault;
    } else if (offset > limit || last > limit - offset) {
        return fault;
    }
    *linear = (s->base + offset) & 0xffffffffull;
    return 0;
}

void segment_from_descriptor(uint64_t d, uint16_t selector, struct vmx_segment *s)
{
    uint32_t limit = (uint32_t)(d & 0xffff) | (uint32_t)((d >> 32) & 0xf0000);
    s->selector = selector;
    s->base = ((d >> 16) & 0xffffff) | (((d >> 56) & 0xff) << 24);
    s->access = (uint32_t)((d >> 40) & 0xff) | (uint32_t)(((d >> 52) & 0xf) << 12);
    s->limit = (s->access & SEG_AR_G) ? (limit << 12) | 0xfff : limit;
}
