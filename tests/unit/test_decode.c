/* SPDX-License-Identifier: BSD-2-Clause */
// sources: vmx/decode.c vmx/decode_opcodes.c
/* The MMIO instruction decoder: every supported MOV form in 16-, 32- and 64-bit mode with its
 * exact length, the prefixes that change size or register, the other instructions it decodes
 * (ALU, unary, exchange, bit, multiply, shift-double, CMOV, string, stack, system and SSE/MMX
 * moves) with their operands and immediates, effective addresses and default segments, the
 * forms it must refuse, and the register-file semantics of completing a load or producing a
 * store value. Every accepted instruction also goes through the decoder's general path, which
 * must agree with its short path for common moves. Encodings were checked against the SDM
 * tables (and GNU as where in doubt). */
#include "stubs.h"

#include <string.h>

#include "vmx/decode.h"
#include "vmx/guest_check.h"

/* An instruction's bytes and their count, as decode_ok() and rejects() take them. */
#define BYTES(...) (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ })

static void same_insn(const struct mmio_insn *a, const struct mmio_insn *b)
{
    assert_int_equal(a->op, b->op);
    assert_int_equal(a->sub, b->sub);
    assert_int_equal(a->size, b->size);
    assert_int_equal(a->opsize, b->opsize);
    assert_int_equal(a->addrsize, b->addrsize);
    assert_int_equal(a->reg, b->reg);
    assert_int_equal(a->dest_size, b->dest_size);
    assert_int_equal(a->length, b->length);
    assert_int_equal(a->seg, b->seg);
    assert_int_equal(a->base, b->base);
    assert_int_equal(a->index, b->index);
    assert_int_equal(a->scale, b->scale);
    assert_int_equal(a->rep, b->rep);
    assert_int_equal(a->imm2, b->imm2);
    assert_int_equal(a->has_imm, b->has_imm);
    assert_int_equal(a->high_byte, b->high_byte);
    assert_int_equal(a->sign_extend, b->sign_extend);
    assert_int_equal(a->mem, b->mem);
    assert_int_equal(a->lock, b->lock);
    assert_int_equal(a->disp, b->disp);
    assert_int_equal(a->imm, b->imm);
}

/* Decodes an instruction that must be exactly `n` bytes long. It is decoded once followed by
 * filler (so a decoder that reads too far shows up as a wrong length), once with exactly its
 * bytes available, and once with each shorter count, which must all be refused as truncated
 * (DECODE_TRUNCATED: more bytes might complete it). The decoder's general path (without the
 * short way for common moves) must agree. */
static struct mmio_insn decode_ok(unsigned mode, const uint8_t *bytes, size_t n)
{
    uint8_t padded[16];
    struct mmio_insn in, exact, shorter, general;
    memset(padded, 0x90, sizeof(padded));
    memcpy(padded, bytes, n);
    assert_int_equal(decode_mmio_insn(padded, sizeof(padded), mode, &in), 0);
    assert_int_equal(in.length, n);
    assert_int_equal(decode_mmio_insn(bytes, n, mode, &exact), 0);
    same_insn(&in, &exact);
    assert_int_equal(decode_mmio_insn_general(bytes, n, mode, &general), 0);
    same_insn(&in, &general);
    for (size_t k = 0; k < n; k++)
        assert_int_equal(decode_mmio_insn(bytes, k, mode, &shorter), DECODE_TRUNCATED);
    return in;
}

/* Refused (or truncated): the line of the case is printed when it is not. */
static void refused_at(int line, int want, unsigned mode, const uint8_t *bytes, size_t n)
{
    struct mmio_insn in;
    int rc = decode_mmio_insn(bytes, n, mode, &in);
    if (rc != want)
        print_error("line %d: decode returned %d\n", line, rc);
    assert_int_equal(rc, want);
}
#define rejects(...) refused_at(__LINE__, DECODE_UNSUPPORTED, __VA_ARGS__)
#define truncated(...) refused_at(__LINE__, DECODE_TRUNCATED, __VA_ARGS__)

static void check(struct mmio_insn in, enum mmio_op op, unsigned size, unsigned reg, unsigned length)
{
    assert_int_equal(in.op, op);
    assert_int_equal(in.size, size);
    assert_int_equal(in.reg, reg);
    assert_int_equal(in.length, length);
}

static void test_mov_store_register(void **state)
{
    (void)state;
    struct mmio_insn in = decode_ok(32, BYTES(0x89, 0x44, 0x24, 0x08)); /* mov [esp+8], eax */
    check(in, MMIO_STORE, 4, GPR_RAX, 4);
    assert_false(in.has_imm);
    check(decode_ok(64, BYTES(0x89, 0x44, 0x24, 0x08)), MMIO_STORE, 4, GPR_RAX, 4);
    check(decode_ok(32, BYTES(0x88, 0x0b)), MMIO_STORE, 1, GPR_RCX, 2);        /* mov [ebx], cl */
    check(decode_ok(64, BYTES(0x48, 0x89, 0x08)), MMIO_STORE, 8, GPR_RCX, 3);  /* mov [rax], rcx */
    check(decode_ok(64, BYTES(0x4c, 0x89, 0x00)), MMIO_STORE, 8, GPR_R8, 3);   /* mov [rax], r8 */
    check(decode_ok(64, BYTES(0x44, 0x89, 0x38)), MMIO_STORE, 4, GPR_R15, 3);  /* mov [rax], r15d */
    check(decode_ok(64, BYTES(0x41, 0x89, 0x00)), MMIO_STORE, 4, GPR_RAX, 3);  /* REX.B: [r8] */
    check(decode_ok(64, BYTES(0x66, 0x89, 0x03)), MMIO_STORE, 2, GPR_RAX, 3);  /* mov [rbx], ax */
    check(decode_ok(32, BYTES(0x66, 0x89, 0x03)), MMIO_STORE, 2, GPR_RAX, 3);
    check(decode_ok(64, BYTES(0x66, 0x48, 0x89, 0x03)), MMIO_STORE, 8, GPR_RAX, 4); /* W beats 66 */
}

static void test_mov_load_register(void **state)
{
    (void)state;
    /* mov eax, [rip+disp32] in 64-bit mode; an absolute disp32 in 32-bit mode. */
    struct mmio_insn in = decode_ok(64, BYTES(0x8b, 0x05, 0x78, 0x56, 0x34, 0x12));
    check(in, MMIO_LOAD, 4, GPR_RAX, 6);
    assert_int_equal(in.dest_size, 4);
    assert_false(in.sign_extend);
    check(decode_ok(32, BYTES(0x8b, 0x05, 0x78, 0x56, 0x34, 0x12)), MMIO_LOAD, 4, GPR_RAX, 6);
    check(decode_ok(32, BYTES(0x8b, 0x80, 0x00, 0x03, 0x00, 0x00)), MMIO_LOAD, 4, GPR_RAX, 6);
    check(decode_ok(32, BYTES(0x8b, 0x45, 0xfc)), MMIO_LOAD, 4, GPR_RAX, 3);  /* [ebp-4] */
    check(decode_ok(32, BYTES(0x8b, 0x0e)), MMIO_LOAD, 4, GPR_RCX, 2);        /* ecx, [esi] */
    /* SIB forms: base 101 with mod 00 is a bare disp32; mod 10 adds a disp32. */
    check(decode_ok(32, BYTES(0x8b, 0x04, 0x25, 0x00, 0x10, 0x00, 0x00)), MMIO_LOAD, 4, 0, 7);
    check(decode_ok(64, BYTES(0x8b, 0x04, 0xad, 0x00, 0x00, 0x00, 0x00)), MMIO_LOAD, 4, 0, 7);
    check(decode_ok(64, BYTES(0x8b, 0x84, 0x24, 0x00, 0x01, 0x00, 0x00)), MMIO_LOAD, 4, 0, 7);
    check(decode_ok(64, BYTES(0x48, 0x8b, 0x5c, 0x24, 0x10)), MMIO_LOAD, 8, GPR_RBX, 5);
    /* REX.B does not change the special rm/base encodings: r12 needs a SIB, r13 a disp, and
     * rm 101 with mod 00 stays RIP-relative. */
    check(decode_ok(64, BYTES(0x41, 0x8b, 0x04, 0x24)), MMIO_LOAD, 4, GPR_RAX, 4);
    check(decode_ok(64, BYTES(0x41, 0x8b, 0x45, 0x00)), MMIO_LOAD, 4, GPR_RAX, 4);
    check(decode_ok(64, BYTES(0x41, 0x8b, 0x05, 1, 2, 3, 4)), MMIO_LOAD, 4, GPR_RAX, 7);
    check(decode_ok(64, BYTES(0x43, 0x8b, 0x04, 0x2c)), MMIO_LOAD, 4, GPR_RAX, 4); /* [r12+r13] */
    in = decode_ok(64, BYTES(0x8a, 0x07)); /* mov al, [rdi] */
    check(in, MMIO_LOAD, 1, GPR_RAX, 2);
    assert_int_equal(in.dest_size, 1);
    check(decode_ok(64, BYTES(0x45, 0x8a, 0x3f)), MMIO_LOAD, 1, GPR_R15, 3); /* r15b, [r15] */
    check(decode_ok(64, BYTES(0x4c, 0x8b, 0x48, 0x08)), MMIO_LOAD, 8, GPR_R9, 4);
}

