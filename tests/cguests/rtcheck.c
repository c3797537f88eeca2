/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Proves the C guest runtime (tests/cguests/rt/) on mhv: formatted output, checks, expected
 * faults (TRY_ASM, try_call, try_user at CPL 3), interrupts from the TIMER and INJECT
 * hypercalls and from the local APIC timer and a self-IPI in xAPIC and x2APIC mode, the TSC
 * clock, the PRNG, and SMP: every vCPU started by INIT/SIPI runs C code, takes an expected
 * fault on its own, meets the others at a barrier, counts under a spinlock and interrupts
 * vCPU 0. Exits with the number of failed checks (bochs_cguests). A variant with arg0=1 shows
 * the report of an unexpected exception instead.
 */
#include "rt.h"

MHV_GUEST(.name = "rtcheck", .vcpus = 4, .memory_mib = 8);

#define VEC_TIMER_HC 0x40
#define VEC_APIC_TIMER 0x41
#define VEC_INJECT 0x42
#define VEC_SELF_IPI 0x43
#define VEC_FROM_CPU 0x50 /* + the sender's number: IPIs of one vector would merge in IRR */
#define LOCKED_ROUNDS 2000
#define BARRIER_ROUNDS 20

static volatile unsigned hits[256];

static void count_hit(struct rt_frame *f)
{
    hits[f->vector]++;
}

/* Waits with interrupts on until vector has arrived `want` times or 100 ms of TSC time passed. */
static bool wait_for(unsigned vector, unsigned want)
{
    uint64_t end = tsc_deadline_in_us(100000);
    irq_enable();
    while (hits[vector] < want && !tsc_reached(end))
        cpu_relax();
    irq_disable();
    return hits[vector] >= want;
}

static void check_output(void)
{
    char buf[64];
    ksnprintf(buf, sizeof(buf), "[%5d|%-4x|%s|%lu|%c|%08lx]", -42, 0xab, "str", 18446744073709551615ul, 'z', 0x1234ul);
    check(strcmp(buf, "[  -42|ab  |str|18446744073709551615|z|00001234]") == 0, "lib/format.c formats in the guest: %s", buf);
    printf("# a printf line with numbers %d %u 0x%x %s\n", -1, 7u, 0xbeefu, "and a string");
}

static void divide_by_zero(void *arg)
{
    uint32_t divisor = *(uint32_t *)arg, eax = 1, edx = 0;
    __asm__ volatile("divl %2" : "+a"(eax), "+d"(edx) : "r"(divisor)); /* C would fold 1 / x into x == 1 */
}

static void nested_faults(void *arg)
{
    int *inner = arg;
    *inner = TRY_ASM("ud2");
    __asm__ volatile("ud2");
}

static volatile int64_t user_hypercall_result;
static void user_returns(void *arg) { *(volatile int *)arg = 7; }
static void user_cli(void *arg) { (void)arg; __asm__ volatile("cli"); }
static void user_hypercall(void *arg)
{
    (void)arg;
    user_hypercall_result = hypercall(MHV_HC_NOP, 0, 0, 0);
}

static void check_faults(void)
{
    uint64_t v;
    check_eq((uint64_t)try_wrmsr(0x12345678, 0), VEC_GP, "WRMSR to an unknown MSR raises #GP");
    check_eq((uint64_t)try_rdmsr(MSR_EFER, &v), (uint64_t)-1, "RDMSR of EFER works (no fault)");
    check(v & EFER_LMA, "EFER.LMA is set in long mode");
    check_eq((uint64_t)TRY_ASM("ud2"), VEC_UD, "UD2 raises #UD");
    check_eq((uint64_t)TRY_ASM("int3"), VEC_BP, "INT3 is reported as #BP (a trap)");
    check_eq((uint64_t)try_write_cr(4, read_cr4() | CR4_VMXE), VEC_GP, "setting CR4.VMXE raises #GP");
    check_eq((uint64_t)try_wrmsr(MSR_EFER, rdmsr(MSR_EFER) | (1ull << 63)), VEC_GP, "a reserved EFER bit raises #GP");
    check_eq(fault_error(), 0, "its error code is 0");
    unsigned zero = 0;
    check_eq((uint64_t)try_call(divide_by_zero, &zero), VEC_DE, "try_call returns #DE from a division by zero");
    int inner = 0;
    check_eq((uint64_t)try_call(nested_faults, &inner), VEC_UD, "try_call unwinds from a fault after a TRY_ASM inside");
    check_eq((uint64_t)inner, VEC_UD, "the TRY_ASM inside it caught its own #UD");
    int marker = 0;
    check_eq((uint64_t)try_user(user_returns, &marker), (uint64_t)-1, "try_user: a CPL 3 function returns");
    check_eq((uint64_t)marker, 7, "and it ran");
    check_eq((uint64_t)try_user(user_cli, NULL), VEC_GP, "CLI at CPL 3 raises #GP");
    user_hypercall_result = 0;
    check_eq((uint64_t)try_user(user_hypercall, NULL), (uint64_t)-1, "a hypercall from CPL 3 returns");
    check_eq((uint64_t)user_hypercall_result, (uint64_t)MHV_EPERM, "with EPERM");
}

