/* SPDX-License-Identifier: BSD-2-Clause */
// sources: vmx/decode.c vmx/decode_opcodes.c vmx/alu.c vmx/emulate.c
/* libFuzzer target for the MMIO instruction decoder (vmx/decode.c) and the executor that runs
 * what it decodes (vmx/emulate.c, vmx/alu.c), run for a bounded time by make test. Input: one
 * byte choosing the CPU mode (16, 32, 64, or a mode that does not exist), then the instruction
 * bytes, given to the decoder in a buffer of exactly their size so that AddressSanitizer
 * catches any read past them. What the decoder must never do: crash, read beyond its input, or
 * return anything but 0, DECODE_UNSUPPORTED or DECODE_TRUNCATED. What it accepts must hold
 * together:
 *  - 1 <= length <= min(bytes given, 15); DECODE_TRUNCATED only when fewer than 15 were given;
 *  - an operation it has, with a sub-operation that operation has;
 *  - operand size 2, 4 or 8 and address size 2, 4 or 8 as the mode allows (8 only in 64-bit
 *    mode, where addresses are never 16-bit); the memory size one the operation has;
 *  - registers that exist in the mode (r8-r15, xmm8-15 need 64-bit mode; mm0-7; ES..GS), AH-BH
 *    only for 1-byte operands of registers 0-3; a store of an immediate names no register to
 *    widen, a load's destination is at least its memory size (MOVSX/MOVZX only widen);
 *  - a memory operand whose parts exist: a base or index register of the mode, RIP only in
 *    64-bit mode, no index 4 (RSP), scale 0-3, a segment ES..GS (only DS, SS, FS, GS in 64-bit
 *    mode, where the others do nothing); its effective address fits the address size;
 *  - the same bytes with nothing after them decode the same, and so does the decoder's
 *    general path (without its short way for common moves); one byte fewer is truncated;
 *  - completing a load changes its destination register only (and within it only the bytes
 *    the CPU would: AH-BH bits 15:8; 8/16-bit destinations their low bytes; 32-bit ones
 *    zero-extend in 64-bit mode); a store's value fits its size.
 * Then the executor runs it on registers and memory made from the input, through callbacks
 * that check every request: accesses of 1-16 bytes to a segment ES..GS (stack accesses to SS,
 * destinations of string instructions to ES) at offsets within the address size; a vector
 * register that exists; a result it has, with a fault's vector one the instruction can
 * raise; RFLAGS changed only in the status flags; RSP only by stack operations; the
 * next RIP only by branches. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmx/alu.h"
#include "vmx/decode.h"
#include "vmx/emulate.h"

#define MUST(cond)                                                                          \
    do {                                                                                    \
        if (!(cond))                                                                        \
            __builtin_trap();                                                               \
    } while (0)

static uint64_t mask_of(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

static void same_insn(const struct mmio_insn *a, const struct mmio_insn *b)
{
    MUST(a->op == b->op && a->sub == b->sub && a->size == b->size && a->opsize == b->opsize &&
         a->addrsize == b->addrsize && a->reg == b->reg && a->dest_size == b->dest_size && a->length == b->length &&
         a->seg == b->seg && a->base == b->base && a->index == b->index && a->scale == b->scale &&
         a->rep == b->rep && a->imm2 == b->imm2 && a->has_imm == b->has_imm && a->high_byte == b->high_byte &&
         a->sign_extend == b->sign_extend && a->mem == b->mem && a->lock == b->lock && a->disp == b->disp &&
         a->imm == b->imm);
}

static void check_register_semantics(const struct mmio_insn *in, unsigned mode, const uint8_t *seed, size_t n)
{
    uint64_t gpr[GPR_COUNT], before[GPR_COUNT], value = 0;
    for (unsigned i = 0; i < GPR_COUNT; i++)
        gpr[i] = 0x0123456789abcdefull * (i + 1);
    memcpy(&value, seed, n < 8 ? n : 8);
    if (in->op == MMIO_STORE) {
        MUST((mmio_insn_store_value(in, gpr) & ~mask_of(in->size)) == 0);
        return;
    }
    if (in->op != MMIO_LOAD)
        return;
    memcpy(before, gpr, sizeof(gpr));
    mmio_insn_complete_load(in, value, gpr, mode);
    for (unsigned i = 0; i < GPR_COUNT; i++)
        if (i != in->reg)
            MUST(gpr[i] == before[i]);
    uint64_t changed = gpr[in->reg] ^ before[in->reg];
    if (in->high_byte)
        MUST((changed & ~0xff00ull) == 0);
    else if (in->dest_size == 4 && mode == 64)
        MUST((gpr[in->reg] >> 32) == 0);
    else
        MUST((changed & ~mask_of(in->dest_size)) == 0);
}

static bool gpr_ok(unsigned r, unsigned mode)
{
    return r < GPR_COUNT && (r < 8 || mode == 64);
}

/* The decoded instruction, field by field. */
static void check_insn(const struct mmio_insn *in, unsigned mode)
{
    unsigned op = in->op, size = in->size;
    MUST(op <= INSN_VEC_STORE);
    MUST(in->opsize == 2 || in->opsize == 4 || (in->opsize == 8 && mode == 64));
    MUST(mode == 64 ? in->addrsize == 4 || in->addrsize == 8 : in->addrsize == 2 || in->addrsize == 4);
    MUST(in->rep <= REP_NE);
    bool gp_size = size == 1 || size == 2 || size == 4 || (size == 8 && mode == 64);
    switch (op) {
    case MMIO_LOAD: case MMIO_STORE: case INSN_XCHG: case INSN_XADD: case INSN_CMPXCHG:
        MUST(gp_size && in->sub == 0 && in->mem);
        break;
    case INSN_ALU_MEM: case INSN_ALU_REG:
        MUST(gp_size && in->mem && in->sub <= (op == INSN_ALU_MEM ? ALU_TEST : ALU_CMP));
        break;
    case INSN_UNARY:
        MUST(gp_size && in->mem && in->sub >= ALU_INC && in->sub <= ALU_NEG);
        break;
    case INSN_MULDIV:
        MUST(gp_size && in->mem && in->sub >= ALU_MUL && in->sub <= ALU_IDIV);
        break;
    case INSN_BT:
        MUST(size == in->opsize && in->mem && in->sub >= ALU_BT && in->sub <= ALU_BTC);
        break;
    case INSN_BITSCAN:
        MUST(size == in->opsize && in->mem && (in->sub == ALU_BSF || in->sub == ALU_BSR));
        break;
    case INSN_SHIFTD:
        MUST(size == in->opsize && in->mem && (in->sub == ALU_SHLD || in->sub == ALU_SHRD));
        break;
    case INSN_IMUL: case INSN_CMOV:
        MUST(size == in->opsize && in->mem && in->sub < 16);
        break;
    case INSN_SETCC:
        MUST(size == 1 && in->mem && in->sub < 16 && in->reg == 0);
        break;
    case INSN_STRING:
        MUST(gp_size && !in->mem && in->sub <= STR_SCAS);
        break;
    case INSN_PUSH: case INSN_POP: case INSN_ENTER: case INSN_LEAVE:
        MUST(mode == 64 ? size == 2 || size == 8 : size == in->opsize);
        MUST(op != INSN_ENTER && op != INSN_LEAVE ? true : !in->mem);
        break;
    case INSN_CALL: case INSN_RET: case INSN_JMP:
        MUST(mode == 64 ? size == 8 : size == in->opsize);
        MUST(op != INSN_JMP || in->mem);
        MUST(op != INSN_RET || !in->mem);
        break;
    case INSN_JMP_FAR:
        MUST(size == in->opsize + 2 && in->mem);
        break;
    case INSN_SREG_STORE: case INSN_SREG_LOAD:
        MUST(size == 2 && in->mem && in->reg <= SEG_GS && !(op == INSN_SREG_LOAD && in->reg == SEG_CS));
        break;
    case INSN_SMSW: case INSN_LTR:
        MUST(size == 2 && in->mem);
        break;
    default: /* vector moves */
        MUST(in->mem && (in->sub == VEC_XMM || in->sub == VEC_MM));
        MUST(in->sub == VEC_MM ? in->reg < 8 && (size == 4 || size == 8)
                               : gpr_ok(in->reg, mode) && (size == 4 || size == 8 || size == 16));
        break;
    }
    if (op < INSN_SREG_STORE)
        MUST(gpr_ok(in->reg, mode));
    MUST(!in->high_byte || (size == 1 && in->reg < 4));
    MUST(!in->has_imm || op != MMIO_LOAD);
    MUST(!in->sign_extend || op == MMIO_LOAD);
    if (in->has_imm && op != INSN_CALL && op != INSN_BT && op != INSN_SHIFTD)
        MUST((in->imm & ~mask_of(size)) == 0 || size == 8);
    if (op == MMIO_LOAD) {
        MUST(in->dest_size == 1 || in->dest_size == 2 || in->dest_size == 4 || in->dest_size == 8);
        MUST(in->dest_size >= size && (in->dest_size != 8 || mode == 64));
    }
    MUST(in->seg <= SEG_GS);
    if (mode == 64)
        MUST(in->seg == SEG_DS || in->seg == SEG_SS || in->seg == SEG_FS || in->seg == SEG_GS);
    if (in->mem) {
        MUST(in->base == EA_NONE || (in->base == EA_RIP && mode == 64 && in->addrsize != 2) || gpr_ok(in->base, mode));
        MUST(in->index == EA_NONE || (gpr_ok(in->index, mode) && in->index != GPR_RSP));
        MUST(in->scale <= 3 && (in->index != EA_NONE || in->scale == 0));
        uint64_t gpr[GPR_COUNT];
        for (unsigned i = 0; i < GPR_COUNT; i++)
            gpr[i] = 0xfedcba9876543210ull * (i + 3);
        MUST((mmio_insn_ea(in, gpr, 0x123456789abcull) & ~mask_of(in->addrsize)) == 0);
    }
}

