/* SPDX-License-Identifier: BSD-2-Clause */
// sources: vmx/emulate.c vmx/alu.c vmx/decode.c vmx/decode_opcodes.c
/* The MMIO instruction executor and its arithmetic. vmx/alu.c is compared with the host CPU
 * executing the same instruction (inline assembly) on a table of edge operands, in every
 * operand size, with the arithmetic flags all clear and all set beforehand; only what the SDM
 * defines is compared (each instruction's "Flags Affected": the host may be Intel or AMD, which
 * differ in the undefined flags), and "unaffected" flags must keep their value. emulate_insn()
 * runs decoded instructions on a flat fake memory: REP string batches (EMU_AGAIN), a fault in
 * the middle of a REP leaving the registers as the CPU would, XCHG, CMPXCHG (checked against
 * the host too) and the locked forms. */
#include "stubs.h"

#include <string.h>

#include "vmx/alu.h"
#include "vmx/decode.h"
#include "vmx/emulate.h"
#include "vmx/guest_check.h"

#define BYTES(...) (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ })

/* --- The host CPU ------------------------------------------------------------------------ */

/* Runs `insn` with RFLAGS = *fl and stores RFLAGS after it in *fl. The stack pointer moves
 * below the red zone first (the test is built without -mno-red-zone), so operands are
 * registers, never memory (which the compiler may address through RSP). */
#define HOST_FLAGS_BEGIN "lea -128(%%rsp), %%rsp\n\tpushq %[f]\n\tpopfq\n\t"
#define HOST_FLAGS_END "\n\tpushfq\n\tpopq %[f]\n\tlea 128(%%rsp), %%rsp"

/* dst op= src, both registers of the operand's type. */
#define HOST_BINARY(name, insn, type)                                                         \
    static uint64_t name(uint64_t d, uint64_t s, uint64_t *fl)                               \
    {                                                                                        \
        type dd = (type)d, ss = (type)s;                                                     \
        uint64_t f = *fl;                                                                    \
        __asm__(HOST_FLAGS_BEGIN insn " %[s], %[d]" HOST_FLAGS_END                           \
                : [d] "+r"(dd), [f] "+r"(f) : [s] "r"(ss) : "cc", "memory");                 \
        *fl = f;                                                                             \
        return (uint64_t)dd;                                                                 \
    }
#define HOST_UNARY(name, insn, type)                                                          \
    static uint64_t name(uint64_t d, uint64_t s, uint64_t *fl)                               \
    {                                                                                        \
        (void)s;                                                                             \
        type dd = (type)d;                                                                   \
        uint64_t f = *fl;                                                                    \
        __asm__(HOST_FLAGS_BEGIN insn " %[d]" HOST_FLAGS_END                                 \
                : [d] "+r"(dd), [f] "+r"(f) : : "cc", "memory");                             \
        *fl = f;                                                                             \
        return (uint64_t)dd;                                                                 \
    }
