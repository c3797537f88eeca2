/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Register state that crosses VMs (GUIDE.md section 5: state the VMCS does not switch is mhv's
 * to switch). Two copies of this guest run pinned to the same physical CPU with the same slice
 * (bochs_cleak makes them with mkvariant): the "writer" (arg0=1) and the "checker" (arg0=0).
 * Each writes its own pattern into every register a guest can write that is not obviously
 * per-VM memory: the debug registers, CR2, CR8 and a few CR0/CR4/EFER bits, the syscall and
 * sysenter MSRs, FS/GS/KERNEL_GS bases, TSC_AUX, SPEC_CTRL, PAT, MTRR_DEF_TYPE, TSC_ADJUST,
 * MISC_ENABLE, DEBUGCTL, XCR0 and the extended state (x87, MXCSR, XMM, YMM, AVX-512 opmask and
 * ZMM, PKRU), then reads them all again and again for arg1 ms (default 300) of TSC time and
 * checks that each still holds its own value; a register that changed is reported with what it
 * held instead, and whether that was the other VM's pattern (a leak). Each VM also checks that
 * every register started at its reset value (a leak at VM start). arg2=1 gives both VMs the
 * same XCR0 (see xstate_setup).
 *
 * NMI blocking is state too, kept in the VMCS: the writer runs all of the above inside its NMI
 * handler (NMIs blocked until its IRET, SDM Vol. 3A 7.7), and the checker sends itself an NMI
 * in every pass, which it must take at once. Bochs 2.7 carries one guest's virtual-NMI
 * blocking into the next guest its CPU enters (vmx/inject.c says how mhv keeps it from
 * mattering).
 *
 * The checker proves that the two really alternated: it counts the jumps of its TSC longer
 * than half a slice (another vCPU ran on its CPU in between) and needs at least MIN_SWITCHES,
 * and reports passes and switches. One line per register, so a fix shows register by register.
 */
#include "rt.h"

MHV_GUEST(.name = "leak", .memory_mib = 8, .slice_us = 1000);

#define MIN_SWITCHES 30
#define XSAVE_MAX 8192
#define TAG_CHECKER 0x434bull /* "CK" */
#define TAG_WRITER 0x5752ull  /* "WR" */
/* A canonical address carrying the role's tag: never mapped, never executed. */
#define ADDR(tag, n) (((tag) << 32) | ((uint64_t)(n) << 12))
#define BOTH(n) { ADDR(TAG_CHECKER, n), ADDR(TAG_WRITER, n) }

enum role { CHECKER, WRITER };
static const char *const role_name[2] = { "checker", "writer" };
static enum role me, other;

enum kind { K_MSR, K_DR, K_CR, K_XCR0, K_RDTSCP, K_RDPID, K_NMI, K_XSTATE };
enum xs_item { XS_X87, XS_MXCSR, XS_XMM, XS_YMM, XS_OPMASK, XS_ZMM_HI256, XS_HI16_ZMM, XS_PKRU };

struct item {
    const char *name;
    enum kind kind;
    uint32_t index;     /* MSR, DR or CR number, or enum xs_item */
    uint64_t mask;      /* the bits this test owns; writes keep the others */
    uint64_t value[2];  /* per role */
    bool reset_known;
    uint64_t reset;     /* the architectural (or mhv's documented firmware) value at VM start */
    /* results */
    bool readable, writable;
    int read_vector, write_vector;
    uint64_t initial, own;
    uint64_t reads, bad, leaked, first_bad, first_bad_pass;
};

#define SPEC_CTRL_IBRS 1
#define SPEC_CTRL_STIBP 2
#define SPEC_CTRL_SSBD 4

