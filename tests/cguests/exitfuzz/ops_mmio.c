/* SPDX-License-Identifier: BSD-2-Clause */
/* MMIO (fuzz.h): the test device at 0xfebf0000, the I/O APIC at 0xfec00000 and the local
 * APIC's page at 0xfee00000, through every instruction form mhv's decoder takes (README
 * "What every VM has"; vmx/decode.c: MOV, MOVZX/MOVSX, MOV with an immediate, MOV with a
 * 64-bit absolute address) in every size, with REX registers, AH, SIB and displacements, a
 * 32-bit address size, segment overrides and prefixes the CPU ignores. Forms mhv does not
 * emulate stop the VM by design (status 254): only the destructive variant uses them. */
#include "fuzz.h"

#define TESTDEV 0xfebf0000ull
#define TESTDEV_ID 0x7476686dull /* "mhvt" */
#define IOAPIC 0xfec00000ull

static uint64_t size_mask(unsigned size) { return size == 8 ? ~0ull : (1ull << (8 * size)) - 1; }

/* Of two outcomes (a vector or -1), the first fault. */
static int first_fault(int a, int b) { return a >= 0 ? a : b; }

/* --- Loads and stores in many encodings -------------------------------------------------- */

/* A load of size bytes at addr in encoding form; the value (zero-extended) in *out. Forms
 * that cannot encode this size fall back to the plain MOV. */
static int mmio_load(unsigned form, uint64_t addr, unsigned size, uint64_t *out)
{
    uint64_t v = 0;
    int r = -1;
    switch (form * 16 + size) {
    case 0 * 16 + 1: r = TRY_ASM("movb (%1), %b0", : "+q"(v) : "r"(addr) : "memory"); break;
    case 0 * 16 + 2: r = TRY_ASM("movw (%1), %w0", : "+r"(v) : "r"(addr) : "memory"); break;
    case 0 * 16 + 4: r = TRY_ASM("movl (%1), %k0", : "+r"(v) : "r"(addr) : "memory"); break;
    case 0 * 16 + 8: r = TRY_ASM("movq (%1), %0", : "+r"(v) : "r"(addr) : "memory"); break;
    case 1 * 16 + 1: r = TRY_ASM("movzbq (%1), %0", : "+r"(v) : "r"(addr) : "memory"); break;
    case 1 * 16 + 2: r = TRY_ASM("movzwl (%1), %k0", : "+r"(v) : "r"(addr) : "memory"); break;
    case 2 * 16 + 1: { /* MOVSX: sign-extended, then cut back to the loaded bytes */
        r = TRY_ASM("movsbq (%1), %0", : "+r"(v) : "r"(addr) : "memory");
        v &= 0xff;
        break;
    }
    case 2 * 16 + 2: r = TRY_ASM("movswl (%1), %k0", : "+r"(v) : "r"(addr) : "memory"); v &= 0xffff; break;
    case 3 * 16 + 1: { /* into AH */
        uint64_t a = 0;
        r = TRY_ASM("movb (%1), %%ah", : "+a"(a) : "D"(addr) : "memory"); /* no REX: AH */
        v = (a >> 8) & 0xff;
        break;
    }
    case 4 * 16 + 4: case 4 * 16 + 8: { /* R9 destination, R13 base (ModRM needs a disp8 there) */
        register uint64_t dst __asm__("r9") = 0;
        register uint64_t base __asm__("r13") = addr;
        r = size == 4 ? TRY_ASM("movl (%1), %k0", : "+r"(dst) : "r"(base) : "memory")
                      : TRY_ASM("movq (%1), %0", : "+r"(dst) : "r"(base) : "memory");
        v = dst;
        break;
    }
    case 5 * 16 + 4: { /* SIB with a scaled index and a displacement */
        uint64_t index = 3;
        r = TRY_ASM("movl 0x40(%1,%2,8), %k0", : "+r"(v) : "r"(addr - 0x40 - 3 * 8), "r"(index) : "memory");
        break;
    }
    case 6 * 16 + 4: case 6 * 16 + 2: { /* a 32-bit address size (67) */
        uint32_t a32 = (uint32_t)addr;
        r = size == 4 ? TRY_ASM("movl (%k1), %k0", : "+r"(v) : "r"(a32) : "memory")
                      : TRY_ASM("movw (%k1), %w0", : "+r"(v) : "r"(a32) : "memory");
        break;
    }
    case 7 * 16 + 4: { /* an FS override with FS's base 0 (in 64-bit mode only FS and GS have bases) */
        uint64_t old = rdmsr(MSR_FS_BASE);
        wrmsr(MSR_FS_BASE, 0);
        r = TRY_ASM("movl %%fs:(%1), %k0", : "+r"(v) : "r"(addr) : "memory");
        wrmsr(MSR_FS_BASE, old);
        break;
    }
    case 8 * 16 + 4: /* a REP prefix the CPU ignores on MOV */
        r = TRY_ASM(".byte 0xf3\n\tmovl (%1), %k0", : "+r"(v) : "r"(addr) : "memory");
        break;
    case 8 * 16 + 2: { /* a REX.W followed by 66: the REX is not last, so it is ignored (SDM Vol. 2A 2.2.1) */
        uint64_t a = 0x1122334455667788ull;
        r = TRY_ASM(".byte 0x48, 0x66, 0x8b, 0x07", : "+a"(a) : "D"(addr) : "memory"); /* mov (%rdi), %ax */
        if (r < 0 && (a >> 16) != 0x112233445566ull)
            r = 100; /* more than AX changed */
        v = a & 0xffff;
        break;
    }
    default:
        return mmio_load(0, addr, size, out);
    }
    *out = v & size_mask(size);
    return r;
}

