/*
 * Decoder for the MOV-family instructions a guest uses to touch emulated MMIO. An EPT
 * violation reports the guest-physical address but not the operation, so mhv fetches the
 * faulting instruction bytes and decodes them here: load or store, width, register or
 * immediate, and the length to advance RIP by. Pure functions, tested on the host.
 */
#ifndef MHV_VMX_DECODE_H
#define MHV_VMX_DECODE_H

#include <stdbool.h>
#include <stdint.h>

/* General registers in x86 encoding order: the index a ModRM reg field (plus REX.R) names. */
enum gpr { GPR_RAX, GPR_RCX, GPR_RDX, GPR_RBX, GPR_RSP, GPR_RBP, GPR_RSI, GPR_RDI,
           GPR_R8, GPR_R9, GPR_R10, GPR_R11, GPR_R12, GPR_R13, GPR_R14, GPR_R15, GPR_COUNT };

enum mmio_op { MMIO_LOAD, MMIO_STORE };

struct mmio_insn {
    enum mmio_op op;
    unsigned size;        /* bytes accessed in memory: 1, 2, 4 or 8 */
    bool has_imm;         /* store of an immediate (C6/C7) rather than a register */
    uint64_t imm;         /* the immediate, already sign-extended to `size` bytes as the CPU would store it */
    unsigned reg;         /* enum gpr: source (store) or destination (load) register */
    bool high_byte;       /* 8-bit AH/CH/DH/BH (reg field 4-7 with no REX prefix) */
    unsigned dest_size;   /* loads: bytes of the destination register written (MOVZX/MOVSX widen) */
    bool sign_extend;     /* MOVSX */
    unsigned length;      /* instruction length in bytes, prefixes included */
};

/* Decodes the instruction at `bytes` (avail bytes readable, at most 15 used). cpu_mode is 16,
 * 32 or 64: the default operand/address size of the code segment (64 = long mode). Returns 0;
 * DECODE_UNSUPPORTED when the bytes are not a supported MMIO access form (or cpu_mode is
 * none of those); DECODE_TRUNCATED when fewer than 15 bytes were given and they ran out
 * before the instruction ended (more bytes might decode). Never reads bytes[avail] or beyond.
 * What it accepts: op and size (1, 2, 4, 8) as encoded, 1 <= length <= min(avail, 15), reg a
 * general register that exists in cpu_mode, dest_size >= size for loads. */
enum { DECODE_UNSUPPORTED = -1, DECODE_TRUNCATED = -2 };
int decode_mmio_insn(const uint8_t *bytes, unsigned avail, unsigned cpu_mode, struct mmio_insn *out);

/* Writes a loaded value into the register file like the CPU would: 8/16-bit destinations merge
 * into the old value (AH..BH into bits 15:8), 32-bit destinations zero bits 63:32 in 64-bit mode,
 * MOVZX/MOVSX extend to dest_size first. */
void mmio_insn_complete_load(const struct mmio_insn *insn, uint64_t value, uint64_t gpr[GPR_COUNT], unsigned cpu_mode);

/* The value a store writes (register or immediate, truncated to insn->size bytes). */
uint64_t mmio_insn_store_value(const struct mmio_insn *insn, const uint64_t gpr[GPR_COUNT]);

#endif
