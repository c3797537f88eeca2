/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The local APIC's architectural edges (SDM Vol. 3A chapter 12), what bare-metal test kernels
 * probe and Linux never does:
 *  - The timer (12.5.4): a switch between one-shot and periodic mode neither stops nor restarts
 *    the count (it goes on, and the new mode decides what happens at 0); a one-shot count that
 *    ran out stays 0 in periodic mode; only a switch to or from TSC-deadline mode disarms the
 *    timer (12.5.4.1), where the initial count reads 0, writes to it are ignored and
 *    IA32_TSC_DEADLINE is ignored in the other modes; a divide change keeps the count where it
 *    is and runs it on at the new rate. In xAPIC mode (MMIO; APIC-write exits where the CPU
 *    virtualises the page) and in x2APIC mode (MSRs).
 *  - A globally disabled APIC (IA32_APIC_BASE.EN = 0, 12.4.3) is gone: its page is no APIC
 *    (reads all-ones, writes go nowhere), its x2APIC MSRs raise #GP, CPUID.1:EDX.APIC is 0, IPIs
 *    and its timer do not reach the vCPU; enabled again it is in its power-up state (12.4.7.1:
 *    every LVT masked, LINT0/LINT1 0x10000 where firmware left virtual wire, SVR 0xff, ...).
 *  - The IA32_APIC_BASE transitions of the state diagram (12.12.5): disabled -> xAPIC ->
 *    x2APIC -> disabled; disabled -> x2APIC, x2APIC -> xAPIC and EXTD without EN raise #GP.
 *  - x2APIC reserved bits (12.12.1.3): a WRMSR with a reserved bit set (bits 63:32 of every
 *    register but the ICR) raises #GP and changes nothing; it is not truncated to the low half.
 * Timing checks bracket each APIC access with RDTSC, so time spent away from the CPU (other
 * VMs' slices) widens the bounds instead of failing them: a count read must match one count
 * running from its start, an interrupt may come late but never early, and a wait for one that
 * must come is bounded (a FAIL line, never a hang). vCPU 1 sends the IPIs (and takes one).
 */
#include "rt.h"

MHV_GUEST(.name = "apic_edges", .vcpus = 2, .memory_mib = 8);

#define VEC_TIMER 0x40
#define VEC_IPI 0x41
#define APIC_LVT_THERMAL 0x330
#define APIC_LVT_PERF 0x340
#define APIC_DFR 0xe0
#define APIC_BASE_BSP (1ull << 8)
#define APIC_BASE_EXTD (1ull << 10)
#define APIC_BASE_EN (1ull << 11)
#define DIVIDE_BY_1 0xb
#define DIVIDE_BY_4 0x1
#define LVT_ONESHOT 0
#define MAX_HITS 16
#define PERIOD_US 40000 /* the timer's count, in microseconds: long beside other VMs' slices */
#define SWITCH_US 5000  /* when a change lands in mid-count */
#define LATE_US 200000  /* how late an interrupt that must come may be: other VMs' slices */
#define TRIES 3         /* a check whose timing precondition a slice broke runs again */

static volatile unsigned hits, ipis;
static volatile uint64_t hit_tsc[MAX_HITS];
static const char *mode; /* "xAPIC" or "x2APIC", for the messages */

static void on_timer(struct rt_frame *f)
{
    (void)f;
    unsigned n = hits;
    if (n < MAX_HITS)
        hit_tsc[n] = rdtsc();
    hits = n + 1;
}

static void on_ipi(struct rt_frame *f)
{
    (void)f;
    __atomic_add_fetch(&ipis, 1, __ATOMIC_SEQ_CST); /* on either vCPU */
}

/* An APIC access between two TSC reads: it happened at some TSC in [before, after]. */
struct stamp {
    uint64_t before, after;
};

static uint32_t timed_read(unsigned reg, struct stamp *s)
{
    s->before = rdtsc();
    uint32_t v = apic_read(reg);
    s->after = rdtsc();
    return v;
}

static void timed_write(unsigned reg, uint32_t value, struct stamp *s)
{
    s->before = rdtsc();
    apic_write(reg, value);
    s->after = rdtsc();
}

/* Busy-waits without PAUSE, which would give the CPU away (PAUSE-loop exiting), for the short
 * stretches whose timing the checks need. */
static void spin_us(uint64_t us)
{
    uint64_t end = tsc_deadline_in_us(us);
    while (!tsc_reached(end))
        __asm__ volatile("" ::: "memory");
}

/* Waits (interrupts on) until `n` timer interrupts came or the TSC reached `until`. */
static void wait_hits(unsigned n, uint64_t until)
{
    while (hits < n && !tsc_reached(until))
        cpu_relax();
}

static void timer_off(void)
{
    apic_write(APIC_LVT_TIMER, LVT_MASKED);
    apic_write(APIC_TIMER_INITIAL, 0);
    apic_write(APIC_TIMER_DIVIDE, DIVIDE_BY_1);
    delay_us(100); /* an interrupt already on its way is taken here, not in the next check */
    hits = 0;
}

static void timer_start(uint32_t lvt, uint32_t divide, uint32_t count, struct stamp *w)
{
    timer_off();
    apic_write(APIC_TIMER_DIVIDE, divide);
    apic_write(APIC_LVT_TIMER, lvt | VEC_TIMER);
    timed_write(APIC_TIMER_INITIAL, count, w);
}

/* The ticks of one count (the APIC timer runs at the TSC rate under mhv: CPUID 0x15 and
 * 0x40000010 say so) times the divisor. */
static uint64_t count_ticks(uint64_t count, unsigned divisor)
{
    return count * divisor;
}

/* --- Timer mode switches (12.5.4) ------------------------------------------------------- */

/* One-shot -> periodic in mid-count: the count goes on from where it is and, at 0, the new
 * mode reloads it: the first interrupt at the one-shot's end, then one per period. */
static bool oneshot_to_periodic(void)
{
    const uint32_t C = (uint32_t)us_to_tsc(PERIOD_US);
    struct stamp w, s, r;
    timer_start(LVT_ONESHOT, DIVIDE_BY_1, C, &w);
    spin_us(SWITCH_US);
    timed_write(APIC_LVT_TIMER, LVT_TIMER_PERIODIC | VEC_TIMER, &s);
    uint32_t c = timed_read(APIC_TIMER_CURRENT, &r);
    if (r.after >= w.before + C || hits)
        return false; /* away from the CPU past the count's end: try again */
    uint64_t lo = C - (r.after - w.before), hi = C - (r.before - w.after);
    check(c >= lo && c <= hi, "%s: one-shot -> periodic in mid-count: the count goes on (read %u, expected %llu..%llu)",
          mode, c, (unsigned long long)lo, (unsigned long long)hi);
    check_eq(apic_read(APIC_TIMER_INITIAL), C, "%s: one-shot -> periodic: the initial count stays", mode);
    wait_hits(3, w.after + 3 * (uint64_t)C + us_to_tsc(LATE_US));
    unsigned n = hits;
    check(n >= 1, "%s: one-shot -> periodic: the count reaches 0 and interrupts (%u interrupts within %u ms)", mode,
          n, (unsigned)tsc_to_us(3 * (uint64_t)C) / 1000 + LATE_US / 1000);
    check(n >= 3, "%s: one-shot -> periodic: then the count reloads, an interrupt every period (%u of 3)", mode, n);
    for (unsigned i = 0; i < n && i < 3; i++)
        check(hit_tsc[i] >= w.before + (i + 1) * (uint64_t)C,
              "%s: one-shot -> periodic: interrupt %u not before the end of period %u (%lld ticks after it)", mode,
              i + 1, i + 1, (long long)(hit_tsc[i] - w.before - (i + 1) * (uint64_t)C));
    timer_off();
    return true;
}

/* Periodic -> one-shot in the second period: that period's count goes on, interrupts once at
 * 0 and then stays 0. */
static bool periodic_to_oneshot(void)
{
    const uint32_t C = (uint32_t)us_to_tsc(PERIOD_US);
    struct stamp w, s, r;
    timer_start(LVT_TIMER_PERIODIC, DIVIDE_BY_1, C, &w);
    wait_hits(1, w.after + C + us_to_tsc(LATE_US));
    if (hits != 1) {
        check(false, "%s: periodic: the first period ends with one interrupt (%u within %u ms)", mode, hits,
              (unsigned)tsc_to_us(C) / 1000 + LATE_US / 1000);
        timer_off();
        return true;
    }
    spin_us(SWITCH_US);
    timed_write(APIC_LVT_TIMER, LVT_ONESHOT | VEC_TIMER, &s);
    uint32_t c = timed_read(APIC_TIMER_CURRENT, &r);
    if (r.after >= w.before + 2 * (uint64_t)C || hits != 1)
        return false; /* the switch did not land in the second period */
    uint64_t start_lo = w.before + C, start_hi = w.after + C; /* the second period's start */
    uint64_t lo = C - (r.after - start_lo), hi = C - (r.before - start_hi);
    check(c >= lo && c <= hi,
          "%s: periodic -> one-shot in mid-period: the count goes on (read %u, expected %llu..%llu)", mode, c,
          (unsigned long long)lo, (unsigned long long)hi);
    wait_hits(2, w.after + 2 * (uint64_t)C + us_to_tsc(LATE_US));
    check(hits >= 2, "%s: periodic -> one-shot: the count reaches 0 and interrupts (%u interrupts)", mode, hits);
    if (hits >= 2)
        check(hit_tsc[1] >= w.before + 2 * (uint64_t)C, "%s: periodic -> one-shot: not before the period's end", mode);
    delay_us(tsc_to_us(3 * (uint64_t)C));
    check_eq(hits, 2, "%s: periodic -> one-shot: then no more interrupts (one-shot)", mode);
    check_eq(apic_read(APIC_TIMER_CURRENT), 0, "%s: periodic -> one-shot: the current count stays 0 at the end", mode);
    timer_off();
    return true;
}

/* A one-shot count that ran out is not started again by a switch to periodic (only a write
 * of the initial count starts the timer). */
static bool expired_oneshot_to_periodic(void)
{
    const uint32_t C = (uint32_t)us_to_tsc(500);
    struct stamp w;
    timer_start(LVT_ONESHOT, DIVIDE_BY_1, C, &w);
    wait_hits(1, w.after + C + us_to_tsc(LATE_US));
    check_eq(hits, 1, "%s: a one-shot count interrupts once at 0", mode);
    check_eq(apic_read(APIC_TIMER_CURRENT), 0, "%s: an expired one-shot count reads 0", mode);
    apic_write(APIC_LVT_TIMER, LVT_TIMER_PERIODIC | VEC_TIMER);
    check_eq(apic_read(APIC_TIMER_CURRENT), 0, "%s: expired one-shot -> periodic: the count stays 0", mode);
    delay_us(tsc_to_us(4 * (uint64_t)C));
    check_eq(hits, 1, "%s: expired one-shot -> periodic: no interrupt (the switch starts nothing)", mode);
    timer_off();
    return true;
}

/* To and from TSC-deadline mode the timer is disarmed (12.5.4.1). */
static bool deadline_switches(void)
{
    const uint32_t C = (uint32_t)us_to_tsc(PERIOD_US);
    struct stamp w, s;
    /* One-shot in mid-count -> TSC-deadline: disarmed, the initial count cleared. */
    timer_start(LVT_ONESHOT, DIVIDE_BY_1, C, &w);
    spin_us(SWITCH_US);
    timed_write(APIC_LVT_TIMER, LVT_TIMER_TSC_DEADLINE | VEC_TIMER, &s);
    __asm__ volatile("mfence" ::: "memory"); /* the LVT write before the MSR accesses (12.5.4.1) */
    if (s.after >= w.before + C || hits)
        return false;
    check_eq(apic_read(APIC_TIMER_INITIAL), 0, "%s: one-shot -> TSC-deadline: the initial count reads 0", mode);
    check_eq(apic_read(APIC_TIMER_CURRENT), 0, "%s: one-shot -> TSC-deadline: the current count reads 0", mode);
    check_eq(rdmsr(MSR_TSC_DEADLINE), 0, "%s: one-shot -> TSC-deadline: IA32_TSC_DEADLINE reads 0 (not armed)", mode);
    apic_write(APIC_TIMER_INITIAL, C);
    check_eq(apic_read(APIC_TIMER_INITIAL), 0, "%s: TSC-deadline mode: a write of the initial count is ignored", mode);
    check_eq(apic_read(APIC_TIMER_CURRENT), 0, "%s: TSC-deadline mode: the current count reads 0", mode);
    delay_us(tsc_to_us(2 * (uint64_t)C));
    check_eq(hits, 0, "%s: one-shot -> TSC-deadline: the count that ran disarmed (no interrupt)", mode);

    /* The deadline works in that mode, and the MSR reads 0 once it fired. */
    uint64_t deadline = rdtsc() + C / 2;
    wrmsr(MSR_TSC_DEADLINE, deadline);
    wait_hits(1, deadline + us_to_tsc(LATE_US));
    check_eq(hits, 1, "%s: TSC-deadline: the deadline interrupts", mode);
    check(hits >= 1 && hit_tsc[0] >= deadline, "%s: TSC-deadline: not before the deadline", mode);
    check_eq(rdmsr(MSR_TSC_DEADLINE), 0, "%s: TSC-deadline: IA32_TSC_DEADLINE reads 0 once it fired", mode);

    /* An armed deadline -> one-shot: disarmed, the MSR reads 0 and ignores writes. */
    hits = 0;
    uint64_t t0 = rdtsc();
    deadline = t0 + C;
    wrmsr(MSR_TSC_DEADLINE, deadline);
    bool armed = rdmsr(MSR_TSC_DEADLINE) == deadline;
    timed_write(APIC_LVT_TIMER, LVT_ONESHOT | VEC_TIMER, &s);
    __asm__ volatile("mfence" ::: "memory");
    if (s.after >= deadline || hits)
        return false;
    check(armed, "%s: TSC-deadline: IA32_TSC_DEADLINE reads the armed deadline", mode);
    check_eq(rdmsr(MSR_TSC_DEADLINE), 0, "%s: TSC-deadline -> one-shot: IA32_TSC_DEADLINE reads 0", mode);
    wrmsr(MSR_TSC_DEADLINE, rdtsc() + C / 4);
    check_eq(rdmsr(MSR_TSC_DEADLINE), 0, "%s: one-shot mode: a write of IA32_TSC_DEADLINE is ignored", mode);
    while (!tsc_reached(deadline + C))
        cpu_relax();
    check_eq(hits, 0, "%s: TSC-deadline -> one-shot: the armed deadline disarmed, the ignored one not armed", mode);
    check_eq(apic_read(APIC_TIMER_CURRENT), 0, "%s: TSC-deadline -> one-shot: the timer stays stopped", mode);
    timer_off();
    return true;
}

/* A divide change in mid-count (12.5.4): the count goes on from where it is, at the new rate,
 * and interrupts when it reaches 0 at that rate. */
static bool divide_change(void)
{
    const uint32_t C = (uint32_t)us_to_tsc(PERIOD_US);
    struct stamp w, d, r2, r3;
    timer_start(LVT_ONESHOT, DIVIDE_BY_1, C, &w);
    spin_us(SWITCH_US);
    timed_write(APIC_TIMER_DIVIDE, DIVIDE_BY_4, &d);
    uint32_t c2 = timed_read(APIC_TIMER_CURRENT, &r2);
    spin_us(SWITCH_US);
    uint32_t c3 = timed_read(APIC_TIMER_CURRENT, &r3);
    if (d.after >= w.before + C || r3.after >= d.before + count_ticks(C - (d.after - w.before), 4)
        || hits)
        return false; /* descheduled past the change or past the count's end: try again */
    check_eq(apic_read(APIC_TIMER_DIVIDE), DIVIDE_BY_4, "%s: the divide register reads back", mode);
    /* At the change the count was C - (change - start); after it, it falls a quarter as fast. */
    uint64_t hi = C - (d.before - w.after), lo = C - (d.after - w.before) - (r2.after - d.before) / 4 - 1;
    check(c2 >= lo && c2 <= hi, "%s: divide 1 -> 4 in mid-count: the count goes on from where it was (read %u, "
          "expected %llu..%llu)", mode, c2, (unsigned long long)lo, (unsigned long long)hi);
    uint64_t fell = c2 - c3, fell_lo = (r3.before - r2.after) / 4, fell_hi = (r3.after - r2.before) / 4 + 1;
    check(c3 <= c2 && fell + 1 >= fell_lo && fell <= fell_hi, "%s: divide 4: the count falls one per 4 ticks (%llu in "
          "%llu..%llu ticks)", mode, (unsigned long long)fell, (unsigned long long)(r3.before - r2.after),
          (unsigned long long)(r3.after - r2.before));
    wait_hits(1, r3.after + count_ticks(c3, 4) + us_to_tsc(LATE_US));
    check_eq(hits, 1, "%s: divide 4: the count reaches 0 and interrupts", mode);
    if (hits >= 1)
        check(hit_tsc[0] + 4 >= r3.before + count_ticks(c3, 4), "%s: divide 4: not before the count ran out at the new "
              "rate (%lld ticks after it)", mode, (long long)(hit_tsc[0] - r3.before - count_ticks(c3, 4)));
    timer_off();
    return true;
}

static void run_timer_checks(void)
{
    bool (*const tests[])(void) = { oneshot_to_periodic, periodic_to_oneshot, expired_oneshot_to_periodic,
                                    deadline_switches, divide_change };
    static const char *const names[] = { "one-shot -> periodic", "periodic -> one-shot", "expired one-shot",
                                         "TSC-deadline switches", "divide change" };
    for (unsigned i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
        unsigned t = 0;
        while (t < TRIES && !tests[i]())
            t++;
        check(t < TRIES, "%s: %s: ran with its timing (%u tries)", mode, names[i], t + (t < TRIES));
    }
    timer_off();
}

/* --- vCPU 1: IPIs on request ------------------------------------------------------------ */

static volatile unsigned ipi_requests, ipi_sent;
static volatile bool helper_stop;

static void helper(unsigned cpu, void *arg)
{
    (void)cpu, (void)arg;
    unsigned seen = 0;
    irq_enable(); /* it takes the IPI of the x2APIC ICR check */
    while (!helper_stop) {
        if (ipi_requests != seen) {
            seen = ipi_requests;
            apic_send_fixed(0, VEC_IPI);
            ipi_sent = seen;
        }
        cpu_relax();
    }
}

/* vCPU 1 sends vCPU 0 a fixed IPI; then vCPU 0 waits (interrupts on) up to 20 ms for it. */
static bool ipi_from_vcpu1(void)
{
    unsigned before = ipis, want = ipi_requests + 1;
    ipi_requests = want;
    uint64_t until = tsc_deadline_in_us(LATE_US);
    while (ipi_sent != want && !tsc_reached(until))
        cpu_relax();
    until = tsc_deadline_in_us(20000);
    while (ipis == before && !tsc_reached(until))
        cpu_relax();
    return ipis != before;
}

/* --- A globally disabled APIC, and enabled again (12.4.3, 12.4.7.1) ---------------------- */

static volatile uint32_t *page(unsigned reg)
{
    return (volatile uint32_t *)(uintptr_t)(APIC_MMIO_BASE + reg);
}

/* What a disabled APIC looks like: no page, no MSRs, no CPUID bit, no interrupts. */
static void check_gone(const char *how)
{
    uint64_t value;
    check_eq(rdmsr(MSR_APIC_BASE) & (APIC_BASE_EN | APIC_BASE_EXTD), 0, "%s: IA32_APIC_BASE reads EN = EXTD = 0", how);
    check_eq(cpuid(1, 0).edx >> 9 & 1, 0, "%s: CPUID.1:EDX.APIC reads 0", how);
    check_eq(*page(APIC_VERSION), 0xffffffffu, "%s: the APIC page is no APIC (version reads all-ones)", how);
    check_eq(*page(APIC_LVT_LINT0), 0xffffffffu, "%s: the APIC page is no APIC (LINT0 reads all-ones)", how);
    *page(APIC_TPR) = 0x30;
    check_eq(*page(APIC_TPR), 0xffffffffu, "%s: a write to the page goes nowhere (TPR reads all-ones after it)", how);
    check_eq(try_rdmsr(0x803, &value), VEC_GP, "%s: RDMSR of the x2APIC version register raises #GP", how);
    check_eq(try_rdmsr(0x808, &value), VEC_GP, "%s: RDMSR of the x2APIC TPR raises #GP", how);
    check_eq(try_wrmsr(0x808, 0x30), VEC_GP, "%s: WRMSR of the x2APIC TPR raises #GP", how);
    check_eq(try_wrmsr(0x83f, VEC_IPI), VEC_GP, "%s: WRMSR of the x2APIC SELF IPI raises #GP", how);
    check(!ipi_from_vcpu1(), "%s: an IPI from vCPU 1 does not reach the vCPU", how);
    delay_us(2 * PERIOD_US);
    check_eq(hits, 0, "%s: the periodic timer programmed before does not interrupt", how);
    /* The state diagram (12.12.5): from disabled only to xAPIC; EXTD never without EN. */
    uint64_t base = rdmsr(MSR_APIC_BASE);
    check_eq(try_wrmsr(MSR_APIC_BASE, base | APIC_BASE_EN | APIC_BASE_EXTD), VEC_GP,
             "%s: disabled -> x2APIC directly raises #GP", how);
    check_eq(try_wrmsr(MSR_APIC_BASE, base | APIC_BASE_EXTD), VEC_GP, "%s: EXTD without EN raises #GP", how);
    check_eq(rdmsr(MSR_APIC_BASE), base, "%s: IA32_APIC_BASE unchanged by the refused writes", how);
}

/* Enabled again in xAPIC mode: the power-up state (12.4.7.1), not what was there before. */
static void check_power_up_state(const char *how)
{
    check_eq(rdmsr(MSR_APIC_BASE) & (APIC_BASE_EN | APIC_BASE_EXTD | ~0xfffull), APIC_BASE_EN | APIC_MMIO_BASE,
             "%s: IA32_APIC_BASE reads xAPIC mode at 0xfee00000", how);
    check_eq(cpuid(1, 0).edx >> 9 & 1, 1, "%s: CPUID.1:EDX.APIC reads 1 again", how);
    check_eq(*page(APIC_ID), 0, "%s: ID 0 in xAPIC format", how);
    check_eq(*page(APIC_VERSION) & 0xff, 0x14, "%s: the version register is back", how);
    check_eq(*page(APIC_LVT_LINT0), LVT_MASKED, "%s: LINT0 reads the masked reset value 0x10000", how);
    check_eq(*page(APIC_LVT_LINT1), LVT_MASKED, "%s: LINT1 reads the masked reset value 0x10000", how);
    check_eq(*page(APIC_LVT_TIMER), LVT_MASKED, "%s: the LVT timer reads 0x10000", how);
    check_eq(*page(APIC_LVT_THERMAL), LVT_MASKED, "%s: the LVT thermal reads 0x10000", how);
    check_eq(*page(APIC_LVT_PERF), LVT_MASKED, "%s: the LVT performance counter reads 0x10000", how);
    check_eq(*page(APIC_LVT_ERROR), LVT_MASKED, "%s: the LVT error reads 0x10000", how);
    check_eq(*page(APIC_SVR), 0xff, "%s: SVR reads 0xff (software-disabled)", how);
    check_eq(*page(APIC_TPR), 0, "%s: TPR reads 0", how);
    check_eq(*page(APIC_LDR), 0, "%s: LDR reads 0", how);
    check_eq(*page(APIC_DFR), 0xffffffffu, "%s: DFR reads all-ones (flat)", how);
    check_eq(*page(APIC_TIMER_INITIAL), 0, "%s: the initial count reads 0", how);
    check_eq(*page(APIC_TIMER_CURRENT), 0, "%s: the current count reads 0", how);
    check_eq(*page(APIC_TIMER_DIVIDE), 0, "%s: the divide register reads 0", how);
    uint32_t irr = 0, isr = 0;
    for (unsigned i = 0; i < 8; i++) {
        irr |= *page(APIC_IRR + 16 * i);
        isr |= *page(APIC_ISR + 16 * i);
    }
    check_eq(irr, 0, "%s: nothing pending in IRR (the IPI sent meanwhile was not taken)", how);
    check_eq(isr, 0, "%s: nothing in service", how);
    apic_init(); /* SVR enabled again, for the interrupts below */
    delay_us(2 * PERIOD_US);
    check_eq(hits, 0, "%s: the periodic timer programmed before stays stopped", how);
    check(ipi_from_vcpu1(), "%s: and the APIC takes IPIs again (vCPU 1's arrives)", how);
}

static void disable_and_enable_xapic(void)
{
    const char *how = "xAPIC disabled";
    uint64_t base = rdmsr(MSR_APIC_BASE);
    /* What mhv as firmware leaves on the boot vCPU: virtual wire (README "Local APIC"). */
    check_eq(*page(APIC_LVT_LINT0), 0x700, "vCPU 0 starts with LINT0 in ExtINT mode (virtual wire)");
    check_eq(*page(APIC_LVT_LINT1), 0x400, "vCPU 0 starts with LINT1 in NMI mode");
    check(ipi_from_vcpu1(), "the IPI from vCPU 1 arrives while the APIC is enabled");
    /* State to lose: TPR, logical destination, a periodic timer, an unmasked error LVT. */
    apic_write(APIC_TPR, 0x10);
    apic_write(APIC_DFR, 0x0fffffff);
    apic_write(APIC_LDR, 0x01000000);
    apic_write(APIC_LVT_ERROR, 0xe0);
    struct stamp w;
    timer_start(LVT_TIMER_PERIODIC, DIVIDE_BY_1, (uint32_t)us_to_tsc(PERIOD_US), &w);
    irq_disable();
    wrmsr(MSR_APIC_BASE, base & ~APIC_BASE_EN);
    hits = 0;
    irq_enable();
    check_gone(how);
    irq_disable();
    wrmsr(MSR_APIC_BASE, (base & ~APIC_BASE_EXTD) | APIC_BASE_EN);
    irq_enable();
    check_power_up_state("xAPIC enabled again");
    apic_write(APIC_LVT_LINT0, 0x700); /* virtual wire again, as firmware left it */
    apic_write(APIC_LVT_LINT1, 0x400);
}

/* The other transitions (12.12.5): xAPIC -> x2APIC, not back but through disabled. */
static void x2apic_transitions(void)
{
    uint64_t base = rdmsr(MSR_APIC_BASE) & ~(APIC_BASE_EN | APIC_BASE_EXTD), value;
    check_eq(try_wrmsr(MSR_APIC_BASE, base | APIC_BASE_EN | APIC_BASE_EXTD), -1, "xAPIC -> x2APIC is allowed");
    this_cpu()->x2apic = true;
    check_eq(try_rdmsr(0x802, &value), -1, "x2APIC mode: the ID reads as MSR 0x802");
    check_eq(value, 0, "x2APIC mode: ID 0");
    check_eq(*page(APIC_VERSION), 0xffffffffu, "x2APIC mode: the xAPIC page is no APIC");
    check_eq(try_wrmsr(MSR_APIC_BASE, base | APIC_BASE_EN), VEC_GP, "x2APIC -> xAPIC directly raises #GP");
    check_eq(rdmsr(MSR_APIC_BASE) & (APIC_BASE_EN | APIC_BASE_EXTD), APIC_BASE_EN | APIC_BASE_EXTD,
             "x2APIC mode stays after the refused write");
    apic_init();
}

/* --- x2APIC reserved bits (12.12.1.3) ------------------------------------------------------ */

struct reserved_case {
    uint32_t msr;
    uint64_t value; /* a value the register would take but for bits 63:32 */
    const char *name;
};

static void x2apic_reserved_bits(void)
{
    static const struct reserved_case cases[] = {
        { 0x808, 0x30, "TPR" }, { 0x80f, 0x1fe, "SVR" }, { 0x832, VEC_TIMER, "LVT timer" },
        { 0x835, 0x700, "LVT LINT0" }, { 0x837, 0xe1, "LVT error" }, { 0x838, 0x1234, "initial count" },
        { 0x83e, DIVIDE_BY_4, "divide configuration" },
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct reserved_case *c = &cases[i];
        uint64_t before = rdmsr(c->msr);
        check_eq(try_wrmsr(c->msr, (1ull << 32) | c->value), VEC_GP, "x2APIC %s: a write with bit 32 set raises #GP",
                 c->name);
        check_eq(rdmsr(c->msr), before, "x2APIC %s: ... and changes nothing (not truncated to the low half)", c->name);
    }
    check_eq(apic_read(APIC_TIMER_CURRENT), 0, "x2APIC: the refused initial count started no count");
    unsigned before = ipis;
    irq_set_handler(VEC_IPI, on_ipi);
    check_eq(try_wrmsr(0x83f, (1ull << 32) | VEC_IPI), VEC_GP, "x2APIC SELF IPI: a write with bit 32 set raises #GP");
    delay_us(1000);
    check_eq(ipis, before, "x2APIC SELF IPI: ... and sends nothing");
    check_eq(try_wrmsr(0x83f, VEC_IPI), -1, "x2APIC SELF IPI: the same vector without bit 32 is sent");
    delay_us(1000);
    check_eq(ipis, before + 1, "x2APIC SELF IPI: ... and taken");
    check_eq(try_wrmsr(0x80b, 1), VEC_GP, "x2APIC EOI: a non-zero write raises #GP");
    check_eq(try_wrmsr(0x828, 1), VEC_GP, "x2APIC ESR: a non-zero write raises #GP");
    /* The ICR's bits 63:32 are its destination, not reserved: a fixed IPI to APIC ID 1. */
    check_eq(try_wrmsr(0x830, (1ull << 32) | ICR_LEVEL_ASSERT | VEC_IPI), -1,
             "x2APIC ICR: a write with bits 63:32 set (the destination, APIC ID 1) is taken");
    uint64_t until = tsc_deadline_in_us(LATE_US);
    while (ipis != before + 2 && !tsc_reached(until))
        cpu_relax();
    check_eq(ipis, before + 2, "x2APIC ICR: ... and vCPU 1 takes the IPI");
}

/* x2APIC -> disabled (allowed), gone, then -> xAPIC: the power-up state again. */
static void disable_and_enable_x2apic(void)
{
    uint64_t base = rdmsr(MSR_APIC_BASE);
    struct stamp w;
    apic_write(APIC_TPR, 0x10);
    timer_start(LVT_TIMER_PERIODIC, DIVIDE_BY_1, (uint32_t)us_to_tsc(PERIOD_US), &w);
    irq_disable();
    check_eq(try_wrmsr(MSR_APIC_BASE, base & ~(APIC_BASE_EN | APIC_BASE_EXTD)), -1, "x2APIC -> disabled is allowed");
    this_cpu()->x2apic = false;
    hits = 0;
    irq_enable();
    check_gone("x2APIC disabled");
    irq_disable();
    check_eq(try_wrmsr(MSR_APIC_BASE, (base & ~APIC_BASE_EXTD) | APIC_BASE_EN), -1, "disabled -> xAPIC is allowed");
    irq_enable();
    check_power_up_state("x2APIC disabled, xAPIC enabled");
}

void guest_main(void)
{
    irq_set_handler(VEC_TIMER, on_timer);
    irq_set_handler(VEC_IPI, on_ipi);
    check(smp_start(1, helper, NULL) == 0, "vCPU 1 started (it sends the IPIs)");
    check_eq(apic_timer_khz(), tsc_khz(), "the APIC timer runs at the TSC rate (CPUID 0x40000010)");
    check(cpuid(1, 0).ecx >> 24 & 1, "CPUID offers the TSC-deadline timer");
    irq_enable();

    mode = "xAPIC";
    run_timer_checks();
    disable_and_enable_xapic();
    x2apic_transitions();
    mode = "x2APIC";
    run_timer_checks();
    x2apic_reserved_bits();
    disable_and_enable_x2apic();

    helper_stop = true;
    irq_disable();
}