static int mmio_store(unsigned form, uint64_t addr, unsigned size, uint64_t value)
{
    int r;
    switch (form * 16 + size) {
    case 1 * 16 + 1: { /* from AH */
        uint64_t a = (value & 0xff) << 8;
        r = TRY_ASM("movb %%ah, (%1)", : : "a"(a), "D"(addr) : "memory"); /* no REX: AH */
        break;
    }
    case 2 * 16 + 4: case 2 * 16 + 8: { /* from R9, R13 base */
        register uint64_t src __asm__("r9") = value;
        register uint64_t base __asm__("r13") = addr;
        r = size == 4 ? TRY_ASM("movl %k0, (%1)", : : "r"(src), "r"(base) : "memory")
                      : TRY_ASM("movq %0, (%1)", : : "r"(src), "r"(base) : "memory");
        break;
    }
    case 3 * 16 + 4: {
        uint64_t index = 5;
        r = TRY_ASM("movl %k0, -0x18(%1,%2,4)", : : "r"(value), "r"(addr + 0x18 - 5 * 4), "r"(index) : "memory");
        break;
    }
    case 4 * 16 + 4: {
        uint32_t a32 = (uint32_t)addr;
        r = TRY_ASM("movl %k0, (%k1)", : : "r"(value), "r"(a32) : "memory");
        break;
    }
    case 0 * 16 + 1: r = TRY_ASM("movb %b0, (%1)", : : "q"(value), "r"(addr) : "memory"); break;
    case 0 * 16 + 2: r = TRY_ASM("movw %w0, (%1)", : : "r"(value), "r"(addr) : "memory"); break;
    case 0 * 16 + 4: r = TRY_ASM("movl %k0, (%1)", : : "r"(value), "r"(addr) : "memory"); break;
    case 0 * 16 + 8: r = TRY_ASM("movq %0, (%1)", : : "r"(value), "r"(addr) : "memory"); break;
    default: return mmio_store(0, addr, size, value);
    }
    return r;
}

/* Stores of immediates (C6/C7; with REX.W the imm32 is sign-extended): the value stored. */
static int mmio_store_imm(unsigned which, uint64_t addr, unsigned *size, uint64_t *stored)
{
    int r;
    switch (which) {
    case 0: *size = 1; *stored = 0xa5; r = TRY_ASM("movb $0xa5, (%0)", : : "r"(addr) : "memory"); break;
    case 1: *size = 2; *stored = 0xbeef; r = TRY_ASM("movw $0xbeef, (%0)", : : "r"(addr) : "memory"); break;
    case 2: *size = 4; *stored = 0x8badf00d; r = TRY_ASM("movl $0x8badf00d, (%0)", : : "r"(addr) : "memory"); break;
    default: *size = 8; *stored = 0xfffffffff00dface; r = TRY_ASM("movq $-0xff20532, (%0)", : : "r"(addr) : "memory"); break;
    }
    return r;
}

/* --- The test device --------------------------------------------------------------------- */

/* The scratch register is one per VM: a store and the load that checks it are one step. */
static struct spinlock testdev_lock;