static void test_mov_immediate(void **state)
{
    (void)state;
    struct mmio_insn in =
        decode_ok(32, BYTES(0xc7, 0x80, 0x00, 0x03, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00));
    check(in, MMIO_STORE, 4, 0, 10);
    assert_true(in.has_imm);
    assert_int_equal(in.imm, 1);

    /* REX.W: imm32 sign-extended to 64 bits. */
    in = decode_ok(64, BYTES(0x48, 0xc7, 0x00, 0xff, 0xff, 0xff, 0xff));
    check(in, MMIO_STORE, 8, 0, 7);
    assert_int_equal(in.imm, 0xffffffffffffffffull);
    in = decode_ok(64, BYTES(0x48, 0xc7, 0x00, 0x00, 0x00, 0x00, 0x80));
    assert_int_equal(in.imm, 0xffffffff80000000ull);
    in = decode_ok(64, BYTES(0x48, 0xc7, 0x00, 0xff, 0xff, 0xff, 0x7f));
    assert_int_equal(in.imm, 0x7fffffffull);
    in = decode_ok(64, BYTES(0xc7, 0x00, 0xff, 0xff, 0xff, 0xff));
    check(in, MMIO_STORE, 4, 0, 6);
    assert_int_equal(in.imm, 0xffffffffull);

    /* imm16 with a 16-bit operand size, whichever way it is reached. */
    in = decode_ok(64, BYTES(0x66, 0xc7, 0x00, 0x34, 0x12));
    check(in, MMIO_STORE, 2, 0, 5);
    assert_int_equal(in.imm, 0x1234);
    in = decode_ok(16, BYTES(0xc7, 0x07, 0x34, 0x12));
    check(in, MMIO_STORE, 2, 0, 4);
    assert_int_equal(in.imm, 0x1234);
    in = decode_ok(16, BYTES(0x66, 0xc7, 0x07, 0x78, 0x56, 0x34, 0x12));
    check(in, MMIO_STORE, 4, 0, 7);
    assert_int_equal(in.imm, 0x12345678);

    in = decode_ok(32, BYTES(0xc6, 0x05, 0x00, 0x10, 0x00, 0x00, 0xab));
    check(in, MMIO_STORE, 1, 0, 7);
    assert_int_equal(in.imm, 0xab);
    in = decode_ok(64, BYTES(0xc6, 0x44, 0x24, 0x08, 0x80));
    check(in, MMIO_STORE, 1, 0, 5);
    assert_int_equal(in.imm, 0x80);

    /* The immediate follows a RIP-relative displacement. */
    in = decode_ok(64, BYTES(0xc7, 0x05, 0xdd, 0xcc, 0xbb, 0xaa, 0x01, 0x00, 0x00, 0x00));
    check(in, MMIO_STORE, 4, 0, 10);
    assert_int_equal(in.imm, 1);

    /* Only /0 is MOV. */
    rejects(64, BYTES(0xc6, 0x08, 0x00));
    rejects(64, BYTES(0xc7, 0x08, 0x00, 0x00, 0x00, 0x00));
}

static void test_movzx_movsx(void **state)
{
    (void)state;
    struct mmio_insn in = decode_ok(32, BYTES(0x0f, 0xb6, 0x03)); /* movzx eax, byte [ebx] */
    check(in, MMIO_LOAD, 1, GPR_RAX, 3);
    assert_int_equal(in.dest_size, 4);
    assert_false(in.sign_extend);
    in = decode_ok(32, BYTES(0x0f, 0xb7, 0x03)); /* movzx eax, word [ebx] */
    check(in, MMIO_LOAD, 2, GPR_RAX, 3);
    assert_int_equal(in.dest_size, 4);
    in = decode_ok(64, BYTES(0x48, 0x0f, 0xbe, 0x43, 0x01)); /* movsx rax, byte [rbx+1] */
    check(in, MMIO_LOAD, 1, GPR_RAX, 5);
    assert_int_equal(in.dest_size, 8);
    assert_true(in.sign_extend);
    in = decode_ok(64, BYTES(0x44, 0x0f, 0xbf, 0x0e)); /* movsx r9d, word [rsi] */
    check(in, MMIO_LOAD, 2, GPR_R9, 4);
    assert_int_equal(in.dest_size, 4);
    assert_true(in.sign_extend);
    in = decode_ok(64, BYTES(0x66, 0x0f, 0xb6, 0x06)); /* movzx ax, byte [rsi] */
    assert_int_equal(in.dest_size, 2);
    in = decode_ok(16, BYTES(0x0f, 0xb6, 0x07)); /* movzx ax, byte [bx] */
    check(in, MMIO_LOAD, 1, GPR_RAX, 3);
    assert_int_equal(in.dest_size, 2);
    /* The destination is never a byte register: reg 4 here is ESP, not AH. */
    in = decode_ok(32, BYTES(0x0f, 0xb6, 0x26));
    assert_int_equal(in.reg, GPR_RSP);
    assert_false(in.high_byte);
}

static void test_moffs(void **state)
{
    (void)state;
    /* 64-bit mode: 8-byte offset, 4 with 67. */
    struct mmio_insn in = decode_ok(64, BYTES(0xa1, 1, 2, 3, 4, 5, 6, 7, 8));
    check(in, MMIO_LOAD, 4, GPR_RAX, 9);
    assert_false(in.high_byte);
    check(decode_ok(64, BYTES(0x48, 0xa3, 1, 2, 3, 4, 5, 6, 7, 8)), MMIO_STORE, 8, GPR_RAX, 10);
    check(decode_ok(64, BYTES(0x67, 0xa0, 1, 2, 3, 4)), MMIO_LOAD, 1, GPR_RAX, 6);
    check(decode_ok(64, BYTES(0x66, 0xa1, 1, 2, 3, 4, 5, 6, 7, 8)), MMIO_LOAD, 2, GPR_RAX, 10);
    check(decode_ok(64, BYTES(0x41, 0xa2, 1, 2, 3, 4, 5, 6, 7, 8)), MMIO_STORE, 1, GPR_RAX, 10);
    /* 32-bit mode: 4 bytes, 2 with 67. */
    check(decode_ok(32, BYTES(0xa1, 1, 2, 3, 4)), MMIO_LOAD, 4, GPR_RAX, 5);
    check(decode_ok(32, BYTES(0x67, 0xa2, 1, 2)), MMIO_STORE, 1, GPR_RAX, 4);
    check(decode_ok(32, BYTES(0x66, 0xa3, 1, 2, 3, 4)), MMIO_STORE, 2, GPR_RAX, 6);
    /* 16-bit mode: 2 bytes, 4 with 67. */
    check(decode_ok(16, BYTES(0xa1, 1, 2)), MMIO_LOAD, 2, GPR_RAX, 3);
    check(decode_ok(16, BYTES(0x67, 0xa3, 1, 2, 3, 4)), MMIO_STORE, 2, GPR_RAX, 6);
    check(decode_ok(16, BYTES(0x66, 0xa1, 1, 2)), MMIO_LOAD, 4, GPR_RAX, 4);
    check(decode_ok(16, BYTES(0xa0, 1, 2)), MMIO_LOAD, 1, GPR_RAX, 3);
}