/* Positional: the description; the results after it start zeroed. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static struct item items[] = {
    { "DR0", K_DR, 0, ~0ull, BOTH(1), true, 0 },
    { "DR1", K_DR, 1, ~0ull, BOTH(2), true, 0 },
    { "DR2", K_DR, 2, ~0ull, BOTH(3), true, 0 },
    { "DR3", K_DR, 3, ~0ull, BOTH(4), true, 0 },
    /* B0-B3, BD, BS, BT are writable; the rest reads fixed (SDM Vol. 3B 18.2.3). */
    { "DR6", K_DR, 6, 0xe00f, { 0xffff8ff3, 0xffff4ffc }, true, 0xffff0ff0 },
    /* Execution breakpoints on the role's own (unmapped) DR addresses: they never fire. */
    { "DR7", K_DR, 7, ~0ull, { 0x404, 0x482 }, true, 0x400 },
    { "CR2", K_CR, 2, ~0ull, BOTH(5), true, 0 },
    { "CR8", K_CR, 8, 0xf, { 0x3, 0xb }, true, 0 },
    { "CR0.AM", K_CR, 0, CR0_AM, { 0, CR0_AM }, true, 0 },
    { "CR4.TSD/DE/PCE", K_CR, 4, CR4_TSD | CR4_DE | CR4_PCE, { 0, CR4_TSD | CR4_DE | CR4_PCE }, true, 0 },
    { "EFER.SCE/NXE", K_MSR, MSR_EFER, EFER_SCE | EFER_NXE, { 0, EFER_SCE | EFER_NXE }, true, 0 },
    { "PAT", K_MSR, MSR_PAT, ~0ull, { 0x0007040600010406, 0x0001040500070106 }, true, 0x0007040600070406 },
    { "MTRR_DEF_TYPE", K_MSR, MSR_MTRR_DEF_TYPE, ~0ull, { 0x806, 0xc00 }, true, 0xc06 },
    { "TSC_ADJUST", K_MSR, MSR_TSC_ADJUST, ~0ull, { TAG_CHECKER << 16, TAG_WRITER << 16 }, true, 0 },
    { "SYSENTER_CS", K_MSR, MSR_SYSENTER_CS, ~0ull, { TAG_CHECKER, TAG_WRITER }, true, 0 },
    { "SYSENTER_ESP", K_MSR, MSR_SYSENTER_ESP, ~0ull, BOTH(6), true, 0 },
    { "SYSENTER_EIP", K_MSR, MSR_SYSENTER_EIP, ~0ull, BOTH(7), true, 0 },
    { "STAR", K_MSR, MSR_STAR, ~0ull, { 0x00230010434b0005, 0x001b000857520005 }, true, 0 },
    { "LSTAR", K_MSR, MSR_LSTAR, ~0ull, BOTH(8), true, 0 },
    { "CSTAR", K_MSR, MSR_CSTAR, ~0ull, BOTH(9), true, 0 },
    { "SFMASK", K_MSR, MSR_SFMASK, ~0ull, { TAG_CHECKER << 16 | 0x300, TAG_WRITER << 16 | 0x700 }, true, 0 },
    { "KERNEL_GS_BASE", K_MSR, MSR_KERNEL_GS_BASE, ~0ull, BOTH(10), true, 0 },
    { "FS_BASE", K_MSR, MSR_FS_BASE, ~0ull, BOTH(11), true, 0 },
    { "GS_BASE", K_MSR, MSR_GS_BASE, ~0ull, BOTH(12), true, 0 },
    { "TSC_AUX", K_MSR, MSR_TSC_AUX, ~0ull, { TAG_CHECKER, TAG_WRITER }, true, 0 },
    { "TSC_AUX by RDTSCP", K_RDTSCP, 0, ~0ull, { TAG_CHECKER, TAG_WRITER }, true, 0 },
    { "TSC_AUX by RDPID", K_RDPID, 0, ~0ull, { TAG_CHECKER, TAG_WRITER }, true, 0 },
    { "SPEC_CTRL", K_MSR, MSR_SPEC_CTRL, 0, { 0, 0 }, true, 0 },           /* mask: what CPUID offers */
    { "MISC_ENABLE", K_MSR, MSR_MISC_ENABLE, 1ull << 22, { 0, 1ull << 22 }, false, 0 }, /* limit CPUID maxval */
    { "DEBUGCTL", K_MSR, MSR_DEBUGCTL, 2, { 0, 2 }, true, 0 },             /* BTF */
    { "XCR0", K_XCR0, 0, ~0ull, { 0, 0 }, true, 1 },                       /* values: xstate_setup */
    /* 1: a self-NMI waits (the writer, in its NMI handler); 0: it is taken at once. */
    { "NMI blocking", K_NMI, 0, ~0ull, { 0, 1 }, true, 0 },
    /* Extended state, read with XSAVE (after XCR0: XSAVE saves what XCR0 enables). */
    { "x87 state", K_XSTATE, XS_X87 },
    { "MXCSR", K_XSTATE, XS_MXCSR },
    { "XMM0-15", K_XSTATE, XS_XMM },
    { "YMM0-15 upper halves", K_XSTATE, XS_YMM },
    { "AVX-512 opmask k0-7", K_XSTATE, XS_OPMASK },
    { "ZMM0-15 upper halves", K_XSTATE, XS_ZMM_HI256 },
    { "ZMM16-31", K_XSTATE, XS_HI16_ZMM },
    { "PKRU", K_XSTATE, XS_PKRU },
};
#pragma GCC diagnostic pop
#define NITEMS (sizeof(items) / sizeof(items[0]))

