/* SPDX-License-Identifier: BSD-2-Clause */
/* Arithmetic and status flags of the emulated instructions (see include/vmx/alu.h). */
#include "vmx/alu.h"

static uint64_t sign_bit(unsigned size)
{
    return 1ull << (8 * size - 1);
}

static uint64_t sext(uint64_t v, unsigned size)
{
    if (size >= 8)
        return v;
    uint64_t s = sign_bit(size);
    v &= size_mask(size);
    return (v ^ s) - s;
}

/* PF: set when the low byte of the result has an even number of 1 bits (SDM Vol. 1 3.4.3.1). */
static bool parity_even(uint64_t r)
{
    unsigned b = (unsigned)(r & 0xff);
    b ^= b >> 4;
    b ^= b >> 2;
    b ^= b >> 1;
    return !(b & 1);
}

/* Replaces the flags in `which` with those set in `set`. */
static void put_flags(uint64_t *rflags, uint64_t which, uint64_t set)
{
    *rflags = (*rflags & ~which) | (set & which);
}

/* SF, ZF and PF of a result. */
static uint64_t szp(uint64_t r, unsigned size)
{
    r &= size_mask(size);
    return (r & sign_bit(size) ? RFLAGS_SF : 0) | (r ? 0 : RFLAGS_ZF) | (parity_even(r) ? RFLAGS_PF : 0);
}

/* a + b + carry_in, every flag. The carry out of the top bit is the majority of its inputs
 * (a, b and the carry into it, a ^ b ^ r); OF when both inputs have a sign the result lacks. */
static uint64_t add(unsigned size, uint64_t a, uint64_t b, unsigned carry_in, uint64_t *flags)
{
    uint64_t m = size_mask(size), r = (a + b + carry_in) & m, s = sign_bit(size);
    a &= m, b &= m;
    uint64_t carries = (a & b) | ((a | b) & ~r);
    *flags = szp(r, size) | (carries & s ? RFLAGS_CF : 0) | (((a ^ r) & (b ^ r)) & s ? RFLAGS_OF : 0) |
             ((a ^ b ^ r) & 0x10 ? RFLAGS_AF : 0);
    return r;
}

/* a - b - borrow_in: CF is the borrow out of the top bit, OF when a and b differ in sign and
 * the result's sign is b's. */
static uint64_t sub(unsigned size, uint64_t a, uint64_t b, unsigned borrow_in, uint64_t *flags)
{
    uint64_t m = size_mask(size), r = (a - b - borrow_in) & m, s = sign_bit(size);
    a &= m, b &= m;
    uint64_t borrows = (~a & b) | ((~a | b) & r);
    *flags = szp(r, size) | (borrows & s ? RFLAGS_CF : 0) | (((a ^ b) & (a ^ r)) & s ? RFLAGS_OF : 0) |
             ((a ^ b ^ r) & 0x10 ? RFLAGS_AF : 0);
    return r;
}