static void test_16bit_addressing(void **state)
{
    (void)state;
    check(decode_ok(16, BYTES(0x8b, 0x07)), MMIO_LOAD, 2, GPR_RAX, 2);             /* [bx] */
    check(decode_ok(16, BYTES(0x8b, 0x46, 0x02)), MMIO_LOAD, 2, GPR_RAX, 3);       /* [bp+2] */
    check(decode_ok(16, BYTES(0x8b, 0x06, 0x34, 0x12)), MMIO_LOAD, 2, GPR_RAX, 4); /* [0x1234] */
    check(decode_ok(16, BYTES(0x8b, 0x87, 0x34, 0x12)), MMIO_LOAD, 2, GPR_RAX, 4); /* [bx+d16] */
    check(decode_ok(16, BYTES(0x8b, 0x04)), MMIO_LOAD, 2, GPR_RAX, 2); /* [si]: rm 100, no SIB */
    check(decode_ok(16, BYTES(0x8b, 0x05)), MMIO_LOAD, 2, GPR_RAX, 2); /* [di]: rm 101, no disp */
    check(decode_ok(16, BYTES(0x66, 0x8b, 0x07)), MMIO_LOAD, 4, GPR_RAX, 3);
    check(decode_ok(16, BYTES(0x89, 0x1e, 0x00, 0x05)), MMIO_STORE, 2, GPR_RBX, 4);
    /* 67 switches to 32-bit addressing in 16-bit mode and to 16-bit addressing in 32-bit mode. */
    check(decode_ok(16, BYTES(0x67, 0x8b, 0x04, 0x24)), MMIO_LOAD, 2, GPR_RAX, 4);
    check(decode_ok(16, BYTES(0x67, 0x8b, 0x05, 1, 2, 3, 4)), MMIO_LOAD, 2, GPR_RAX, 7);
    check(decode_ok(32, BYTES(0x67, 0x8b, 0x06, 0x34, 0x12)), MMIO_LOAD, 4, GPR_RAX, 5);
    check(decode_ok(32, BYTES(0x67, 0x8b, 0x04)), MMIO_LOAD, 4, GPR_RAX, 3);
    check(decode_ok(32, BYTES(0x67, 0x8b, 0x80, 0x34, 0x12)), MMIO_LOAD, 4, GPR_RAX, 5);
    /* ... and only to 32-bit addressing in 64-bit mode, which has the same lengths. */
    check(decode_ok(64, BYTES(0x67, 0x8b, 0x05, 1, 2, 3, 4)), MMIO_LOAD, 4, GPR_RAX, 7);
}

static void test_prefixes(void **state)
{
    (void)state;
    check(decode_ok(64, BYTES(0x64, 0x8b, 0x00)), MMIO_LOAD, 4, GPR_RAX, 3);
    check(decode_ok(32, BYTES(0x2e, 0x3e, 0x26, 0x36, 0x65, 0x89, 0x00)), MMIO_STORE, 4, 0, 7);
    check(decode_ok(64, BYTES(0xf0, 0x89, 0x00)), MMIO_STORE, 4, GPR_RAX, 3);
    check(decode_ok(64, BYTES(0xf3, 0x89, 0x00)), MMIO_STORE, 4, GPR_RAX, 3);
    check(decode_ok(64, BYTES(0xf2, 0x88, 0x00)), MMIO_STORE, 1, GPR_RAX, 3);
    /* Order does not matter, and REX may follow legacy prefixes. */
    check(decode_ok(32, BYTES(0x66, 0x67, 0x8b, 0x07)), MMIO_LOAD, 2, GPR_RAX, 4);
    check(decode_ok(32, BYTES(0x67, 0x66, 0x8b, 0x07)), MMIO_LOAD, 2, GPR_RAX, 4);
    check(decode_ok(64, BYTES(0x65, 0x66, 0x4c, 0x89, 0x00)), MMIO_STORE, 8, GPR_R8, 5);
    /* A REX followed by another prefix is ignored: no W, no R, and byte reg 4 is AH again. */
    check(decode_ok(64, BYTES(0x48, 0x66, 0x89, 0x00)), MMIO_STORE, 2, GPR_RAX, 4);
    check(decode_ok(64, BYTES(0x4c, 0x26, 0x89, 0x00)), MMIO_STORE, 4, GPR_RAX, 4);
    struct mmio_insn in = decode_ok(64, BYTES(0x40, 0x64, 0x88, 0x20));
    check(in, MMIO_STORE, 1, GPR_RAX, 4);
    assert_true(in.high_byte);
    /* Only the last of several REX bytes counts. */
    check(decode_ok(64, BYTES(0x48, 0x44, 0x89, 0x00)), MMIO_STORE, 4, GPR_R8, 4);
    /* Outside 64-bit mode 40-4F are INC/DEC, not prefixes. */
    rejects(32, BYTES(0x48, 0x8b, 0x00));
    rejects(16, BYTES(0x40, 0x8b, 0x00));
    /* 15 bytes is the limit: 13 prefixes + a 2-byte MOV decodes, 14 + 2 does not. */
    uint8_t longest[16];
    memset(longest, 0x3e, sizeof(longest));
    longest[13] = 0x8b, longest[14] = 0x00;
    check(decode_ok(64, longest, 15), MMIO_LOAD, 4, GPR_RAX, 15);
    longest[14] = 0x8b, longest[15] = 0x00;
    rejects(64, longest, 16);
}

static void test_byte_registers(void **state)
{
    (void)state;
    struct mmio_insn in = decode_ok(64, BYTES(0x88, 0x20)); /* mov [rax], ah */
    check(in, MMIO_STORE, 1, GPR_RAX, 2);
    assert_true(in.high_byte);
    in = decode_ok(64, BYTES(0x88, 0x38)); /* bh */
    check(in, MMIO_STORE, 1, GPR_RBX, 2);
    assert_true(in.high_byte);
    in = decode_ok(64, BYTES(0x88, 0x18)); /* bl */
    check(in, MMIO_STORE, 1, GPR_RBX, 2);
    assert_false(in.high_byte);
    in = decode_ok(64, BYTES(0x40, 0x88, 0x20)); /* spl */
    check(in, MMIO_STORE, 1, GPR_RSP, 3);
    assert_false(in.high_byte);
    in = decode_ok(64, BYTES(0x40, 0x88, 0x38)); /* dil */
    check(in, MMIO_STORE, 1, GPR_RDI, 3);
    assert_false(in.high_byte);
    in = decode_ok(64, BYTES(0x44, 0x88, 0x20)); /* r12b */
    check(in, MMIO_STORE, 1, GPR_R12, 3);
    assert_false(in.high_byte);
    in = decode_ok(32, BYTES(0x8a, 0x2b)); /* mov ch, [ebx] */
    check(in, MMIO_LOAD, 1, GPR_RCX, 2);
    assert_true(in.high_byte);
    in = decode_ok(16, BYTES(0x88, 0x37)); /* mov [bx], dh */
    check(in, MMIO_STORE, 1, GPR_RDX, 2);
    assert_true(in.high_byte);
    /* Word and dword forms never name a high byte. */
    in = decode_ok(64, BYTES(0x89, 0x20));
    check(in, MMIO_STORE, 4, GPR_RSP, 2);
    assert_false(in.high_byte);
}

