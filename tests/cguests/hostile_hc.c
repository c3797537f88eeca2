/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Hostile guest: hypercall argument abuse (README "Hypercalls"). Unknown numbers must return
 * ENOSYS, bad vectors and targets EINVAL, buffers that are too long EINVAL, buffers outside
 * the VM's RAM (beyond it, across its end, in MMIO, non-canonical) EFAULT, every call from
 * CPL 3 EPERM, and none may stop the VM or disturb mhv (the canary in bochs_chostile).
 */
#include "rt.h"

MHV_GUEST(.name = "hostile_hc", .memory_mib = 8);

#define RAM_END (8ull << 20)

static const char text[] = "hostile_hc: a console line through the hypercall\n";

#define VEC_TIMER 0x40
static volatile unsigned timer_hits;
static void count_timer(struct rt_frame *f)
{
    (void)f;
    timer_hits++;
}

static int64_t user_results[8];
static void user_calls(void *arg)
{
    (void)arg;
    for (uint64_t nr = 0; nr < 8; nr++)
        user_results[nr] = hypercall(nr, (uint64_t)(uintptr_t)text, 4, 0);
}

void guest_main(void)
{
    uint64_t abi, sig;
    check_eq((uint64_t)hc_version(&abi, &sig), 0, "VERSION returns 0");
    check(abi == MHV_HC_ABI_VERSION && sig == 0x76686d, "VERSION: ABI %lu, signature 0x%lx", abi, sig);

    const uint64_t unknown[] = { 7, 8, 255, 0x1000, 0x7fffffff, 0x80000000, 1ull << 32, 1ull << 63, ~0ull };
    unsigned enosys = 0;
    for (unsigned i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
        enosys += hypercall(unknown[i], ~0ull, ~0ull, ~0ull) == MHV_ENOSYS;
    check_eq(enosys, sizeof(unknown) / sizeof(unknown[0]), "unknown numbers (7 up to 2^64-1) return ENOSYS");

    check_eq((uint64_t)hc_console_write(text, sizeof(text) - 1), sizeof(text) - 1, "CONSOLE_WRITE of a line works");
    check_eq((uint64_t)hc_console_write(text, 0), 0, "CONSOLE_WRITE of 0 bytes returns 0");
    check_eq((uint64_t)hc_console_write(text, 4097), (uint64_t)MHV_EINVAL, "CONSOLE_WRITE of 4097 bytes returns EINVAL");
    check_eq((uint64_t)hc_console_write(text, 1ull << 63), (uint64_t)MHV_EINVAL, "CONSOLE_WRITE of 2^63 bytes returns EINVAL");
    check_eq((uint64_t)hc_console_write(text, ~0ull), (uint64_t)MHV_EINVAL, "CONSOLE_WRITE of 2^64-1 bytes returns EINVAL");
    const struct { uint64_t addr, len; const char *what; } bad[] = {
        { RAM_END, 16, "just beyond RAM" },
        { RAM_END - 8, 16, "across the end of RAM" },
        { 0xfee00000, 16, "in the local APIC page" },
        { 0xfebf0000, 16, "in the MMIO test device" },
        { 0x100000000ull, 16, "at 4 GiB" },
        { 1ull << 52, 16, "beyond any physical address" },
        { 0x8000000000000000ull, 16, "non-canonical" },
        { ~0ull - 7, 16, "wrapping around 2^64" },
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        check_eq((uint64_t)hypercall(MHV_HC_CONSOLE_WRITE, bad[i].addr, bad[i].len, 0), (uint64_t)MHV_EFAULT,
                 "CONSOLE_WRITE of a buffer %s (0x%lx) returns EFAULT", bad[i].what, bad[i].addr);

    const uint64_t bad_vectors[] = { 0, 1, 2, 3, 14, 31, 256, 0x10020, ~0ull };
    unsigned inject = 0, timer = 0, ipi = 0;
    for (unsigned i = 0; i < sizeof(bad_vectors) / sizeof(bad_vectors[0]); i++) {
        uint64_t v = bad_vectors[i];
        /* INJECT takes 2 (an NMI); the others must be refused. */
        inject += v == 2 || hypercall(MHV_HC_INJECT, v, 0, 0) == MHV_EINVAL;
        timer += hypercall(MHV_HC_TIMER, 1000, v, 0) == MHV_EINVAL;
        ipi += hypercall(MHV_HC_SEND_IPI, v, 0, 0) == MHV_EINVAL;
    }
    unsigned n = sizeof(bad_vectors) / sizeof(bad_vectors[0]);
    check_eq(inject, n, "INJECT of vectors 0-31 (but 2) and above 255 returns EINVAL");
    check_eq(timer, n, "TIMER with vectors below 32 or above 255 returns EINVAL");
    check_eq(ipi, n, "SEND_IPI with vectors below 32 or above 255 returns EINVAL");
    check_eq((uint64_t)hypercall(MHV_HC_SEND_IPI, 0x40, 1, 0), (uint64_t)MHV_EINVAL, "SEND_IPI to vCPU 1 of a 1-vCPU VM returns EINVAL");
    check_eq((uint64_t)hypercall(MHV_HC_SEND_IPI, 0x40, ~0ull, 0), (uint64_t)MHV_EINVAL, "SEND_IPI to vCPU 2^64-1 returns EINVAL");
    /* Huge timeouts: accepted, and they must not wrap around into an early interrupt. */
    irq_set_handler(VEC_TIMER, count_timer);
    const uint64_t huge[] = { ~0ull, 1ull << 63, 1ull << 44 };
    for (unsigned i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
        timer_hits = 0;
        check_eq((uint64_t)hc_timer(huge[i], VEC_TIMER), 0, "TIMER of 0x%lx us is accepted", huge[i]);
        irq_enable();
        delay_us(20000);
        irq_disable();
        check_eq(timer_hits, 0, "and does not fire within 20 ms");
        check_eq((uint64_t)hc_timer(0, 0), 0, "TIMER 0 cancels it");
    }

    check_eq((uint64_t)try_user(user_calls, NULL), (uint64_t)-1, "hypercalls from CPL 3 return to CPL 3");
    unsigned eperm = 0;
    for (unsigned i = 0; i < 8; i++)
        eperm += user_results[i] == MHV_EPERM;
    check_eq(eperm, 8, "every hypercall number (0-7, STOP too) from CPL 3 returns EPERM");
    check_eq((uint64_t)hc_nop(), 0, "the VM still runs: NOP returns 0");
}
