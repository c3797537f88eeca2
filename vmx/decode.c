/* Decoding of the MOV-family MMIO instructions (see include/vmx/decode.h). Only the length of
 * the memory operand matters here, never its address: the EPT violation already gave that. */
#include "vmx/decode.h"

/* No instruction may be longer, prefixes included (SDM Vol. 2A 2.3.11); the CPU raises #GP. */
#define MAX_INSN_LEN 15

/* The bytes of one instruction, read front to back without running past `limit`. */
struct reader {
    const uint8_t *bytes;
    unsigned limit;
    unsigned pos;
    bool ran_out;   /* a fetch went past limit: the instruction is longer than the bytes given */
};

static bool fetch(struct reader *r, uint8_t *b)
{
    if (r->pos >= r->limit) {
        r->ran_out = true;
        return false;
    }
    *b = r->bytes[r->pos++];
    return true;
}

/* A little-endian field of n bytes (displacement, immediate, moffs). */
static bool fetch_le(struct reader *r, unsigned n, uint64_t *v)
{
    if (n > r->limit - r->pos) {
        r->ran_out = true;
        return false;
    }
    uint64_t x = 0;
    for (unsigned i = 0; i < n; i++)
        x |= (uint64_t)r->bytes[r->pos + i] << (8 * i);
    r->pos += n;
    *v = x;
    return true;
}

