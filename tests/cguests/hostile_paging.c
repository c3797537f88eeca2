/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Hostile guest: page tables rewritten under exiting loops. vCPU 1 keeps doing what mhv
 * performs through the guest's page tables: REP INSB into window page L, an MMIO load
 * through window page M, REP OUTSB from window page S. vCPU 0 keeps rewriting the entries
 * behind them, with no TLB shootdown (only its own INVLPG): L among two RAM pages, not
 * present, read-only and a reserved bit; M among the test device, a RAM page holding a
 * pattern and not present; S between a RAM page and not present. Whatever mhv's walk finds,
 * the guest must get the right data or a #PF for that page (SDM Vol. 3A 5.7: error code P,
 * W, RSVD), never anything else, and mhv must not stop the VM (L and S are never mapped to
 * anything but RAM: INS and OUTS on MMIO stop a VM by design).
 */
#include "rt.h"

MHV_GUEST(.name = "hostile_paging", .vcpus = 2, .memory_mib = 8);

#define P 1ull
#define W 2ull
#define U 4ull
#define WINDOW 0x40000000ull
#define L (WINDOW + 0x0000)
#define M (WINDOW + 0x1000)
#define S (WINDOW + 0x2000)
#define TESTDEV 0xfebf0000ull
#define PATTERN 0x11223344u
#define ROUNDS 3000

static uint64_t pt[512] __attribute__((aligned(4096)));
static uint8_t ram_a[4096] __attribute__((aligned(4096))), ram_b[4096] __attribute__((aligned(4096))),
    ram_c[4096] __attribute__((aligned(4096))), ram_d[4096] __attribute__((aligned(4096)));
static volatile bool done;
static volatile unsigned rounds, ins_ok, ins_pf, mmio_dev, mmio_ram, mmio_pf, outs_ok, outs_pf, odd;
static volatile uint64_t odd_detail[3];

static uint64_t *table(uint64_t entry) { return (uint64_t *)(uintptr_t)(entry & 0x000ffffffffff000ull); }

static void note_odd(uint64_t what, uint64_t a, uint64_t b)
{
    if (!odd++) {
        odd_detail[0] = what;
        odd_detail[1] = a;
        odd_detail[2] = b;
    }
}

static void worker(unsigned cpu, void *arg)
{
    (void)cpu, (void)arg;
    for (unsigned i = 0; i < ROUNDS; i++) {
        uint64_t di = L + (i % 64), cx = 64;
        int v = TRY_ASM("rep insb", : "+D"(di), "+c"(cx) : "d"(0x61) : "memory");
        if (v < 0)
            ins_ok++;
        else if (v == VEC_PF && (fault_cr2() & ~0xfffull) == L && (fault_error() & W))
            ins_pf++;
        else
            note_odd(1, (uint64_t)v, fault_cr2());
        uint64_t x = 0;
        v = TRY_ASM("movl (%1), %k0", : "+r"(x) : "r"(M) : "memory");
        if (v < 0 && x == 0x7476686d)
            mmio_dev++;
        else if (v < 0 && x == PATTERN)
            mmio_ram++;
        else if (v == VEC_PF && fault_cr2() == M && !(fault_error() & P))
            mmio_pf++;
        else
            note_odd(2, (uint64_t)v, x);
        uint64_t si = S, n = 64;
        v = TRY_ASM("rep outsb", : "+S"(si), "+c"(n) : "d"(0x80) : "memory");
        if (v < 0)
            outs_ok++;
        else if (v == VEC_PF && fault_cr2() == S && !(fault_error() & P))
            outs_pf++;
        else
            note_odd(3, (uint64_t)v, fault_cr2());
        rounds++;
    }
    done = true;
}

void guest_main(void)
{
    uint64_t *pml4 = (uint64_t *)(uintptr_t)rt_page_table_root(), *pdpt = table(pml4[0]);
    table(pdpt[1])[0] = (uint64_t)(uintptr_t)pt | P | W | U;
    *(volatile uint32_t *)ram_c = PATTERN;
    unsigned maxphy = cpuid(0x80000000, 0).eax >= 0x80000008 ? cpuid(0x80000008, 0).eax & 0xff : 36;
    uint64_t reserved = maxphy < 52 ? 1ull << 51 : 0;
    pt[0] = (uint64_t)(uintptr_t)ram_a | P | W | U;
    pt[1] = TESTDEV | P | W | U;
    pt[2] = (uint64_t)(uintptr_t)ram_d | P | W | U;
    write_cr0(read_cr0() | CR0_WP);
    write_cr3(read_cr3());
    struct prng rng;
    prng_seed(&rng, rt_seed());
    printf("# seed 0x%lx (%s)\n", rt_seed(), rt_seed_source());
    check_eq(smp_start(1, worker, NULL), 0, "vCPU 1 started its loop");
    unsigned changes = 0;
    while (!done) {
        switch (prng_below(&rng, 9)) {
        case 0: pt[0] = (uint64_t)(uintptr_t)ram_a | P | W | U; break;
        case 1: pt[0] = (uint64_t)(uintptr_t)ram_b | P | W | U; break;
        case 2: pt[0] = 0; break;
        case 3: pt[0] = (uint64_t)(uintptr_t)ram_a | P | U; break; /* read-only */
        case 4: pt[0] = reserved ? (uint64_t)(uintptr_t)ram_b | P | W | U | reserved : 0; break;
        case 5: pt[1] = TESTDEV | P | W | U; break;
        case 6: pt[1] = (uint64_t)(uintptr_t)ram_c | P | W | U; break;
        case 7: pt[1] = 0; break;
        default: pt[2] = prng_below(&rng, 2) ? (uint64_t)(uintptr_t)ram_d | P | W | U : 0; break;
        }
        changes++;
        if (prng_below(&rng, 4) == 0)
            __asm__ volatile("invlpg (%0)" : : "r"(WINDOW + 0x1000 * prng_below(&rng, 3)) : "memory");
        delay_us(prng_below(&rng, 50));
    }
    printf("# %u rewrites; INS %u done, %u #PF; MMIO %u device, %u RAM, %u #PF; OUTS %u done, %u #PF\n", changes, ins_ok,
           ins_pf, mmio_dev, mmio_ram, mmio_pf, outs_ok, outs_pf);
    check_eq(rounds, ROUNDS, "vCPU 1 finished its %u rounds while its page tables changed under it", ROUNDS);
    check(odd == 0, "every access gave the right data or a #PF for its own page (%u did not; the first: kind %lu, %s, 0x%lx)",
          odd, odd_detail[0], odd ? exception_name((unsigned)odd_detail[1]) : "-", odd_detail[2]);
    check(ins_ok && ins_pf && mmio_pf && (mmio_dev || mmio_ram), "all outcomes were seen (the test did what it meant to)");
}