static void test_rejected(void **state)
{
    (void)state;
    /* Register-direct operands are not memory accesses. */
    rejects(64, BYTES(0x89, 0xc0));
    rejects(64, BYTES(0x8b, 0xc0));
    rejects(32, BYTES(0x88, 0xc0));
    rejects(32, BYTES(0x8a, 0xe0));
    rejects(64, BYTES(0xc6, 0xc0, 0x01));
    rejects(64, BYTES(0xc7, 0xf8, 0x00, 0x00, 0x00, 0x00)); /* XBEGIN */
    rejects(64, BYTES(0x0f, 0xb6, 0xc0));
    rejects(16, BYTES(0x8b, 0xc0));
    rejects(64, BYTES(0x01, 0xc0));             /* add eax, eax */
    rejects(64, BYTES(0xff, 0xc0));             /* inc eax */
    rejects(64, BYTES(0xff, 0xe0));             /* jmp rax */
    rejects(64, BYTES(0x0f, 0x01, 0xe0));       /* smsw eax */
    rejects(64, BYTES(0x0f, 0x94, 0xc0));       /* sete al */
    rejects(64, BYTES(0x8e, 0xd0));             /* mov ss, eax */
    rejects(64, BYTES(0x0f, 0x10, 0xc1));       /* movups xmm0, xmm1 */
    /* Other instructions, and reserved or #UD forms of emulated ones. */
    rejects(64, BYTES(0x90));
    rejects(64, BYTES(0xd1, 0x20));             /* shl dword [rax], 1: the exit fuzzer's end */
    rejects(64, BYTES(0x0f, 0x05));
    rejects(64, BYTES(0xff, 0x18));             /* call far */
    rejects(64, BYTES(0xff, 0x38));             /* ff /7 */
    rejects(64, BYTES(0xfe, 0x10));             /* fe /2 */
    rejects(64, BYTES(0xf6, 0x08, 0x00));       /* f6 /1 */
    rejects(64, BYTES(0x8f, 0x08));             /* 8f /1 */
    rejects(64, BYTES(0x8c, 0x30));             /* mov r/m, sreg 6 */
    rejects(64, BYTES(0x8e, 0x08));             /* mov cs, r/m */
    rejects(64, BYTES(0x0f, 0x00, 0x10));       /* lldt */
    rejects(64, BYTES(0x0f, 0x01, 0x30));       /* lmsw */
    rejects(64, BYTES(0x0f, 0xba, 0x00, 0x01)); /* 0f ba /0 */
    rejects(64, BYTES(0xf3, 0x0f, 0xbc, 0x00)); /* tzcnt */
    rejects(64, BYTES(0x82, 0x00, 0x01));       /* 82 is not valid in 64-bit mode */
    rejects(64, BYTES(0xf2, 0x0f, 0x6f, 0x00)); /* no F2 form */
    rejects(64, BYTES(0xf3, 0x0f, 0x28, 0x00));
    rejects(64, BYTES(0x66, 0x0f, 0xc3, 0x00)); /* movnti has no 16-bit form */
    rejects(64, BYTES(0xc4, 0xe1, 0x79, 0x6f, 0x00)); /* VEX */
    rejects(32, BYTES(0xc5, 0x00));             /* lds */
    rejects(64, BYTES(0xd8, 0x00));             /* x87 */
    /* Truncated, including prefixes alone and nothing at all. */
    truncated(64, BYTES(0x8b, 0x05, 0x00, 0x00, 0x00));
    truncated(64, BYTES(0xc7, 0x00, 0x01, 0x00, 0x00));
    truncated(64, BYTES(0x0f));
    truncated(64, BYTES(0x66, 0x67, 0x48));
    truncated(64, BYTES(0xa1, 1, 2, 3, 4));
    truncated(64, BYTES(0xff));
    truncated(64, BYTES(0xc8, 0x00, 0x10));
    truncated(64, (const uint8_t *)"", 0);
    /* An unsupported opcode is refused as such even when bytes run out after it. */
    rejects(64, BYTES(0x66, 0xd8));
    /* Not a mode the decoder knows. */
    rejects(8, BYTES(0x8b, 0x00));
    rejects(0, BYTES(0x8b, 0x00));
}

/* An instruction's operation, suboperation, memory size and register. */
static void op(struct mmio_insn in, enum mmio_op o, unsigned sub, unsigned size, unsigned reg)
{
    assert_int_equal(in.op, o);
    assert_int_equal(in.sub, sub);
    assert_int_equal(in.size, size);
    assert_int_equal(in.reg, reg);
}

static void test_alu(void **state)
{
    (void)state;
    struct mmio_insn in = decode_ok(64, BYTES(0x41, 0x09, 0x84, 0x24, 0x00, 0x10, 0x00, 0x00)); /* or [r12+0x1000], eax */
    op(in, INSN_ALU_MEM, ALU_OR, 4, GPR_RAX);
    assert_false(in.has_imm);
    assert_int_equal(in.base, GPR_R12);
    assert_int_equal(in.index, EA_NONE);
    assert_int_equal(in.disp, 0x1000);
    op(decode_ok(64, BYTES(0x03, 0x03)), INSN_ALU_REG, ALU_ADD, 4, GPR_RAX);       /* add eax, [rbx] */
    op(decode_ok(64, BYTES(0x28, 0x23)), INSN_ALU_MEM, ALU_SUB, 1, GPR_RAX);       /* sub [rbx], ah */
    assert_true(decode_ok(64, BYTES(0x28, 0x23)).high_byte);
    op(decode_ok(64, BYTES(0x4c, 0x19, 0x03)), INSN_ALU_MEM, ALU_SBB, 8, GPR_R8);  /* sbb [rbx], r8 */
    op(decode_ok(64, BYTES(0x3a, 0x0b)), INSN_ALU_REG, ALU_CMP, 1, GPR_RCX);       /* cmp cl, [rbx] */
    op(decode_ok(32, BYTES(0x31, 0x0b)), INSN_ALU_MEM, ALU_XOR, 4, GPR_RCX);
    op(decode_ok(16, BYTES(0x21, 0x07)), INSN_ALU_MEM, ALU_AND, 2, GPR_RAX);       /* and [bx], ax */
    op(decode_ok(64, BYTES(0x11, 0x03)), INSN_ALU_MEM, ALU_ADC, 4, GPR_RAX);
    /* Group 1 with immediates: 80 imm8, 81 imm16/32 (sign-extended for 64-bit), 83 imm8
     * sign-extended to the operand size; 82 is 80 outside 64-bit mode. */
    in = decode_ok(64, BYTES(0x80, 0x0b, 0x81));
    op(in, INSN_ALU_MEM, ALU_OR, 1, 0);
    assert_true(in.has_imm);
    assert_int_equal(in.imm, 0x81);
    in = decode_ok(64, BYTES(0x83, 0x2b, 0xff));
    op(in, INSN_ALU_MEM, ALU_SUB, 4, 0);
    assert_int_equal(in.imm, 0xffffffff);
    assert_int_equal(decode_ok(64, BYTES(0x48, 0x83, 0x2b, 0xff)).imm, 0xffffffffffffffffull);
    assert_int_equal(decode_ok(64, BYTES(0x66, 0x83, 0x3b, 0x80)).imm, 0xff80); /* cmp word, -128 */
    assert_int_equal(decode_ok(64, BYTES(0x83, 0x03, 0x7f)).imm, 0x7f);
    in = decode_ok(64, BYTES(0x81, 0x33, 0x78, 0x56, 0x34, 0x12));
    op(in, INSN_ALU_MEM, ALU_XOR, 4, 0);
    assert_int_equal(in.imm, 0x12345678);
    assert_int_equal(decode_ok(64, BYTES(0x48, 0x81, 0x23, 0x00, 0x00, 0x00, 0x80)).imm, 0xffffffff80000000ull);
    assert_int_equal(decode_ok(64, BYTES(0x66, 0x81, 0x03, 0x34, 0x12)).imm, 0x1234);
    assert_int_equal(decode_ok(16, BYTES(0x81, 0x07, 0x34, 0x12)).imm, 0x1234);
    op(decode_ok(32, BYTES(0x82, 0x3b, 0x01)), INSN_ALU_MEM, ALU_CMP, 1, 0);
    /* TEST */
    op(decode_ok(64, BYTES(0x85, 0x03)), INSN_ALU_MEM, ALU_TEST, 4, GPR_RAX);
    op(decode_ok(64, BYTES(0x84, 0x3b)), INSN_ALU_MEM, ALU_TEST, 1, GPR_RBX);     /* test [rbx], bh */
    in = decode_ok(64, BYTES(0xf6, 0x03, 0x80));
    op(in, INSN_ALU_MEM, ALU_TEST, 1, 0);
    assert_int_equal(in.imm, 0x80);
    in = decode_ok(64, BYTES(0x48, 0xf7, 0x03, 0x00, 0x00, 0x00, 0x80));
    op(in, INSN_ALU_MEM, ALU_TEST, 8, 0);
    assert_int_equal(in.imm, 0xffffffff80000000ull);
    /* The immediate follows SIB and displacement. */
    in = decode_ok(64, BYTES(0x83, 0x44, 0x88, 0x10, 0x05));        /* add [rax+rcx*4+0x10], 5 */
    assert_int_equal(in.imm, 5);
    assert_int_equal(in.index, GPR_RCX);
    assert_int_equal(in.scale, 2);
}

