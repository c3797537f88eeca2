/* SPDX-License-Identifier: BSD-2-Clause */
/* The opcode tables of the MMIO instruction decoder (vmx/decode_opcodes.c), shared with the
 * decoder itself (vmx/decode.c): what follows an opcode, and the two-byte and group opcodes. */
#ifndef MHV_VMX_DECODE_OPCODES_H
#define MHV_VMX_DECODE_OPCODES_H

#include <stdbool.h>

#include "vmx/decode.h"

/* What follows an opcode. */
enum {
    F_MODRM = 1 << 0,   /* a ModRM byte (then SIB and displacement) */
    F_RM_REG = 1 << 1,  /* ModRM may name a register: the instruction's memory is the stack */
    F_REG = 1 << 2,     /* the reg field names a general register operand */
    F_BYTE = 1 << 3,    /* ... an 8-bit one (AH-BH without a REX) */
    F_GROUP = 1 << 4,   /* the reg field extends the opcode (decode_group()) */
    F_XMM = 1 << 5,     /* the reg field names an XMM register (REX.R extends it) */
    F_MM = 1 << 6,      /* ... an MMX register (REX.R does not) */
};

/* Immediates: 8 bits as they are, 8 bits sign-extended to the operand, 16 or 32 bits by
 * operand size (32 sign-extended to 64), 16 bits, ENTER's 16 + 8, a relative displacement. */
enum { IMM_NONE, IMM_8, IMM_8S, IMM_Z, IMM_16, IMM_ENTER, IMM_REL };

/* The two-byte opcode 0F b: fills in->op and the flags and immediate kind that follow it;
 * false for one mhv does not emulate. */
bool decode_opcode_0f(unsigned b, unsigned rep, bool p66, unsigned rex, struct mmio_insn *in, unsigned *flags,
                      unsigned *imm);
/* An opcode whose ModRM reg field is part of it (two: after 0F), once reg is known; false for
 * one mhv does not emulate. */
bool decode_group(unsigned two, unsigned b, unsigned reg, struct mmio_insn *in, unsigned *imm, unsigned stack_opsize,
                  unsigned branch_opsize);

#endif
