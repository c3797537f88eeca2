/* SPDX-License-Identifier: BSD-2-Clause */
/* Execution of decoded instructions (see include/vmx/emulate.h). Each case follows the
 * instruction's "Operation" in SDM Vol. 2; the flags come from vmx/alu.c. */
#include "vmx/emulate.h"

#include "vmx/alu.h"

#define EXC_DE 0
#define EXC_UD 6
#define EXC_GP 13

#define TRY(x)                                                                              \
    do {                                                                                    \
        enum emu_result try_ = (x);                                                         \
        if (try_ != EMU_OK)                                                                 \
            return try_;                                                                    \
    } while (0)

enum emu_result emu_raise(struct emu *e, unsigned vector, uint32_t error_code)
{
    e->fault = (struct guest_fault){ .vector = (uint8_t)vector, .error_code = error_code };
    return EMU_FAULT;
}

static enum emu_result rd(struct emu *e, unsigned seg, uint64_t offset, unsigned size, uint64_t *v,
                          enum emu_access how)
{
    uint64_t x = 0;
    enum emu_result r = e->ops->mem(e, seg, offset, &x, size, how);
    *v = x;
    return r;
}

static enum emu_result wr(struct emu *e, unsigned seg, uint64_t offset, unsigned size, uint64_t v)
{
    return e->ops->mem(e, seg, offset, &v, size, EMU_WRITE);
}

/* LOCK is allowed only on these, with a memory destination; elsewhere it is #UD (SDM Vol. 2A
 * "LOCK"). The CPU checks it before any access, so mhv sees it only when the instruction was
 * changed under the exit; it answers as the CPU would. */
static bool lockable(const struct mmio_insn *in)
{
    switch (in->op) {
    case INSN_ALU_MEM:
        return in->sub != ALU_CMP && in->sub != ALU_TEST;
    case INSN_UNARY: case INSN_XCHG: case INSN_XADD: case INSN_CMPXCHG:
        return true;
    case INSN_BT:
        return in->sub != ALU_BT;
    default:
        return false;
    }
}

/* BT, BTS, BTR, BTC. With an immediate the bit number is taken modulo the operand width; a
 * register holds a signed bit offset into a bit string starting at the operand, so the unit
 * accessed is operand-size bytes at ea + size * floor(offset / width) (SDM Vol. 2A BT and
 * chapter 3.1's Bit(BitBase, BitOffset)). */
static enum emu_result bit_test(struct emu *e, const struct mmio_insn *in, uint64_t ea)
{
    unsigned size = in->size, bits = 8 * size, shift = size == 2 ? 4 : size == 4 ? 5 : 6;
    uint64_t bit, d, fl = e->rflags;
    if (in->has_imm) {
        bit = in->imm & (bits - 1);
    } else {
        int64_t offset = (int64_t)sign_extend(gpr_read(e->gpr, in->reg, size, false), size);
        ea = (ea + (uint64_t)(offset >> shift) * size) & size_mask(in->addrsize);
        bit = (uint64_t)offset & (bits - 1);
    }
    TRY(rd(e, in->seg, ea, size, &d, in->sub == ALU_BT ? EMU_READ : EMU_RMW));
    uint64_t r = alu_op(in->sub, size, d, bit, &fl);
    if (in->sub != ALU_BT)
        TRY(wr(e, in->seg, ea, size, r));
    e->rflags = fl;
    return EMU_OK;
}

/* MOVS, CMPS, STOS, LODS, SCAS, with REP (F3 or F2 for the first three), REPE (F3) and REPNE
 * (F2) for CMPS and SCAS (SDM Vol. 2B "REP/REPE/REPZ/REPNE/REPNZ"). rSI, rDI and rCX are as
 * wide as the address size; an element's registers and flags are committed before the next,
 * so a fault (or the end of a batch) leaves the elements done done. */