static void test_unary_and_others(void **state)
{
    (void)state;
    op(decode_ok(64, BYTES(0xfe, 0x03)), INSN_UNARY, ALU_INC, 1, 0);
    op(decode_ok(64, BYTES(0xfe, 0x0b)), INSN_UNARY, ALU_DEC, 1, 0);
    op(decode_ok(64, BYTES(0xff, 0x03)), INSN_UNARY, ALU_INC, 4, 0);
    op(decode_ok(16, BYTES(0xff, 0x0f)), INSN_UNARY, ALU_DEC, 2, 0);
    op(decode_ok(64, BYTES(0xf6, 0x13)), INSN_UNARY, ALU_NOT, 1, 0);
    struct mmio_insn in = decode_ok(64, BYTES(0xf0, 0x49, 0xf7, 0x9c, 0x24, 0x00, 0x10, 0x00, 0x00));
    op(in, INSN_UNARY, ALU_NEG, 8, 0);                                /* lock neg qword [r12+0x1000] */
    assert_true(in.lock);
    op(decode_ok(64, BYTES(0xf7, 0x23)), INSN_MULDIV, ALU_MUL, 4, 0);
    op(decode_ok(64, BYTES(0xf6, 0x2b)), INSN_MULDIV, ALU_IMUL, 1, 0);
    op(decode_ok(64, BYTES(0x49, 0xf7, 0xb4, 0x24, 0x00, 0x10, 0x00, 0x00)), INSN_MULDIV, ALU_DIV, 8, 0);
    op(decode_ok(64, BYTES(0x66, 0xf7, 0x3b)), INSN_MULDIV, ALU_IDIV, 2, 0);
    op(decode_ok(64, BYTES(0x86, 0x03)), INSN_XCHG, 0, 1, GPR_RAX);
    op(decode_ok(64, BYTES(0x49, 0x87, 0x45, 0x00)), INSN_XCHG, 0, 8, GPR_RAX);
    op(decode_ok(64, BYTES(0x0f, 0xc0, 0x23)), INSN_XADD, 0, 1, GPR_RAX);          /* xadd [rbx], ah */
    assert_true(decode_ok(64, BYTES(0x0f, 0xc0, 0x23)).high_byte);
    op(decode_ok(64, BYTES(0x48, 0x0f, 0xc1, 0x0b)), INSN_XADD, 0, 8, GPR_RCX);
    op(decode_ok(64, BYTES(0x0f, 0xb1, 0x0b)), INSN_CMPXCHG, 0, 4, GPR_RCX);
    op(decode_ok(64, BYTES(0x0f, 0xa3, 0x03)), INSN_BT, ALU_BT, 4, GPR_RAX);
    op(decode_ok(64, BYTES(0x49, 0x0f, 0xbb, 0x07)), INSN_BT, ALU_BTC, 8, GPR_RAX);
    op(decode_ok(64, BYTES(0x66, 0x0f, 0xab, 0x0b)), INSN_BT, ALU_BTS, 2, GPR_RCX);
    op(decode_ok(64, BYTES(0x0f, 0xb3, 0x0b)), INSN_BT, ALU_BTR, 4, GPR_RCX);
    in = decode_ok(64, BYTES(0x41, 0x0f, 0xba, 0x7d, 0x00, 0x20)); /* btc dword [r13+0], 32 */
    op(in, INSN_BT, ALU_BTC, 4, 0);
    assert_true(in.has_imm);
    assert_int_equal(in.imm, 32);
    assert_int_equal(in.base, GPR_R13);
    op(decode_ok(64, BYTES(0x0f, 0xba, 0x23, 0x05)), INSN_BT, ALU_BT, 4, 0);
    op(decode_ok(64, BYTES(0x66, 0x0f, 0xbc, 0x03)), INSN_BITSCAN, ALU_BSF, 2, GPR_RAX);
    op(decode_ok(64, BYTES(0x48, 0x0f, 0xbd, 0x03)), INSN_BITSCAN, ALU_BSR, 8, GPR_RAX);
    op(decode_ok(64, BYTES(0x0f, 0xaf, 0x03)), INSN_IMUL, 0, 4, GPR_RAX);
    in = decode_ok(64, BYTES(0x66, 0x6b, 0x03, 0xff));
    op(in, INSN_IMUL, 0, 2, GPR_RAX);
    assert_int_equal(in.imm, 0xffff);
    in = decode_ok(64, BYTES(0x48, 0x69, 0x03, 0x37, 0x01, 0x00, 0x00));
    op(in, INSN_IMUL, 0, 8, GPR_RAX);
    assert_int_equal(in.imm, 0x137);
    in = decode_ok(64, BYTES(0x0f, 0xa5, 0x03));                    /* shld [rbx], eax, cl */
    op(in, INSN_SHIFTD, ALU_SHLD, 4, GPR_RAX);
    assert_false(in.has_imm);
    in = decode_ok(64, BYTES(0x48, 0x0f, 0xac, 0x0b, 0x07));        /* shrd [rbx], rcx, 7 */
    op(in, INSN_SHIFTD, ALU_SHRD, 8, GPR_RCX);
    assert_true(in.has_imm);
    assert_int_equal(in.imm, 7);
    op(decode_ok(64, BYTES(0x41, 0x0f, 0x45, 0x45, 0x00)), INSN_CMOV, 5, 4, GPR_RAX); /* cmovne eax, [r13] */
    op(decode_ok(64, BYTES(0x48, 0x0f, 0x4f, 0x0b)), INSN_CMOV, 15, 8, GPR_RCX);
    op(decode_ok(64, BYTES(0x0f, 0x94, 0x03)), INSN_SETCC, 4, 1, 0);                 /* sete [rbx] */
    op(decode_ok(64, BYTES(0x41, 0x0f, 0x9f, 0x7c, 0x24, 0x10)), INSN_SETCC, 15, 1, 0); /* setg [r12+16], reg field 7 */
    op(decode_ok(16, BYTES(0x0f, 0x92, 0x07)), INSN_SETCC, 2, 1, 0);                 /* setb [bx] */
    op(decode_ok(64, BYTES(0x0f, 0xc3, 0x03)), MMIO_STORE, 0, 4, GPR_RAX);          /* movnti */
    op(decode_ok(64, BYTES(0x48, 0x0f, 0xc3, 0x03)), MMIO_STORE, 0, 8, GPR_RAX);
}

static void test_strings(void **state)
{
    (void)state;
    struct mmio_insn in = decode_ok(64, BYTES(0xa4));
    op(in, INSN_STRING, STR_MOVS, 1, 0);
    assert_int_equal(in.rep, REP_NONE);
    assert_int_equal(in.seg, SEG_DS);
    assert_int_equal(in.addrsize, 8);
    assert_false(in.mem);
    in = decode_ok(64, BYTES(0xf3, 0x48, 0xa5));
    op(in, INSN_STRING, STR_MOVS, 8, 0);
    assert_int_equal(in.rep, REP_E);
    in = decode_ok(64, BYTES(0xf3, 0xa6));
    op(in, INSN_STRING, STR_CMPS, 1, 0);
    assert_int_equal(in.rep, REP_E);
    in = decode_ok(64, BYTES(0x66, 0xf2, 0xaf));
    op(in, INSN_STRING, STR_SCAS, 2, 0);
    assert_int_equal(in.rep, REP_NE);
    op(decode_ok(64, BYTES(0xab)), INSN_STRING, STR_STOS, 4, 0);
    op(decode_ok(64, BYTES(0xac)), INSN_STRING, STR_LODS, 1, 0);
    op(decode_ok(16, BYTES(0xa7)), INSN_STRING, STR_CMPS, 2, 0);
    assert_int_equal(decode_ok(16, BYTES(0xa7)).addrsize, 2);
    assert_int_equal(decode_ok(64, BYTES(0x67, 0xf3, 0xa4)).addrsize, 4);
    assert_int_equal(decode_ok(32, BYTES(0x67, 0xf3, 0xa4)).addrsize, 2);
    /* The source's segment may be overridden (not ES..DS in 64-bit mode). */
    assert_int_equal(decode_ok(64, BYTES(0x64, 0xa4)).seg, SEG_FS);
    assert_int_equal(decode_ok(64, BYTES(0x26, 0xa4)).seg, SEG_DS);
    assert_int_equal(decode_ok(32, BYTES(0x26, 0xa4)).seg, SEG_ES);
    assert_int_equal(decode_ok(32, BYTES(0x2e, 0xac)).seg, SEG_CS);
}

