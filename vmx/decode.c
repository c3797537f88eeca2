/* SPDX-License-Identifier: BSD-2-Clause */
/* Decoding of the instructions mhv emulates on MMIO (see include/vmx/decode.h). Opcodes and
 * encodings are those of SDM Vol. 2 (the opcode map of appendix A, operand-size and
 * address-size rules of 2.1-2.2, ModRM/SIB tables 2-1 to 2-3); only memory forms are accepted,
 * as only they can reach an EPT violation, plus the instructions whose stack access is
 * implicit (PUSH, POP, CALL, RET, ENTER, LEAVE) and the string instructions. This runs on
 * every MMIO exit: one pass over the bytes, direct loads, ModRM parsed in one place. */
#include "vmx/decode.h"

#include "vmx/decode_opcodes.h"
#include "vmx/guest_check.h"

/* No instruction may be longer, prefixes included (SDM Vol. 2A 2.3.11); the CPU raises #GP. */
#define MAX_INSN_LEN 15

static uint64_t load_le(const uint8_t *p, unsigned n)
{
    switch (n) {
    case 1: return *p;
    case 2: { uint16_t x; __builtin_memcpy(&x, p, 2); return x; }
    case 4: { uint32_t x; __builtin_memcpy(&x, p, 4); return x; }
    default: { uint64_t x; __builtin_memcpy(&x, p, 8); return x; }
    }
}

static int decode_any(const uint8_t *bytes, unsigned avail, unsigned cpu_mode, struct mmio_insn *out)
    __attribute__((noinline));

/* Most MMIO accesses are a MOV between a general register and [base + disp] in 32- or 64-bit
 * code, with no prefix but a REX: decoded here in a few instructions, everything else (and
 * anything out of the ordinary about these) by decode_any. Both give the same result. */
int decode_mmio_insn(const uint8_t *bytes, unsigned avail, unsigned cpu_mode, struct mmio_insn *out)
{
    unsigned pos = 0, rex = 0;
    if (cpu_mode == 64 && avail && (bytes[0] & 0xf0) == 0x40)
        rex = bytes[pos++];
    if ((cpu_mode == 64 || cpu_mode == 32) && avail >= pos + 2 && (bytes[pos] & 0xfc) == 0x88) {
        unsigned b = bytes[pos], modrm = bytes[pos + 1], mod = modrm >> 6, rm = modrm & 7;
        unsigned disp_size = mod == 1 ? 1 : 4, length = pos + 2 + (mod ? disp_size : 0);
        if (mod != 3 && rm != 4 && !(mod == 0 && rm == 5) && length <= avail && length <= MAX_INSN_LEN) {
            unsigned reg = ((modrm >> 3) & 7) | (rex & 4) << 1, size = (b & 1) ? ((rex & 8) ? 8 : 4) : 1;
            bool high = !(b & 1) && !rex && reg >= 4;
            unsigned base = rm | (rex & 1) << 3;
            int64_t disp = 0;
            if (mod == 1)
                disp = (int8_t)bytes[pos + 2];
            else if (mod == 2)
                disp = (int32_t)load_le(bytes + pos + 2, 4);
            *out = (struct mmio_insn){
                .op = (b & 2) ? MMIO_LOAD : MMIO_STORE, .size = (uint8_t)size,
                .opsize = (rex & 8) ? 8 : 4, .addrsize = (uint8_t)(cpu_mode == 64 ? 8 : 4),
                .reg = (uint8_t)(high ? reg - 4 : reg), .dest_size = (b & 2) ? (uint8_t)size : 0,
                .length = (uint8_t)length, .seg = base == GPR_RBP ? SEG_SS : SEG_DS, .base = (uint8_t)base,
                .index = EA_NONE, .high_byte = high, .mem = true, .disp = disp,
            };
            return 0;
        }
    }
    return decode_any(bytes, avail, cpu_mode, out);
}

