// sources: vmx/decode.c
/* The MMIO instruction decoder: every supported MOV form in 16-, 32- and 64-bit mode with its
 * exact length, the prefixes that change size or register, the forms it must refuse, and the
 * register-file semantics of completing a load or producing a store value. Encodings were
 * checked against the SDM tables (and GNU as where in doubt). */
#include "stubs.h"

#include <string.h>

#include "vmx/decode.h"

/* An instruction's bytes and their count, as decode_ok() and rejects() take them. */
#define BYTES(...) (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ })

/* Decodes an instruction that must be exactly `n` bytes long. It is decoded once followed by
 * filler (so a decoder that reads too far shows up as a wrong length), once with exactly its
 * bytes available, and once with each shorter count, which must all be refused as truncated
 * (DECODE_TRUNCATED: more bytes might complete it). */
static struct mmio_insn decode_ok(unsigned mode, const uint8_t *bytes, size_t n)
{
    uint8_t padded[16];
    struct mmio_insn in, exact, shorter;
    memset(padded, 0x90, sizeof(padded));
    memcpy(padded, bytes, n);
    assert_int_equal(decode_mmio_insn(padded, sizeof(padded), mode, &in), 0);
    assert_int_equal(in.length, n);
    assert_int_equal(decode_mmio_insn(bytes, n, mode, &exact), 0);
    assert_int_equal(exact.length, n);
    assert_int_equal(exact.size, in.size);
    assert_int_equal(exact.imm, in.imm);
    for (size_t k = 0; k < n; k++)
        assert_int_equal(decode_mmio_insn(bytes, k, mode, &shorter), DECODE_TRUNCATED);
    return in;
}

static void rejects(unsigned mode, const uint8_t *bytes, size_t n)
{
    struct mmio_insn in;
    assert_int_equal(decode_mmio_insn(bytes, n, mode, &in), DECODE_UNSUPPORTED);
}

static void truncated(unsigned mode, const uint8_t *bytes, size_t n)
{
    struct mmio_insn in;
    assert_int_equal(decode_mmio_insn(bytes, n, mode, &in), DECODE_TRUNCATED);
}

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
    /* Other instructions. */
    rejects(64, BYTES(0x90));
    rejects(64, BYTES(0xff, 0x00));
    rejects(64, BYTES(0x8c, 0x00));             /* mov r/m, sreg */
    rejects(64, BYTES(0x8e, 0x00));             /* mov sreg, r/m */
    rejects(64, BYTES(0xa4));                   /* movsb */
    rejects(64, BYTES(0x0f, 0x10, 0x00));       /* movups */
    rejects(64, BYTES(0x0f, 0x05));
    rejects(64, BYTES(0x01, 0x00));
    /* Truncated, including prefixes alone and nothing at all. */
    truncated(64, BYTES(0x8b, 0x05, 0x00, 0x00, 0x00));
    truncated(64, BYTES(0xc7, 0x00, 0x01, 0x00, 0x00));
    truncated(64, BYTES(0x0f));
    truncated(64, BYTES(0x66, 0x67, 0x48));
    truncated(64, BYTES(0xa1, 1, 2, 3, 4));
    truncated(64, (const uint8_t *)"", 0);
    /* An unsupported opcode is refused as such even when bytes run out after it. */
    rejects(64, BYTES(0x66, 0xff));
    /* Not a mode the decoder knows. */
    rejects(8, BYTES(0x8b, 0x00));
    rejects(0, BYTES(0x8b, 0x00));
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
        cmocka_unit_test(test_complete_load),
        cmocka_unit_test(test_store_value),
    };
    return cmocka_run_group_tests_name("decode", tests, NULL, NULL);
}