/* ---- registers ------------------------------------------------------------------------- */

static volatile uint64_t nmis_taken;

/* Sends this vCPU an NMI and reads whether it was blocked: not taken within 50 us (a real
 * CPU takes a self-NMI within a few instructions of the ICR write; mhv before the next one). */
static int read_nmi_blocking(uint64_t *v)
{
    uint64_t before = nmis_taken, end = tsc_deadline_in_us(50);
    apic_send_ipi(apic_id(), ICR_NMI | ICR_LEVEL_ASSERT);
    while (nmis_taken == before && !tsc_reached(end))
        cpu_relax();
    *v = nmis_taken == before;
    return -1;
}

static int raw_read(const struct item *it, uint64_t *v)
{
    uint64_t tsc;
    uint32_t aux;
    int r;
    switch (it->kind) {
    case K_MSR: return try_rdmsr(it->index, v);
    case K_DR: return try_read_dr(it->index, v);
    case K_CR: return try_read_cr(it->index, v);
    case K_XCR0: return try_xgetbv(0, v);
    case K_RDTSCP:
        r = try_rdtscp(&tsc, &aux);
        *v = aux;
        return r;
    case K_RDPID: return try_rdpid(v);
    case K_NMI: return read_nmi_blocking(v);
    default: return VEC_UD;
    }
}

static int raw_write(const struct item *it, uint64_t v)
{
    switch (it->kind) {
    case K_MSR: return try_wrmsr(it->index, v);
    case K_DR: return try_write_dr(it->index, v);
    case K_CR: return try_write_cr(it->index, v);
    case K_XCR0: return try_xsetbv(0, v);
    case K_NMI: return -1; /* set by running in the NMI handler (guest_main), not written */
    default: return VEC_UD; /* RDTSCP and RDPID only read TSC_AUX */
    }
}

/* Writes value into the bits the item owns. */
static int item_write(const struct item *it, uint64_t value)
{
    uint64_t v = value;
    if (it->mask != ~0ull) {
        uint64_t cur;
        int r = raw_read(it, &cur);
        if (r >= 0)
            return r;
        v = (cur & ~it->mask) | (value & it->mask);
    }
    return raw_write(it, v);
}

static bool same(const struct item *it, uint64_t a, uint64_t b)
{
    return ((a ^ b) & it->mask) == 0;
}

/* ---- extended state --------------------------------------------------------------------- */

#define XCR0_X87 (1ull << 0)
#define XCR0_SSE (1ull << 1)
#define XCR0_AVX (1ull << 2)
#define XCR0_AVX512 (7ull << 5)
#define XCR0_PKRU (1ull << 9)
/* Components this test fills with patterns (not MPX, AMX or others with rules of their own). */
#define XCR0_PATTERNED (XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_AVX512 | XCR0_PKRU)

static bool have_xsave;
static uint64_t xcr0_of[2];
static uint32_t comp_offset[10], comp_size[10];
static uint32_t mxcsr_mask = 0xffbf;
static uint8_t pattern[2][XSAVE_MAX] __attribute__((aligned(64)));
static uint8_t own_saved[XSAVE_MAX] __attribute__((aligned(64)));
static uint8_t cur[XSAVE_MAX] __attribute__((aligned(64)));
static uint8_t init_image[XSAVE_MAX] __attribute__((aligned(64)));

struct range {
    uint32_t off, len;
};

/* The bytes of an item in the standard XSAVE layout (SDM Vol. 1 13.4): legacy region, header
 * at 512, components at the offsets of CPUID leaf 0xd. Reserved bytes are left out. */