uint64_t alu_op(unsigned op, unsigned size, uint64_t dst, uint64_t src, uint64_t *rflags)
{
    uint64_t m = size_mask(size), f, r;
    unsigned cf = *rflags & RFLAGS_CF ? 1 : 0;
    switch (op) {
    case ALU_ADD: case ALU_ADC:
        r = add(size, dst, src, op == ALU_ADC ? cf : 0, &f);
        put_flags(rflags, RFLAGS_ARITH, f);
        return r;
    case ALU_SUB: case ALU_SBB: case ALU_CMP:
        r = sub(size, dst, src, op == ALU_SBB ? cf : 0, &f);
        put_flags(rflags, RFLAGS_ARITH, f);
        return op == ALU_CMP ? dst & m : r;
    case ALU_AND: case ALU_TEST: case ALU_OR: case ALU_XOR:
        /* CF and OF cleared, AF undefined: cleared as on Intel CPUs and Bochs. */
        r = (op == ALU_OR ? dst | src : op == ALU_XOR ? dst ^ src : dst & src) & m;
        put_flags(rflags, RFLAGS_ARITH, szp(r, size));
        return op == ALU_TEST ? dst & m : r;
    case ALU_INC: case ALU_DEC:
        /* CF keeps its value (SDM Vol. 2A INC, DEC). */
        r = op == ALU_INC ? add(size, dst, 1, 0, &f) : sub(size, dst, 1, 0, &f);
        put_flags(rflags, RFLAGS_ARITH & ~RFLAGS_CF, f);
        return r;
    case ALU_NEG:
        /* 0 - dst: CF is set unless dst is 0. */
        r = sub(size, 0, dst, 0, &f);
        put_flags(rflags, RFLAGS_ARITH, f);
        return r;
    case ALU_NOT:
        return ~dst & m;
    case ALU_BT: case ALU_BTS: case ALU_BTR: case ALU_BTC: {
        /* CF = the bit; ZF unaffected; OF, SF, AF, PF undefined (kept). */
        uint64_t bit = 1ull << (src & (8 * size - 1));
        put_flags(rflags, RFLAGS_CF, dst & bit ? RFLAGS_CF : 0);
        r = op == ALU_BTS ? dst | bit : op == ALU_BTR ? dst & ~bit : op == ALU_BTC ? dst ^ bit : dst;
        return r & m;
    }
    case ALU_BSF: case ALU_BSR:
        /* A zero source sets ZF and leaves the destination (SDM says undefined; Intel and AMD
         * CPUs keep it). Otherwise ZF is clear; CF, OF, SF, AF, PF are undefined: as Bochs,
         * those of a logical operation on the index. */
        src &= m;
        if (!src) {
            put_flags(rflags, RFLAGS_ZF, RFLAGS_ZF);
            return dst;
        }
        r = op == ALU_BSF ? (uint64_t)__builtin_ctzll(src) : (uint64_t)(63 - __builtin_clzll(src));
        put_flags(rflags, RFLAGS_ARITH, szp(r, size) & ~RFLAGS_ZF);
        return r;
    default:
        return dst;
    }
}

bool alu_condition(unsigned cc, uint64_t f)
{
    bool cf = f & RFLAGS_CF, zf = f & RFLAGS_ZF, sf = f & RFLAGS_SF, of = f & RFLAGS_OF, pf = f & RFLAGS_PF, v;
    switch (cc >> 1) {
    case 0: v = of; break;                 /* O */
    case 1: v = cf; break;                 /* B */
    case 2: v = zf; break;                 /* E */
    case 3: v = cf || zf; break;           /* BE */
    case 4: v = sf; break;                 /* S */
    case 5: v = pf; break;                 /* P */
    case 6: v = sf != of; break;           /* L */
    default: v = zf || sf != of; break;    /* LE */
    }
    return (cc & 1) ? !v : v;
}

/* The flags of a multiply: CF = OF = overflow into the high half; SF, ZF, PF (undefined) from
 * the low half and AF cleared, as Bochs does. */
static void mul_flags(uint64_t *rflags, unsigned size, uint64_t low, bool overflow)
{
    put_flags(rflags, RFLAGS_ARITH, szp(low, size) | (overflow ? RFLAGS_CF | RFLAGS_OF : 0));
}

uint64_t alu_imul(unsigned size, uint64_t a, uint64_t b, uint64_t *rflags)
{
    uint64_t r;
    bool overflow;
    if (size == 8) {
        __int128 p = (__int128)(int64_t)a * (int64_t)b;
        r = (uint64_t)p;
        overflow = p != (__int128)(int64_t)r;
    } else {
        int64_t p = (int64_t)sext(a, size) * (int64_t)sext(b, size);
        r = (uint64_t)p & size_mask(size);
        overflow = (uint64_t)p != sext(r, size);
    }
    mul_flags(rflags, size, r, overflow);
    return r;
}

/* hi:lo / d with hi < d, so the quotient fits 64 bits: the CPU's own DIV. */
static void udiv128(uint64_t hi, uint64_t lo, uint64_t d, uint64_t *q, uint64_t *r)
{
    __asm__("divq %4" : "=a"(*q), "=d"(*r) : "a"(lo), "d"(hi), "rm"(d) : "cc");
}