static void test_stack(void **state)
{
    (void)state;
    op(decode_ok(64, BYTES(0x50)), INSN_PUSH, 0, 8, GPR_RAX);
    op(decode_ok(64, BYTES(0x41, 0x57)), INSN_PUSH, 0, 8, GPR_R15);
    op(decode_ok(64, BYTES(0x66, 0x53)), INSN_PUSH, 0, 2, GPR_RBX);
    op(decode_ok(64, BYTES(0x48, 0x53)), INSN_PUSH, 0, 8, GPR_RBX);  /* REX.W changes nothing */
    op(decode_ok(32, BYTES(0x53)), INSN_PUSH, 0, 4, GPR_RBX);
    op(decode_ok(16, BYTES(0x53)), INSN_PUSH, 0, 2, GPR_RBX);
    op(decode_ok(64, BYTES(0x5d)), INSN_POP, 0, 8, GPR_RBP);
    struct mmio_insn in = decode_ok(64, BYTES(0x6a, 0xf9));
    op(in, INSN_PUSH, 0, 8, 0);
    assert_int_equal(in.imm, 0xfffffffffffffff9ull);
    in = decode_ok(64, BYTES(0x68, 0x0d, 0x1c, 0x94, 0xff));
    assert_int_equal(in.imm, 0xffffffffff941c0dull);
    in = decode_ok(32, BYTES(0x66, 0x6a, 0x80));
    op(in, INSN_PUSH, 0, 2, 0);
    assert_int_equal(in.imm, 0xff80);
    in = decode_ok(64, BYTES(0xff, 0x32));                           /* push [rdx] */
    op(in, INSN_PUSH, 0, 8, 0);
    assert_true(in.mem);
    in = decode_ok(64, BYTES(0xff, 0xf0));                           /* push rax (ff /6) */
    op(in, INSN_PUSH, 0, 8, GPR_RAX);
    assert_false(in.mem);
    in = decode_ok(64, BYTES(0x66, 0x41, 0xff, 0xb4, 0x24, 0x00, 0x10, 0x00, 0x00)); /* push word [r12+0x1000] */
    op(in, INSN_PUSH, 0, 2, 0);
    in = decode_ok(64, BYTES(0x41, 0x8f, 0x45, 0x00));               /* pop [r13] */
    op(in, INSN_POP, 0, 8, 0);
    assert_true(in.mem);
    op(decode_ok(64, BYTES(0x41, 0x8f, 0xc1)), INSN_POP, 0, 8, GPR_R9);
    in = decode_ok(64, BYTES(0xe8, 0xfb, 0xff, 0xff, 0xff));
    op(in, INSN_CALL, 0, 8, 0);
    assert_int_equal(in.imm, 0xfffffffffffffffbull);
    assert_int_equal(decode_ok(16, BYTES(0xe8, 0x00, 0x80)).imm, 0xffffffffffff8000ull);
    op(decode_ok(64, BYTES(0x66, 0xff, 0x13)), INSN_CALL, 0, 8, 0);  /* 66 is ignored */
    op(decode_ok(32, BYTES(0x66, 0xff, 0x13)), INSN_CALL, 0, 2, 0);
    op(decode_ok(64, BYTES(0x41, 0xff, 0xd7)), INSN_CALL, 0, 8, GPR_R15); /* call r15 */
    op(decode_ok(64, BYTES(0x41, 0xff, 0x65, 0x00)), INSN_JMP, 0, 8, 0);
    op(decode_ok(64, BYTES(0x49, 0xff, 0x6d, 0x00)), INSN_JMP_FAR, 0, 10, 0);
    op(decode_ok(64, BYTES(0xff, 0x2b)), INSN_JMP_FAR, 0, 6, 0);
    op(decode_ok(32, BYTES(0x66, 0xff, 0x2b)), INSN_JMP_FAR, 0, 4, 0);
    op(decode_ok(64, BYTES(0xc3)), INSN_RET, 0, 8, 0);
    in = decode_ok(32, BYTES(0xc2, 0x08, 0x00));
    op(in, INSN_RET, 0, 4, 0);
    assert_int_equal(in.imm, 8);
    in = decode_ok(64, BYTES(0xc8, 0x38, 0x12, 0x03));
    op(in, INSN_ENTER, 0, 8, 0);
    assert_int_equal(in.imm, 0x1238);
    assert_int_equal(in.imm2, 3);
    op(decode_ok(64, BYTES(0xc9)), INSN_LEAVE, 0, 8, 0);
    op(decode_ok(64, BYTES(0x66, 0xc9)), INSN_LEAVE, 0, 2, 0);
}

static void test_system(void **state)
{
    (void)state;
    op(decode_ok(64, BYTES(0x66, 0x41, 0x8c, 0x8c, 0x24, 0x08, 0x10, 0x00, 0x00)), INSN_SREG_STORE, 0, 2, SEG_CS);
    op(decode_ok(64, BYTES(0x8c, 0x23)), INSN_SREG_STORE, 0, 2, SEG_FS);
    op(decode_ok(64, BYTES(0x41, 0x8e, 0x55, 0x00)), INSN_SREG_LOAD, 0, 2, SEG_SS);
    op(decode_ok(16, BYTES(0x8e, 0x1f)), INSN_SREG_LOAD, 0, 2, SEG_DS);
    op(decode_ok(64, BYTES(0x41, 0x0f, 0x01, 0xa4, 0x24, 0x00, 0x10, 0x00, 0x00)), INSN_SMSW, 0, 2, 0);
    op(decode_ok(64, BYTES(0x41, 0x0f, 0x00, 0x5d, 0x00)), INSN_LTR, 0, 2, 0);
}

