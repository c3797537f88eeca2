/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Hostile guest: control, debug and extended control registers. Every illegal write must raise
 * the exception the SDM gives (and change nothing), every legal one must read back, and
 * privileged instructions at CPL 3 must raise #GP; mhv must survive it all (the canary next to
 * it in bochs_chostile). References: MOV to CR (SDM Vol. 2B "MOV-Move to/from Control
 * Registers"), CR0/CR4 (Vol. 3A 2.5), IA-32e mode rules (Vol. 3A 10.8.5), MOV DR (Vol. 2B,
 * Vol. 3B 18.2), XSETBV/XGETBV (Vol. 2D, Vol. 1 13.3).
 */
#include "rt.h"

MHV_GUEST(.name = "hostile_cr", .memory_mib = 8);

/* Writes value to CR n expecting `want` (a vector, or -1 for success); on success checks that
 * it reads back (within readback_mask) and restores the old value. */
static void cr_case(unsigned n, uint64_t value, int want, uint64_t readback_mask, const char *what)
{
    uint64_t old, now;
    try_read_cr(n, &old);
    int v = try_write_cr(n, value);
    try_read_cr(n, &now);
    if (want >= 0) {
        check(v == want && now == old, "CR%u: %s raises %s and changes nothing (got %s%s, CR%u 0x%lx)", n, what,
              exception_name((unsigned)want), v < 0 ? "no fault" : exception_name((unsigned)v),
              now == old ? "" : ", changed", n, now);
        return;
    }
    check(v < 0 && ((now ^ value) & readback_mask) == 0, "CR%u: %s works and reads back (wrote 0x%lx, read 0x%lx%s%s)",
          n, what, value, now, v < 0 ? "" : ", raised ", v < 0 ? "" : exception_name((unsigned)v));
    try_write_cr(n, old);
}

static void check_cr0(void)
{
    uint64_t cr0 = read_cr0();
    cr_case(0, cr0 | (1ull << 32), VEC_GP, 0, "a reserved bit in 63:32");
    cr_case(0, (cr0 | CR0_NW) & ~CR0_CD, VEC_GP, 0, "NW without CD");
    cr_case(0, cr0 & ~CR0_PG, VEC_GP, 0, "clearing PG in 64-bit mode");
    cr_case(0, cr0 & ~CR0_PE, VEC_GP, 0, "clearing PE with PG set");
    uint64_t toggles[] = { CR0_MP, CR0_TS, CR0_AM, CR0_WP, CR0_CD };
    const char *names[] = { "toggling MP", "toggling TS", "toggling AM", "toggling WP", "toggling CD" };
    for (unsigned i = 0; i < 5; i++)
        cr_case(0, cr0 ^ toggles[i], -1, ~0ull, names[i]);
    /* ET is fixed to 1 on every processor since the i486 (SDM Vol. 3A 2.5). */
    write_cr0(cr0 & ~(1ull << 4));
    check(read_cr0() & (1ull << 4), "CR0: ET reads 1 after writing 0");
    write_cr0(cr0);
}

static void check_cr4(void)
{
    uint64_t cr4 = read_cr4();
    struct cpuid_regs l7 = cpuid(7, 0), l1 = cpuid(1, 0);
    cr_case(4, cr4 | (1ull << 63), VEC_GP, 0, "a reserved bit (63)");
    cr_case(4, cr4 | CR4_VMXE, VEC_GP, 0, "VMXE (VMX is not for guests)");
    cr_case(4, cr4 | (1ull << 14), VEC_GP, 0, "SMXE");
    cr_case(4, cr4 & ~CR4_PAE, VEC_GP, 0, "clearing PAE in IA-32e mode");
    cr_case(4, cr4 ^ (1ull << 12), VEC_GP, 0, "changing LA57 in IA-32e mode");
    /* A feature bit CPUID does not offer must be reserved; an offered one must work. SMEP and
     * SMAP are left out: the runtime's pages are user pages, so they would fault at once. */
    struct { uint64_t bit; bool offered; const char *name; } features[] = {
        { CR4_FSGSBASE, l7.ebx & 1, "FSGSBASE" },
        { 1ull << 11, l7.ecx & (1u << 2), "UMIP" },
        { CR4_PCIDE, l1.ecx & (1u << 17), "PCIDE" },
        { CR4_PKE, l7.ecx & (1u << 3), "PKE" },
        { CR4_OSXSAVE, l1.ecx & (1u << 26), "OSXSAVE" },
        { CR4_TSD, true, "TSD" },
        { CR4_DE, true, "DE" },
        { CR4_PGE, l1.edx & (1u << 13), "PGE" },
        { CR4_PCE, true, "PCE" },
    };
    for (unsigned i = 0; i < sizeof(features) / sizeof(features[0]); i++) {
        char what[64];
        bool architectural = features[i].bit == CR4_TSD || features[i].bit == CR4_DE || features[i].bit == CR4_PCE;
        ksnprintf(what, sizeof(what), "setting %s (%s)", features[i].name,
                  architectural ? "no CPUID bit" : features[i].offered ? "CPUID: offered" : "CPUID: not offered");
        if (cr4 & features[i].bit)
            continue;
        cr_case(4, cr4 | features[i].bit, features[i].offered ? -1 : VEC_GP, ~0ull, what);
    }
    if (l1.ecx & (1u << 17)) {
        uint64_t cr3 = read_cr3();
        write_cr3(cr3 | 1); /* a PCID in bits 11:0 */
        cr_case(4, cr4 | CR4_PCIDE, VEC_GP, 0, "setting PCIDE with CR3[11:0] != 0");
        write_cr3(cr3);
    }
}