static uint64_t size_mask(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

/* Legacy prefixes, groups 1-4 (SDM Vol. 2A 2.1.1). F2/F3 do nothing to a MOV. LOCK MOV raises
 * #UD before any access, so it never reaches an EPT exit; accepting it is harmless. */
static bool is_legacy_prefix(uint8_t b)
{
    switch (b) {
    case 0x66: case 0x67:                                       /* operand / address size */
    case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65: /* segment overrides */
    case 0xf0: case 0xf2: case 0xf3:                            /* LOCK, REPNE, REP */
        return true;
    default:
        return false;
    }
}

/* Consumes the SIB byte and displacement that follow a ModRM byte naming memory. Returns false
 * for a register operand (mod == 3: no memory access, so not an MMIO exit) or truncation. */
static bool skip_memory_operand(struct reader *r, uint8_t modrm, unsigned addr_size)
{
    unsigned mod = modrm >> 6, rm = modrm & 7;
    uint64_t unused;
    if (mod == 3)
        return false;
    if (addr_size == 2) {
        /* 16-bit addressing has no SIB; mod 00 rm 110 is a bare disp16 (SDM Vol. 2A 2.1.5,
         * Table 2-1). */
        unsigned disp = mod == 1 ? 1 : mod == 2 ? 2 : rm == 6 ? 2 : 0;
        return fetch_le(r, disp, &unused);
    }
    /* 32/64-bit addressing (SDM Vol. 2A 2.1.5, Tables 2-2 and 2-3): rm 100 brings a SIB byte;
     * mod 00 with rm 101 is disp32 (RIP-relative in 64-bit mode, 2.2.1.6), and so is SIB base
     * 101 with mod 00. REX.B does not change these cases (Table 2-5: R12 and R13 encode like
     * ESP and EBP), so the raw 3-bit fields decide. */
    unsigned disp = mod == 1 ? 1 : mod == 2 ? 4 : 0;
    if (rm == 4) {
        uint8_t sib;
        if (!fetch(r, &sib))
            return false;
        if (mod == 0 && (sib & 7) == 5)
            disp = 4;
    } else if (mod == 0 && rm == 5) {
        disp = 4;
    }
    return fetch_le(r, disp, &unused);
}

int decode_mmio_insn(const uint8_t *bytes, unsigned avail, unsigned cpu_mode, struct mmio_insn *out)
{
    if (cpu_mode != 16 && cpu_mode != 32 && cpu_mode != 64)
        return DECODE_UNSUPPORTED;
    struct reader r = { bytes, avail < MAX_INSN_LEN ? avail : MAX_INSN_LEN, 0, false };
    bool opsize_prefix = false, addrsize_prefix = false;
    uint8_t rex = 0, b;

    /* Prefixes in any order. A REX counts only directly before the opcode; one followed by a
     * legacy prefix is ignored (SDM Vol. 2A 2.2.1). REX bytes are 40-4F, so rex != 0 means
     * "a REX is present", even a bare 40. Outside 64-bit mode 40-4F are INC/DEC. */
    for (;;) {
        if (!fetch(&r, &b))
            goto refuse;
        if (is_legacy_prefix(b)) {
            opsize_prefix |= b == 0x66;
            addrsize_prefix |= b == 0x67;
            rex = 0;
        } else if (cpu_mode == 64 && (b & 0xf0) == 0x40) {
            rex = b;
        } else {
            break;
        }
    }

    /* Effective sizes (SDM Vol. 1 3.6.1, Tables 3-3 and 3-4): REX.W beats 66 in 64-bit mode,
     * whose default operand size is still 32 bits. */
    unsigned opsize, addrsize;
    if (cpu_mode == 64 && (rex & 8))
        opsize = 8;
    else if (cpu_mode == 16)
        opsize = opsize_prefix ? 4 : 2;
    else
        opsize = opsize_prefix ? 2 : 4;
    if (cpu_mode == 64)
        addrsize = addrsize_prefix ? 4 : 8;
    else if (cpu_mode == 32)
        addrsize = addrsize_prefix ? 2 : 4;
    else
        addrsize = addrsize_prefix ? 4 : 2;

    struct mmio_insn in = { 0 };
    bool has_modrm = true;
    bool byte_reg = false;     /* the ModRM reg field names an 8-bit register */
    unsigned imm_size = 0;
    uint64_t v;

    /* Opcodes from SDM Vol. 2B: MOV, MOVZX, MOVSX. */
    switch (b) {
    case 0x88: /* MOV r/m8, r8 */
    case 0x8a: /* MOV r8, r/m8 */
        in.op = b == 0x88 ? MMIO_STORE : MMIO_LOAD;
        in.size = 1;
        byte_reg = true;
        break;
    case 0x89: /* MOV r/m, r */
    case 0x8b: /* MOV r, r/m */
        in.op = b == 0x89 ? MMIO_STORE : MMIO_LOAD;
        in.size = opsize;
        break;
    case 0xc6: /* MOV r/m8, imm8 */
    case 0xc7: /* MOV r/m, imm16/32; with REX.W the imm32 is sign-extended to 64 bits */
        in.op = MMIO_STORE;
        in.has_imm = true;
        in.size = b == 0xc6 ? 1 : opsize;
        imm_size = in.size > 4 ? 4 : in.size;
        break;
    case 0x0f:
        if (!fetch(&r, &b))
            goto refuse;
        /* MOVZX/MOVSX: 8- or 16-bit memory source, operand-size destination. */
        if (b != 0xb6 && b != 0xb7 && b != 0xbe && b != 0xbf)
            goto refuse;
        in.op = MMIO_LOAD;
        in.size = (b & 1) ? 2 : 1;
        in.sign_extend = b >= 0xbe;
        in.dest_size = opsize;
        break;
    case 0xa0: case 0xa1: /* MOV AL/eAX, moffs */
    case 0xa2: case 0xa3: /* MOV moffs, AL/eAX */
        /* No ModRM: an absolute offset as wide as the address size, 64 bits in 64-bit mode
         * unless 67 makes it 32 (SDM Vol. 2A 2.2.1.4). */
        in.op = (b & 2) ? MMIO_STORE : MMIO_LOAD;
        in.size = (b & 1) ? opsize : 1;
        in.reg = GPR_RAX;
        if (!fetch_le(&r, addrsize, &v))
            goto refuse;
        has_modrm = false;
        break;
    default:
        goto refuse;
    }

    if (has_modrm) {
        uint8_t modrm;
        if (!fetch(&r, &modrm))
            goto refuse;
        unsigned reg = (modrm >> 3) & 7;
        if (in.has_imm) {
            /* C6 /0 and C7 /0 only; other reg values are other instructions or reserved. */
            if (reg != 0)
                goto refuse;
        } else {
            reg |= (rex & 4) ? 8 : 0; /* REX.R */
            /* Byte registers 4-7 are AH, CH, DH, BH without a REX and SPL, BPL, SIL, DIL
             * with any REX (SDM Vol. 2A 3.1.1.1, Table 3-1). */
            if (byte_reg && !rex && reg >= 4) {
                in.high_byte = true;
                reg -= 4;
            }
            in.reg = reg;
        }
        if (!skip_memory_operand(&r, modrm, addrsize))
            goto refuse;

        if (imm_size) {
            /* The immediate follows the displacement. */
            if (!fetch_le(&r, imm_size, &v))
                goto refuse;
            if (in.size == 8)
                v = (uint64_t)(int64_t)(int32_t)(uint32_t)v;
            in.imm = v;
        }
    }

    if (in.op == MMIO_LOAD && in.dest_size == 0)
        in.dest_size = in.size;
    in.length = r.pos;
    *out = in;
    return 0;

refuse:
    /* Out of bytes before the instruction ended: more bytes might make it one (a fetch that
     * stopped at a page the guest cannot reach, say). At 15 bytes it is simply too long. */
    return r.ran_out && r.limit < MAX_INSN_LEN ? DECODE_TRUNCATED : DECODE_UNSUPPORTED;
}

void mmio_insn_complete_load(const struct mmio_insn *insn, uint64_t value, uint64_t gpr[GPR_COUNT], unsigned cpu_mode)
{
    if (insn->reg >= GPR_COUNT)
        return;
    unsigned dest = insn->dest_size ? insn->dest_size : insn->size;
    uint64_t v = value & size_mask(insn->size);
    if (insn->sign_extend && insn->size < 8) {
        uint64_t sign = 1ull << (8 * insn->size - 1);
        v = (v ^ sign) - sign;
    }
    v &= size_mask(dest);

    uint64_t *r = &gpr[insn->reg];
    if (insn->high_byte)
        *r = (*r & ~0xff00ull) | v << 8;
    else if (dest == 8 || (dest == 4 && cpu_mode == 64))
        /* A 32-bit destination zero-extends into the full register in 64-bit mode
         * (SDM Vol. 1 3.4.1.1); in legacy modes bits 63:32 are not visible and keep their value. */
        *r = v;
    else
        /* 8- and 16-bit destinations leave the rest of the register alone (SDM Vol. 1 3.4.1.1). */
        *r = (*r & ~size_mask(dest)) | v;
}

uint64_t mmio_insn_store_value(const struct mmio_insn *insn, const uint64_t gpr[GPR_COUNT])
{
    if (insn->has_imm)
        return insn->imm & size_mask(insn->size);
    if (insn->reg >= GPR_COUNT)
        return 0;
    uint64_t v = gpr[insn->reg];
    if (insn->high_byte)
        v >>= 8;
    return v & size_mask(insn->size);
}