bool alu_muldiv(unsigned op, unsigned size, uint64_t src, uint64_t *lo, uint64_t *hi, uint64_t *rflags)
{
    unsigned bits = 8 * size;
    uint64_t m = size_mask(size);
    src &= m;
    /* The accumulator pair as one number: AX for byte operations, else hi:lo. */
    uint64_t a = size == 1 ? *lo & 0xff : *lo & m;
    if (op == ALU_MUL || op == ALU_IMUL) {
        uint64_t low, high;
        bool overflow;
        if (size == 8) {
            unsigned __int128 p = op == ALU_MUL ? (unsigned __int128)a * src
                                                : (unsigned __int128)((__int128)(int64_t)a * (int64_t)src);
            low = (uint64_t)p, high = (uint64_t)(p >> 64);
        } else {
            uint64_t p = op == ALU_MUL ? a * src : (uint64_t)((int64_t)sext(a, size) * (int64_t)sext(src, size));
            low = p & m, high = (p >> bits) & m;
        }
        overflow = op == ALU_MUL ? high != 0 : high != (sext(low, size) >> (bits - 1) & m);
        if (size == 8 && op == ALU_IMUL)
            overflow = high != (uint64_t)((int64_t)low >> 63);
        mul_flags(rflags, size, low, overflow);
        if (size == 1)
            *lo = high << 8 | low;
        else
            *lo = low, *hi = high;
        return true;
    }

    /* DIV, IDIV: #DE for a zero divisor or a quotient too wide for the destination; the
     * flags are undefined (kept). */
    if (!src)
        return false;
    uint64_t dividend_hi = size == 1 ? (*lo >> 8) & 0xff : *hi & m, q, r;
    if (op == ALU_DIV) {
        if (size == 8) {
            if (dividend_hi >= src)
                return false;
            udiv128(dividend_hi, a, src, &q, &r);
        } else {
            uint64_t n = dividend_hi << bits | a;
            q = n / src, r = n % src;
            if (q > m)
                return false;
        }
    } else if (size == 8) {
        bool neg = dividend_hi >> 63, dneg = src >> 63;
        uint64_t nlo = a, nhi = dividend_hi, d = dneg ? -src : src;
        if (neg) { /* the magnitude of the 128-bit dividend */
            nlo = -a;
            nhi = ~dividend_hi + (a == 0);
        }
        if (nhi >= d)
            return false;
        udiv128(nhi, nlo, d, &q, &r);
        if (q > (neg != dneg ? 1ull << 63 : (1ull << 63) - 1))
            return false;
        q = neg != dneg ? -q : q;
        r = neg ? -r : r;
    } else {
        int64_t n = (int64_t)sext(dividend_hi << bits | a, 2 * size), d = (int64_t)sext(src, size);
        if (n == INT64_MIN && d == -1)
            return false;
        int64_t sq = n / d, sr = n % d; /* C truncates toward zero, as IDIV does */
        int64_t lim = (int64_t)1 << (bits - 1);
        if (sq < -lim || sq >= lim)
            return false;
        q = (uint64_t)sq & m, r = (uint64_t)sr & m;
    }
    if (size == 1)
        *lo = (r & 0xff) << 8 | (q & 0xff);
    else
        *lo = q & m, *hi = r & m;
    return true;
}

uint64_t alu_shiftd(unsigned op, unsigned size, uint64_t dst, uint64_t src, unsigned count, uint64_t *rflags)
{
    unsigned bits = 8 * size;
    uint64_t m = size_mask(size), r;
    bool cf;
    dst &= m, src &= m;
    if (!count)
        return dst;
    if (size == 2) {
        /* 16-bit operands: counts above 16 are undefined; shifting dst:src:dst as one 48-bit
         * value gives what Intel CPUs give, and the usual result for the others. */
        uint64_t v = dst << 32 | src << 16 | dst;
        if (op == ALU_SHLD) {
            r = (v << count) >> 32 & m;
            cf = (v >> (48 - count)) & 1;
        } else {
            r = (v >> count) & m;
            cf = (v >> (count - 1)) & 1;
        }
    } else if (op == ALU_SHLD) {
        r = (dst << count | src >> (bits - count)) & m;
        cf = (dst >> (bits - count)) & 1;
    } else {
        r = (dst >> count | src << (bits - count)) & m;
        cf = (dst >> (count - 1)) & 1;
    }
    /* OF is defined for a count of 1 only, as "the sign changed": SHLD's old sign is CF, and
     * SHRD's is the result's next bit. AF undefined: cleared. */
    uint64_t s = sign_bit(size);
    bool of = op == ALU_SHLD ? cf != !!(r & s) : !!(r & s) != !!(r & (s >> 1));
    put_flags(rflags, RFLAGS_ARITH, szp(r, size) | (cf ? RFLAGS_CF : 0) | (of ? RFLAGS_OF : 0));
    return r;
}