static void check_cr3_cr8(void)
{
    uint64_t cr3 = read_cr3();
    unsigned maxphy = cpuid(0x80000000, 0).eax >= 0x80000008 ? cpuid(0x80000008, 0).eax & 0xff : 36;
    cr_case(3, cr3 | (1ull << maxphy), VEC_GP, 0, "a bit above MAXPHYADDR");
    cr_case(3, cr3 | (1ull << 3) | (1ull << 4), -1, ~0ull, "PWT and PCD");
    for (uint64_t tpr = 0; tpr < 16; tpr += 5)
        cr_case(8, tpr, -1, ~0ull, "a priority class");
    cr_case(8, 16, VEC_GP, 0, "a reserved bit (4)");
    cr_case(8, 1ull << 63, VEC_GP, 0, "a reserved bit (63)");
}

/* CR1, CR5-CR7 and CR9-CR15 do not exist: MOV raises #UD (SDM Vol. 2B). Encoded by hand, as
 * assemblers refuse most of them: 0f 22 /r with REX.R for CR8 and up. */
static void check_undefined_crs(void)
{
    uint64_t x = 0;
    check_eq((uint64_t)TRY_ASM(".byte 0x0f, 0x22, 0xc8", : : "a"(x)), VEC_UD, "MOV to CR1 raises #UD");
    check_eq((uint64_t)TRY_ASM(".byte 0x0f, 0x20, 0xc8", : "+a"(x)), VEC_UD, "MOV from CR1 raises #UD");
    check_eq((uint64_t)TRY_ASM(".byte 0x0f, 0x22, 0xe8", : : "a"(x)), VEC_UD, "MOV to CR5 raises #UD");
    check_eq((uint64_t)TRY_ASM(".byte 0x0f, 0x20, 0xf8", : "+a"(x)), VEC_UD, "MOV from CR7 raises #UD");
    check_eq((uint64_t)TRY_ASM(".byte 0x44, 0x0f, 0x22, 0xc8", : : "a"(x)), VEC_UD, "MOV to CR9 raises #UD");
    check_eq((uint64_t)TRY_ASM(".byte 0x44, 0x0f, 0x20, 0xf8", : "+a"(x)), VEC_UD, "MOV from CR15 raises #UD");
}

static void check_debug_registers(void)
{
    uint64_t v, cr4 = read_cr4();
    check_eq((uint64_t)try_write_dr(6, 1ull << 32), VEC_GP, "MOV to DR6 with a bit in 63:32 raises #GP");
    check_eq((uint64_t)try_write_dr(7, 1ull << 32), VEC_GP, "MOV to DR7 with a bit in 63:32 raises #GP");
    write_cr4(cr4 & ~CR4_DE);
    try_write_dr(4, 0xffff0ff1);
    check((read_dr6() & 0xf) == 1, "without CR4.DE, DR4 is DR6 (read 0x%lx)", read_dr6());
    write_dr6(0xffff0ff0);
    write_cr4(cr4 | CR4_DE);
    check_eq((uint64_t)try_read_dr(4, &v), VEC_UD, "with CR4.DE, MOV from DR4 raises #UD");
    check_eq((uint64_t)try_write_dr(5, 0), VEC_UD, "with CR4.DE, MOV to DR5 raises #UD");
    write_cr4(cr4);
    /* DR7.GD: the next MOV DR raises #DB with DR6.BD, and the CPU clears GD (SDM Vol. 3B 18.2.4). */
    write_dr7(0x400 | (1u << 13));
    int vec = try_read_dr(0, &v);
    check(vec == VEC_DB && (read_dr6() & (1u << 13)) && !(read_dr7() & (1u << 13)),
          "DR7.GD: the next MOV DR raises #DB with DR6.BD set and GD cleared (got %s, DR6 0x%lx, DR7 0x%lx)",
          vec < 0 ? "no fault" : exception_name((unsigned)vec), read_dr6(), read_dr7());
    write_dr7(0x400);
    write_dr6(0xffff0ff0);
}

