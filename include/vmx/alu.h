/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The arithmetic of the instructions mhv emulates (vmx/emulate.c), with the status flags the
 * CPU leaves in RFLAGS (SDM Vol. 1 3.4.3.1, appendix A "EFLAGS Cross-Reference", and each
 * instruction's "Flags Affected" in Vol. 2). The one place that computes flags. Pure: host
 * tests compare every operation with the host CPU executing it.
 *
 * Flags an instruction leaves "undefined" are left as they were, except where this follows
 * what Intel CPUs (and Bochs) do: AND, OR, XOR and TEST clear AF; the multiplies set SF, ZF
 * and PF from the low half of the result and clear AF; BSF and BSR set SF and PF from the bit
 * index and clear CF, OF and AF; SHLD and SHRD clear AF and compute OF for every count.
 */
#ifndef MHV_VMX_ALU_H
#define MHV_VMX_ALU_H

#include <stdbool.h>
#include <stdint.h>

#include "vmx/decode.h"

#define RFLAGS_CF (1ull << 0)
#define RFLAGS_PF (1ull << 2)
#define RFLAGS_AF (1ull << 4)
#define RFLAGS_ZF (1ull << 6)
#define RFLAGS_SF (1ull << 7)
#define RFLAGS_DF (1ull << 10)
#define RFLAGS_OF (1ull << 11)
#define RFLAGS_ARITH (RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF)

/* dst op src on `size` bytes (1, 2, 4, 8) for ADD, OR, ADC, SBB, AND, SUB, XOR, CMP, TEST
 * (CMP and TEST return dst: they write nothing), INC, DEC, NOT, NEG (src unused), BT, BTS,
 * BTR, BTC (src: the bit number, already reduced modulo the width) and BSF, BSR (result: the
 * bit index; dst returned when src is 0). ADC and SBB read CF from *rflags. Returns the result;
 * updates the flags the operation defines in *rflags. */
uint64_t alu_op(unsigned op, unsigned size, uint64_t dst, uint64_t src, uint64_t *rflags);

/* Condition code cc (0-15, as in Jcc/CMOVcc/SETcc) on rflags. */
bool alu_condition(unsigned cc, uint64_t rflags);

/* MUL, IMUL (one operand), DIV, IDIV of the accumulator pair by src (`size` bytes): *lo and *hi
 * are AL/AH-as-AX (size 1: *lo holds AX, *hi unused), AX/DX, EAX/EDX or RAX/RDX. Returns false
 * for a divide error (#DE: divisor 0 or a quotient that does not fit), leaving them alone. */
bool alu_muldiv(unsigned op, unsigned size, uint64_t src, uint64_t *lo, uint64_t *hi, uint64_t *rflags);

/* IMUL dst = a * b (two- and three-operand forms), truncated to size; CF = OF = overflow. */
uint64_t alu_imul(unsigned size, uint64_t a, uint64_t b, uint64_t *rflags);

/* SHLD/SHRD dst by count (already masked to 5 bits, or 6 with a 64-bit operand) with the bits
 * of src shifted in. A count of 0 changes nothing, flags included. */
uint64_t alu_shiftd(unsigned op, unsigned size, uint64_t dst, uint64_t src, unsigned count, uint64_t *rflags);

#endif