static unsigned xs_ranges(enum xs_item x, struct range *r, uint64_t *component)
{
    static const struct range x87[] = { { 0, 5 }, { 6, 18 }, { 32, 10 }, { 48, 10 }, { 64, 10 }, { 80, 10 },
                                        { 96, 10 }, { 112, 10 }, { 128, 10 }, { 144, 10 } };
    switch (x) {
    case XS_X87:
        for (unsigned i = 0; i < 10; i++)
            r[i] = x87[i];
        *component = XCR0_X87;
        return 10;
    case XS_MXCSR: r[0] = (struct range){ 24, 4 }; *component = XCR0_SSE; return 1;
    case XS_XMM: r[0] = (struct range){ 160, 256 }; *component = XCR0_SSE; return 1;
    case XS_YMM: r[0] = (struct range){ comp_offset[2], comp_size[2] }; *component = XCR0_AVX; return 1;
    case XS_OPMASK: r[0] = (struct range){ comp_offset[5], comp_size[5] }; *component = 1ull << 5; return 1;
    case XS_ZMM_HI256: r[0] = (struct range){ comp_offset[6], comp_size[6] }; *component = 1ull << 6; return 1;
    case XS_HI16_ZMM: r[0] = (struct range){ comp_offset[7], comp_size[7] }; *component = 1ull << 7; return 1;
    case XS_PKRU: r[0] = (struct range){ comp_offset[9], 4 }; *component = XCR0_PKRU; return 1;
    }
    return 0;
}

static bool xs_equal(enum xs_item x, const uint8_t *a, const uint8_t *b)
{
    struct range r[10];
    uint64_t component;
    unsigned n = xs_ranges(x, r, &component);
    for (unsigned i = 0; i < n; i++)
        if (memcmp(a + r[i].off, b + r[i].off, r[i].len))
            return false;
    return true;
}

static uint64_t xs_first_word(enum xs_item x, const uint8_t *a)
{
    struct range r[10];
    uint64_t component, v = 0;
    xs_ranges(x, r, &component);
    memcpy(&v, a + r[0].off, r[0].len < 8 ? r[0].len : 8);
    return v;
}

static uint8_t pattern_byte(enum role role, uint32_t off)
{
    return (uint8_t)((role == WRITER ? 0x57 : 0x43) ^ (off * 7 + 1));
}

static void put16(uint8_t *b, uint32_t off, uint16_t v) { memcpy(b + off, &v, 2); }
static void put32(uint8_t *b, uint32_t off, uint32_t v) { memcpy(b + off, &v, 4); }
static void put64(uint8_t *b, uint32_t off, uint64_t v) { memcpy(b + off, &v, 8); }

/* What role loads with XRSTOR: every patterned component of its XCR0 in a non-initial state. */
static void build_pattern(enum role role, uint8_t *b)
{
    uint64_t tag = role == WRITER ? TAG_WRITER : TAG_CHECKER, rfbm = xcr0_of[role] & XCR0_PATTERNED;
    memset(b, 0, XSAVE_MAX);
    put16(b, 0, role == WRITER ? 0x0f7f : 0x0b7f);  /* FCW: all exceptions masked, RC and PC differ */
    put16(b, 2, role == WRITER ? 0x2800 : 0x1000);  /* FSW: TOP, no exception flags */
    b[4] = role == WRITER ? 0xf0 : 0x0f;            /* abridged FTW */
    put16(b, 6, role == WRITER ? 0x057 : 0x043);    /* FOP: 11 bits */
    put64(b, 8, ADDR(tag, 0x11));                   /* FIP */
    put64(b, 16, ADDR(tag, 0x12));                  /* FDP */
    put32(b, 24, (role == WRITER ? 0xffbf : 0x3f80) & mxcsr_mask);
    for (uint32_t i = 0; i < 8; i++)
        for (uint32_t j = 0; j < 10; j++)
            b[32 + 16 * i + j] = pattern_byte(role, 32 + 16 * i + j);
    for (uint32_t off = 160; off < 416; off++)
        b[off] = pattern_byte(role, off);
    for (unsigned c = 2; c < 10; c++)
        if (rfbm & (1ull << c))
            for (uint32_t off = comp_offset[c]; off < comp_offset[c] + comp_size[c]; off++)
                b[off] = pattern_byte(role, off);
    if (rfbm & XCR0_PKRU)
        memset(b + comp_offset[9] + 4, 0, comp_size[9] - 4);
    put64(b, 512, rfbm); /* XSTATE_BV; XCOMP_BV 0: standard format */
}

/* A component whose XSTATE_BV bit is clear is in its initial state (SDM Vol. 1 13.6): what
 * the registers then hold, for comparing. */