static enum emu_result string_insn(struct emu *e, const struct mmio_insn *in)
{
    unsigned size = in->size, op = in->sub;
    uint64_t amask = size_mask(in->addrsize);
    /* A 32-bit index in 64-bit mode is a 32-bit register write, zero-extended; 16-bit ones
     * (and 32-bit ones outside 64-bit mode) leave the upper bits (SDM Vol. 1 3.4.1.1). */
    uint64_t keep = in->addrsize == 4 && e->mode == 64 ? 0 : ~amask;
    bool rep = in->rep != REP_NONE, src = op == STR_MOVS || op == STR_CMPS || op == STR_LODS;
    bool dst = op != STR_LODS;
    uint64_t step = (e->rflags & RFLAGS_DF) ? -(uint64_t)size : size;
    for (unsigned done = 0; !rep || (e->gpr[GPR_RCX] & amask); done++) {
        if (rep && done >= e->max_elements)
            return EMU_AGAIN;
        uint64_t si = e->gpr[GPR_RSI] & amask, di = e->gpr[GPR_RDI] & amask, a = 0, b = 0;
        uint64_t fl = e->rflags;
        switch (op) {
        case STR_MOVS:
            TRY(rd(e, in->seg, si, size, &a, EMU_READ));
            TRY(wr(e, SEG_ES, di, size, a));
            break;
        case STR_CMPS:
            TRY(rd(e, in->seg, si, size, &a, EMU_READ));
            TRY(rd(e, SEG_ES, di, size, &b, EMU_READ));
            alu_op(ALU_CMP, size, a, b, &fl);
            break;
        case STR_STOS:
            TRY(wr(e, SEG_ES, di, size, gpr_read(e->gpr, GPR_RAX, size, false)));
            break;
        case STR_LODS:
            TRY(rd(e, in->seg, si, size, &a, EMU_READ));
            gpr_write(e->gpr, GPR_RAX, size, false, a, e->mode);
            break;
        default: /* SCAS */
            TRY(rd(e, SEG_ES, di, size, &b, EMU_READ));
            alu_op(ALU_CMP, size, gpr_read(e->gpr, GPR_RAX, size, false), b, &fl);
            break;
        }
        e->rflags = fl;
        if (src)
            e->gpr[GPR_RSI] = (e->gpr[GPR_RSI] & keep) | ((si + step) & amask);
        if (dst)
            e->gpr[GPR_RDI] = (e->gpr[GPR_RDI] & keep) | ((di + step) & amask);
        if (!rep)
            break;
        e->gpr[GPR_RCX] = (e->gpr[GPR_RCX] & keep) | ((e->gpr[GPR_RCX] - 1) & amask);
        if (op == STR_CMPS || op == STR_SCAS) {
            bool zf = fl & RFLAGS_ZF;
            if (in->rep == REP_E ? !zf : zf)
                break;
        }
    }
    return EMU_OK;
}

/* The stack: SS:rSP, rSP as wide as SS's address size. sp is a working copy of RSP; the caller
 * commits it when the whole instruction has succeeded. */
static enum emu_result push(struct emu *e, uint64_t *sp, uint64_t v, unsigned size)
{
    uint64_t m = size_mask(e->stack_size), top = (*sp - size) & m;
    TRY(wr(e, SEG_SS, top, size, v));
    *sp = (*sp & ~m) | top;
    return EMU_OK;
}

static enum emu_result pop(struct emu *e, uint64_t *sp, uint64_t *v, unsigned size)
{
    uint64_t m = size_mask(e->stack_size), top = *sp & m;
    TRY(rd(e, SEG_SS, top, size, v, EMU_READ));
    *sp = (*sp & ~m) | ((top + size) & m);
    return EMU_OK;
}

/* A near branch target: checked before anything is committed (#GP(0), SDM Vol. 2A JMP, CALL,
 * RET: "If the target is not canonical / beyond the code segment limit"). */
static enum emu_result branch(struct emu *e, uint64_t target)
{
    if (!e->ops->rip_ok(e, target))
        return emu_raise(e, EXC_GP, 0);
    e->next_rip = target;
    return EMU_OK;
}

