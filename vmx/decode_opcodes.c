/* SPDX-License-Identifier: BSD-2-Clause */
/* The opcode tables of the MMIO instruction decoder (include/vmx/decode_opcodes.h): the
 * two-byte opcodes and the group opcodes mhv emulates, SDM Vol. 2 appendix A. */
#include "vmx/decode_opcodes.h"

#include "vmx/guest_check.h"

/* The two-byte opcodes (0F xx) mhv emulates: their operation and what follows them. SSE
 * instructions are told apart by a mandatory prefix: F3 or F2 when present, else 66 (SDM Vol.
 * 2A 2.1.2); none names the MMX form where there is one. */
bool decode_opcode_0f(unsigned b, unsigned rep, bool p66, unsigned rex, struct mmio_insn *in, unsigned *flags,
                       unsigned *imm)
{
    unsigned opsize = in->opsize;
    unsigned mandatory = rep == REP_E ? 0xf3 : rep == REP_NE ? 0xf2 : p66 ? 0x66 : 0;
    bool load = false;
    switch (b) {
    case 0x00: /* group 6: LTR m16 */
    case 0x01: /* group 7: SMSW m16 */
        *flags = F_MODRM | F_GROUP;
        in->size = 2;
        return true;
    case 0x10: case 0x11: /* MOVUPS, MOVUPD (16 bytes), MOVSS (4), MOVSD (8) */
        in->size = mandatory == 0xf3 ? 4 : mandatory == 0xf2 ? 8 : 16;
        load = b == 0x10;
        goto xmm;
    case 0x28: case 0x29: /* MOVAPS, MOVAPD */
    case 0x2b:            /* MOVNTPS, MOVNTPD */
        if (mandatory != 0 && mandatory != 0x66)
            return false;
        in->size = 16;
        load = b == 0x28;
        goto xmm;
    case 0x6e: case 0x7e: /* MOVD/MOVQ r/m with MMX (none) or XMM (66); F3 0F 7E: MOVQ xmm, m64 */
        load = b == 0x6e;
        if (mandatory == 0xf3 && b == 0x7e) {
            in->size = 8;
            load = true;
            goto xmm;
        }
        if (mandatory != 0 && mandatory != 0x66)
            return false;
        in->size = (rex & 8) ? 8 : 4;
        if (mandatory)
            goto xmm;
        goto mm;
    case 0x6f: case 0x7f: /* MOVQ mm (none), MOVDQA (66), MOVDQU (F3) */
        if (mandatory == 0xf2)
            return false;
        load = b == 0x6f;
        in->size = mandatory ? 16 : 8;
        if (mandatory)
            goto xmm;
        goto mm;
    case 0xd6: /* 66: MOVQ m64, xmm */
        if (mandatory != 0x66)
            return false;
        in->size = 8;
        goto xmm;
    case 0xe7: /* MOVNTQ m64, mm; 66: MOVNTDQ m128, xmm */
        if (mandatory && mandatory != 0x66)
            return false;
        in->size = mandatory ? 16 : 8;
        if (mandatory)
            goto xmm;
        goto mm;
    case 0x40: case 0x41: case 0x42: case 0x43: case 0x44: case 0x45: case 0x46: case 0x47:
    case 0x48: case 0x49: case 0x4a: case 0x4b: case 0x4c: case 0x4d: case 0x4e: case 0x4f:
        in->op = INSN_CMOV;
        in->sub = b & 15;
        break;
    case 0x90: case 0x91: case 0x92: case 0x93: case 0x94: case 0x95: case 0x96: case 0x97:
    case 0x98: case 0x99: case 0x9a: case 0x9b: case 0x9c: case 0x9d: case 0x9e: case 0x9f:
        /* SETcc r/m8: the reg field is not used (SDM Vol. 2B SETcc). */
        in->op = INSN_SETCC;
        in->sub = b & 15;
        in->size = 1;
        *flags = F_MODRM;
        return true;
    case 0xa3: case 0xab: case 0xb3: case 0xbb: /* BT, BTS, BTR, BTC r/m, r */
        in->op = INSN_BT;
        in->sub = (uint8_t)(ALU_BT + ((b >> 3) & 3));
        break;
    case 0xba: /* group 8: BT, BTS, BTR, BTC r/m, imm8 */
        in->size = (uint8_t)opsize;
        *flags = F_MODRM | F_GROUP;
        *imm = IMM_8;
        return true;
    case 0xa4: case 0xa5: case 0xac: case 0xad: /* SHLD, SHRD by imm8 or CL */
        in->op = INSN_SHIFTD;
        in->sub = b < 0xa8 ? ALU_SHLD : ALU_SHRD;
        if (!(b & 1))
            *imm = IMM_8;
        break;
    case 0xaf: /* IMUL r, r/m */
        in->op = INSN_IMUL;
        break;
    case 0xb0: case 0xb1: /* CMPXCHG */
    case 0xc0: case 0xc1: /* XADD */
        in->op = b < 0xc0 ? INSN_CMPXCHG : INSN_XADD;
        in->size = (b & 1) ? (uint8_t)opsize : 1;
        *flags = F_MODRM | F_REG | ((b & 1) ? 0 : F_BYTE);
        return true;
    case 0xb6: case 0xb7: case 0xbe: case 0xbf:
        /* MOVZX/MOVSX: 8- or 16-bit memory source, operand-size destination. */
        in->op = MMIO_LOAD;
        in->size = (b & 1) ? 2 : 1;
        in->sign_extend = b >= 0xbe;
        in->dest_size = (uint8_t)opsize;
        *flags = F_MODRM | F_REG;
        return true;
    case 0xbc: case 0xbd: /* BSF, BSR; with F3 they are TZCNT and LZCNT (not emulated) */
        if (rep == REP_E)
            return false;
        in->op = INSN_BITSCAN;
        in->sub = b == 0xbc ? ALU_BSF : ALU_BSR;
        break;
    case 0xc3: /* MOVNTI m32/m64, r (no 16-bit form) */
        if (p66)
            return false;
        in->op = MMIO_STORE;
        break;
    default:
        return false;
    }
    in->size = (uint8_t)opsize;
    *flags = F_MODRM | F_REG;
    return true;

xmm:
    *flags = F_MODRM | F_XMM;
    in->sub = VEC_XMM;
    in->op = load ? INSN_VEC_LOAD : INSN_VEC_STORE;
    return true;
mm:
    *flags = F_MODRM | F_MM;
    in->sub = VEC_MM;
    in->op = load ? INSN_VEC_LOAD : INSN_VEC_STORE;
    return true;
}