static int decode_any(const uint8_t *bytes, unsigned avail, unsigned cpu_mode, struct mmio_insn *out)
{
    if (cpu_mode != 16 && cpu_mode != 32 && cpu_mode != 64)
        return DECODE_UNSUPPORTED;
    unsigned limit = avail < MAX_INSN_LEN ? avail : MAX_INSN_LEN, pos = 0;
    unsigned rex = 0, seg = EA_NONE, rep = REP_NONE, b;
    bool p66 = false, p67 = false, lock = false, ran_out = false;
    /* The next n bytes, or: out of bytes before the instruction ended. */
#define NEED(n)                                                                             \
    do {                                                                                    \
        if ((n) > limit - pos) {                                                            \
            ran_out = true;                                                                 \
            goto refuse;                                                                    \
        }                                                                                   \
    } while (0)

    /* Prefixes in any order. A REX counts only directly before the opcode; one followed by a
     * legacy prefix is ignored (SDM Vol. 2A 2.2.1). REX bytes are 40-4F, so rex != 0 means
     * "a REX is present", even a bare 40. Outside 64-bit mode 40-4F are INC/DEC. Of several
     * prefixes of one group the last counts. */
    for (;;) {
        NEED(1);
        b = bytes[pos++];
        if (cpu_mode == 64 && (b & 0xf0) == 0x40) {
            rex = b;
            continue;
        }
        switch (b) {
        case 0x66: p66 = true; break;
        case 0x67: p67 = true; break;
        case 0x26: seg = SEG_ES; break;
        case 0x2e: seg = SEG_CS; break;
        case 0x36: seg = SEG_SS; break;
        case 0x3e: seg = SEG_DS; break;
        case 0x64: seg = SEG_FS; break;
        case 0x65: seg = SEG_GS; break;
        case 0xf0: lock = true; break;
        case 0xf2: rep = REP_NE; break;
        case 0xf3: rep = REP_E; break;
        default: goto opcode;
        }
        rex = 0;
    }
opcode:;
    /* Effective sizes (SDM Vol. 1 3.6.1, Tables 3-3 and 3-4): REX.W beats 66 in 64-bit mode,
     * whose default operand size is still 32 bits. Stack operations and near branches are
     * 64-bit in 64-bit mode (stack operations 16-bit with 66; near branches ignore it on Intel
     * CPUs, Vol. 2A 2.2.1.7). Segment overrides other than FS and GS do nothing in 64-bit
     * mode (Vol. 1 3.3.7.1). */
    unsigned opsize = cpu_mode == 64 && (rex & 8) ? 8 : (cpu_mode == 16) == p66 ? 4 : 2;
    unsigned addrsize = cpu_mode == 64 ? (p67 ? 4 : 8) : (cpu_mode == 16) == p67 ? 4 : 2;
    unsigned stack_opsize = cpu_mode == 64 ? (p66 ? 2 : 8) : opsize;
    unsigned branch_opsize = cpu_mode == 64 ? 8 : opsize;
    if (seg != EA_NONE && cpu_mode == 64 && seg < SEG_FS)
        seg = EA_NONE;

    struct mmio_insn *in = out;
    *in = (struct mmio_insn){ .opsize = (uint8_t)opsize, .addrsize = (uint8_t)addrsize,
                              .seg = seg == EA_NONE ? SEG_DS : (uint8_t)seg, .base = EA_NONE, .index = EA_NONE,
                              .rep = (uint8_t)rep, .lock = lock };
    unsigned flags = 0, imm = IMM_NONE, two = 0;

    switch (b) {
    case 0x88: /* MOV r/m8, r8 */
    case 0x8a: /* MOV r8, r/m8 */
    case 0x89: /* MOV r/m, r */
    case 0x8b: /* MOV r, r/m */
        in->op = (b & 2) ? MMIO_LOAD : MMIO_STORE;
        in->size = (b & 1) ? (uint8_t)opsize : 1;
        flags = F_MODRM | F_REG | ((b & 1) ? 0 : F_BYTE);
        break;
    case 0xc6: /* MOV r/m8, imm8 */
    case 0xc7: /* MOV r/m, imm16/32; with REX.W the imm32 is sign-extended to 64 bits */
        in->op = MMIO_STORE;
        in->size = b == 0xc6 ? 1 : (uint8_t)opsize;
        imm = b == 0xc6 ? IMM_8 : IMM_Z;
        flags = F_MODRM | F_GROUP;
        break;
    case 0xa0: case 0xa1: /* MOV AL/eAX, moffs */
    case 0xa2: case 0xa3: /* MOV moffs, AL/eAX */
        /* No ModRM: an absolute offset as wide as the address size, 64 bits in 64-bit mode
         * unless 67 makes it 32 (SDM Vol. 2A 2.2.1.4). */
        in->op = (b & 2) ? MMIO_STORE : MMIO_LOAD;
        in->size = (b & 1) ? (uint8_t)opsize : 1;
        in->reg = GPR_RAX;
        NEED(addrsize);
        in->disp = (int64_t)load_le(bytes + pos, addrsize);
        pos += addrsize;
        in->mem = true;
        break;
    case 0x00: case 0x01: case 0x02: case 0x03: case 0x08: case 0x09: case 0x0a: case 0x0b:
    case 0x10: case 0x11: case 0x12: case 0x13: case 0x18: case 0x19: case 0x1a: case 0x1b:
    case 0x20: case 0x21: case 0x22: case 0x23: case 0x28: case 0x29: case 0x2a: case 0x2b:
    case 0x30: case 0x31: case 0x32: case 0x33: case 0x38: case 0x39: case 0x3a: case 0x3b:
        /* ADD, OR, ADC, SBB, AND, SUB, XOR, CMP: bits 5:3 the operation, bit 1 the direction
         * (set: the register is the destination), bit 0 the width. */
        in->op = (b & 2) ? INSN_ALU_REG : INSN_ALU_MEM;
        in->sub = (uint8_t)(b >> 3);
        in->size = (b & 1) ? (uint8_t)opsize : 1;
        flags = F_MODRM | F_REG | ((b & 1) ? 0 : F_BYTE);
        break;
    case 0x82: /* an alias of 80, outside 64-bit mode only */
        if (cpu_mode == 64)
            goto refuse;
        /* fall through */
    case 0x80: case 0x81: case 0x83: /* group 1: ALU r/m, imm */
        in->op = INSN_ALU_MEM;
        in->size = b == 0x81 || b == 0x83 ? (uint8_t)opsize : 1;
        imm = b == 0x81 ? IMM_Z : b == 0x83 ? IMM_8S : IMM_8;
        flags = F_MODRM | F_GROUP;
        break;
    case 0x84: case 0x85: /* TEST r/m, r */
    case 0x86: case 0x87: /* XCHG r/m, r */
        in->op = b < 0x86 ? INSN_ALU_MEM : INSN_XCHG;
        in->sub = b < 0x86 ? ALU_TEST : 0;
        in->size = (b & 1) ? (uint8_t)opsize : 1;
        flags = F_MODRM | F_REG | ((b & 1) ? 0 : F_BYTE);
        break;
    case 0x8c: /* MOV m16, Sreg */
    case 0x8e: /* MOV Sreg, m16 */
        in->op = b == 0x8c ? INSN_SREG_STORE : INSN_SREG_LOAD;
        in->size = 2;
        flags = F_MODRM | F_GROUP;
        break;
    case 0x8f: /* POP r/m */
        in->op = INSN_POP;
        in->size = (uint8_t)stack_opsize;
        flags = F_MODRM | F_GROUP | F_RM_REG;
        break;
    case 0x50: case 0x51: case 0x52: case 0x53: case 0x54: case 0x55: case 0x56: case 0x57:
    case 0x58: case 0x59: case 0x5a: case 0x5b: case 0x5c: case 0x5d: case 0x5e: case 0x5f:
        in->op = b < 0x58 ? INSN_PUSH : INSN_POP;
        in->size = (uint8_t)stack_opsize;
        in->reg = (uint8_t)((b & 7) | (rex & 1) << 3);
        break;
    case 0x68: case 0x6a: /* PUSH imm16/32, PUSH imm8 (sign-extended to the operand size) */
        in->op = INSN_PUSH;
        in->size = (uint8_t)stack_opsize;
        imm = b == 0x6a ? IMM_8S : IMM_Z;
        break;
    case 0x69: case 0x6b: /* IMUL r, r/m, imm */
        in->op = INSN_IMUL;
        in->size = (uint8_t)opsize;
        imm = b == 0x6b ? IMM_8S : IMM_Z;
        flags = F_MODRM | F_REG;
        break;
    case 0xa4: case 0xa5: case 0xa6: case 0xa7: case 0xaa: case 0xab:
    case 0xac: case 0xad: case 0xae: case 0xaf: {
        /* String instructions; an override names the source's segment, the destination is
         * always ES. */
        static const uint8_t string_ops[6] = { STR_MOVS, STR_CMPS, 0, STR_STOS, STR_LODS, STR_SCAS };
        in->op = INSN_STRING;
        in->sub = string_ops[(b - 0xa4) >> 1];
        in->size = (b & 1) ? (uint8_t)opsize : 1;
        break;
    }
    case 0xc2: case 0xc3: /* RET (imm16: bytes to release) */
        in->op = INSN_RET;
        in->size = (uint8_t)branch_opsize;
        if (b == 0xc2)
            imm = IMM_16;
        break;
    case 0xc8: /* ENTER imm16, imm8 */
    case 0xc9: /* LEAVE */
        in->op = b == 0xc8 ? INSN_ENTER : INSN_LEAVE;
        in->size = (uint8_t)stack_opsize;
        if (b == 0xc8)
            imm = IMM_ENTER;
        break;
    case 0xe8: /* CALL rel16/32 */
        in->op = INSN_CALL;
        in->size = (uint8_t)branch_opsize;
        imm = IMM_REL;
        break;
    case 0xf6: case 0xf7: /* group 3: TEST, NOT, NEG, MUL, IMUL, DIV, IDIV */
    case 0xfe: case 0xff: /* groups 4 and 5: INC, DEC; CALL, JMP, PUSH */
        in->size = (b & 1) ? (uint8_t)opsize : 1;
        flags = F_MODRM | F_GROUP | (b == 0xff ? F_RM_REG : 0);
        break;
    case 0x0f:
        NEED(1);
        b = bytes[pos++];
        two = 1;
        if (!decode_opcode_0f(b, rep, p66, rex, in, &flags, &imm))
            goto refuse;
        break;
    default:
        goto refuse;
    }

    if (flags & F_MODRM) {
        NEED(1);
        unsigned modrm = bytes[pos++], mod = modrm >> 6, reg = (modrm >> 3) & 7, rm = modrm & 7;
        if (mod == 3) {
            /* A register operand: no memory access (not an MMIO exit), but for the stack. */
            if (!(flags & F_RM_REG))
                goto refuse;
            in->reg = (uint8_t)(rm | (rex & 1) << 3);
        } else {
            unsigned disp_size = mod == 1 ? 1 : 0;
            bool stack;
            in->mem = true;
            if (addrsize == 2) {
                /* 16-bit addressing has no SIB; mod 00 rm 110 is a bare disp16 (SDM Vol. 2A
                 * 2.1.5, Table 2-1); BP-based forms default to SS. */
                static const uint8_t base16[8] = { GPR_RBX, GPR_RBX, GPR_RBP, GPR_RBP, GPR_RSI, GPR_RDI, GPR_RBP, GPR_RBX };
                static const uint8_t index16[8] = { GPR_RSI, GPR_RDI, GPR_RSI, GPR_RDI, EA_NONE, EA_NONE, EA_NONE, EA_NONE };
                in->base = base16[rm];
                in->index = index16[rm];
                if (mod == 2)
                    disp_size = 2;
                if (mod == 0 && rm == 6) {
                    in->base = EA_NONE;
                    disp_size = 2;
                }
                stack = in->base == GPR_RBP;
            } else {
                /* 32/64-bit addressing (Tables 2-2 and 2-3): rm 100 brings a SIB byte; base 101
                 * with mod 00 is a disp32 without base (RIP-relative in 64-bit mode when in
                 * ModRM, 2.2.1.6). REX.B does not change these cases (Table 2-5: R12 and R13
                 * encode like ESP and EBP), so the raw 3-bit fields decide. */
                unsigned base = rm;
                if (mod == 2)
                    disp_size = 4;
                if (rm == 4) {
                    NEED(1);
                    unsigned sib = bytes[pos++], index = ((sib >> 3) & 7) | (rex & 2) << 2;
                    if (index != 4) {
                        in->index = (uint8_t)index;
                        in->scale = (uint8_t)(sib >> 6);
                    }
                    base = sib & 7;
                }
                if (mod == 0 && base == 5) {
                    disp_size = 4;
                    in->base = rm == 5 && cpu_mode == 64 ? EA_RIP : EA_NONE;
                } else {
                    in->base = (uint8_t)(base | (rex & 1) << 3);
                }
                stack = in->base == GPR_RSP || in->base == GPR_RBP;
            }
            if (disp_size) {
                NEED(disp_size);
                uint64_t d = load_le(bytes + pos, disp_size);
                in->disp = disp_size == 1 ? (int8_t)d : disp_size == 2 ? (int16_t)d : (int32_t)d;
                pos += disp_size;
            }
            if (seg == EA_NONE && stack)
                in->seg = SEG_SS; /* rBP and rSP bases default to SS (SDM Vol. 1 3.7.5) */
        }
        if (flags & F_GROUP) {
            if (!decode_group(two, b, reg, in, &imm, stack_opsize, branch_opsize))
                goto refuse;
        } else if (flags & F_REG) {
            /* REX.R extends the reg field; byte registers 4-7 are AH, CH, DH, BH without a REX
             * and SPL, BPL, SIL, DIL with any (SDM Vol. 2A 3.1.1.1, Table 3-1). */
            reg |= (rex & 4) << 1;
            if ((flags & F_BYTE) && !rex && reg >= 4) {
                in->high_byte = true;
                reg -= 4;
            }
            in->reg = (uint8_t)reg;
        } else if (flags & F_XMM) {
            in->reg = (uint8_t)(reg | (rex & 4) << 1);
        } else if (flags & F_MM) {
            in->reg = (uint8_t)reg;
        }
    }

    /* The immediate follows the displacement. */
    switch (imm) {
    case IMM_NONE:
        break;
    case IMM_8:
    case IMM_8S:
        NEED(1);
        in->imm = imm == IMM_8S ? (uint64_t)(int64_t)(int8_t)bytes[pos] & size_mask(in->size) : bytes[pos];
        pos++;
        in->has_imm = true;
        break;
    case IMM_Z: /* 16 or 32 bits; a 32-bit one sign-extends to a 64-bit operand */
        if (in->size == 2) {
            NEED(2);
            in->imm = load_le(bytes + pos, 2);
            pos += 2;
        } else {
            NEED(4);
            uint64_t v = load_le(bytes + pos, 4);
            in->imm = in->size == 8 ? (uint64_t)(int64_t)(int32_t)v : v;
            pos += 4;
        }
        in->has_imm = true;
        break;
    case IMM_16:
        NEED(2);
        in->imm = load_le(bytes + pos, 2);
        pos += 2;
        break;
    case IMM_ENTER:
        NEED(3);
        in->imm = load_le(bytes + pos, 2);
        in->imm2 = bytes[pos + 2];
        pos += 3;
        break;
    default: /* IMM_REL: rel16 with a 16-bit operand size, else rel32; sign-extended */
        if (in->size == 2) {
            NEED(2);
            in->imm = (uint64_t)(int64_t)(int16_t)load_le(bytes + pos, 2);
            pos += 2;
        } else {
            NEED(4);
            in->imm = (uint64_t)(int64_t)(int32_t)load_le(bytes + pos, 4);
            pos += 4;
        }
        in->has_imm = true;
        break;
    }

    if (in->op == MMIO_LOAD && !in->dest_size)
        in->dest_size = in->size;
    in->length = (uint8_t)pos;
    return 0;

refuse:
    /* Out of bytes before the instruction ended: more bytes might make it one (a fetch that
     * stopped at a page the guest cannot reach, say). At 15 bytes it is simply too long. */
    return ran_out && limit < MAX_INSN_LEN ? DECODE_TRUNCATED : DECODE_UNSUPPORTED;
#undef NEED
}