static void test_vector(void **state)
{
    (void)state;
    op(decode_ok(64, BYTES(0x0f, 0x10, 0x03)), INSN_VEC_LOAD, VEC_XMM, 16, 0);     /* movups xmm0, [rbx] */
    op(decode_ok(64, BYTES(0x66, 0x0f, 0x11, 0x0b)), INSN_VEC_STORE, VEC_XMM, 16, 1); /* movupd [rbx], xmm1 */
    op(decode_ok(64, BYTES(0xf3, 0x0f, 0x10, 0x03)), INSN_VEC_LOAD, VEC_XMM, 4, 0);  /* movss */
    op(decode_ok(64, BYTES(0xf2, 0x0f, 0x11, 0x03)), INSN_VEC_STORE, VEC_XMM, 8, 0); /* movsd */
    op(decode_ok(64, BYTES(0x0f, 0x28, 0x03)), INSN_VEC_LOAD, VEC_XMM, 16, 0);     /* movaps */
    op(decode_ok(64, BYTES(0x66, 0x0f, 0x29, 0x1b)), INSN_VEC_STORE, VEC_XMM, 16, 3); /* movapd */
    op(decode_ok(64, BYTES(0x0f, 0x2b, 0x03)), INSN_VEC_STORE, VEC_XMM, 16, 0);    /* movntps */
    op(decode_ok(64, BYTES(0xf3, 0x0f, 0x7f, 0x0b)), INSN_VEC_STORE, VEC_XMM, 16, 1); /* movdqu */
    op(decode_ok(64, BYTES(0x66, 0x0f, 0x6f, 0x0b)), INSN_VEC_LOAD, VEC_XMM, 16, 1);  /* movdqa */
    op(decode_ok(64, BYTES(0x44, 0x0f, 0x10, 0x3b)), INSN_VEC_LOAD, VEC_XMM, 16, 15); /* xmm15 */
    op(decode_ok(64, BYTES(0x41, 0x0f, 0x7f, 0x84, 0x24, 0x00, 0x10, 0x00, 0x00)), INSN_VEC_STORE, VEC_MM, 8, 0);
    op(decode_ok(64, BYTES(0x0f, 0x6f, 0x0b)), INSN_VEC_LOAD, VEC_MM, 8, 1);        /* movq mm1, [rbx] */
    op(decode_ok(64, BYTES(0x44, 0x0f, 0x6f, 0x0b)), INSN_VEC_LOAD, VEC_MM, 8, 1);  /* REX.R: still mm1 */
    op(decode_ok(64, BYTES(0x0f, 0x6e, 0x03)), INSN_VEC_LOAD, VEC_MM, 4, 0);        /* movd mm0, [rbx] */
    op(decode_ok(64, BYTES(0x48, 0x0f, 0x7e, 0x03)), INSN_VEC_STORE, VEC_MM, 8, 0); /* movq [rbx], mm0 */
    op(decode_ok(64, BYTES(0x66, 0x0f, 0x6e, 0x03)), INSN_VEC_LOAD, VEC_XMM, 4, 0); /* movd xmm0, [rbx] */
    op(decode_ok(64, BYTES(0x66, 0x48, 0x0f, 0x7e, 0x03)), INSN_VEC_STORE, VEC_XMM, 8, 0);
    op(decode_ok(64, BYTES(0xf3, 0x0f, 0x7e, 0x03)), INSN_VEC_LOAD, VEC_XMM, 8, 0); /* movq xmm0, [rbx] */
    op(decode_ok(64, BYTES(0x66, 0x0f, 0xd6, 0x03)), INSN_VEC_STORE, VEC_XMM, 8, 0); /* movq [rbx], xmm0 */
    op(decode_ok(64, BYTES(0x0f, 0xe7, 0x03)), INSN_VEC_STORE, VEC_MM, 8, 0);       /* movntq */
    op(decode_ok(64, BYTES(0x66, 0x0f, 0xe7, 0x03)), INSN_VEC_STORE, VEC_XMM, 16, 0); /* movntdq */
    op(decode_ok(32, BYTES(0x0f, 0x11, 0x03)), INSN_VEC_STORE, VEC_XMM, 16, 0);
}

/* Effective addresses and default segments. */
static uint64_t ea(unsigned mode, const uint8_t *bytes, size_t n, const uint64_t *gpr, unsigned seg)
{
    struct mmio_insn in = decode_ok(mode, bytes, n);
    assert_true(in.mem);
    assert_int_equal(in.seg, seg);
    return mmio_insn_ea(&in, gpr, 0x400000 + n);
}

static void test_effective_address(void **state)
{
    (void)state;
    uint64_t g[GPR_COUNT];
    for (unsigned i = 0; i < GPR_COUNT; i++)
        g[i] = 0x1000 * (i + 1);
    g[GPR_RBX] = 0xfffffffffffffff0ull;
    assert_int_equal(ea(64, BYTES(0x8b, 0x43, 0x20), g, SEG_DS), 0x10);          /* [rbx+0x20] wraps at 2^64 */
    assert_int_equal(ea(64, BYTES(0x8b, 0x43, 0xf0), g, SEG_DS), 0xffffffffffffffe0ull); /* disp8 -16 */
    assert_int_equal(ea(64, BYTES(0x8b, 0x05, 0x10, 0, 0, 0), g, SEG_DS), 0x400016); /* [rip+0x10] */
    assert_int_equal(ea(64, BYTES(0x8b, 0x05, 0xf0, 0xff, 0xff, 0xff), g, SEG_DS), 0x3ffff6);
    assert_int_equal(ea(64, BYTES(0x67, 0x8b, 0x05, 0x10, 0, 0, 0), g, SEG_DS), 0x400017); /* [eip+0x10] */
    assert_int_equal(ea(64, BYTES(0x8b, 0x44, 0x88, 0x10), g, SEG_DS), 0x1000 + 4 * 0x2000 + 0x10);
    assert_int_equal(ea(64, BYTES(0x8b, 0x04, 0xcd, 0, 1, 0, 0), g, SEG_DS), 8 * 0x2000 + 0x100); /* no base */
    assert_int_equal(ea(64, BYTES(0x8b, 0x04, 0x25, 0x78, 0x56, 0x34, 0x12), g, SEG_DS), 0x12345678);
    assert_int_equal(ea(64, BYTES(0x8b, 0x04, 0x24), g, SEG_SS), 0x5000);       /* [rsp] */
    assert_int_equal(ea(64, BYTES(0x8b, 0x45, 0x08), g, SEG_SS), 0x6008);       /* [rbp+8] */
    assert_int_equal(ea(64, BYTES(0x41, 0x8b, 0x04, 0x24), g, SEG_DS), 0xd000); /* [r12] */
    assert_int_equal(ea(64, BYTES(0x41, 0x8b, 0x45, 0x00), g, SEG_DS), 0xe000); /* [r13] */
    assert_int_equal(ea(64, BYTES(0x42, 0x8b, 0x04, 0x20), g, SEG_DS), 0x1000 + 0xd000); /* [rax+r12]: index 12 */
    assert_int_equal(ea(64, BYTES(0x8b, 0x04, 0x20), g, SEG_DS), 0x1000);       /* index 100: none */
    assert_int_equal(ea(64, BYTES(0x64, 0x8b, 0x45, 0x08), g, SEG_FS), 0x6008); /* fs: overrides SS */
    assert_int_equal(ea(64, BYTES(0x3e, 0x8b, 0x45, 0x08), g, SEG_SS), 0x6008); /* ds: does nothing */
    assert_int_equal(ea(64, BYTES(0x67, 0x8b, 0x03), g, SEG_DS), 0xfffffff0);   /* [ebx] */
    assert_int_equal(ea(64, BYTES(0xa1, 8, 7, 6, 5, 4, 3, 2, 1), g, SEG_DS), 0x0102030405060708ull);
    assert_int_equal(ea(64, BYTES(0x65, 0xa1, 8, 7, 6, 5, 4, 3, 2, 1), g, SEG_GS), 0x0102030405060708ull);
    assert_int_equal(ea(32, BYTES(0x8b, 0x43, 0x20), g, SEG_DS), 0x10);         /* [ebx+0x20] wraps at 2^32 */
    assert_int_equal(ea(32, BYTES(0x36, 0x8b, 0x03), g, SEG_SS), 0xfffffff0);
    assert_int_equal(ea(32, BYTES(0x3e, 0x8b, 0x45, 0x08), g, SEG_DS), 0x6008); /* ds:[ebp+8] */
    assert_int_equal(ea(32, BYTES(0x8b, 0x05, 0x10, 0, 0, 0), g, SEG_DS), 0x10); /* absolute, not RIP */
    /* 16-bit addressing: BX+SI, BP+DI (SS), BP+disp (SS), [disp16], wrapping at 64 KiB. */
    g[GPR_RBX] = 0xfff0;
    assert_int_equal(ea(16, BYTES(0x8b, 0x40, 0x20), g, SEG_DS), (0xfff0 + 0x7000 + 0x20) & 0xffff);
    assert_int_equal(ea(16, BYTES(0x8b, 0x03), g, SEG_SS), (0x6000 + 0x8000) & 0xffff);
    assert_int_equal(ea(16, BYTES(0x8b, 0x46, 0xfe), g, SEG_SS), 0x5ffe);
    assert_int_equal(ea(16, BYTES(0x8b, 0x06, 0x34, 0x12), g, SEG_DS), 0x1234);
    assert_int_equal(ea(16, BYTES(0x8b, 0x87, 0x00, 0x80), g, SEG_DS), (0xfff0 + 0x8000) & 0xffff);
    assert_int_equal(ea(16, BYTES(0x67, 0x8b, 0x43, 0x20), g, SEG_DS), 0xfff0 + 0x20); /* 32-bit in 16-bit mode */
}

