/* SPDX-License-Identifier: BSD-2-Clause */
/* Port I/O (fuzz.h): every port exits to mhv (README "Ports nobody claims read all-ones").
 * IN and OUT of 1, 2 and 4 bytes through DX or an immediate, index/data pairs of the indexed
 * devices, the string forms with and without REP, DF=1, a 32-bit address size and a segment
 * override, and COM1's loopback. Port I/O at CPL 0 never faults (SDM Vol. 1 19.5). */
#include "fuzz.h"

struct port_range {
    uint16_t first, count;
};

/* Every device of the virtual platform (README "The virtual platform") and its neighbours. */
static const struct port_range devices[] = {
    { 0x20, 2 }, { 0xa0, 2 }, { 0x4d0, 2 },                /* 8259 pair, ELCR */
    { 0x40, 4 }, { 0x61, 1 },                              /* 8254, port 0x61 */
    { 0x70, 4 },                                           /* CMOS (and 0x72-0x73: nothing) */
    { 0x3f8, 8 }, { 0x2f8, 8 }, { 0x3e8, 8 }, { 0x2e8, 8 }, /* COM1 (console), COM2-4 (absent) */
    { 0x600, 12 },                                         /* PM1a event, control, PM timer */
    { 0xcf8, 8 },                                          /* PCI configuration, reset control */
    { 0x510, 6 },                                          /* fw_cfg (0x514: DMA, absent) */
    { 0x80, 1 }, { 0x60, 1 }, { 0x64, 1 }, { 0x92, 1 },    /* POST, 8042, port A */
    { 0xe0, 12 }, { 0x2000, 24 },                          /* pc-testdev (absent unless configured) */
    { 0xf0, 16 },                                          /* around the debug exit */
};

static uint16_t pick_port(struct fuzz_op *op)
{
    if (fz_chance(op, 15))
        return (uint16_t)fz_next(op);
    const struct port_range *r = &FZ_PICK(op, devices);
    return (uint16_t)(r->first + fz_below(op, r->count) - (fz_chance(op, 5) ? 1 : 0));
}

static unsigned pick_size(struct fuzz_op *op) { return 1u << fz_below(op, 3); }

/* COM1's registers are shared by the VM's vCPUs: accesses take this lock, so the loopback
 * check below sees its own byte. */
static struct spinlock uart_lock;
static bool touches_com1(uint16_t port, unsigned size) { return port + size > 0x3f8 && port < 0x400; }

/* An OUT of value, or false when the sanitizer forbids a byte of it (then nothing is written).
 * A doubleword at 0xcf8 is the PCI address register on every PC: written as it is. */
static bool sanitize_out(uint16_t port, unsigned size, uint32_t *value)
{
    if (port == 0xcf8 && size == 4)
        return true;
    for (unsigned i = 0; i < size; i++) {
        uint8_t b = (uint8_t)(*value >> (8 * i));
        if (!fz_sanitize_port_byte((uint16_t)(port + i), &b))
            return false;
        *value = (*value & ~(0xffu << (8 * i))) | ((uint32_t)b << (8 * i));
    }
    return true;
}

/* One IN or OUT through DX; IN of 1 or 2 bytes leaves the rest of RAX alone, of 4 bytes
 * zero-extends (SDM Vol. 1 3.4.1.1): the upper bits carry garbage to see it. */
static void port_access(struct fuzz_op *op, uint16_t port, unsigned size, bool out, uint32_t value)
{
    bool com1 = touches_com1(port, size);
    if (com1) {
        fz_lock(&uart_lock);
    }
    if (out && !sanitize_out(port, size, &value))
        out = false;
    fz_note(op, out ? "out" : "in", port, size, value);
    uint64_t rax = out ? value : 0x5a5a5a5a5a5a5a5aull ^ ((uint64_t)value << 32);
    int v;
    switch ((size << 1) | out) {
    case 2: v = TRY_ASM("inb %w1, %b0", : "+a"(rax) : "Nd"(port)); break;
    case 3: v = TRY_ASM("outb %b0, %w1", : : "a"(rax), "Nd"(port)); break;
    case 4: v = TRY_ASM("inw %w1, %w0", : "+a"(rax) : "Nd"(port)); break;
    case 5: v = TRY_ASM("outw %w0, %w1", : : "a"(rax), "Nd"(port)); break;
    case 8: v = TRY_ASM("inl %w1, %k0", : "+a"(rax) : "Nd"(port)); break;
    default: v = TRY_ASM("outl %k0, %w1", : : "a"(rax), "Nd"(port)); break;
    }
    fz_expect(op, v, -1, out ? "OUT at CPL 0" : "IN at CPL 0");
    if (!out && v < 0) {
        uint64_t before = 0x5a5a5a5a5a5a5a5aull ^ ((uint64_t)value << 32);
        if (size < 4)
            fz_expect_value(op, rax >> (8 * size), before >> (8 * size), "IN AL/AX leaves the rest of RAX alone");
        else
            fz_expect_value(op, rax >> 32, 0, "IN EAX zero-extends into RAX");
        /* Nothing lives at 0x3000-0x3fff on this platform. */
        if (port >= 0x3000 && port + size <= 0x4000)
            fz_expect_value(op, rax & ((1ull << (8 * size)) - 1), (1ull << (8 * size)) - 1, "an unclaimed port reads all-ones");
    }
    if (com1) {
        fz_unlock(&uart_lock);
    }
}

