/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Hostile guest: string I/O and MMIO instructions with bad operands. mhv performs INS and
 * OUTS itself, element by element in batches of 1024, through the guest's segmentation and
 * paging (README "What every VM has"); what the CPU would do it must do (SDM Vol. 2B INS,
 * OUTS, REP; Vol. 3A 7.15 #GP, #PF):
 *  - REP INSB with a huge count into a buffer followed by a page that is not present: #PF with
 *    CR2 the first byte of that page, after as many elements as fitted, RCX and RDI counting
 *    them; REP OUTSB with DF=1 running down into such a page; an INSW whose element straddles
 *    into it (not done at all); a read-only page (#PF with P and W); a count of 0 (nothing);
 *  - a non-canonical RDI, and a GS base plus RSI that is not canonical: #GP(0);
 *  - a 32-bit address size running EDI past 4 GiB: it wraps to 0;
 *  - MMIO through a non-canonical address (#GP), an unmapped page (#PF), a read-only mapping
 *    (#PF on a store), a supervisor page from CPL 3 (#PF with U), LOCK (#UD), and a load that
 *    starts in the test device's page and ends in a page that is not present (#PF for that
 *    page: paging is checked for the whole access before any of it happens).
 * Window: linear 0x40000000 (beyond this VM's RAM, so nothing there already) mapped page by
 * page through a page table of the guest's own.
 */
#include "rt.h"

MHV_GUEST(.name = "hostile_string", .memory_mib = 8);

#define P 1ull
#define W 2ull
#define U 4ull
#define WINDOW 0x40000000ull
#define PAGE(i) (WINDOW + 0x1000ull * (i))
#define TESTDEV 0xfebf0000ull

static uint64_t pt[512] __attribute__((aligned(4096)));
static uint64_t pt_top[512] __attribute__((aligned(4096)));
static uint8_t ram[8][4096] __attribute__((aligned(4096)));
static uint8_t top_page[4096] __attribute__((aligned(4096)));

static uint64_t *table(uint64_t entry) { return (uint64_t *)(uintptr_t)(entry & 0x000ffffffffff000ull); }

static void map(unsigned i, uint64_t phys, uint64_t flags)
{
    pt[i] = flags ? phys | flags : 0;
    __asm__ volatile("invlpg (%0)" : : "r"(PAGE(i)) : "memory");
}

static void setup(void)
{
    uint64_t *pml4 = (uint64_t *)(uintptr_t)rt_page_table_root(), *pdpt = table(pml4[0]);
    table(pdpt[1])[0] = (uint64_t)(uintptr_t)pt | P | W | U; /* 0x40000000-0x401fffff */
    for (unsigned i = 0; i < 8; i++)
        map(i, (uint64_t)(uintptr_t)ram[i], P | W | U);
    map(4, 0, 0);                                          /* page 4: not present */
    map(6, (uint64_t)(uintptr_t)ram[6], P | U);            /* page 6: read-only */
    map(8, TESTDEV, P | W | U);                            /* page 8: the test device */
    map(9, 0, 0);                                          /* page 9: not present */
    map(10, TESTDEV, P | U);                               /* page 10: the test device, read-only */
    map(11, TESTDEV, P | W);                               /* page 11: the test device, supervisor */
    /* 0xfffff000: a RAM page, so a 32-bit address can run off 4 GiB into 0. */
    uint64_t *pd3 = table(pdpt[3]);
    pd3[511] = (uint64_t)(uintptr_t)pt_top | P | W | U;
    pt_top[511] = (uint64_t)(uintptr_t)top_page | P | W | U;
    write_cr3(read_cr3());
    write_cr0(read_cr0() | CR0_WP);
}

static const char *vname(int v) { return v < 0 ? "no fault" : exception_name((unsigned)v); }

static void expect_pf(const char *what, int v, uint64_t cr2, uint64_t error)
{
    bool ok = v == VEC_PF && fault_cr2() == cr2 && (fault_error() & 0xf) == error;
    check(ok, "%s: #PF, CR2 0x%lx, error 0x%lx", what, cr2, error);
    if (!ok)
        printf("#   got %s, CR2 0x%lx, error 0x%lx\n", vname(v), fault_cr2(), fault_error());
}

static void rep_ins_into_hole(void)
{
    uint64_t start = PAGE(4) - 3000, di = start, cx = 1ull << 40;
    int v = TRY_ASM("rep insb", : "+D"(di), "+c"(cx) : "d"(0x61) : "memory");
    expect_pf("REP INSB with a count of 2^40 into a hole", v, PAGE(4), W);
    check(cx == (1ull << 40) - 3000 && di == PAGE(4), "and RCX, RDI count the 3000 bytes written (RCX 0x%lx, RDI 0x%lx)",
          cx, di);
}

static void rep_outs_down_into_hole(void)
{
    uint64_t start = PAGE(5) + 100, si = start, cx = 300;
    rt_fault_arm(); /* std, the REP OUTSB under the expected-fault entry, cld also after a fault */
    __asm__ volatile("std\n\t" RT_FIXUP("rep outsb") "cld" : "+S"(si), "+c"(cx) : "d"(0x80) : "memory");
    int v = rt_fault_taken();
    expect_pf("REP OUTSB with DF=1 running down into a hole", v, PAGE(5) - 1, 0);
    check(cx == 300 - 101 && si == PAGE(5) - 1, "and RCX, RSI count the 101 bytes read (RCX %lu, RSI 0x%lx)", cx, si);
}

static void insw_straddling(void)
{
    uint64_t di = PAGE(4) - 1, cx = 8;
    int v = TRY_ASM("rep insw", : "+D"(di), "+c"(cx) : "d"(0x61) : "memory");
    expect_pf("REP INSW whose first element straddles into a hole", v, PAGE(4), W);
    check(cx == 8 && di == PAGE(4) - 1, "and the straddling element is not done (RCX %lu, RDI 0x%lx)", cx, di);
}

static void ins_read_only(void)
{
    uint64_t di = PAGE(6) + 10, cx = 4;
    int v = TRY_ASM("rep insb", : "+D"(di), "+c"(cx) : "d"(0x61) : "memory");
    expect_pf("REP INSB into a read-only page (CR0.WP)", v, PAGE(6) + 10, P | W);
}

static void count_zero(void)
{
    uint64_t di = PAGE(4), cx = 0; /* the hole: untouched with a count of 0 */
    int v = TRY_ASM("rep insb", : "+D"(di), "+c"(cx) : "d"(0x61) : "memory");
    check(v < 0 && di == PAGE(4) && cx == 0, "REP INSB with RCX 0 does nothing, even aimed at a hole (%s)", vname(v));
}

static void non_canonical(void)
{
    uint64_t di = 0x0000800000000000ull, cx = 1;
    int v = TRY_ASM("rep insb", : "+D"(di), "+c"(cx) : "d"(0x61) : "memory");
    check(v == VEC_GP && fault_error() == 0, "INSB to a non-canonical RDI: #GP(0) (%s)", vname(v));
    uint64_t old = rdmsr(MSR_GS_BASE), si = 0x2000;
    wrmsr(MSR_GS_BASE, 0x00007ffffffff000ull);
    cx = 1;
    v = TRY_ASM("rep outsb %%gs:(%%rsi), (%%dx)", : "+S"(si), "+c"(cx) : "d"(0x80) : "memory");
    wrmsr(MSR_GS_BASE, old);
    check(v == VEC_GP && fault_error() == 0, "OUTSB from GS base + RSI past the canonical edge: #GP(0) (%s)", vname(v));
}

static void addr32_wrap(void)
{
    uint8_t *zero;
    uintptr_t z = 0;
    __asm__("" : "+r"(z));
    zero = (uint8_t *)z;
    memset(top_page + 4090, 0x5a, 6);
    zero[0] = zero[1] = 0x5a;
    uint64_t di = 0xfffffffeull, cx = 4;
    int v = TRY_ASM("addr32 rep insb", : "+D"(di), "+c"(cx) : "d"(0x61) : "memory");
    check(v < 0 && di == 2 && cx == 0, "a 32-bit address size runs EDI from 0xfffffffe past 4 GiB to 2 (%s, RDI 0x%lx)",
          vname(v), di);
    check(top_page[4094] != 0x5a && top_page[4095] != 0x5a && zero[0] != 0x5a && zero[1] != 0x5a,
          "the bytes went to 0xfffffffe-0xffffffff and 0-1");
}

static void mmio_bad(void)
{
    uint64_t v = 0;
    int r = TRY_ASM("movl (%1), %k0", : "+r"(v) : "r"(0x0000800000000000ull | TESTDEV) : "memory");
    check(r == VEC_GP, "an MMIO load through a non-canonical address: #GP (%s)", vname(r));
    r = TRY_ASM("movl (%1), %k0", : "+r"(v) : "r"(PAGE(9)) : "memory");
    expect_pf("an MMIO-sized load through a page not present", r, PAGE(9), 0);
    r = TRY_ASM("movl %k0, (%1)", : : "r"(v), "r"(PAGE(10) + 8) : "memory");
    expect_pf("a store to the test device through a read-only mapping", r, PAGE(10) + 8, P | W);
    r = TRY_ASM("movl (%1), %k0", : "+r"(v) : "r"(PAGE(8)) : "memory");
    check(r < 0 && v == 0x7476686d, "the test device through the window reads 'mhvt' (0x%lx)", v);
    r = TRY_ASM(".byte 0xf0\n\tmovl (%1), %k0", : "+r"(v) : "r"(PAGE(8)) : "memory");
    check(r == VEC_UD, "LOCK MOV from the test device: #UD (%s)", vname(r));
    r = TRY_ASM("movq (%1), %0", : "+r"(v) : "r"(PAGE(8) + 0xffc) : "memory");
    expect_pf("an 8-byte load from the test device's last 4 bytes into a page not present", r, PAGE(9), 0);
}

static volatile uint64_t user_result;
static void user_store(void *arg)
{
    (void)arg;
    *(volatile uint32_t *)(uintptr_t)(PAGE(11) + 8) = 7;
}

static void mmio_user(void)
{
    int r = try_user(user_store, NULL);
    expect_pf("a CPL 3 store to the test device through a supervisor page", r, PAGE(11) + 8, P | W | U);
}

void guest_main(void)
{
    setup();
    mmio_bad();
    mmio_user();
    count_zero();
    non_canonical();
    addr32_wrap();
    rep_ins_into_hole();
    rep_outs_down_into_hole();
    insw_straddling();
    ins_read_only();
}