void op_mmio_testdev(struct fuzz_op *op)
{
    unsigned size = 1u << fz_below(op, 4), form = (unsigned)fz_below(op, 10);
    switch (fz_below(op, 8)) {
    case 0: case 1: { /* the ID */
        uint64_t v;
        fz_note(op, "mmio load testdev id", form, size, 0);
        int r = mmio_load(form, TESTDEV, size, &v);
        fz_expect(op, r, -1, "an MMIO load of the test device's ID");
        fz_expect_value(op, v, TESTDEV_ID & size_mask(size), "the test device's ID reads 'mhvt'");
        break;
    }
    case 2: { /* the read counter counts */
        uint64_t a, b;
        fz_note(op, "mmio load testdev counter", form, 4, 0);
        int r = mmio_load(form, TESTDEV + 0x10, 4, &a);
        r = first_fault(r, mmio_load(0, TESTDEV + 0x10, 4, &b));
        fz_expect(op, r, -1, "MMIO loads of the test device's counter");
        fz_expect_value(op, (uint32_t)(b - a) - 1 < 0x7fffffffu, 1, "the test device's counter counts every read");
        break;
    }
    case 3: case 4: case 5: { /* the scratch register: store, load back */
        uint64_t value = fz_value(op), stored = value & size_mask(size), back;
        bool imm = fz_chance(op, 25);
        fz_lock(&testdev_lock);
        int r;
        if (imm) {
            r = mmio_store_imm((unsigned)fz_below(op, 4), TESTDEV + 8, &size, &stored);
        } else {
            r = mmio_store(form, TESTDEV + 8, size, value);
        }
        fz_note(op, "mmio store testdev scratch", form | (imm << 4), size, stored);
        r = first_fault(r, mmio_load(fz_below(op, 2) ? form : 0, TESTDEV + 8, size, &back));
        fz_unlock(&testdev_lock);
        fz_expect(op, r, -1, "an MMIO store and load of the test device's scratch register");
        fz_expect_value(op, back, stored, "the scratch register reads back what was stored");
        break;
    }
    default: { /* anywhere in the page, any size, as long as it stays inside */
        uint64_t offset = fz_below(op, 0x1000 - size + 1), v;
        bool store = fz_chance(op, 30) && offset != 8;
        fz_note(op, store ? "mmio store testdev" : "mmio load testdev", offset, size, form);
        int r = store ? mmio_store(form, TESTDEV + offset, size, fz_value(op)) : mmio_load(form, TESTDEV + offset, size, &v);
        fz_expect(op, r, -1, "an MMIO access inside the test device's page");
        break;
    }
    }
}

/* --- The I/O APIC -------------------------------------------------------------------------- */

#define IOAPIC_SELECT 0x00
#define IOAPIC_WINDOW 0x10
#define IOAPIC_EOI 0x40

/* IOREGSEL and IOWIN are one pair per VM. */
static struct spinlock ioapic_lock;

static uint32_t ioapic_index(struct fuzz_op *op)
{
    switch (fz_below(op, 6)) {
    case 0: return (uint32_t)fz_below(op, 3);                 /* ID, version, arbitration */
    case 1: return (uint32_t)fz_below(op, 256);               /* anything */
    default: return 0x10 + (uint32_t)fz_below(op, 2 * 24);   /* the redirection table */
    }
}