static const uint64_t start[GPR_COUNT] = {
    0x1122334455667788, 0x0101010101010101, 0x0202020202020202, 0x0303030303030303,
    0x0404040404040404, 0x0505050505050505, 0x0606060606060606, 0x0707070707070707,
    0x0808080808080808, 0x0909090909090909, 0x1010101010101010, 0x1111111111111111,
    0x1212121212121212, 0x1313131313131313, 0x1414141414141414, 0x1515151515151515,
};

/* Decodes, completes a load of `value` on a copy of start[], checks the destination, and checks
 * that no other register changed. */
static void load(unsigned mode, const uint8_t *bytes, size_t n, uint64_t value, unsigned reg,
                 uint64_t want)
{
    uint64_t gpr[GPR_COUNT];
    memcpy(gpr, start, sizeof(gpr));
    struct mmio_insn in = decode_ok(mode, bytes, n);
    assert_int_equal(in.op, MMIO_LOAD);
    mmio_insn_complete_load(&in, value, gpr, mode);
    for (unsigned i = 0; i < GPR_COUNT; i++)
        assert_int_equal(gpr[i], i == reg ? want : start[i]);
}

static void test_complete_load(void **state)
{
    (void)state;
    /* 8-bit destinations merge into bits 7:0 or, for AH..BH, 15:8; bits above the access size
     * in `value` are ignored. */
    load(64, BYTES(0x8a, 0x00), 0xffab, GPR_RAX, 0x11223344556677ab);
    load(32, BYTES(0x8a, 0x00), 0xab, GPR_RAX, 0x11223344556677ab);
    load(64, BYTES(0x8a, 0x20), 0xab, GPR_RAX, 0x112233445566ab88);
    load(16, BYTES(0x8a, 0x3f), 0xab, GPR_RBX, 0x030303030303ab03); /* mov bh, [bx] */
    load(64, BYTES(0x40, 0x8a, 0x20), 0xab, GPR_RSP, 0x04040404040404ab); /* spl */
    load(64, BYTES(0x44, 0x8a, 0x20), 0xab, GPR_R12, 0x12121212121212ab); /* r12b */
    /* 16-bit destinations merge into bits 15:0. */
    load(64, BYTES(0x66, 0x8b, 0x00), 0xabcd, GPR_RAX, 0x112233445566abcd);
    load(16, BYTES(0x8b, 0x00), 0xabcd, GPR_RAX, 0x112233445566abcd);
    /* 32-bit destinations zero bits 63:32 in 64-bit mode only. */
    load(64, BYTES(0x8b, 0x00), 0xdeadbeef, GPR_RAX, 0x00000000deadbeef);
    load(32, BYTES(0x8b, 0x00), 0xdeadbeef, GPR_RAX, 0x11223344deadbeef);
    load(16, BYTES(0x66, 0x8b, 0x00), 0xdeadbeef, GPR_RAX, 0x11223344deadbeef);
    load(64, BYTES(0x48, 0x8b, 0x00), 0xfedcba9876543210, GPR_RAX, 0xfedcba9876543210);
    load(64, BYTES(0x4c, 0x8b, 0x08), 0xfedcba9876543210, GPR_R9, 0xfedcba9876543210);
    load(64, BYTES(0xa1, 1, 2, 3, 4, 5, 6, 7, 8), 0x12345678, GPR_RAX, 0x12345678);
    load(16, BYTES(0xa0, 1, 2), 0x5a, GPR_RAX, 0x112233445566775a);
    /* MOVZX zero-extends to the destination size first. */
    load(64, BYTES(0x0f, 0xb6, 0x00), 0x80, GPR_RAX, 0x80);
    load(32, BYTES(0x0f, 0xb6, 0x00), 0x80, GPR_RAX, 0x1122334400000080);
    load(64, BYTES(0x0f, 0xb7, 0x00), 0xff8000, GPR_RAX, 0x8000);
    load(64, BYTES(0x66, 0x0f, 0xb6, 0x00), 0x80, GPR_RAX, 0x1122334455660080);
    /* MOVSX sign-extends to the destination size. */
    load(64, BYTES(0x0f, 0xbe, 0x00), 0x80, GPR_RAX, 0x00000000ffffff80);
    load(64, BYTES(0x48, 0x0f, 0xbe, 0x00), 0x80, GPR_RAX, 0xffffffffffffff80);
    load(64, BYTES(0x48, 0x0f, 0xbf, 0x00), 0x8000, GPR_RAX, 0xffffffffffff8000);
    load(64, BYTES(0x48, 0x0f, 0xbe, 0x00), 0x7f, GPR_RAX, 0x7f);
    load(64, BYTES(0x66, 0x0f, 0xbe, 0x00), 0x80, GPR_RAX, 0x112233445566ff80);
    load(32, BYTES(0x0f, 0xbf, 0x00), 0x8000, GPR_RAX, 0x11223344ffff8000);
    load(64, BYTES(0x44, 0x0f, 0xbe, 0x38), 0xfe, GPR_R15, 0x00000000fffffffe);
}

static uint64_t store(unsigned mode, const uint8_t *bytes, size_t n)
{
    struct mmio_insn in = decode_ok(mode, bytes, n);
    assert_int_equal(in.op, MMIO_STORE);
    return mmio_insn_store_value(&in, start);
}

static void test_store_value(void **state)
{
    (void)state;
    assert_int_equal(store(64, BYTES(0x88, 0x00)), 0x88);                   /* al */
    assert_int_equal(store(64, BYTES(0x88, 0x20)), 0x77);                   /* ah */
    assert_int_equal(store(64, BYTES(0x40, 0x88, 0x38)), 0x07);             /* dil */
    assert_int_equal(store(64, BYTES(0x66, 0x89, 0x00)), 0x7788);
    assert_int_equal(store(64, BYTES(0x89, 0x00)), 0x55667788);
    assert_int_equal(store(32, BYTES(0x89, 0x00)), 0x55667788);
    assert_int_equal(store(64, BYTES(0x48, 0x89, 0x00)), 0x1122334455667788);
    assert_int_equal(store(64, BYTES(0x4c, 0x89, 0x38)), 0x1515151515151515); /* r15 */
    assert_int_equal(store(64, BYTES(0x44, 0x88, 0x00)), 0x08);             /* r8b */
    assert_int_equal(store(64, BYTES(0xa2, 1, 2, 3, 4, 5, 6, 7, 8)), 0x88);
    assert_int_equal(store(16, BYTES(0xa3, 1, 2)), 0x7788);
    assert_int_equal(store(64, BYTES(0xc6, 0x00, 0xab)), 0xab);
    assert_int_equal(store(64, BYTES(0x66, 0xc7, 0x00, 0xcd, 0xab)), 0xabcd);
    assert_int_equal(store(64, BYTES(0xc7, 0x00, 0xff, 0xff, 0xff, 0xff)), 0xffffffff);
    assert_int_equal(store(64, BYTES(0x48, 0xc7, 0x00, 0xff, 0xff, 0xff, 0xff)),
                     0xffffffffffffffff);

    /* A hand-built immediate wider than its size is still truncated. */
    struct mmio_insn in = { .op = MMIO_STORE, .size = 2, .has_imm = true, .imm = 0x12345678 };
    assert_int_equal(mmio_insn_store_value(&in, start), 0x5678);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mov_store_register),
        cmocka_unit_test(test_mov_load_register),
        cmocka_unit_test(test_mov_immediate),
        cmocka_unit_test(test_movzx_movsx),
        cmocka_unit_test(test_moffs),
        cmocka_unit_test(test_16bit_addressing),
        cmocka_unit_test(test_prefixes),
        cmocka_unit_test(test_byte_registers),
        cmocka_unit_test(test_rejected),
        cmocka_unit_test(test_alu),
        cmocka_unit_test(test_unary_and_others),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_stack),
        cmocka_unit_test(test_system),
        cmocka_unit_test(test_vector),
        cmocka_unit_test(test_effective_address),
        cmocka_unit_test(test_complete_load),
        cmocka_unit_test(test_store_value),
    };
    return cmocka_run_group_tests_name("decode", tests, NULL, NULL);
}