/* --- The executor on a fake machine ----------------------------------------------------------- */

struct fake {
    struct emu e;
    const struct mmio_insn *in;
    const uint8_t *data;      /* memory contents come from the input */
    size_t n;
    unsigned accesses;
};

static enum emu_result fake_mem(struct emu *e, unsigned seg, uint64_t offset, void *buf, unsigned len,
                                enum emu_access how)
{
    struct fake *f = (struct fake *)e;
    const struct mmio_insn *in = f->in;
    MUST(len >= 1 && len <= 16 && seg <= SEG_GS && how <= EMU_RMW);
    MUST((offset & ~mask_of(in->addrsize)) == 0 || (offset & ~mask_of(f->e.stack_size)) == 0);
    MUST(++f->accesses <= 2 * 100 + 8); /* a batch of 100 elements of two accesses, or a few */
    if (in->op == INSN_STRING && in->sub != STR_LODS && seg != in->seg)
        MUST(seg == SEG_ES);
    /* A fault now and then, from the input. */
    uint8_t pick = f->n ? f->data[(offset + f->accesses) % f->n] : 0;
    if (pick == 0xf4)
        return emu_raise(e, 14, 2);
    if (how != EMU_WRITE)
        for (unsigned i = 0; i < len; i++)
            ((uint8_t *)buf)[i] = f->n ? f->data[(offset + i) % f->n] : 0xaa;
    return EMU_OK;
}