static void normalize(uint8_t *b, uint64_t rfbm)
{
    uint64_t bv;
    memcpy(&bv, b + 512, 8);
    if ((rfbm & XCR0_X87) && !(bv & XCR0_X87)) {
        memset(b, 0, 24);
        put16(b, 0, 0x037f);
        memset(b + 32, 0, 128);
    }
    if ((rfbm & XCR0_SSE) && !(bv & XCR0_SSE))
        memset(b + 160, 0, 256);
    for (unsigned c = 2; c < 10; c++)
        if ((rfbm & (1ull << c)) && !(bv & (1ull << c)))
            memset(b + comp_offset[c], 0, comp_size[c]);
}

static void xsave_now(uint8_t *b)
{
    memset(b, 0, XSAVE_MAX);
    xsave(b, xcr0_of[me]);
    normalize(b, xcr0_of[me]);
}

static void xstate_setup(void)
{
    have_xsave = cpuid(1, 0).ecx & (1u << 26);
    if (!have_xsave)
        return;
    write_cr4(read_cr4() | CR4_OSXSAVE);
    struct cpuid_regs d = cpuid(0xd, 0);
    uint64_t supported = (((uint64_t)d.edx << 32) | d.eax) & XCR0_PATTERNED;
    for (unsigned c = 2; c < 10; c++)
        if (supported & (1ull << c)) {
            struct cpuid_regs s = cpuid(0xd, c);
            comp_offset[c] = s.ebx;
            comp_size[c] = s.eax;
            if (s.ebx + s.eax > XSAVE_MAX)
                supported &= ~(1ull << c);
        }
    if ((supported & XCR0_AVX512) != XCR0_AVX512)
        supported &= ~XCR0_AVX512;
    /* Different XCR0 values, so that a leaked XCR0 shows: the writer enables all it can, the
     * checker x87, SSE and AVX (if the writer has more), else x87 and SSE. With arg2=1 both
     * enable all, so the checker also sees the components only the writer has otherwise
     * (AVX-512, PKRU), at the price of not telling the two XCR0 values apart. */
    xcr0_of[WRITER] = supported;
    xcr0_of[CHECKER] = rt_arg(2) == 1 ? supported
                     : supported & (supported & ~(XCR0_X87 | XCR0_SSE | XCR0_AVX) ? 7 : 3);
}

/* ---- the run ---------------------------------------------------------------------------- */

static uint64_t gap_ticks, last_tsc, switches, passes;

/* Another vCPU ran on this CPU between two TSC reads half a slice or more apart. */
static inline void tick(void)
{
    uint64_t now = rdtsc();
    if (now - last_tsc > gap_ticks)
        switches++;
    last_tsc = now;
}

static void setup_values(void)
{
    for (unsigned i = 0; i < NITEMS; i++) {
        struct item *it = &items[i];
        if (!strcmp(it->name, "EFER.SCE/NXE") && !(cpuid(0x80000001, 0).edx & (1u << 20))) {
            it->mask = EFER_SCE; /* no NX */
        } else if (!strcmp(it->name, "SPEC_CTRL")) {
            uint32_t edx = cpuid(7, 0).edx;
            it->mask = ((edx >> 26) & 1 ? SPEC_CTRL_IBRS : 0) | ((edx >> 27) & 1 ? SPEC_CTRL_STIBP : 0) |
                       ((edx >> 31) & 1 ? SPEC_CTRL_SSBD : 0);
            it->value[WRITER] = it->mask;
            if (!it->mask)
                it->mask = ~0ull; /* not offered: any access should raise #GP */
        } else if (it->kind == K_XCR0) {
            it->value[CHECKER] = xcr0_of[CHECKER];
            it->value[WRITER] = xcr0_of[WRITER];
        }
    }
}

static bool item_present(const struct item *it, enum role role)
{
    struct range r[10];
    uint64_t component;
    if (it->kind != K_XSTATE)
        return true;
    return have_xsave && xs_ranges((enum xs_item)it->index, r, &component) &&
           (xcr0_of[role] & XCR0_PATTERNED & component) == component;
}

/* Reads every register once and checks its reset value, then writes this VM's pattern: all
 * reads first, since some registers are read two ways (TSC_AUX by RDMSR, RDTSCP and RDPID). */
