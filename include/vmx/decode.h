/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Decoder for the instructions a guest uses to touch emulated MMIO. An EPT violation reports
 * the guest-physical address but not the operation, so mhv fetches the faulting instruction
 * bytes and decodes them here: what it does (a move, an ALU operation, a string instruction,
 * a stack operation, ...), its operand and address sizes, registers, immediates, the parts of
 * its memory operand's effective address and the length to advance RIP by. Pure functions,
 * tested on the host; vmx/emulate.c executes what this decodes, vmx/alu.c computes the flags.
 */
#ifndef MHV_VMX_DECODE_H
#define MHV_VMX_DECODE_H

#include <stdbool.h>
#include <stdint.h>

/* General registers in x86 encoding order: the index a ModRM reg field (plus REX.R) names. */
enum gpr { GPR_RAX, GPR_RCX, GPR_RDX, GPR_RBX, GPR_RSP, GPR_RBP, GPR_RSI, GPR_RDI,
           GPR_R8, GPR_R9, GPR_R10, GPR_R11, GPR_R12, GPR_R13, GPR_R14, GPR_R15, GPR_COUNT };

/* What an instruction does. The first two are the moves of the fast path (vmx/exit_ept.c). */
enum mmio_op {
    MMIO_LOAD,       /* MOV, MOVZX, MOVSX: reg (dest_size, sign_extend) <- memory */
    MMIO_STORE,      /* MOV, MOVNTI: memory <- reg, or the immediate (has_imm) */
    INSN_ALU_MEM,    /* sub: enum alu_op ADD..CMP, TEST: memory op= reg or immediate */
    INSN_ALU_REG,    /* sub: ADD..CMP: reg op= memory */
    INSN_UNARY,      /* sub: INC, DEC, NOT, NEG on memory */
    INSN_XCHG,       /* memory <-> reg */
    INSN_XADD,       /* memory += reg, reg = old memory */
    INSN_CMPXCHG,    /* compare rAX with memory; equal: memory = reg, else rAX = memory */
    INSN_BT,         /* sub: BT, BTS, BTR, BTC; bit offset in imm (has_imm) or in reg */
    INSN_BITSCAN,    /* sub: BSF, BSR: reg <- index of memory's lowest / highest set bit */
    INSN_IMUL,       /* reg = memory * (imm if has_imm, else reg) */
    INSN_MULDIV,     /* sub: MUL, IMUL, DIV, IDIV of rDX:rAX by memory */
    INSN_SHIFTD,     /* sub: SHLD, SHRD of memory with reg; count in imm (has_imm) or CL */
    INSN_CMOV,       /* sub: condition code 0-15 (the low nibble of Jcc/CMOVcc) */
    INSN_SETCC,      /* sub: condition code: the memory byte <- 1 when it holds, else 0 */
    INSN_STRING,     /* sub: enum string_op; size: the element; rep: F3/F2 */
    INSN_PUSH,       /* push imm (has_imm), memory (mem), or reg */
    INSN_POP,        /* pop into memory (mem) or reg */
    INSN_CALL,       /* near call: relative (has_imm: imm = displacement), memory (mem) or reg */
    INSN_RET,        /* near return, imm bytes released */
    INSN_JMP,        /* near jump through memory */
    INSN_JMP_FAR,    /* far jump through a pointer in memory (offset, then selector) */
    INSN_ENTER,      /* imm: frame size, imm2: nesting level */
    INSN_LEAVE,
    INSN_SREG_STORE, /* MOV m16, Sreg: reg is the segment register (SEG_ES..SEG_GS) */
    INSN_SREG_LOAD,  /* MOV Sreg, m16 */
    INSN_SMSW,       /* SMSW m16 */
    INSN_LTR,        /* LTR m16 */
    INSN_VEC_LOAD,   /* SSE/MMX register (sub: enum vec_kind) <- memory, zero-extended */
    INSN_VEC_STORE,  /* memory <- the low size bytes of an SSE/MMX register */
};

/* The arithmetic operations of vmx/alu.c; ADD..CMP are the ALU group in encoding order (the
 * reg field of 80/81/83, bits 5:3 of 00-3F). */
enum alu_op {
    ALU_ADD, ALU_OR, ALU_ADC, ALU_SBB, ALU_AND, ALU_SUB, ALU_XOR, ALU_CMP, ALU_TEST,
    ALU_INC, ALU_DEC, ALU_NOT, ALU_NEG,
    ALU_BT, ALU_BTS, ALU_BTR, ALU_BTC, ALU_BSF, ALU_BSR,
    ALU_MUL, ALU_IMUL, ALU_DIV, ALU_IDIV, ALU_SHLD, ALU_SHRD,
};

enum string_op { STR_MOVS, STR_CMPS, STR_STOS, STR_LODS, STR_SCAS };

/* Vector register moves: VEC_MM names an MMX register (else XMM). */
enum vec_kind { VEC_XMM = 0, VEC_MM = 1 };

/* rep: the last F3/F2 prefix (also the mandatory prefix of SSE instructions). */
enum { REP_NONE, REP_E, REP_NE };

