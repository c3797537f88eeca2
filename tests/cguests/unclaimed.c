/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Guest-physical addresses that neither RAM nor a device claims behave as on a PC: reads return
 * all-ones of the access's size, writes go nowhere. Checked with moves of every size (a byte
 * load merges into its register, a 32-bit one zero-extends), a store read back, the
 * instructions mhv's executor performs (REP MOVSB, an SSE load, a read-modify-write OR, XCHG),
 * at three places: above this VM's 8 MiB of RAM, at 0xfed40000 (where a PC's TPM may sit), and
 * in the page after the test device, whose own page must still answer. Then one access to each
 * of ten more pages, so that the test sees mhv's log of them stop after the first eight.
 * (`unclaimed = stop` keeps the old stop: hostile_mem runs with it in bochs_chostile.)
 */
#include "rt.h"

MHV_GUEST(.name = "unclaimed", .memory_mib = 8);

#define ABOVE_RAM ((uint64_t)0x10000000)
#define TPM ((uint64_t)0xfed40000)
#define TESTDEV ((uint64_t)0xfebf0000)
#define AFTER_TESTDEV (TESTDEV + 0x1000)
#define MORE_PAGES ((uint64_t)0x20000000)
#define FLAG_ZF (1u << 6)
#define FLAG_SF (1u << 7)

static void sizes(uint64_t at)
{
    check_eq(*(volatile uint8_t *)at, 0xff, "0x%lx: an 8-bit load reads 0xff", at);
    check_eq(*(volatile uint16_t *)(at + 2), 0xffff, "0x%lx: a 16-bit load reads 0xffff", at + 2);
    check_eq(*(volatile uint32_t *)(at + 4), 0xffffffffu, "0x%lx: a 32-bit load reads 0xffffffff", at + 4);
    check_eq(*(volatile uint64_t *)(at + 8), ~0ull, "0x%lx: a 64-bit load reads all-ones", at + 8);
}

static void unclaimed_reads(void)
{
    sizes(ABOVE_RAM);
    sizes(TPM);
    sizes(AFTER_TESTDEV + 0x40);

    uint64_t rax = 0x1122334455667700ull;
    __asm__ volatile("movb (%1), %%al" : "+a"(rax) : "r"(ABOVE_RAM + 0x20) : "memory");
    check_eq(rax, 0x11223344556677ffull, "a byte load replaces only AL (all-ones of the access's size)");
    rax = 0x1122334455667700ull;
    __asm__ volatile("movl (%1), %%eax" : "+a"(rax) : "r"(ABOVE_RAM + 0x20) : "memory");
    check_eq(rax, 0xffffffffull, "a 32-bit load zero-extends its all-ones into RAX");

    *(volatile uint32_t *)(ABOVE_RAM + 0x30) = 0x12345678;
    *(volatile uint64_t *)(TPM + 0x30) = 0;
    check_eq(*(volatile uint32_t *)(ABOVE_RAM + 0x30), 0xffffffffu, "a store above RAM is dropped (reads all-ones)");
    check_eq(*(volatile uint64_t *)(TPM + 0x30), ~0ull, "a store at 0xfed40000 is dropped (reads all-ones)");

    uint8_t buf[32];
    memset(buf, 0, sizeof(buf));
    void *dst = buf;
    uint64_t src = ABOVE_RAM + 0x100, n = sizeof(buf);
    __asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
    unsigned ones = 0;
    for (unsigned i = 0; i < sizeof(buf); i++)
        ones += buf[i] == 0xff;
    check_eq(ones, sizeof(buf), "REP MOVSB of 32 bytes from above RAM copies all-ones");

    uint64_t sse[2] __attribute__((aligned(16))) = { 0, 0 };
    __asm__ volatile("movdqu (%1), %%xmm0\n\tmovdqu %%xmm0, %0" : "=m"(sse) : "r"(TPM + 0x50) : "memory");
    check(sse[0] == ~0ull && sse[1] == ~0ull, "a 16-byte SSE load at 0xfed40050 reads all-ones (0x%lx 0x%lx)", sse[0],
          sse[1]);

    uint32_t flags = 0;
    __asm__ volatile("orl $0x10, (%1)\n\tpushfq\n\tpopq %q0" : "=r"(flags) : "r"(ABOVE_RAM + 0x40) : "memory", "cc");
    check(!(flags & FLAG_ZF) && (flags & FLAG_SF), "OR on all-ones gives a negative, nonzero result");
    check_eq(*(volatile uint32_t *)(ABOVE_RAM + 0x40), 0xffffffffu, "the OR's write is dropped too");
    uint64_t x = 5;
    __asm__ volatile("xchgq %0, (%1)" : "+r"(x) : "r"(ABOVE_RAM + 0x48) : "memory");
    check_eq(x, ~0ull, "XCHG with unclaimed memory returns all-ones");

    check_eq(*(volatile uint32_t *)TESTDEV, 0x7476686d, "the test device's own page still answers 'mhvt'");

    uint64_t sum = 0;
    for (unsigned i = 0; i < 10; i++)
        sum += *(volatile uint8_t *)(MORE_PAGES + 0x1000ull * i);
    check_eq(sum, 10 * 0xff, "ten more unclaimed pages each read 0xff");
}

void guest_main(void)
{
    unclaimed_reads();
}