#ifdef HOST_UNIT_TEST
int decode_mmio_insn_general(const uint8_t *bytes, unsigned avail, unsigned cpu_mode, struct mmio_insn *out)
{
    return decode_any(bytes, avail, cpu_mode, out);
}
#endif

uint64_t mmio_insn_ea(const struct mmio_insn *insn, const uint64_t gpr[GPR_COUNT], uint64_t next_rip)
{
    uint64_t ea = (uint64_t)insn->disp;
    if (insn->base == EA_RIP)
        ea += next_rip;
    else if (insn->base < GPR_COUNT)
        ea += gpr[insn->base];
    if (insn->index < GPR_COUNT)
        ea += gpr[insn->index] << insn->scale;
    /* 16- and 32-bit addresses wrap within their size (SDM Vol. 1 3.3.6). */
    return ea & size_mask(insn->addrsize);
}

uint64_t gpr_read(const uint64_t gpr[GPR_COUNT], unsigned reg, unsigned size, bool high_byte)
{
    if (reg >= GPR_COUNT)
        return 0;
    uint64_t v = gpr[reg];
    if (high_byte)
        v >>= 8;
    return v & size_mask(size);
}

void gpr_write(uint64_t gpr[GPR_COUNT], unsigned reg, unsigned size, bool high_byte, uint64_t value, unsigned cpu_mode)
{
    if (reg >= GPR_COUNT)
        return;
    uint64_t *r = &gpr[reg], v = value & size_mask(size);
    if (high_byte)
        *r = (*r & ~0xff00ull) | v << 8;
    else if (size == 8 || (size == 4 && cpu_mode == 64))
        /* A 32-bit destination zero-extends into the full register in 64-bit mode
         * (SDM Vol. 1 3.4.1.1); in legacy modes bits 63:32 are not visible and keep their value. */
        *r = v;
    else
        /* 8- and 16-bit destinations leave the rest of the register alone (SDM Vol. 1 3.4.1.1). */
        *r = (*r & ~size_mask(size)) | v;
}

void mmio_insn_complete_load(const struct mmio_insn *insn, uint64_t value, uint64_t gpr[GPR_COUNT], unsigned cpu_mode)
{
    unsigned dest = insn->dest_size ? insn->dest_size : insn->size;
    uint64_t v = value & size_mask(insn->size);
    if (insn->sign_extend)
        v = sign_extend(v, insn->size);
    gpr_write(gpr, insn->reg, dest, insn->high_byte, v, cpu_mode);
}

uint64_t mmio_insn_store_value(const struct mmio_insn *insn, const uint64_t gpr[GPR_COUNT])
{
    if (insn->has_imm)
        return insn->imm & size_mask(insn->size);
    return gpr_read(gpr, insn->reg, insn->size, insn->high_byte);
}