#define HOST_ALL_SIZES(kind, op, insn)                                                        \
    kind(host_##op##_1, insn, uint8_t) kind(host_##op##_2, insn, uint16_t)                    \
    kind(host_##op##_4, insn, uint32_t) kind(host_##op##_8, insn, uint64_t)
#define HOST_WIDE_SIZES(kind, op, insn)                                                       \
    kind(host_##op##_2, insn, uint16_t) kind(host_##op##_4, insn, uint32_t)                   \
    kind(host_##op##_8, insn, uint64_t)

HOST_ALL_SIZES(HOST_BINARY, add, "add")
HOST_ALL_SIZES(HOST_BINARY, or, "or")
HOST_ALL_SIZES(HOST_BINARY, adc, "adc")
HOST_ALL_SIZES(HOST_BINARY, sbb, "sbb")
HOST_ALL_SIZES(HOST_BINARY, and, "and")
HOST_ALL_SIZES(HOST_BINARY, sub, "sub")
HOST_ALL_SIZES(HOST_BINARY, xor, "xor")
HOST_ALL_SIZES(HOST_BINARY, cmp, "cmp")
HOST_ALL_SIZES(HOST_BINARY, test, "test")
HOST_ALL_SIZES(HOST_UNARY, inc, "inc")
HOST_ALL_SIZES(HOST_UNARY, dec, "dec")
HOST_ALL_SIZES(HOST_UNARY, not, "not")
HOST_ALL_SIZES(HOST_UNARY, neg, "neg")
HOST_WIDE_SIZES(HOST_BINARY, bt, "bt")
HOST_WIDE_SIZES(HOST_BINARY, bts, "bts")
HOST_WIDE_SIZES(HOST_BINARY, btr, "btr")
HOST_WIDE_SIZES(HOST_BINARY, btc, "btc")
HOST_WIDE_SIZES(HOST_BINARY, bsf, "bsf")
HOST_WIDE_SIZES(HOST_BINARY, bsr, "bsr")
HOST_WIDE_SIZES(HOST_BINARY, imul2, "imul")

typedef uint64_t (*host_fn)(uint64_t d, uint64_t s, uint64_t *fl);

/* One-operand MUL/IMUL/DIV/IDIV: *lo, *hi as alu_muldiv takes them (byte forms: AX in *lo). */
#define HOST_MULDIV(name, insn, type, suffix)                                                 \
    static void name(uint64_t src, uint64_t *lo, uint64_t *hi, uint64_t *fl)                 \
    {                                                                                        \
        uint64_t a = *lo, d = *hi, f = *fl;                                                  \
        type s = (type)src;                                                                  \
        __asm__(HOST_FLAGS_BEGIN insn suffix " %[s]" HOST_FLAGS_END                          \
                : "+a"(a), "+d"(d), [f] "+r"(f) : [s] "r"(s) : "cc", "memory");              \
        *lo = a, *hi = d, *fl = f;                                                           \
    }
#define HOST_MULDIV_SIZES(op, insn)                                                           \
    HOST_MULDIV(host_##op##_1, insn, uint8_t, "b") HOST_MULDIV(host_##op##_2, insn, uint16_t, "w") \
    HOST_MULDIV(host_##op##_4, insn, uint32_t, "l") HOST_MULDIV(host_##op##_8, insn, uint64_t, "q")
HOST_MULDIV_SIZES(mul, "mul")
HOST_MULDIV_SIZES(imul1, "imul")
HOST_MULDIV_SIZES(div, "div")
HOST_MULDIV_SIZES(idiv, "idiv")

typedef void (*host_muldiv_fn)(uint64_t src, uint64_t *lo, uint64_t *hi, uint64_t *fl);

/* SHLD/SHRD dst, src, CL. */
#define HOST_SHIFTD(name, insn, type)                                                         \
    static uint64_t name(uint64_t d, uint64_t s, unsigned count, uint64_t *fl)               \
    {                                                                                        \
        type dd = (type)d, ss = (type)s;                                                     \
        uint64_t f = *fl;                                                                    \
        __asm__(HOST_FLAGS_BEGIN insn " %%cl, %[s], %[d]" HOST_FLAGS_END                     \
                : [d] "+r"(dd), [f] "+r"(f) : [s] "r"(ss), "c"((uint8_t)count) : "cc", "memory"); \
        *fl = f;                                                                             \
        return (uint64_t)dd;                                                                 \
    }
HOST_WIDE_SIZES(HOST_SHIFTD, shld, "shld")
HOST_WIDE_SIZES(HOST_SHIFTD, shrd, "shrd")

/* --- Operands ---------------------------------------------------------------------------- */

/* Edges of every width: zero, one, the signs, all ones, the carries out of the low nibble
 * (AF) and each half, alternating bits. Truncated to the operand size where used. */
static const uint64_t edges[] = {
    0, 1, 2, 3, 0xf, 0x10, 0x7f, 0x80, 0x81, 0xfe, 0xff, 0x100, 0x7fff, 0x8000, 0x8001, 0xfffe,
    0xffff, 0x10000, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff, 0x100000000,
    0x7fffffffffffffff, 0x8000000000000000, 0x8000000000000001, 0xfffffffffffffffe,
    0xffffffffffffffff, 0x5555555555555555, 0xaaaaaaaaaaaaaaaa, 0x0123456789abcdef,
    0xfedcba9876543210, 0x00ff00ff00ff00ff, 0x8080808080808080, 0x0f0f0f0f0f0f0f0f,
};
#define EDGES (sizeof(edges) / sizeof(edges[0]))

/* The flags put in before each operation: none, and every arithmetic one (plus bit 1, which
 * is always set). */
static const uint64_t flags_in[] = { 0x2, 0x2 | RFLAGS_ARITH };

static const unsigned sizes[] = { 1, 2, 4, 8 };

static int counted_mismatches;

/* Reports one disagreement with the host (at most a few lines per test) and fails. */
static void mismatch(const char *what, unsigned size, uint64_t d, uint64_t s, uint64_t fin, uint64_t want,
                     uint64_t got, uint64_t want_fl, uint64_t got_fl)
{
    if (counted_mismatches++ < 8)
        print_error("%s size %u dst %#llx src %#llx flags in %#llx: host %#llx flags %#llx, alu %#llx flags %#llx\n",
                    what, size, (unsigned long long)d, (unsigned long long)s, (unsigned long long)fin,
                    (unsigned long long)want, (unsigned long long)want_fl, (unsigned long long)got,
                    (unsigned long long)got_fl);
}

/* Compares alu_op(op) with the host on every pair of edges and both flag states: the result
 * (masked to the size) and the flags in `defined`. mask_src: the source is a bit number (BT*),
 * reduced modulo the width as the executor passes it. */
static void compare_alu(const char *what, unsigned op, const host_fn host[4], const unsigned *only_sizes,
                        unsigned nsizes, uint64_t defined, bool mask_src)
{
    counted_mismatches = 0;
    for (unsigned z = 0; z < nsizes; z++) {
        unsigned size = only_sizes[z], si = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
        uint64_t m = size_mask(size);
        for (unsigned i = 0; i < EDGES; i++)
            for (unsigned j = 0; j < EDGES; j++)
                for (unsigned k = 0; k < 2; k++) {
                    uint64_t d = edges[i] & m, s = edges[j] & m;
                    if (mask_src) /* bit numbers: the register form takes them modulo the width */
                        s &= 8 * size - 1;
                    uint64_t hf = flags_in[k], af = flags_in[k];
                    uint64_t want = host[si](d, s, &hf) & m;
                    uint64_t got = alu_op(op, size, d, s, &af);
                    if (want != got || (hf & defined) != (af & defined))
                        mismatch(what, size, d, s, flags_in[k], want, got, hf & defined, af & defined);
                }
    }
    if (counted_mismatches)
        fail_msg("%s: %d results differ from the host CPU", what, counted_mismatches);
}

#define HOSTS(op) (const host_fn[4]){ host_##op##_1, host_##op##_2, host_##op##_4, host_##op##_8 }
#define WIDE_HOSTS(op) (const host_fn[4]){ NULL, host_##op##_2, host_##op##_4, host_##op##_8 }

static const unsigned wide_sizes[] = { 2, 4, 8 };

/* ADD, OR, ADC, SBB, AND, SUB, XOR, CMP, TEST: every flag but AF after the logical ones
 * (undefined there) is defined. */
static void test_alu_binary(void **state)
{
    (void)state;
    const uint64_t logic = RFLAGS_ARITH & ~RFLAGS_AF;
    compare_alu("add", ALU_ADD, HOSTS(add), sizes, 4, RFLAGS_ARITH, false);
    compare_alu("adc", ALU_ADC, HOSTS(adc), sizes, 4, RFLAGS_ARITH, false);
    compare_alu("sub", ALU_SUB, HOSTS(sub), sizes, 4, RFLAGS_ARITH, false);
    compare_alu("sbb", ALU_SBB, HOSTS(sbb), sizes, 4, RFLAGS_ARITH, false);
    compare_alu("cmp", ALU_CMP, HOSTS(cmp), sizes, 4, RFLAGS_ARITH, false);
    compare_alu("and", ALU_AND, HOSTS(and), sizes, 4, logic, false);
    compare_alu("or", ALU_OR, HOSTS(or), sizes, 4, logic, false);
    compare_alu("xor", ALU_XOR, HOSTS(xor), sizes, 4, logic, false);
    compare_alu("test", ALU_TEST, HOSTS(test), sizes, 4, logic, false);
}

/* INC and DEC keep CF; NOT changes no flag; NEG sets them all. */
static void test_alu_unary(void **state)
{
    (void)state;
    compare_alu("inc", ALU_INC, HOSTS(inc), sizes, 4, RFLAGS_ARITH, false);
    compare_alu("dec", ALU_DEC, HOSTS(dec), sizes, 4, RFLAGS_ARITH, false);
    compare_alu("not", ALU_NOT, HOSTS(not), sizes, 4, RFLAGS_ARITH, false);
    compare_alu("neg", ALU_NEG, HOSTS(neg), sizes, 4, RFLAGS_ARITH, false);
}

/* BT, BTS, BTR, BTC: CF is the bit, ZF unaffected. BSF, BSR: ZF; the destination register is
 * left alone for a zero source (alu_op returns dst then, as Intel and AMD CPUs do). */
static void test_alu_bits(void **state)
{
    (void)state;
    const uint64_t bt = RFLAGS_CF | RFLAGS_ZF;
    compare_alu("bt", ALU_BT, WIDE_HOSTS(bt), wide_sizes, 3, bt, true);
    compare_alu("bts", ALU_BTS, WIDE_HOSTS(bts), wide_sizes, 3, bt, true);
    compare_alu("btr", ALU_BTR, WIDE_HOSTS(btr), wide_sizes, 3, bt, true);
    compare_alu("btc", ALU_BTC, WIDE_HOSTS(btc), wide_sizes, 3, bt, true);
    compare_alu("bsf", ALU_BSF, WIDE_HOSTS(bsf), wide_sizes, 3, RFLAGS_ZF, false);
    compare_alu("bsr", ALU_BSR, WIDE_HOSTS(bsr), wide_sizes, 3, RFLAGS_ZF, false);
}

/* The condition codes against SETcc on the host, for every combination of the flags they read. */
static void test_alu_condition(void **state)
{
    (void)state;
    const uint64_t used[] = { RFLAGS_CF, RFLAGS_PF, RFLAGS_ZF, RFLAGS_SF, RFLAGS_OF };
    for (unsigned combo = 0; combo < 32; combo++) {
        uint64_t fl = 0x2;
        for (unsigned b = 0; b < 5; b++)
            if (combo & (1u << b))
                fl |= used[b];
        uint8_t host[16];
        uint64_t f = fl;
#define SETCC(cc, name)                                                                      \
        __asm__(HOST_FLAGS_BEGIN "set" name " %[r]\n\tlea 128(%%rsp), %%rsp"                 \
                : [r] "=q"(host[cc]) : [f] "r"(f) : "cc", "memory");
        SETCC(0, "o") SETCC(1, "no") SETCC(2, "b") SETCC(3, "nb") SETCC(4, "z") SETCC(5, "nz")
        SETCC(6, "be") SETCC(7, "nbe") SETCC(8, "s") SETCC(9, "ns") SETCC(10, "p") SETCC(11, "np")
        SETCC(12, "l") SETCC(13, "nl") SETCC(14, "le") SETCC(15, "nle")
#undef SETCC
        for (unsigned cc = 0; cc < 16; cc++)
            if (alu_condition(cc, fl) != (host[cc] != 0))
                fail_msg("condition %u with flags %#llx: host %u", cc, (unsigned long long)fl, host[cc]);
    }
}

/* The one-operand multiplies: results and CF/OF (SF, ZF, AF, PF undefined). */
static void test_alu_mul(void **state)
{
    (void)state;
    const host_muldiv_fn mul[4] = { host_mul_1, host_mul_2, host_mul_4, host_mul_8 };
    const host_muldiv_fn imul[4] = { host_imul1_1, host_imul1_2, host_imul1_4, host_imul1_8 };
    const uint64_t defined = RFLAGS_CF | RFLAGS_OF;
    counted_mismatches = 0;
    for (unsigned z = 0; z < 4; z++) {
        unsigned size = sizes[z];
        uint64_t m = size_mask(size), am = size == 1 ? 0xffff : m;
        for (unsigned op = ALU_MUL; op <= ALU_IMUL; op++)
            for (unsigned i = 0; i < EDGES; i++)
                for (unsigned j = 0; j < EDGES; j++) {
                    uint64_t a = edges[i] & m, s = edges[j] & m;
                    uint64_t hlo = a, hhi = 0, hf = flags_in[j & 1], alo = a, ahi = 0, af = hf;
                    (op == ALU_MUL ? mul : imul)[z](s, &hlo, &hhi, &hf);
                    assert_true(alu_muldiv(op, size, s, &alo, &ahi, &af));
                    bool same = (hlo & am) == (alo & am) && (size == 1 || (hhi & m) == (ahi & m));
                    if (!same || (hf & defined) != (af & defined))
                        mismatch(op == ALU_MUL ? "mul" : "imul", size, a, s, flags_in[j & 1],
                                 (hhi & m) << 32 ^ (hlo & am), (ahi & m) << 32 ^ (alo & am), hf & defined,
                                 af & defined);
                }
    }
    /* Two- and three-operand IMUL (alu_imul): the truncated product, CF = OF = overflow. */
    const host_fn imul2[4] = { NULL, host_imul2_2, host_imul2_4, host_imul2_8 };
    for (unsigned z = 1; z < 4; z++) {
        unsigned size = sizes[z];
        uint64_t m = size_mask(size);
        for (unsigned i = 0; i < EDGES; i++)
            for (unsigned j = 0; j < EDGES; j++) {
                uint64_t a = edges[i] & m, b = edges[j] & m, hf = flags_in[i & 1], af = hf;
                uint64_t want = imul2[z](a, b, &hf) & m, got = alu_imul(size, a, b, &af);
                if (want != got || (hf & defined) != (af & defined))
                    mismatch("imul2", size, a, b, flags_in[i & 1], want, got, hf & defined, af & defined);
            }
    }
    if (counted_mismatches)
        fail_msg("%d multiplies differ from the host CPU", counted_mismatches);
}

/* Whether a divide faults (#DE), worked out here independently of vmx/alu.c: the quotient of
 * the double-width dividend must fit the operand. */
static bool divide_faults(bool is_signed, unsigned size, uint64_t lo, uint64_t hi, uint64_t s)
{
    unsigned bits = 8 * size;
    uint64_t m = size_mask(size);
    if (!(s & m))
        return true;
    if (!is_signed) {
        unsigned __int128 n = size == 1 ? (lo & 0xffff) : ((unsigned __int128)(hi & m) << bits) | (lo & m);
        return n / (s & m) > m;
    }
    __int128 n, d;
    if (size == 1) {
        n = (int16_t)lo;
        d = (int8_t)s;
    } else if (size == 8) {
        n = (__int128)(((unsigned __int128)hi << 64) | lo);
        d = (int64_t)s;
        if (hi == (1ull << 63) && lo == 0 && d == -1)
            return true; /* -2^127 / -1: the one quotient __int128 cannot hold either */
    } else {
        uint64_t u = ((hi & m) << bits) | (lo & m);
        n = (int64_t)(u << (64 - 2 * bits)) >> (64 - 2 * bits);
        d = (int64_t)(s << (64 - bits)) >> (64 - bits);
    }
    __int128 q = n / d, lim = (__int128)1 << (bits - 1);
    return q < -lim || q >= lim;
}

/* DIV and IDIV: quotient and remainder against the host where it does not fault, #DE (false,
 * registers untouched) where it does. The flags are undefined. */
static void test_alu_div(void **state)
{
    (void)state;
    const host_muldiv_fn divs[2][4] = { { host_div_1, host_div_2, host_div_4, host_div_8 },
                                        { host_idiv_1, host_idiv_2, host_idiv_4, host_idiv_8 } };
    unsigned faults = 0, runs = 0;
    counted_mismatches = 0;
    for (unsigned z = 0; z < 4; z++) {
        unsigned size = sizes[z];
        uint64_t m = size_mask(size), am = size == 1 ? 0xffff : m;
        for (unsigned sg = 0; sg < 2; sg++)
            for (unsigned i = 0; i < EDGES; i++)
                for (unsigned h = 0; h < EDGES; h += 3)
                    for (unsigned j = 0; j < EDGES; j++) {
                        uint64_t lo = edges[i], hi = edges[h], s = edges[j] & m;
                        if (size == 1)
                            lo = (lo & 0xff) | (hi & 0xff) << 8;
                        uint64_t alo = lo, ahi = hi, af = 0x2;
                        bool ok = alu_muldiv(sg ? ALU_IDIV : ALU_DIV, size, s, &alo, &ahi, &af);
                        if (divide_faults(sg, size, lo, hi, s)) {
                            faults++;
                            if (ok || alo != lo || ahi != hi)
                                mismatch(sg ? "idiv (#DE)" : "div (#DE)", size, hi << 32 ^ lo, s, 0, 0, alo, 0, 0);
                            continue;
                        }
                        runs++;
                        uint64_t hlo = lo, hhi = hi, hf = 0x2;
                        divs[sg][z](s, &hlo, &hhi, &hf);
                        if (!ok || (hlo & am) != (alo & am) || (size != 1 && (hhi & m) != (ahi & m)))
                            mismatch(sg ? "idiv" : "div", size, hi << 32 ^ lo, s, 0, (hhi & m) << 32 ^ (hlo & am),
                                     (ahi & m) << 32 ^ (alo & am), 0, 0);
                    }
    }
    assert_true(faults > 100 && runs > 1000); /* both kinds were exercised */
    if (counted_mismatches)
        fail_msg("%d divides differ from the host CPU", counted_mismatches);
}

/* SHLD, SHRD with every count the emulator passes (1-31, or 1-63 for 64-bit operands; counts
 * above 16 on 16-bit operands give undefined results and are left out): result, CF, SF, ZF, PF,
 * and OF for a count of 1. A count of 0 changes nothing. */
static void test_alu_shiftd(void **state)
{
    (void)state;
    uint64_t (*const hosts[2][4])(uint64_t, uint64_t, unsigned, uint64_t *) = {
        { NULL, host_shld_2, host_shld_4, host_shld_8 }, { NULL, host_shrd_2, host_shrd_4, host_shrd_8 } };
    counted_mismatches = 0;
    for (unsigned z = 1; z < 4; z++) {
        unsigned size = sizes[z], max = size == 2 ? 16 : size == 4 ? 31 : 63;
        uint64_t m = size_mask(size);
        for (unsigned sh = 0; sh < 2; sh++)
            for (unsigned count = 0; count <= max; count++)
                for (unsigned i = 0; i < EDGES; i += 2)
                    for (unsigned j = 1; j < EDGES; j += 2) {
                        uint64_t d = edges[i] & m, s = edges[j] & m, hf = flags_in[count & 1], af = hf;
                        uint64_t defined = RFLAGS_CF | RFLAGS_SF | RFLAGS_ZF | RFLAGS_PF | (count == 1 ? RFLAGS_OF : 0);
                        if (!count)
                            defined = RFLAGS_ARITH;
                        uint64_t want = hosts[sh][z](d, s, count, &hf) & m;
                        uint64_t got = alu_shiftd(sh ? ALU_SHRD : ALU_SHLD, size, d, s, count, &af);
                        if (want != got || (hf & defined) != (af & defined))
                            mismatch(sh ? "shrd" : "shld", size, d, s | (uint64_t)count << 56, flags_in[count & 1],
                                     want, got, hf & defined, af & defined);
                    }
    }
    if (counted_mismatches)
        fail_msg("%d double shifts differ from the host CPU", counted_mismatches);
}

/* --- The executor on a flat memory ------------------------------------------------------- */

/* Offsets [fault_from, fault_to) raise #PF (write accesses only, when fault_writes). */
struct flat {
    struct emu e;
    uint8_t mem[4096];
    uint64_t fault_from, fault_to;
    bool fault_writes;
    unsigned accesses, writes;
};

static enum emu_result flat_mem(struct emu *e, unsigned seg, uint64_t offset, void *buf, unsigned len,
                                enum emu_access how)
{
    struct flat *f = (struct flat *)e;
    (void)seg;
    f->accesses++;
    bool write = how != EMU_READ;
    if (offset + len > f->fault_from && offset < f->fault_to && (write || !f->fault_writes)) {
        e->fault = (struct guest_fault){ .vector = 14, .error_code = write ? 2 : 0, .cr2 = offset };
        return EMU_FAULT;
    }
    assert_true(offset + len <= sizeof(f->mem));
    if (how == EMU_WRITE) {
        memcpy(f->mem + offset, buf, len);
        f->writes++;
    } else {
        memcpy(buf, f->mem + offset, len);
    }
    return EMU_OK;
}

static bool flat_rip_ok(struct emu *e, uint64_t rip)
{
    (void)e;
    return rip < (1ull << 47);
}

static const struct emu_ops flat_ops = { .mem = flat_mem, .rip_ok = flat_rip_ok };

static void flat_init(struct flat *f, unsigned max_elements)
{
    memset(f, 0, sizeof(*f));
    f->e.ops = &flat_ops;
    f->e.mode = 64;
    f->e.stack_size = 8;
    f->e.rflags = 0x2;
    f->e.max_elements = max_elements;
    f->e.next_rip = 0x1000;
    for (unsigned i = 0; i < sizeof(f->mem); i++)
        f->mem[i] = (uint8_t)(i * 7 + 1);
}

static struct mmio_insn decoded(unsigned mode, const uint8_t *bytes, size_t n)
{
    struct mmio_insn in;
    assert_int_equal(decode_mmio_insn(bytes, (unsigned)n, mode, &in), 0);
    assert_int_equal(in.length, n);
    return in;
}

/* REP MOVSB of 10 bytes, 4 per call: EMU_AGAIN twice with the registers of the elements done,
 * then EMU_OK; RIP is the caller's to keep (next_rip unchanged). */
static void test_rep_movs_batches(void **state)
{
    (void)state;
    struct flat f;
    flat_init(&f, 4);
    struct mmio_insn in = decoded(64, BYTES(0xf3, 0xa4));
    uint8_t want[10];
    memcpy(want, f.mem + 0x100, 10);
    memset(f.mem + 0x800, 0, 16);
    f.e.gpr[GPR_RSI] = 0x100, f.e.gpr[GPR_RDI] = 0x800, f.e.gpr[GPR_RCX] = 10;
    assert_int_equal(emulate_insn(&f.e, &in), EMU_AGAIN);
    assert_int_equal(f.e.gpr[GPR_RCX], 6);
    assert_int_equal(f.e.gpr[GPR_RSI], 0x104);
    assert_int_equal(f.e.gpr[GPR_RDI], 0x804);
    assert_memory_equal(f.mem + 0x800, want, 4);
    assert_int_equal(f.mem[0x804], 0);
    assert_int_equal(emulate_insn(&f.e, &in), EMU_AGAIN);
    assert_int_equal(f.e.gpr[GPR_RCX], 2);
    assert_int_equal(emulate_insn(&f.e, &in), EMU_OK);
    assert_int_equal(f.e.gpr[GPR_RCX], 0);
    assert_int_equal(f.e.gpr[GPR_RSI], 0x10a);
    assert_int_equal(f.e.gpr[GPR_RDI], 0x80a);
    assert_memory_equal(f.mem + 0x800, want, 10);
    assert_int_equal(f.e.next_rip, 0x1000);
    /* RCX = 0: nothing is accessed. */
    f.accesses = 0;
    assert_int_equal(emulate_insn(&f.e, &in), EMU_OK);
    assert_int_equal(f.accesses, 0);
}

/* REP STOSQ backwards (DF=1), and REP STOSW with a 32-bit address size (67h) in 64-bit mode:
 * ECX, EDI written as 32-bit registers (upper halves cleared), EDI wraps at 4 GiB. */
static void test_rep_stos(void **state)
{
    (void)state;
    struct flat f;
    flat_init(&f, 1024);
    struct mmio_insn in = decoded(64, BYTES(0xf3, 0x48, 0xab));
    f.e.rflags |= RFLAGS_DF;
    f.e.gpr[GPR_RAX] = 0x1122334455667788, f.e.gpr[GPR_RDI] = 0x418, f.e.gpr[GPR_RCX] = 3;
    assert_int_equal(emulate_insn(&f.e, &in), EMU_OK);
    assert_int_equal(f.e.gpr[GPR_RDI], 0x400);
    assert_int_equal(f.e.gpr[GPR_RCX], 0);
    for (unsigned i = 0; i < 3; i++)
        assert_memory_equal(f.mem + 0x408 + 8 * i, &f.e.gpr[GPR_RAX], 8);
    assert_int_not_equal(f.mem[0x400], 0x88);
    assert_int_equal(f.e.rflags, 0x2 | RFLAGS_DF); /* STOS changes no flag */

    flat_init(&f, 1024);
    in = decoded(64, BYTES(0x67, 0xf3, 0x66, 0xab));
    f.e.gpr[GPR_RAX] = 0xabcd, f.e.gpr[GPR_RDI] = 0xffffffff00000200, f.e.gpr[GPR_RCX] = 0xffffffff00000002;
    assert_int_equal(emulate_insn(&f.e, &in), EMU_OK);
    assert_int_equal(f.e.gpr[GPR_RDI], 0x204);
    assert_int_equal(f.e.gpr[GPR_RCX], 0);
    assert_int_equal(f.mem[0x200] | f.mem[0x201] << 8, 0xabcd);
    assert_int_equal(f.mem[0x202] | f.mem[0x203] << 8, 0xabcd);
}

/* A #PF on the 4th element's write of REP MOVSD: three elements done (memory and registers),
 * the fourth's read not committed, RIP kept; the fault is what the memory callback reported. */
static void test_rep_fault_midway(void **state)
{
    (void)state;
    struct flat f;
    flat_init(&f, 1024);
    struct mmio_insn in = decoded(64, BYTES(0xf3, 0xa5));
    uint8_t want[12];
    memcpy(want, f.mem + 0x100, 12);
    f.fault_from = 0x80c, f.fault_to = 0x900, f.fault_writes = true;
    f.e.gpr[GPR_RSI] = 0x100, f.e.gpr[GPR_RDI] = 0x800, f.e.gpr[GPR_RCX] = 8;
    f.e.gpr[GPR_RAX] = 0x5a5a;
    assert_int_equal(emulate_insn(&f.e, &in), EMU_FAULT);
    assert_int_equal(f.e.fault.vector, 14);
    assert_int_equal(f.e.fault.error_code, 2);
    assert_int_equal(f.e.fault.cr2, 0x80c);
    assert_int_equal(f.e.gpr[GPR_RCX], 5);
    assert_int_equal(f.e.gpr[GPR_RSI], 0x10c);
    assert_int_equal(f.e.gpr[GPR_RDI], 0x80c);
    assert_int_equal(f.e.gpr[GPR_RAX], 0x5a5a);
    assert_memory_equal(f.mem + 0x800, want, 12);
    assert_int_equal(f.e.next_rip, 0x1000);

    /* REPE CMPSB faulting on its first element's second read: nothing changes, flags neither. */
    flat_init(&f, 1024);
    in = decoded(64, BYTES(0xf3, 0xa6));
    f.fault_from = 0x800, f.fault_to = 0x801;
    f.e.gpr[GPR_RSI] = 0x100, f.e.gpr[GPR_RDI] = 0x800, f.e.gpr[GPR_RCX] = 4;
    f.e.rflags = 0x2 | RFLAGS_ARITH;
    assert_int_equal(emulate_insn(&f.e, &in), EMU_FAULT);
    assert_int_equal(f.e.gpr[GPR_RCX], 4);
    assert_int_equal(f.e.gpr[GPR_RSI], 0x100);
    assert_int_equal(f.e.gpr[GPR_RDI], 0x800);
    assert_int_equal(f.e.rflags, 0x2 | RFLAGS_ARITH);
}

/* REPE CMPSB stops at the first difference with the flags of that comparison. */
static void test_repe_cmps(void **state)
{
    (void)state;
    struct flat f;
    flat_init(&f, 1024);
    struct mmio_insn in = decoded(64, BYTES(0xf3, 0xa6));
    memcpy(f.mem + 0x800, f.mem + 0x100, 16);
    f.mem[0x805] = (uint8_t)(f.mem[0x105] + 1);
    f.e.gpr[GPR_RSI] = 0x100, f.e.gpr[GPR_RDI] = 0x800, f.e.gpr[GPR_RCX] = 16;
    assert_int_equal(emulate_insn(&f.e, &in), EMU_OK);
    assert_int_equal(f.e.gpr[GPR_RCX], 10);
    assert_int_equal(f.e.gpr[GPR_RSI], 0x106);
    assert_int_equal(f.e.gpr[GPR_RDI], 0x806);
    assert_false(f.e.rflags & RFLAGS_ZF);
    assert_true(f.e.rflags & RFLAGS_CF); /* mem[0x105] - (mem[0x105] + 1) borrows */
}

/* XCHG with memory: both ways, a 32-bit register zero-extended in 64-bit mode, AH (no REX). */
static void test_xchg(void **state)
{
    (void)state;
    struct flat f;
    flat_init(&f, 1024);
    struct mmio_insn in = decoded(64, BYTES(0x87, 0x03)); /* xchg %eax, (%rbx) */
    uint32_t old;
    memcpy(&old, f.mem + 0x200, 4);
    f.e.gpr[GPR_RBX] = 0x200, f.e.gpr[GPR_RAX] = 0xffffffff12345678;
    assert_int_equal(emulate_insn(&f.e, &in), EMU_OK);
    assert_int_equal(f.e.gpr[GPR_RAX], old);
    assert_int_equal(f.mem[0x200] | f.mem[0x201] << 8 | f.mem[0x202] << 16 | (uint32_t)f.mem[0x203] << 24,
                     0x12345678);
    assert_int_equal(f.e.rflags, 0x2);

    in = decoded(64, BYTES(0x86, 0x23)); /* xchg %ah, (%rbx) */
    f.e.gpr[GPR_RAX] = 0x1122334455667788;
    f.mem[0x300] = 0xee;
    f.e.gpr[GPR_RBX] = 0x300;
    assert_int_equal(emulate_insn(&f.e, &in), EMU_OK);
    assert_int_equal(f.e.gpr[GPR_RAX], 0x112233445566ee88);
    assert_int_equal(f.mem[0x300], 0x77);

    /* A fault on the write leaves the register as it was. */
    f.fault_from = 0x300, f.fault_to = 0x301, f.fault_writes = true;
    assert_int_equal(emulate_insn(&f.e, &in), EMU_FAULT);
    assert_int_equal(f.e.gpr[GPR_RAX], 0x112233445566ee88);
}

/* CMPXCHG against the host's own (32-bit in 64-bit mode: RAX is written, and so zero-extended,
 * only when the comparison fails), and CMPXCHG8-bit with the flags of the comparison. */
static void test_cmpxchg(void **state)
{
    (void)state;
    const uint32_t mems[] = { 5, 7, 0x80000000, 0 };
    const uint64_t raxes[] = { 0xffffffff00000005, 5, 0x80000000, 0xffffffffffffffff };
    for (unsigned i = 0; i < 4; i++)
        for (unsigned j = 0; j < 4; j++) {
            struct flat f;
            flat_init(&f, 1024);
            struct mmio_insn in = decoded(64, BYTES(0xf0, 0x0f, 0xb1, 0x0b)); /* lock cmpxchg %ecx, (%rbx) */
            uint64_t rax = raxes[j], fl = 0x2;
            uint32_t m = mems[i], ecx = 0x99;
            /* Through a pointer: an RSP-based operand would move with the red-zone skip. */
            uint32_t *pm = &m;
            __asm__(HOST_FLAGS_BEGIN "lock cmpxchgl %[c], (%[p])" HOST_FLAGS_END
                    : "+a"(rax), [f] "+r"(fl) : [c] "r"(ecx), [p] "r"(pm) : "cc", "memory");
            memcpy(f.mem + 0x40, &mems[i], 4);
            f.e.gpr[GPR_RBX] = 0x40, f.e.gpr[GPR_RCX] = ecx, f.e.gpr[GPR_RAX] = raxes[j];
            assert_int_equal(emulate_insn(&f.e, &in), EMU_OK);
            assert_int_equal(f.e.gpr[GPR_RAX], rax);
            assert_memory_equal(f.mem + 0x40, &m, 4);
            assert_int_equal(f.e.rflags & RFLAGS_ARITH, fl & RFLAGS_ARITH);
            assert_int_equal(f.writes, 1); /* written either way, as the CPU does */
        }

    struct flat f;
    flat_init(&f, 1024);
    struct mmio_insn in = decoded(64, BYTES(0x0f, 0xb0, 0x0b)); /* cmpxchg %cl, (%rbx) */
    f.mem[0x40] = 0x10;
    f.e.gpr[GPR_RBX] = 0x40, f.e.gpr[GPR_RCX] = 0x77, f.e.gpr[GPR_RAX] = 0xaa20;
    assert_int_equal(emulate_insn(&f.e, &in), EMU_OK);
    assert_int_equal(f.e.gpr[GPR_RAX], 0xaa10);
    assert_int_equal(f.mem[0x40], 0x10);
    assert_false(f.e.rflags & RFLAGS_ZF);
    f.e.gpr[GPR_RAX] = 0x10;
    assert_int_equal(emulate_insn(&f.e, &in), EMU_OK);
    assert_int_equal(f.mem[0x40], 0x77);
    assert_true(f.e.rflags & RFLAGS_ZF);
}

/* ALU forms on memory: lock add against the host executing it, xadd, btsl with a negative
 * register bit offset (the dword before the operand), SETcc, LOCK where it is not allowed (#UD,
 * nothing accessed) and a divide by zero (#DE, registers kept). */
static void test_memory_forms(void **state)
{
    (void)state;
    struct flat f;
    flat_init(&f, 1024);
    struct mmio_insn in = decoded(64, BYTES(0xf0, 0x48, 0x01, 0x0b)); /* lock add %rcx, (%rbx) */
    uint64_t m = 0x7fffffffffffffff, fl = 0x2, rcx = 1;
    memcpy(f.mem + 0x80, &m, 8);
    uint64_t *pm = &m;
    __asm__(HOST_FLAGS_BEGIN "lock addq %[c], (%[p])" HOST_FLAGS_END
            : [f] "+r"(fl) : [c] "r"(rcx), [p] "r"(pm) : "cc", "memory");
    f.e.gpr[GPR_RBX] = 0x80, f.e.gpr[GPR_RCX] = rcx;
    assert_int_equal(emulate_insn(&f.e, &in), EMU_OK);
    assert_memory_equal(f.mem + 0x80, &m, 8);
    assert_int_equal(f.e.rflags, fl & (RFLAGS_ARITH | 0x2));

    in = decoded(64, BYTES(0x0f, 0xc1, 0x0b)); /* xadd %ecx, (%rbx) */
    uint32_t m32 = 0xfffffff0, ecx = 0x20;
    memcpy(f.mem + 0x80, &m32, 4);
    f.e.gpr[GPR_RCX] = 0xffffffff00000000 | ecx;
    assert_int_equal(emulate_insn(&f.e, &in), EMU_OK);
    assert_int_equal(f.e.gpr[GPR_RCX], 0xfffffff0);
    memcpy(&m32, f.mem + 0x80, 4);
    assert_int_equal(m32, 0x10);
    assert_true(f.e.rflags & RFLAGS_CF);

    in = decoded(64, BYTES(0x0f, 0xab, 0x0b)); /* bts %ecx, (%rbx) */
    memset(f.mem + 0x7c, 0, 4);
    f.e.gpr[GPR_RCX] = (uint64_t)-31; /* bit 1 of the dword at rbx - 4 */
    f.e.rflags = 0x2 | RFLAGS_CF;
    assert_int_equal(emulate_insn(&f.e, &in), EMU_OK);
    assert_int_equal(f.mem[0x7c], 0x02);
    assert_false(f.e.rflags & RFLAGS_CF);

    in = decoded(64, BYTES(0x0f, 0x9c, 0x03)); /* setl (%rbx): SF != OF, flags kept */
    f.mem[0x80] = 0xcc, f.mem[0x81] = 0x5a;
    f.e.rflags = 0x2 | RFLAGS_SF;
    assert_int_equal(emulate_insn(&f.e, &in), EMU_OK);
    assert_int_equal(f.mem[0x80], 1);
    assert_int_equal(f.e.rflags, 0x2 | RFLAGS_SF);
    f.e.rflags = 0x2 | RFLAGS_SF | RFLAGS_OF;
    assert_int_equal(emulate_insn(&f.e, &in), EMU_OK);
    assert_int_equal(f.mem[0x80], 0);
    assert_int_equal(f.mem[0x81], 0x5a); /* one byte only */

    in = decoded(64, BYTES(0xf0, 0x39, 0x0b)); /* lock cmp: #UD */
    f.accesses = 0;
    assert_int_equal(emulate_insn(&f.e, &in), EMU_FAULT);
    assert_int_equal(f.e.fault.vector, 6);
    assert_int_equal(f.accesses, 0);

    in = decoded(64, BYTES(0xf7, 0x33)); /* div dword (%rbx) by 0: #DE, registers kept */
    memset(f.mem + 0x80, 0, 4);
    f.e.gpr[GPR_RAX] = 1, f.e.gpr[GPR_RDX] = 2;
    assert_int_equal(emulate_insn(&f.e, &in), EMU_FAULT);
    assert_int_equal(f.e.fault.vector, 0);
    assert_int_equal(f.e.gpr[GPR_RAX], 1);
    assert_int_equal(f.e.gpr[GPR_RDX], 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alu_binary),
        cmocka_unit_test(test_alu_unary),
        cmocka_unit_test(test_alu_bits),
        cmocka_unit_test(test_alu_condition),
        cmocka_unit_test(test_alu_mul),
        cmocka_unit_test(test_alu_div),
        cmocka_unit_test(test_alu_shiftd),
        cmocka_unit_test(test_rep_movs_batches),
        cmocka_unit_test(test_rep_stos),
        cmocka_unit_test(test_rep_fault_midway),
        cmocka_unit_test(test_repe_cmps),
        cmocka_unit_test(test_xchg),
        cmocka_unit_test(test_cmpxchg),
        cmocka_unit_test(test_memory_forms),
    };
    return cmocka_run_group_tests_name("emulate", tests, NULL, NULL);
}