/* Effective-address parts: base and index are general registers, or these. */
#define EA_NONE 0xff
#define EA_RIP 16

struct mmio_insn {
    uint8_t op;          /* enum mmio_op */
    uint8_t sub;         /* per op: enum alu_op, condition, enum string_op, enum vec_kind */
    uint8_t size;        /* bytes accessed in memory: 1, 2, 4, 8; 16 (SSE); 4, 6 or 10 (far pointer) */
    uint8_t opsize;      /* operand size: 2, 4 or 8 */
    uint8_t addrsize;    /* address size: 2, 4 or 8 */
    uint8_t reg;         /* enum gpr: the register operand (or a segment, or an XMM/MMX register) */
    uint8_t dest_size;   /* loads: bytes of the destination register written (MOVZX/MOVSX widen) */
    uint8_t length;      /* instruction length in bytes, prefixes included */
    uint8_t seg;         /* the memory operand's segment (SEG_ES..SEG_GS): an override or the default */
    uint8_t base, index; /* enum gpr, EA_RIP (base only) or EA_NONE */
    uint8_t scale;       /* index shifted left by this */
    uint8_t rep;         /* REP_NONE, REP_E (F3), REP_NE (F2) */
    uint8_t imm2;        /* ENTER's nesting level */
    bool has_imm;        /* an immediate operand (store, ALU, BT, SHLD/SHRD count, PUSH, ...) */
    bool high_byte;      /* 8-bit AH/CH/DH/BH (reg field 4-7 with no REX prefix) */
    bool sign_extend;    /* MOVSX */
    bool mem;            /* a ModRM memory operand (base/index/disp valid) */
    bool lock;           /* F0 prefix */
    int64_t disp;        /* displacement, sign-extended (a moffs: the absolute offset) */
    uint64_t imm;        /* the immediate, sign-extended to `size` bytes as the CPU would use it
                          * (relative branches: the displacement, sign-extended to 64 bits) */
};

/* Decodes the instruction at `bytes` (avail bytes readable, at most 15 used). cpu_mode is 16,
 * 32 or 64: the default operand/address size of the code segment (64 = long mode). Returns 0;
 * DECODE_UNSUPPORTED when the bytes are not an instruction mhv emulates on memory (or cpu_mode is
 * none of those); DECODE_TRUNCATED when fewer than 15 bytes were given and they ran out
 * before the instruction ended (more bytes might decode). Never reads bytes[avail] or beyond.
 * What it accepts: op and sizes as encoded, 1 <= length <= min(avail, 15), registers that exist
 * in cpu_mode, dest_size >= size for loads; an instruction whose only operands are registers
 * is refused (it never touches memory), except those with implicit stack accesses. */
enum { DECODE_UNSUPPORTED = -1, DECODE_TRUNCATED = -2 };
int decode_mmio_insn(const uint8_t *bytes, unsigned avail, unsigned cpu_mode, struct mmio_insn *out);

#ifdef HOST_UNIT_TEST
/* Tests only: the same decode without the short path for the common moves (they must agree). */
int decode_mmio_insn_general(const uint8_t *bytes, unsigned avail, unsigned cpu_mode, struct mmio_insn *out);
#endif

/* The memory operand's offset (effective address) within its segment, truncated to the address
 * size. gpr must hold every register (RSP too); next_rip is the address after the instruction
 * (RIP-relative operands). */
uint64_t mmio_insn_ea(const struct mmio_insn *insn, const uint64_t gpr[GPR_COUNT], uint64_t next_rip);

/* Writes a loaded value into the register file like the CPU would: 8/16-bit destinations merge
 * into the old value (AH..BH into bits 15:8), 32-bit destinations zero bits 63:32 in 64-bit mode,
 * MOVZX/MOVSX extend to dest_size first. */
void mmio_insn_complete_load(const struct mmio_insn *insn, uint64_t value, uint64_t gpr[GPR_COUNT], unsigned cpu_mode);

/* The value a store writes (register or immediate, truncated to insn->size bytes). */
uint64_t mmio_insn_store_value(const struct mmio_insn *insn, const uint64_t gpr[GPR_COUNT]);

/* A register operand of `size` bytes, read or written as the CPU does (AH..BH when high_byte;
 * writes merge 8/16-bit values, zero-extend 32-bit ones in 64-bit mode). */
uint64_t gpr_read(const uint64_t gpr[GPR_COUNT], unsigned reg, unsigned size, bool high_byte);
void gpr_write(uint64_t gpr[GPR_COUNT], unsigned reg, unsigned size, bool high_byte, uint64_t value, unsigned cpu_mode);

static inline uint64_t size_mask(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

/* The low `size` bytes of v, sign-extended to 64 bits. */
static inline uint64_t sign_extend(uint64_t v, unsigned size)
{
    if (size >= 8)
        return v;
    uint64_t sign = 1ull << (8 * size - 1);
    v &= size_mask(size);
    return (v ^ sign) - sign;
}

#endif