/* Opcodes whose ModRM reg field is part of the opcode, once it is known. */
bool decode_group(unsigned two, unsigned b, unsigned reg, struct mmio_insn *in, unsigned *imm, unsigned stack_opsize,
                  unsigned branch_opsize)
{
    unsigned opsize = in->opsize;
    if (two) {
        switch (b) {
        case 0x00: in->op = INSN_LTR; return reg == 3;
        case 0x01: in->op = INSN_SMSW; return reg == 4;
        default: /* 0F BA: BT, BTS, BTR, BTC with imm8 (/4-/7) */
            in->op = INSN_BT;
            in->sub = (uint8_t)(ALU_BT + (reg & 3));
            return reg >= 4;
        }
    }
    switch (b) {
    case 0xc6: case 0xc7: /* MOV r/m, imm is /0 only: other reg values are other instructions */
        return reg == 0;
    case 0x80: case 0x81: case 0x82: case 0x83: /* group 1: ADD..CMP r/m, imm */
        in->sub = (uint8_t)reg;
        return true;
    case 0x8c: /* MOV m16, Sreg */
    case 0x8e: /* MOV Sreg, m16 (CS cannot be loaded: #UD) */
        in->reg = (uint8_t)reg;
        return reg <= SEG_GS && !(b == 0x8e && reg == SEG_CS);
    case 0x8f: /* POP r/m is /0 */
        return reg == 0;
    case 0xf6: case 0xf7: /* group 3 */
        if (reg == 0) { /* TEST r/m, imm */
            in->op = INSN_ALU_MEM;
            in->sub = ALU_TEST;
            *imm = b == 0xf6 ? IMM_8 : IMM_Z;
        } else if (reg == 2 || reg == 3) {
            in->op = INSN_UNARY;
            in->sub = reg == 2 ? ALU_NOT : ALU_NEG;
        } else {
            in->op = INSN_MULDIV;
            in->sub = (uint8_t)(ALU_MUL + (reg - 4));
        }
        return reg != 1;
    case 0xfe: /* group 4: INC, DEC r/m8 */
        in->op = INSN_UNARY;
        in->sub = reg ? ALU_DEC : ALU_INC;
        return reg <= 1;
    default: /* 0xff, group 5 */
        switch (reg) {
        case 0: case 1: /* INC, DEC */
            in->op = INSN_UNARY;
            in->sub = reg ? ALU_DEC : ALU_INC;
            in->size = (uint8_t)opsize;
            break;
        case 2: /* CALL near r/m: the stack even with a register operand */
            in->op = INSN_CALL;
            in->size = (uint8_t)branch_opsize;
            return true;
        case 4: /* JMP near m */
            in->op = INSN_JMP;
            in->size = (uint8_t)branch_opsize;
            break;
        case 5: /* JMP far m16:16/32/64 (REX.W: a 64-bit offset) */
            in->op = INSN_JMP_FAR;
            in->size = (uint8_t)(opsize + 2);
            break;
        case 6: /* PUSH r/m */
            in->op = INSN_PUSH;
            in->size = (uint8_t)stack_opsize;
            return true;
        default: /* CALL far, reserved */
            return false;
        }
        return in->mem;
    }
}
