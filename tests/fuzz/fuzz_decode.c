// sources: vmx/decode.c
/* libFuzzer target for the MMIO instruction decoder (vmx/decode.c), run for a bounded time by
 * make test. Input: one byte choosing the CPU mode (16, 32, 64, or a mode that does not exist),
 * then the instruction bytes, given to the decoder in a buffer of exactly their size so that
 * AddressSanitizer catches any read past them. What the decoder must never do: crash, read
 * beyond its input, or return anything but 0, DECODE_UNSUPPORTED or DECODE_TRUNCATED. What it
 * accepts must hold together:
 *  - 1 <= length <= min(bytes given, 15); size 1, 2, 4 or 8, and 8 only in 64-bit mode;
 *  - the register exists in the mode (r8-r15 need 64-bit mode); AH-BH only for 1-byte
 *    accesses to registers 0-3; a store of an immediate names no register to widen;
 *  - a load's destination size is at least its memory size, MOVSX/MOVZX only widen;
 *  - the same bytes with nothing after them decode the same; one byte fewer is truncated;
 *  - DECODE_TRUNCATED only when fewer than 15 bytes were given;
 *  - completing a load changes its destination register only (and within it only the
 *    bytes the CPU would: AH-BH bits 15:8; 8/16-bit destinations their low bytes; 32-bit
 *    ones zero-extend in 64-bit mode); a store's value fits its size. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmx/decode.h"

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
    MUST(a->op == b->op && a->size == b->size && a->has_imm == b->has_imm && a->imm == b->imm &&
         a->reg == b->reg && a->high_byte == b->high_byte && a->dest_size == b->dest_size &&
         a->sign_extend == b->sign_extend && a->length == b->length);
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
    if (rc == 0) {
        MUST(in.length >= 1 && in.length <= n && in.length <= 15);
        MUST(in.size == 1 || in.size == 2 || in.size == 4 || in.size == 8);
        MUST(in.size != 8 || mode == 64);
        MUST(in.op == MMIO_LOAD || in.op == MMIO_STORE);
        MUST(in.reg < GPR_COUNT && (in.reg < 8 || mode == 64));
        MUST(!in.high_byte || (in.size == 1 && in.reg < 4));
        MUST(!in.has_imm || in.op == MMIO_STORE);
        MUST(!in.sign_extend || in.op == MMIO_LOAD);
        if (in.has_imm)
            MUST((in.imm & ~mask_of(in.size)) == 0 || in.size == 8);
        if (in.op == MMIO_LOAD) {
            MUST(in.dest_size == 1 || in.dest_size == 2 || in.dest_size == 4 || in.dest_size == 8);
            MUST(in.dest_size >= in.size);
            MUST(in.dest_size != 8 || mode == 64);
        }

        /* Exactly its bytes: the same instruction; one byte fewer: truncated. */
        uint8_t *exact = malloc(in.length);
        memcpy(exact, bytes, in.length);
        struct mmio_insn again;
        MUST(decode_mmio_insn(exact, in.length, mode, &again) == 0);
        same_insn(&in, &again);
        MUST(decode_mmio_insn(exact, in.length - 1, mode, &again) == DECODE_TRUNCATED);
        free(exact);

        check_register_semantics(&in, mode, data + 1, n);
    }
    free(bytes);
    return 0;
}