static bool fake_rip_ok(struct emu *e, uint64_t rip)
{
    (void)e;
    return (rip >> 47) == 0 || (rip >> 47) == 0x1ffff;
}

static uint64_t fake_cr0(struct emu *e)
{
    (void)e;
    return 0x80050033;
}

static uint16_t fake_sreg(struct emu *e, unsigned seg)
{
    (void)e;
    MUST(seg <= SEG_GS);
    return (uint16_t)(seg * 8);
}

static enum emu_result fake_load_sreg(struct emu *e, unsigned seg, uint16_t selector)
{
    MUST(seg <= SEG_GS && seg != SEG_CS);
    return selector & 4 ? emu_raise(e, 13, selector & 0xfffc) : EMU_OK;
}

static enum emu_result fake_load_tr(struct emu *e, uint16_t selector)
{
    return selector & 4 ? emu_raise(e, 13, selector & 0xfffc) : EMU_OK;
}

static enum emu_result fake_far_jmp(struct emu *e, uint16_t selector, uint64_t offset, unsigned opsize)
{
    MUST(opsize == 2 || opsize == 4 || opsize == 8);
    if (selector & 4)
        return emu_raise(e, 13, selector & 0xfffc);
    e->next_rip = offset;
    return EMU_OK;
}

static void fake_vec(struct emu *e, unsigned kind, unsigned reg, void *buf, bool write)
{
    struct fake *f = (struct fake *)e;
    MUST(kind == VEC_MM ? reg < 8 : reg < (f->e.mode == 64 ? 16u : 8u));
    if (!write)
        memset(buf, 0x5a, kind == VEC_MM ? 8 : 16);
}

static const struct emu_ops fake_ops = {
    .mem = fake_mem, .rip_ok = fake_rip_ok, .cr0 = fake_cr0, .sreg = fake_sreg, .load_sreg = fake_load_sreg,
    .load_tr = fake_load_tr, .far_jmp = fake_far_jmp, .vec = fake_vec,
};