static enum emu_result stack_insn(struct emu *e, const struct mmio_insn *in, uint64_t ea)
{
    unsigned size = in->size;
    uint64_t sp = e->gpr[GPR_RSP], v, target, m = size_mask(e->stack_size);
    switch (in->op) {
    case INSN_PUSH:
        /* PUSH rSP pushes the value before the push. */
        if (in->has_imm)
            v = in->imm;
        else if (in->mem)
            TRY(rd(e, in->seg, ea, size, &v, EMU_READ));
        else
            v = gpr_read(e->gpr, in->reg, size, false);
        TRY(push(e, &sp, v, size));
        e->gpr[GPR_RSP] = sp;
        return EMU_OK;
    case INSN_POP:
        TRY(pop(e, &sp, &v, size));
        if (in->mem) {
            /* An RSP-based destination uses RSP after the pop (SDM Vol. 2B POP). */
            uint64_t old = e->gpr[GPR_RSP];
            e->gpr[GPR_RSP] = sp;
            ea = mmio_insn_ea(in, e->gpr, e->next_rip);
            e->gpr[GPR_RSP] = old;
            TRY(wr(e, in->seg, ea, size, v));
            e->gpr[GPR_RSP] = sp;
        } else {
            e->gpr[GPR_RSP] = sp; /* then the value: POP RSP loads what it popped */
            gpr_write(e->gpr, in->reg, size, false, v, e->mode);
        }
        return EMU_OK;
    case INSN_CALL:
        if (in->has_imm)
            target = (e->next_rip + in->imm) & size_mask(size);
        else if (in->mem)
            TRY(rd(e, in->seg, ea, size, &target, EMU_READ));
        else
            target = gpr_read(e->gpr, in->reg, size, false);
        if (!e->ops->rip_ok(e, target))
            return emu_raise(e, EXC_GP, 0);
        TRY(push(e, &sp, e->next_rip & size_mask(size), size));
        e->gpr[GPR_RSP] = sp;
        e->next_rip = target;
        return EMU_OK;
    case INSN_RET:
        TRY(pop(e, &sp, &target, size));
        TRY(branch(e, target));
        e->gpr[GPR_RSP] = (sp & ~m) | ((sp + in->imm) & m);
        return EMU_OK;
    case INSN_ENTER: {
        /* SDM Vol. 2A ENTER: push rBP, copy level - 1 frame pointers from the old frame,
         * push the new frame pointer, rBP = it, rSP -= the frame size. */
        unsigned level = in->imm2 & 31;
        uint64_t frame, bp = e->gpr[GPR_RBP];
        TRY(push(e, &sp, gpr_read(e->gpr, GPR_RBP, size, false), size));
        frame = sp & m;
        if (level) {
            for (unsigned i = 1; i < level; i++) {
                bp = (bp & ~m) | ((bp - size) & m);
                TRY(rd(e, SEG_SS, bp & m, size, &v, EMU_READ));
                TRY(push(e, &sp, v, size));
            }
            TRY(push(e, &sp, frame, size));
        }
        gpr_write(e->gpr, GPR_RBP, size, false, frame, e->mode);
        e->gpr[GPR_RSP] = (sp & ~m) | ((sp - in->imm) & m);
        return EMU_OK;
    }
    default: /* LEAVE: rSP = rBP (stack address size), then pop rBP */
        sp = (sp & ~m) | (e->gpr[GPR_RBP] & m);
        TRY(pop(e, &sp, &v, size));
        gpr_write(e->gpr, GPR_RBP, size, false, v, e->mode);
        e->gpr[GPR_RSP] = sp;
        return EMU_OK;
    }
}