static void check_interrupts(void)
{
    irq_set_handler(VEC_TIMER_HC, count_hit);
    irq_set_handler(VEC_APIC_TIMER, count_hit);
    irq_set_handler(VEC_INJECT, count_hit);
    irq_set_handler(VEC_SELF_IPI, count_hit);

    check_eq((uint64_t)hc_timer(500, VEC_TIMER_HC), 0, "TIMER hypercall accepted");
    irq_enable_and_halt(); /* the timer ends the HLT */
    irq_disable();
    check(wait_for(VEC_TIMER_HC, 1), "the TIMER hypercall's interrupt arrives (vector 0x%x)", VEC_TIMER_HC);

    check_eq((uint64_t)hc_inject(VEC_INJECT), 0, "INJECT hypercall accepted");
    check(wait_for(VEC_INJECT, 1), "the injected interrupt arrives once interrupts are on");

    uint64_t ticks = apic_timer_khz() / 2; /* 500 us */
    uint64_t start = rdtsc();
    apic_timer_oneshot(VEC_APIC_TIMER, (uint32_t)ticks);
    check(wait_for(VEC_APIC_TIMER, 1), "xAPIC one-shot timer fires");
    check(rdtsc() - start >= ticks * tsc_khz() / apic_timer_khz(), "not before its count ran out");
    apic_send_ipi(0, ICR_FIXED | ICR_LEVEL_ASSERT | ICR_SELF | VEC_SELF_IPI);
    check(wait_for(VEC_SELF_IPI, 1), "xAPIC self-IPI arrives");

    if (apic_enable_x2apic() == 0) {
        check_eq(apic_id(), 0, "x2APIC mode: vCPU 0 has APIC ID 0");
        apic_timer_oneshot(VEC_APIC_TIMER, (uint32_t)ticks);
        check(wait_for(VEC_APIC_TIMER, 2), "x2APIC one-shot timer fires");
        apic_send_ipi(0, ICR_FIXED | ICR_SELF | VEC_SELF_IPI);
        check(wait_for(VEC_SELF_IPI, 2), "x2APIC self-IPI arrives");
        if (apic_timer_deadline(VEC_APIC_TIMER, rdtsc() + us_to_tsc(300)) == 0)
            check(wait_for(VEC_APIC_TIMER, 3), "TSC-deadline timer fires");
    } else {
        printf("# x2APIC not offered: its checks skipped\n");
    }
}

static void check_time_and_prng(void)
{
    uint64_t start = rdtsc();
    delay_us(2000);
    uint64_t took = rdtsc() - start;
    check(took >= us_to_tsc(2000), "delay_us(2000) waits at least 2 ms of TSC time (%lu ticks at %lu kHz)", took,
          tsc_khz());
    struct prng a, b, c;
    prng_seed(&a, rt_seed());
    prng_seed(&b, rt_seed());
    prng_seed(&c, rt_seed());
    bool same = true, bounded = true;
    for (int i = 0; i < 1000; i++) {
        same &= prng_next(&a) == prng_next(&b);
        bounded &= prng_below(&c, 10) < 10;
    }
    check(same && bounded, "the PRNG replays from its seed 0x%lx (%s) and stays in range", rt_seed(), rt_seed_source());
}

static struct barrier meet;
static struct spinlock counter_lock;
static volatile uint64_t locked_counter;
static volatile unsigned ap_ok[RT_MAX_CPUS];

static void on_ap(unsigned cpu, void *arg)
{
    (void)arg;
    bool ok = apic_id() == cpu && smp_id() == cpu;
    uint64_t v;
    ok &= try_wrmsr(0x12345678, 0) == VEC_GP && try_rdmsr(MSR_EFER, &v) == -1 && (v & EFER_LMA);
    printf("# vCPU %u runs C code (APIC ID %u)\n", cpu, apic_id());
    for (int round = 0; round < BARRIER_ROUNDS; round++) {
        barrier_wait(&meet);
        for (int i = 0; i < LOCKED_ROUNDS / BARRIER_ROUNDS; i++) {
            spin_lock(&counter_lock);
            locked_counter++;
            spin_unlock(&counter_lock);
        }
    }
    barrier_wait(&meet);
    ap_ok[cpu] = ok;
    apic_send_fixed(0, (uint8_t)(VEC_FROM_CPU + cpu));
}

static void check_smp(void)
{
    unsigned n = smp_cpus();
    barrier_init(&meet, n);
    for (unsigned i = 0; i < n; i++)
        irq_set_handler(VEC_FROM_CPU + i, count_hit);
    check_eq(smp_start_all(on_ap, NULL), n - 1, "all %u other vCPUs started by INIT/SIPI", n - 1);
    on_ap(0, NULL); /* vCPU 0 takes part too */
    unsigned ipis = 0;
    for (unsigned i = 0; i < n; i++)
        ipis += wait_for(VEC_FROM_CPU + i, 1);
    check_eq(ipis, n, "every vCPU's IPI reached vCPU 0");
    smp_wait_all();
    unsigned good = 0;
    for (unsigned i = 0; i < n; i++)
        good += ap_ok[i];
    check_eq(good, n, "each vCPU saw its own APIC ID and took its own expected #GP");
    check_eq(locked_counter, (uint64_t)n * LOCKED_ROUNDS, "%u vCPUs met at %d barriers and counted under a spinlock", n,
             BARRIER_ROUNDS + 1);
}

/* rt_arg(0) == 1 (a variant made by mkvariant): an exception nothing expects, on vCPU 1,
 * to show the report (vector, error code, RIP, registers) and the exit with RT_STATUS_CRASH. */
static void unexpected_fault(unsigned cpu, void *arg)
{
    (void)cpu;
    (void)arg;
    wrmsr(0x12345678, 0);
}

void guest_main(void)
{
    printf("# seed 0x%lx (%s)\n", rt_seed(), rt_seed_source());
    if (rt_arg(0) == 1) {
        smp_start(1, unexpected_fault, NULL);
        for (;;)
            irq_enable_and_halt();
    }
    check_output();
    check_faults();
    check_interrupts();
    check_time_and_prng();
    check_smp();
}