static void start_registers(void)
{
    for (unsigned i = 0; i < NITEMS; i++) {
        struct item *it = &items[i];
        if (it->kind == K_XSTATE)
            continue;
        it->read_vector = raw_read(it, &it->initial);
        it->readable = it->read_vector < 0;
        if (!it->readable)
            continue;
        if (it->reset_known && !same(it, it->initial, it->reset))
            check(false, "%s started at its reset value 0x%lx (got 0x%lx%s)", it->name, it->reset, it->initial,
                  same(it, it->initial, it->value[other]) ? ", the other VM's value" : "");
        else if (it->reset_known)
            check(true, "%s started at its reset value 0x%lx", it->name, it->reset);
    }
    for (unsigned i = 0; i < NITEMS; i++) {
        struct item *it = &items[i];
        if (it->kind == K_XSTATE || !it->readable)
            continue;
        it->write_vector = item_write(it, it->value[me]);
        it->writable = it->write_vector < 0;
    }
    for (unsigned i = 0; i < NITEMS; i++) {
        struct item *it = &items[i];
        if (it->kind != K_XSTATE && it->readable)
            raw_read(it, &it->own);
    }
}

static void start_xstate(void)
{
    if (!have_xsave)
        return;
    xsave_now(cur);
    uint32_t mask;
    memcpy(&mask, cur + 28, 4);
    if (mask)
        mxcsr_mask = mask;
    build_pattern(CHECKER, pattern[CHECKER]);
    build_pattern(WRITER, pattern[WRITER]);
    /* At VM start: x87 in its initial (or power-up, FCW 0x40) state, MXCSR 0x1f80, vectors 0. */
    memset(init_image, 0, sizeof(init_image));
    put16(init_image, 0, 0x037f);
    put32(init_image, 24, 0x1f80);
    uint16_t fcw;
    memcpy(&fcw, cur, 2);
    if (fcw == 0x40)
        put16(init_image, 0, 0x40);
    for (unsigned i = 0; i < NITEMS; i++) {
        struct item *it = &items[i];
        if (it->kind != K_XSTATE || !item_present(it, me))
            continue;
        it->readable = it->writable = true;
        enum xs_item x = (enum xs_item)it->index;
        if (xs_equal(x, cur, init_image))
            check(true, "%s started in its initial state", it->name);
        else
            check(false, "%s started in its initial state (first bytes 0x%lx%s)", it->name, xs_first_word(x, cur),
                  item_present(it, other) && xs_equal(x, cur, pattern[other]) ? ", the other VM's values" : "");
    }
    xrstor(pattern[me], xcr0_of[me]);
    xsave_now(own_saved);
}

static void note_bad(struct item *it, uint64_t value, bool leak)
{
    if (it->bad++ == 0) {
        it->first_bad = value;
        it->first_bad_pass = passes;
    }
    it->leaked += leak;
}

static void one_pass(void)
{
    for (unsigned i = 0; i < NITEMS; i++) {
        struct item *it = &items[i];
        if (it->kind == K_XSTATE || !it->readable)
            continue;
        tick();
        uint64_t v;
        it->reads++;
        if (raw_read(it, &v) >= 0 || !same(it, v, it->own)) {
            note_bad(it, v, same(it, v, it->value[other]) && !same(it, it->value[me], it->value[other]));
            item_write(it, it->own);
        }
    }
    if (!have_xsave)
        return;
    tick();
    xsave_now(cur);
    bool restore = false;
    for (unsigned i = 0; i < NITEMS; i++) {
        struct item *it = &items[i];
        if (it->kind != K_XSTATE || !it->readable)
            continue;
        enum xs_item x = (enum xs_item)it->index;
        it->reads++;
        if (!xs_equal(x, cur, own_saved)) {
            note_bad(it, xs_first_word(x, cur), item_present(it, other) && xs_equal(x, cur, pattern[other]));
            restore = true;
        }
    }
    if (restore)
        xrstor(pattern[me], xcr0_of[me]);
}