void op_mmio_ioapic(struct fuzz_op *op)
{
    unsigned form = (unsigned)fz_below(op, 5);
    if (fz_chance(op, 10)) { /* the EOI register, any vector (only level-triggered pins care) */
        uint8_t vector = (uint8_t)fz_next(op);
        fz_note(op, "ioapic eoi", vector, 0, 0);
        fz_expect(op, mmio_store(form, IOAPIC + IOAPIC_EOI, 4, vector), -1, "an I/O APIC EOI write");
        return;
    }
    if (fz_chance(op, 10)) { /* elsewhere in the page */
        unsigned size = 1u << fz_below(op, 4);
        uint64_t offset = fz_below(op, 0x1000 - size + 1), v;
        bool store = fz_chance(op, 30) && offset >= 0x14 && offset != IOAPIC_EOI;
        fz_note(op, store ? "mmio store ioapic" : "mmio load ioapic", offset, size, 0);
        int r = store ? mmio_store(form, IOAPIC + offset, size, fz_value(op)) : mmio_load(form, IOAPIC + offset, size, &v);
        fz_expect(op, r, -1, "an MMIO access inside the I/O APIC's page");
        return;
    }
    uint32_t index = ioapic_index(op);
    bool write = fz_chance(op, 50);
    unsigned size = 1u << fz_below(op, 3);
    uint64_t sel, value = 0, back = 0;
    fz_lock(&ioapic_lock);
    int r = mmio_store(form, IOAPIC + IOAPIC_SELECT, 4, index);
    r = first_fault(r, mmio_load(0, IOAPIC + IOAPIC_SELECT, 4, &sel));
    if (write) {
        uint32_t old = 0;
        uint64_t o;
        r = first_fault(r, mmio_load(0, IOAPIC + IOAPIC_WINDOW, 4, &o));
        old = (uint32_t)o;
        value = fz_chance(op, 50) ? fz_value(op) : old ^ (1u << fz_below(op, 32));
        value = fz_sanitize_ioapic(index, (uint32_t)value);
        fz_note(op, "ioapic write", index, value, old);
        r = first_fault(r, mmio_store(form, IOAPIC + IOAPIC_WINDOW, 4, value));
        r = first_fault(r, mmio_load(0, IOAPIC + IOAPIC_WINDOW, 4, &back));
    } else {
        fz_note(op, "ioapic read", index, size, 0);
        r = first_fault(r, mmio_load(form, IOAPIC + IOAPIC_WINDOW, size, &back));
    }
    fz_unlock(&ioapic_lock);
    fz_expect(op, r, -1, "I/O APIC register accesses");
    fz_expect_value(op, sel, index, "IOREGSEL reads back the index written");
    if (!write && index == 1 && size == 4)
        fz_expect_value(op, back & 0xff00ff, 0x170020, "the I/O APIC's version: 0x20, 24 pins");
    if (write && index >= 0x10 && index < 0x10 + 48) {
        uint32_t kept = (index & 1) ? 0xff000000u : 0x1afffu; /* destination; vector..mask, not the read-only bits */
        fz_expect_value(op, back & kept, value & kept, "a redirection entry reads back what was written");
    }
}

/* --- The local APIC's page ------------------------------------------------------------------ */

static const uint16_t lapic_registers[] = { 0x20, 0x30, 0x80, 0x90, 0xa0, 0xb0, 0xc0, 0xd0, 0xe0, 0xf0, 0x100, 0x170,
                                            0x180, 0x200, 0x270, 0x280, 0x2f0, 0x300, 0x310, 0x320, 0x330, 0x340,
                                            0x350, 0x360, 0x370, 0x380, 0x390, 0x3e0, 0x3f0, 0x400, 0xff0 };

/* Offsets where a write of any size and alignment does no harm: TPR, EOI, LDR, DFR, ESR and
 * offsets with no register. Writes elsewhere are whole registers, sanitized. */
static bool harmless_offset(uint64_t offset)
{
    uint64_t reg = offset & ~0xfull;
    return reg == 0x80 || reg == 0xb0 || reg == 0xd0 || reg == 0xe0 || reg == 0x280 || reg < 0x20 ||
           (reg >= 0x40 && reg < 0x80) || (reg >= 0x3a0 && reg < 0x3e0) || reg >= 0x3f0;
}

void op_mmio_lapic(struct fuzz_op *op)
{
    unsigned form = (unsigned)fz_below(op, 10);
    uint64_t offset = fz_chance(op, 70) ? FZ_PICK(op, lapic_registers) : fz_below(op, 0x1000);
    unsigned size = fz_chance(op, 70) ? 4 : 1u << fz_below(op, 4);
    if (offset + size > 0x1000)
        offset = 0x1000 - size;
    bool write = fz_chance(op, 40);
    if (!write) {
        uint64_t v;
        fz_note(op, "mmio load lapic", offset, size, form);
        fz_expect(op, mmio_load(form, APIC_MMIO_BASE + offset, size, &v), -1, "an MMIO load from the local APIC's page");
        if (!apic_is_x2apic() && offset == APIC_ID && size == 4)
            fz_expect_value(op, v >> 24, op->cpu, "the xAPIC ID register holds the vCPU's number");
        if (!apic_is_x2apic() && offset == APIC_VERSION && size == 4)
            fz_expect_value(op, v & 0xff, 0x14, "the local APIC's version is 0x14");
        return;
    }
    uint32_t value = (uint32_t)fz_value(op);
    if (offset == APIC_ICR_LOW && size == 4) {
        fz_note(op, "mmio icr", value, 0, 0);
        fz_send_icr(op, (uint32_t)fz_below(op, smp_cpus() + 2), value);
        return;
    }
    if (!harmless_offset(offset)) {
        offset &= 0xff0;
        size = 4;
        value = fz_sanitize_lapic((unsigned)offset, value);
    }
    fz_note(op, "mmio store lapic", offset, size, value);
    fz_expect(op, mmio_store(form, APIC_MMIO_BASE + offset, size, value), -1, "an MMIO store to the local APIC's page");
}