enum emu_result emulate_insn(struct emu *e, const struct mmio_insn *in)
{
    if (in->lock && !(lockable(in) && in->mem))
        return emu_raise(e, EXC_UD, 0);
    unsigned size = in->size, seg = in->seg;
    uint64_t ea = in->mem ? mmio_insn_ea(in, e->gpr, e->next_rip) : 0;
    uint64_t d, s, r, fl = e->rflags;
    bool writes;
    switch (in->op) {
    case MMIO_LOAD:
        TRY(rd(e, seg, ea, size, &d, EMU_READ));
        mmio_insn_complete_load(in, d, e->gpr, e->mode);
        return EMU_OK;
    case MMIO_STORE:
        return wr(e, seg, ea, size, mmio_insn_store_value(in, e->gpr));
    case INSN_ALU_MEM:
        writes = in->sub != ALU_CMP && in->sub != ALU_TEST;
        TRY(rd(e, seg, ea, size, &d, writes ? EMU_RMW : EMU_READ));
        s = in->has_imm ? in->imm : gpr_read(e->gpr, in->reg, size, in->high_byte);
        r = alu_op(in->sub, size, d, s, &fl);
        if (writes)
            TRY(wr(e, seg, ea, size, r));
        e->rflags = fl;
        return EMU_OK;
    case INSN_ALU_REG:
        TRY(rd(e, seg, ea, size, &s, EMU_READ));
        r = alu_op(in->sub, size, gpr_read(e->gpr, in->reg, size, in->high_byte), s, &fl);
        if (in->sub != ALU_CMP)
            gpr_write(e->gpr, in->reg, size, in->high_byte, r, e->mode);
        e->rflags = fl;
        return EMU_OK;
    case INSN_UNARY:
        TRY(rd(e, seg, ea, size, &d, EMU_RMW));
        r = alu_op(in->sub, size, d, 0, &fl);
        TRY(wr(e, seg, ea, size, r));
        e->rflags = fl;
        return EMU_OK;
    case INSN_XCHG:
        TRY(rd(e, seg, ea, size, &d, EMU_RMW));
        TRY(wr(e, seg, ea, size, gpr_read(e->gpr, in->reg, size, in->high_byte)));
        gpr_write(e->gpr, in->reg, size, in->high_byte, d, e->mode);
        return EMU_OK;
    case INSN_XADD:
        /* TEMP = SRC + DEST; SRC = DEST; DEST = TEMP (SDM Vol. 2B XADD). */
        TRY(rd(e, seg, ea, size, &d, EMU_RMW));
        r = alu_op(ALU_ADD, size, d, gpr_read(e->gpr, in->reg, size, in->high_byte), &fl);
        TRY(wr(e, seg, ea, size, r));
        gpr_write(e->gpr, in->reg, size, in->high_byte, d, e->mode);
        e->rflags = fl;
        return EMU_OK;
    case INSN_CMPXCHG:
        /* The destination is written either way: with the source when it equals the
         * accumulator, else with its own value (the CPU never reads it without writing, SDM
         * Vol. 2A CMPXCHG), and the accumulator then gets it. */
        TRY(rd(e, seg, ea, size, &d, EMU_RMW));
        s = gpr_read(e->gpr, GPR_RAX, size, false);
        alu_op(ALU_CMP, size, s, d, &fl);
        if (s == d) {
            TRY(wr(e, seg, ea, size, gpr_read(e->gpr, in->reg, size, in->high_byte)));
        } else {
            TRY(wr(e, seg, ea, size, d));
            gpr_write(e->gpr, GPR_RAX, size, false, d, e->mode);
        }
        e->rflags = fl;
        return EMU_OK;
    case INSN_BT:
        return bit_test(e, in, ea);
    case INSN_BITSCAN:
        TRY(rd(e, seg, ea, size, &s, EMU_READ));
        r = alu_op(in->sub, size, 0, s, &fl);
        if (s & size_mask(size)) /* a zero source leaves the destination register alone */
            gpr_write(e->gpr, in->reg, size, false, r, e->mode);
        e->rflags = fl;
        return EMU_OK;
    case INSN_IMUL:
        TRY(rd(e, seg, ea, size, &s, EMU_READ));
        r = alu_imul(size, s, in->has_imm ? in->imm : gpr_read(e->gpr, in->reg, size, false), &fl);
        gpr_write(e->gpr, in->reg, size, false, r, e->mode);
        e->rflags = fl;
        return EMU_OK;
    case INSN_MULDIV: {
        uint64_t lo = e->gpr[GPR_RAX], hi = e->gpr[GPR_RDX];
        TRY(rd(e, seg, ea, size, &s, EMU_READ));
        if (!alu_muldiv(in->sub, size, s, &lo, &hi, &fl))
            return emu_raise(e, EXC_DE, 0);
        /* Byte forms use AX alone; the others rDX:rAX, 32-bit halves zero-extended in 64-bit mode. */
        gpr_write(e->gpr, GPR_RAX, size == 1 ? 2 : size, false, lo, e->mode);
        if (size != 1)
            gpr_write(e->gpr, GPR_RDX, size, false, hi, e->mode);
        e->rflags = fl;
        return EMU_OK;
    }
    case INSN_SHIFTD: {
        unsigned count = (unsigned)(in->has_imm ? in->imm : e->gpr[GPR_RCX]) & (size == 8 ? 63 : 31);
        TRY(rd(e, seg, ea, size, &d, EMU_RMW));
        if (!count)
            return EMU_OK; /* nothing shifts, no flag changes */
        r = alu_shiftd(in->sub, size, d, gpr_read(e->gpr, in->reg, size, false), count, &fl);
        TRY(wr(e, seg, ea, size, r));
        e->rflags = fl;
        return EMU_OK;
    }
    case INSN_CMOV:
        /* The source is read whatever the condition; a false one still makes a 32-bit
         * destination a 32-bit write in 64-bit mode (SDM Vol. 2A CMOVcc). */
        TRY(rd(e, seg, ea, size, &s, EMU_READ));
        if (alu_condition(in->sub, e->rflags))
            gpr_write(e->gpr, in->reg, size, false, s, e->mode);
        else if (size == 4 && e->mode == 64)
            e->gpr[in->reg] &= 0xffffffffull;
        return EMU_OK;
    case INSN_SETCC:
        return wr(e, seg, ea, 1, alu_condition(in->sub, e->rflags) ? 1 : 0);
    case INSN_STRING:
        return string_insn(e, in);
    case INSN_PUSH: case INSN_POP: case INSN_CALL: case INSN_RET: case INSN_ENTER: case INSN_LEAVE:
        return stack_insn(e, in, ea);
    case INSN_JMP:
        TRY(rd(e, seg, ea, size, &d, EMU_READ));
        return branch(e, d);
    case INSN_JMP_FAR: {
        /* The offset (2, 4 or 8 bytes) first, then the selector. */
        unsigned osize = size - 2;
        TRY(rd(e, seg, ea, osize, &d, EMU_READ));
        TRY(rd(e, seg, (ea + osize) & size_mask(in->addrsize), 2, &s, EMU_READ));
        return e->ops->far_jmp(e, (uint16_t)s, d, osize);
    }
    case INSN_SREG_STORE:
        return wr(e, seg, ea, 2, e->ops->sreg(e, in->reg));
    case INSN_SREG_LOAD:
        TRY(rd(e, seg, ea, 2, &s, EMU_READ));
        TRY(e->ops->load_sreg(e, in->reg, (uint16_t)s));
        e->mov_ss = in->reg == SEG_SS;
        return EMU_OK;
    case INSN_SMSW:
        return wr(e, seg, ea, 2, e->ops->cr0(e) & 0xffff);
    case INSN_LTR:
        TRY(rd(e, seg, ea, 2, &s, EMU_READ));
        return e->ops->load_tr(e, (uint16_t)s);
    case INSN_VEC_LOAD: {
        /* Every load form writes the whole register, zero-extending a short operand
         * (MOVD, MOVQ, MOVSS, MOVSD from memory). */
        uint8_t buf[16] = { 0 };
        TRY(e->ops->mem(e, seg, ea, buf, size, EMU_READ));
        e->ops->vec(e, in->sub, in->reg, buf, true);
        return EMU_OK;
    }
    case INSN_VEC_STORE: {
        uint8_t buf[16];
        e->ops->vec(e, in->sub, in->reg, buf, false);
        return e->ops->mem(e, seg, ea, buf, size, EMU_WRITE);
    }
    default:
        e->stop_reason = "an instruction mhv decodes but does not emulate";
        return EMU_STOP;
    }
}