static void report(void)
{
    for (unsigned i = 0; i < NITEMS; i++) {
        struct item *it = &items[i];
        if (!it->readable) {
            if (it->kind != K_XSTATE)
                printf("# %s: not offered to guests (reading it raises %s)\n", it->name, exception_name((unsigned)it->read_vector));
            else
                printf("# %s: not in this VM's XCR0 0x%lx\n", it->name, xcr0_of[me]);
            continue;
        }
        if (it->kind != K_XSTATE && !it->writable)
            printf("# %s: read-only for guests (writing it raises %s); it reads 0x%lx\n", it->name,
                   exception_name((unsigned)it->write_vector), it->own);
        if (it->bad == 0)
            check(true, "%s kept the %s's value (%lu reads)", it->name, role_name[me], it->reads);
        else
            check(false, "%s kept the %s's value (%lu reads): %lu differed, %lu with the %s's value; first 0x%lx in pass %lu",
                  it->name, role_name[me], it->reads, it->bad, it->leaked, role_name[other], it->first_bad,
                  it->first_bad_pass);
    }
}

/* TSC_AUX, RDTSCP, RDPID and SPEC_CTRL exist exactly when CPUID says so. */
static void check_offered(void)
{
    bool rdtscp = cpuid(0x80000001, 0).edx & (1u << 27), rdpid = cpuid(7, 0).ecx & (1u << 22);
    uint32_t edx7 = cpuid(7, 0).edx;
    bool spec_ctrl = (edx7 >> 26 | edx7 >> 27 | edx7 >> 31) & 1;
    for (unsigned i = 0; i < NITEMS; i++) {
        struct item *it = &items[i];
        bool offered;
        if (it->kind == K_RDTSCP)
            offered = rdtscp;
        else if (it->kind == K_RDPID)
            offered = rdpid;
        else if (it->kind == K_MSR && it->index == MSR_TSC_AUX)
            offered = rdtscp || rdpid;
        else if (it->kind == K_MSR && it->index == MSR_SPEC_CTRL)
            offered = spec_ctrl;
        else
            continue;
        bool ok = offered == it->readable && (offered || it->read_vector == (it->kind == K_MSR ? VEC_GP : VEC_UD));
        check(ok, "%s is usable exactly when CPUID offers it (CPUID: %s; reading it %s%s)", it->name,
              offered ? "offered" : "not offered", it->readable ? "works" : "raises ",
              it->readable ? "" : exception_name((unsigned)it->read_vector));
    }
}

/* The passes and their report; the writer runs it in its NMI handler (NMIs blocked). */
static void run_checks(uint64_t run_ms)
{
    for (unsigned i = 0; i < NITEMS; i++)
        if (items[i].kind == K_NMI)
            items[i].own = items[i].value[me];
    uint64_t deadline = tsc_deadline_in_us(run_ms * 1000);
    last_tsc = rdtsc();
    while (!tsc_reached(deadline)) {
        one_pass();
        passes++;
    }
    printf("# %s: %lu passes over every register, %lu switches to another vCPU and back\n", role_name[me], passes,
           switches);
    if (me == CHECKER)
        check(switches >= MIN_SWITCHES, "the checker ran interleaved with another vCPU: %lu switches (at least %d)",
              switches, MIN_SWITCHES);
    report();
}

static uint64_t writer_run_ms;
static bool writer_armed, writer_ran; /* armed: the next NMI starts the passes (not start_registers' ones) */

static void take_nmi(struct rt_frame *f)
{
    (void)f;
    nmis_taken++;
    if (writer_armed && !writer_ran) {
        writer_ran = true;
        run_checks(writer_run_ms); /* the self-NMIs it sends meanwhile: one waits, taken after the IRET */
    }
}

void guest_main(void)
{
    me = rt_arg(0) == 1 ? WRITER : CHECKER;
    other = me == WRITER ? CHECKER : WRITER;
    irq_set_handler(VEC_NMI, take_nmi);
    uint64_t run_ms = rt_arg(1) ? rt_arg(1) : 300;
    const struct rt_header *h = rt_image_header();
    uint32_t slice_us = h->slice_us ? h->slice_us : 10000;
    gap_ticks = us_to_tsc(slice_us) / 2;

    xstate_setup();
    setup_values();
    printf("# %s: XCR0 0x%lx (the other VM's 0x%lx), slice %u us, TSC gaps over %lu ticks count as switches\n",
           role_name[me], xcr0_of[me], xcr0_of[other], slice_us, gap_ticks);
    start_registers();
    start_xstate();
    check_offered();

    if (me == CHECKER) {
        run_checks(run_ms);
        return;
    }
    writer_run_ms = run_ms;
    writer_armed = true;
    uint64_t nmis;
    read_nmi_blocking(&nmis); /* runs take_nmi, and the passes in it */
    check(writer_ran, "the writer ran its passes in its NMI handler");
}