/* IN/OUT with an immediate port (exit qualification bit 6 set, SDM Vol. 3C table 29-5). */
#define IMM_CASE(p)                                                                                \
    case p:                                                                                        \
        v = out ? TRY_ASM("outb %b0, $" #p, : : "a"(value)) : TRY_ASM("inb $" #p ", %b0", : "+a"(value)); \
        break;

static void port_access_imm(struct fuzz_op *op)
{
    static const uint8_t ports[] = { 0x20, 0x21, 0x40, 0x41, 0x42, 0x43, 0x61, 0x70, 0x71, 0x80, 0xa0, 0xa1, 0xe0, 0xed };
    uint8_t port = FZ_PICK(op, ports);
    bool out = fz_chance(op, 50);
    uint32_t value = (uint8_t)fz_value(op);
    fz_note(op, out ? "out imm8" : "in imm8", port, 1, value);
    int v = -1;
    switch (port) {
        IMM_CASE(0x20) IMM_CASE(0x21) IMM_CASE(0x40) IMM_CASE(0x41) IMM_CASE(0x42) IMM_CASE(0x43) IMM_CASE(0x61)
        IMM_CASE(0x70) IMM_CASE(0x71) IMM_CASE(0x80) IMM_CASE(0xa0) IMM_CASE(0xa1) IMM_CASE(0xe0) IMM_CASE(0xed)
    }
    fz_expect(op, v, -1, "IN/OUT with an immediate port at CPL 0");
}

/* An indexed device: select a register, then read or write it. */
static void indexed_pair(struct fuzz_op *op)
{
    switch (fz_below(op, 5)) {
    case 0: { /* CMOS: index (bit 7: the NMI mask) then data */
        uint32_t index = (uint32_t)(fz_chance(op, 70) ? fz_below(op, 0x40) : fz_below(op, 0x100));
        port_access(op, 0x70, 1, true, index);
        port_access(op, 0x71, 1, fz_chance(op, 40), (uint32_t)fz_value(op));
        break;
    }
    case 1: { /* PCI: the address, then 1, 2 or 4 bytes of data */
        uint32_t addr = 0x80000000u | ((uint32_t)fz_below(op, 4) << 16) | ((uint32_t)fz_below(op, 32) << 11) |
                        ((uint32_t)fz_below(op, 8) << 8) | ((uint32_t)fz_below(op, 64) << 2);
        if (fz_chance(op, 20))
            addr = (uint32_t)fz_value(op);
        port_access(op, 0xcf8, 4, true, addr);
        unsigned size = pick_size(op);
        port_access(op, (uint16_t)(0xcfc + fz_below(op, 5 - size)), size, fz_chance(op, 30), (uint32_t)fz_value(op));
        break;
    }
    case 2: { /* fw_cfg: a selector, then a few data bytes */
        static const uint16_t keys[] = { 0x00, 0x01, 0x03, 0x05, 0x0f, 0x14, 0x15, 0x19, 0x20, 0x8000, 0xffff };
        port_access(op, 0x510, 2, true, fz_chance(op, 70) ? FZ_PICK(op, keys) : (uint16_t)fz_next(op));
        for (unsigned n = (unsigned)fz_range(op, 1, 6); n; n--)
            port_access(op, 0x511, 1, fz_chance(op, 10), (uint32_t)fz_next(op));
        break;
    }
    case 3: { /* PIT: a control word, then a count's two bytes or a latch's read */
        port_access(op, 0x43, 1, true, (uint32_t)fz_next(op));
        uint16_t ch = (uint16_t)(0x40 + fz_below(op, 3));
        bool out = fz_chance(op, 50);
        port_access(op, ch, 1, out, (uint32_t)fz_next(op));
        port_access(op, ch, 1, out, (uint32_t)fz_next(op));
        break;
    }
    default: { /* 8259: the initialization sequence with random words, or OCW3 and a read */
        uint16_t base = fz_chance(op, 50) ? 0x20 : 0xa0;
        if (fz_chance(op, 40)) {
            uint32_t icw1 = 0x10 | (uint32_t)fz_below(op, 16);
            port_access(op, base, 1, true, icw1);
            port_access(op, (uint16_t)(base + 1), 1, true, (uint32_t)fz_next(op));
            if (!(icw1 & 2))
                port_access(op, (uint16_t)(base + 1), 1, true, (uint32_t)fz_next(op));
            if (icw1 & 1)
                port_access(op, (uint16_t)(base + 1), 1, true, (uint32_t)fz_next(op));
        } else {
            port_access(op, base, 1, true, 0x08 | (uint32_t)fz_below(op, 8) | ((uint32_t)fz_below(op, 4) << 5));
            port_access(op, base, 1, false, 0);
        }
        break;
    }
    }
}

void op_port(struct fuzz_op *op)
{
    switch (fz_below(op, 10)) {
    case 0: case 1: indexed_pair(op); break;
    case 2: port_access_imm(op); break;
    default: {
        unsigned size = pick_size(op);
        port_access(op, pick_port(op), size, fz_chance(op, 50), (uint32_t)fz_value(op));
        break;
    }
    }
}

/* --- INS and OUTS ------------------------------------------------------------------------- */

#define STRING_BUFFER 12288
static uint8_t string_buffers[RT_MAX_CPUS][STRING_BUFFER + 64] __attribute__((aligned(4096)));

/* One string instruction; std/cld around it inside the asm, so the flag never leaks into C
 * code and a fault resumes at the cld. */
#define STRING_ASM(insn) "std\n\t" RT_FIXUP(insn) "cld\n\t"
#define STRING_TRY(df, insn, ...)                                                                  \
    ({                                                                                             \
        rt_fault_arm();                                                                            \
        if (df)                                                                                    \
            __asm__ volatile(STRING_ASM(insn) __VA_ARGS__);                                        \
        else                                                                                       \
            __asm__ volatile(RT_FIXUP(insn) __VA_ARGS__);                                          \
        rt_fault_taken();                                                                          \
    })
#define IO_OPS : "+D"(di), "+S"(si), "+c"(count) : "d"(port) : "memory"

static int string_insn(bool in, unsigned size, bool rep, bool addr32, bool gs, bool df, uint16_t port, uint64_t *pdi,
                       uint64_t *psi, uint64_t *pcount)
{
    uint64_t di = *pdi, si = *psi, count = *pcount;
    int v = -1;
    unsigned form = (in ? 0 : 1) | (rep ? 2 : 0) | (addr32 ? 4 : 0) | (gs && !in ? 8 : 0);
#define SIZES(b, w, l)                                                                             \
    v = size == 1 ? STRING_TRY(df, b, IO_OPS) : size == 2 ? STRING_TRY(df, w, IO_OPS) : STRING_TRY(df, l, IO_OPS)
    switch (form) {
    case 0: SIZES("insb", "insw", "insl"); break;
    case 1: SIZES("outsb", "outsw", "outsl"); break;
    case 2: SIZES("rep insb", "rep insw", "rep insl"); break;
    case 3: SIZES("rep outsb", "rep outsw", "rep outsl"); break;
    case 4: SIZES("addr32 insb", "addr32 insw", "addr32 insl"); break;
    case 5: SIZES("addr32 outsb", "addr32 outsw", "addr32 outsl"); break;
    case 6: SIZES("addr32 rep insb", "addr32 rep insw", "addr32 rep insl"); break;
    case 7: SIZES("addr32 rep outsb", "addr32 rep outsw", "addr32 rep outsl"); break;
    case 9: SIZES("outsb %%gs:(%%rsi), (%%dx)", "outsw %%gs:(%%rsi), (%%dx)", "outsl %%gs:(%%rsi), (%%dx)"); break;
    case 11: SIZES("rep outsb %%gs:(%%rsi), (%%dx)", "rep outsw %%gs:(%%rsi), (%%dx)", "rep outsl %%gs:(%%rsi), (%%dx)"); break;
    case 13: SIZES("addr32 outsb %%gs:(%%esi), (%%dx)", "addr32 outsw %%gs:(%%esi), (%%dx)", "addr32 outsl %%gs:(%%esi), (%%dx)"); break;
    default: SIZES("addr32 rep outsb %%gs:(%%esi), (%%dx)", "addr32 rep outsw %%gs:(%%esi), (%%dx)", "addr32 rep outsl %%gs:(%%esi), (%%dx)"); break;
    }
#undef SIZES
    *pdi = di;
    *psi = si;
    *pcount = count;
    return v;
}

void op_port_string(struct fuzz_op *op)
{
    uint16_t port = pick_port(op);
    unsigned size = pick_size(op);
    bool in = fz_chance(op, 50), rep = fz_chance(op, 80), addr32 = fz_chance(op, 15), df = fz_chance(op, 20);
    bool gs = !in && fz_chance(op, 25);
    uint64_t count;
    switch (fz_below(op, 200)) {
    case 0: count = fz_range(op, 1000, 3000); break; /* past mhv's batch of 1024 elements per exit */
    case 1: case 2: case 3: case 4: case 5: case 6: case 7: case 8: case 9: count = fz_below(op, 257); break;
    default: count = fz_chance(op, 85) ? fz_below(op, 17) : fz_below(op, 129); break;
    }
    if (count * size > STRING_BUFFER)
        count = STRING_BUFFER / size;
    uint64_t elements = rep ? count : 1;
    uint8_t *buf = string_buffers[op->cpu];
    /* OUTS: every element is one OUT of the same port, so each is sanitized like one. */
    if (!in) {
        for (uint64_t i = 0; i < elements * size; i += 8) {
            uint64_t r = fz_next(op);
            memcpy(buf + i, &r, 8);
        }
        for (uint64_t i = 0; i < elements && !in; i++) {
            uint32_t value = 0;
            memcpy(&value, buf + i * size, size);
            if (!sanitize_out(port, size, &value))
                in = true; /* a port that must not be written: read it instead */
            memcpy(buf + i * size, &value, size);
        }
        gs &= !in;
    }
    bool com1 = touches_com1(port, size);
    if (com1) {
        fz_lock(&uart_lock);
    }
    /* DF=1 walks down from the last element. GS: a base below the buffer, the offset in RSI. */
    uint64_t start = (uint64_t)(uintptr_t)buf + (df ? (elements - 1) * size : 0);
    uint64_t gs_base = 0, old_gs = 0;
    if (gs) {
        old_gs = rdmsr(MSR_GS_BASE);
        /* With DF=1 the offset walks down: a base that far below, or a 32-bit offset would
         * wrap past 0 to 4 GiB above the base, where a #PF is right. */
        gs_base = start - (df ? elements * size : 0) - fz_below(op, 0x10000);
        wrmsr(MSR_GS_BASE, gs_base);
    }
    uint64_t di = start, si = start - gs_base, rcx = count;
    if (!addr32)
        rcx |= fz_chance(op, 20) && !rep ? fz_next(op) << 32 : 0; /* without REP, RCX is not used */
    fz_note(op, in ? "ins" : "outs", port, (size << 8) | (rep << 4) | (addr32 << 3) | (df << 2) | (gs << 1), count);
    uint64_t rcx_before = rcx, di_before = di, si_before = si;
    int v = string_insn(in, size, rep, addr32, gs, df, port, &di, &si, &rcx);
    if (gs)
        wrmsr(MSR_GS_BASE, old_gs);
    if (com1) {
        fz_unlock(&uart_lock);
    }
    fz_expect(op, v, -1, in ? "INS into the guest's own buffer" : "OUTS from the guest's own buffer");
    if (v >= 0)
        return;
    /* Every element done: rCX counts to 0, rSI/rDI move by the elements times their size. */
    int64_t moved = (int64_t)(elements * size) * (df ? -1 : 1);
    if (rep)
        fz_expect_value(op, rcx, 0, "REP INS/OUTS counts rCX down to 0");
    else
        fz_expect_value(op, rcx, rcx_before, "INS/OUTS without REP leaves rCX alone");
    if (in)
        fz_expect_value(op, di - di_before, (uint64_t)moved, "INS moves rDI by the bytes it wrote");
    else
        fz_expect_value(op, si - si_before, (uint64_t)moved, "OUTS moves rSI by the bytes it read");
}

/* COM1 in loopback mode (MCR bit 4): a byte written to THR comes back in RBR, and nothing
 * reaches mhv's console (README "16550A: Loopback ... returns sent bytes"). */
void op_uart_loopback(struct fuzz_op *op)
{
    fz_lock(&uart_lock);
    uint8_t lcr = inb(0x3fb), mcr = inb(0x3fc), byte = (uint8_t)fz_next(op);
    fz_note(op, "uart loopback", byte, lcr, mcr);
    outb(0x3fb, lcr & 0x7f);   /* DLAB off: offset 0 is THR/RBR */
    outb(0x3fc, mcr | 0x10);   /* loopback */
    for (unsigned i = 0; i < 32 && (inb(0x3fd) & 1); i++)
        inb(0x3f8);            /* drain what earlier loopbacks left */
    outb(0x3f8, byte);
    bool ready = inb(0x3fd) & 1;
    uint8_t back = inb(0x3f8);
    fz_expect_value(op, ready, 1, "COM1 loopback: LSR.DR set after a byte is sent");
    fz_expect_value(op, back, byte, "COM1 loopback: RBR returns the byte sent");
    outb(0x3fc, mcr);
    outb(0x3fb, lcr);
    fz_unlock(&uart_lock);
}