static void check_xcr0(void)
{
    uint64_t v, cr4 = read_cr4();
    if (!(cpuid(1, 0).ecx & (1u << 26))) {
        printf("# XSAVE not offered: XCR0 checks skipped\n");
        return;
    }
    write_cr4(cr4 & ~CR4_OSXSAVE);
    check_eq((uint64_t)try_xsetbv(0, 1), VEC_UD, "XSETBV without CR4.OSXSAVE raises #UD");
    check_eq((uint64_t)try_xgetbv(0, &v), VEC_UD, "XGETBV without CR4.OSXSAVE raises #UD");
    write_cr4(cr4 | CR4_OSXSAVE);
    struct cpuid_regs d = cpuid(0xd, 0);
    uint64_t supported = ((uint64_t)d.edx << 32) | d.eax, old = xgetbv(0);
    unsigned unsupported = 0;
    while (unsupported < 63 && (supported >> unsupported) & 1)
        unsupported++;
    check_eq((uint64_t)try_xsetbv(0, 2), VEC_GP, "XCR0 without x87 raises #GP");
    check_eq((uint64_t)try_xsetbv(0, 5), VEC_GP, "XCR0 with AVX but not SSE raises #GP");
    check_eq((uint64_t)try_xsetbv(0, 3 | (1ull << unsupported)), VEC_GP, "XCR0 bit %u, not supported, raises #GP", unsupported);
    check_eq((uint64_t)try_xsetbv(0, 1ull << 63), VEC_GP, "XCR0 bit 63 raises #GP");
    check_eq((uint64_t)try_xsetbv(1, 1), VEC_GP, "XSETBV to XCR1 raises #GP");
    check_eq((uint64_t)try_xgetbv(2, &v), VEC_GP, "XGETBV of XCR2 raises #GP");
    bool xinuse = cpuid(0xd, 1).eax & (1u << 2);
    check_eq((uint64_t)try_xgetbv(1, &v), xinuse ? (uint64_t)-1 : VEC_GP, "XGETBV of XCR1 (XINUSE) %s",
             xinuse ? "works (CPUID offers it)" : "raises #GP (CPUID does not offer it)");
    if ((supported & 7) == 7) {
        check_eq((uint64_t)try_xsetbv(0, 7), (uint64_t)-1, "XCR0 = x87|SSE|AVX works");
        check_eq(xgetbv(0), 7, "and reads back");
    }
    uint64_t all = supported & 0x2e7; /* x87, SSE, AVX, AVX-512, PKRU: not MPX or AMX */
    if ((all & 0xe0) != 0xe0)
        all &= ~0xe0ull;
    check_eq((uint64_t)try_xsetbv(0, all), (uint64_t)-1, "XCR0 = 0x%lx (every supported component but MPX and AMX) works", all);
    check_eq(xgetbv(0), all, "and reads back");
    xsetbv(0, old);
    write_cr4(cr4);
}

/* CPL 3 may use none of these (SDM Vol. 2: #GP(0) if CPL > 0, or IOPL for port I/O). */
static void user_mov_cr(void *a) { (void)a; __asm__ volatile("mov %%cr0, %%rax" ::: "rax"); }
static void user_mov_dr(void *a) { (void)a; __asm__ volatile("mov %%db7, %%rax" ::: "rax"); }
static void user_rdmsr(void *a) { (void)a; __asm__ volatile("rdmsr" : : "c"(MSR_EFER) : "rax", "rdx"); }
static void user_wrmsr(void *a) { (void)a; __asm__ volatile("wrmsr" : : "c"(MSR_LSTAR), "a"(0), "d"(0)); }
static void user_xsetbv(void *a) { (void)a; __asm__ volatile("xsetbv" : : "c"(0), "a"(3), "d"(0)); }
static void user_hlt(void *a) { (void)a; __asm__ volatile("hlt"); }
static void user_in(void *a) { (void)a; __asm__ volatile("inb $0x80, %%al" ::: "rax"); }
static void user_lgdt(void *a) { static uint8_t gdtr[10]; (void)a; __asm__ volatile("lgdt %0" : : "m"(gdtr)); }
static void user_invd(void *a) { (void)a; __asm__ volatile("invd"); }
static void user_wbinvd(void *a) { (void)a; __asm__ volatile("wbinvd"); }

static void check_cpl3(void)
{
    bool osxsave = cpuid(1, 0).ecx & (1u << 26);
    uint64_t cr4 = read_cr4();
    if (osxsave)
        write_cr4(cr4 | CR4_OSXSAVE);
    struct { void (*fn)(void *); const char *name; } cases[] = {
        { user_mov_cr, "MOV from CR0" }, { user_mov_dr, "MOV from DR7" }, { user_rdmsr, "RDMSR" },
        { user_wrmsr, "WRMSR" }, { user_xsetbv, "XSETBV" }, { user_hlt, "HLT" }, { user_in, "IN" },
        { user_lgdt, "LGDT" }, { user_invd, "INVD" }, { user_wbinvd, "WBINVD" },
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (cases[i].fn == user_xsetbv && !osxsave)
            continue;
        check_eq((uint64_t)try_user(cases[i].fn, NULL), VEC_GP, "%s at CPL 3 raises #GP", cases[i].name);
    }
    write_cr4(cr4);
}

void guest_main(void)
{
    check_cr0();
    check_cr4();
    check_cr3_cr8();
    check_undefined_crs();
    check_debug_registers();
    check_xcr0();
    check_cpl3();
}