static void check_execution(const struct mmio_insn *in, unsigned mode, const uint8_t *data, size_t n)
{
    struct fake f = { .in = in, .data = data, .n = n };
    struct emu *e = &f.e;
    e->ops = &fake_ops;
    for (unsigned i = 0; i < GPR_COUNT; i++) {
        uint64_t v = 0;
        memcpy(&v, data + (n ? (i * 5) % n : 0), n - (n ? (i * 5) % n : 0) < 8 ? n - (n ? (i * 5) % n : 0) : 8);
        e->gpr[i] = v;
    }
    e->gpr[GPR_RCX] &= 0x3ff; /* REP counts within reason */
    uint64_t rflags = 0x202 | (n ? data[n - 1] & 0xd5 : 0) | (n > 1 && (data[n - 2] & 1) ? RFLAGS_DF : 0);
    e->rflags = rflags;
    uint64_t next = 0x100000 + in->length, rsp = e->gpr[GPR_RSP];
    e->next_rip = next;
    e->mode = mode;
    e->stack_size = mode == 64 ? 8 : 4;
    e->max_elements = 100;
    e->mov_ss = false;
    e->stop_reason = NULL;
    enum emu_result r = emulate_insn(e, in);
    MUST(r == EMU_OK || r == EMU_AGAIN || r == EMU_FAULT);
    MUST(r != EMU_AGAIN || (in->op == INSN_STRING && in->rep != REP_NONE));
    if (r == EMU_FAULT) {
        unsigned v = e->fault.vector;
        MUST(v == 14 || v == 13 || (v == 0 && in->op == INSN_MULDIV) || (v == 6 && in->lock));
    }
    MUST(((e->rflags ^ rflags) & ~RFLAGS_ARITH) == 0);
    bool stack = in->op == INSN_PUSH || in->op == INSN_POP || in->op == INSN_CALL || in->op == INSN_RET ||
                 in->op == INSN_ENTER || in->op == INSN_LEAVE;
    bool writes_reg = in->op == MMIO_LOAD || in->op == INSN_ALU_REG || in->op == INSN_XCHG || in->op == INSN_XADD ||
                      in->op == INSN_BITSCAN || in->op == INSN_IMUL || in->op == INSN_CMOV;
    if (!stack && !(writes_reg && in->reg == GPR_RSP))
        MUST(e->gpr[GPR_RSP] == rsp);
    bool branch = in->op == INSN_CALL || in->op == INSN_RET || in->op == INSN_JMP || in->op == INSN_JMP_FAR;
    if (!branch)
        MUST(e->next_rip == next);
    MUST(!e->mov_ss || (in->op == INSN_SREG_LOAD && in->reg == SEG_SS));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const unsigned modes[] = { 16, 32, 64, 0, 8, 48 };
    unsigned mode = modes[data[0] % 6];
    size_t n = size - 1;
    uint8_t *bytes = malloc(n); /* ASan: not one byte more to read, even for n = 0 */
    memcpy(bytes, data + 1, n);

    struct mmio_insn in;
    int rc = decode_mmio_insn(bytes, (unsigned)n, mode, &in);
    MUST(rc == 0 || rc == DECODE_UNSUPPORTED || rc == DECODE_TRUNCATED);
    if (mode != 16 && mode != 32 && mode != 64)
        MUST(rc == DECODE_UNSUPPORTED);
    if (rc == DECODE_TRUNCATED)
        MUST(n < 15);
    struct mmio_insn general;
    int rc_general = decode_mmio_insn_general(bytes, (unsigned)n, mode, &general);
    MUST(rc_general == rc);
    if (rc == 0) {
        MUST(in.length >= 1 && in.length <= n && in.length <= 15);
        check_insn(&in, mode);
        same_insn(&in, &general);

        /* Exactly its bytes: the same instruction; one byte fewer: truncated. */
        uint8_t *exact = malloc(in.length);
        memcpy(exact, bytes, in.length);
        struct mmio_insn again;
        MUST(decode_mmio_insn(exact, in.length, mode, &again) == 0);
        same_insn(&in, &again);
        MUST(decode_mmio_insn(exact, in.length - 1, mode, &again) == DECODE_TRUNCATED);
        free(exact);

        check_register_semantics(&in, mode, data + 1, n);
        check_execution(&in, mode, data + 1, n);
    }
    free(bytes);
    return 0;
}
