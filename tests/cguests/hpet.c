/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The HPET (IA-PC HPET specification 1.0a), as a kernel finds and uses it:
 *  - the ACPI HPET table (3.2.4) in the XSDT and the RSDT: base 0xfed00000, the event timer
 *    block ID equal to the capabilities register's low half;
 *  - the capabilities (2.3.4): a period of at most 100 ns, three timers, a 64-bit counter, the
 *    legacy replacement route; each timer periodic- and 64-bit-capable with I/O APIC routes;
 *  - the main counter (2.3.7): still while halted, running at the advertised period against
 *    the TSC and the ACPI PM timer, its 32-bit halves consistent;
 *  - a one-shot edge interrupt through an I/O APIC pin, not before the counter reaches the
 *    comparator and only once; periodic interrupts at the period, the comparator moving on;
 *  - level-triggered interrupts: the status bit set, the interrupt delivered again after an
 *    EOI while the status is still set, and not after writing 1 to clear it (2.3.6);
 *  - 32-bit mode (3.2.5): the comparator's upper half reads 0, a match across the low half's
 *    wrap;
 *  - the legacy replacement route (2.4): timer 0 on IRQ 0 (I/O APIC pin 2) and timer 1 on
 *    IRQ 8, while the PIT's IRQ 0 and the CMOS clock's IRQ 8 are not delivered; both back once
 *    the route is off.
 * With arg0 = 1 (a VM with `hpet = false`) it checks that no table names an HPET and then reads
 * 0xfed00000, where nothing answers: all ones, or mhv stops the VM for an unclaimed address.
 */
#include "rt.h"

MHV_GUEST(.name = "hpet", .memory_mib = 8);

#define HPET_BASE 0xfed00000ull
#define IOAPIC_BASE 0xfec00000ull
#define PM_TIMER_PORT 0x608
#define PM_TIMER_HZ 3579545ull

#define REG_CAP 0x000
#define REG_CONFIG 0x010
#define REG_STATUS 0x020
#define REG_COUNTER 0x0f0
#define TCFG(n) (0x100 + 0x20 * (n))
#define TCMP(n) (0x108 + 0x20 * (n))
#define CFG_ENABLE 1u
#define CFG_LEGACY 2u
#define TN_LEVEL (1u << 1)
#define TN_INT_ENB (1u << 2)
#define TN_PERIODIC (1u << 3)
#define TN_PER_CAP (1u << 4)
#define TN_SIZE_CAP (1u << 5)
#define TN_VAL_SET (1u << 6)
#define TN_32MODE (1u << 8)
#define TN_ROUTE(pin) ((uint64_t)(pin) << 9)

#define VEC_ONESHOT 0x40
#define VEC_PERIODIC 0x41
#define VEC_LEVEL 0x42
#define VEC_WRAP 0x43
#define VEC_IRQ0 0x50
#define VEC_IRQ8 0x51

static uint64_t rd64(uint64_t off) { return *(volatile uint64_t *)(HPET_BASE + off); }
static uint32_t rd32(uint64_t off) { return *(volatile uint32_t *)(HPET_BASE + off); }
static void wr64(uint64_t off, uint64_t v) { *(volatile uint64_t *)(HPET_BASE + off) = v; }
static void wr32(uint64_t off, uint32_t v) { *(volatile uint32_t *)(HPET_BASE + off) = v; }

/* I/O APIC redirection entry of `pin`: `vector` to APIC 0, fixed, active high, edge or level. */
static void ioapic_write(uint32_t index, uint32_t v)
{
    *(volatile uint32_t *)IOAPIC_BASE = index;
    *(volatile uint32_t *)(IOAPIC_BASE + 0x10) = v;
}

static void ioapic_route(unsigned pin, uint8_t vector, bool level)
{
    ioapic_write(0x11 + 2 * pin, 0);
    ioapic_write(0x10 + 2 * pin, vector | (level ? 1u << 15 : 0));
}

static void ioapic_mask(unsigned pin)
{
    ioapic_write(0x10 + 2 * pin, 1u << 16);
}

/* --- ACPI ------------------------------------------------------------------------------------ */

static uint8_t sum(const volatile uint8_t *p, uint32_t len)
{
    uint8_t s = 0;
    while (len--)
        s += *p++;
    return s;
}

static const uint8_t *find_rsdp(void)
{
    for (uint64_t a = 0xe0000; a < 0x100000; a += 16)
        if (!memcmp((const void *)a, "RSD PTR ", 8) && sum((const uint8_t *)a, 20) == 0)
            return (const uint8_t *)a;
    return NULL;
}

/* The table with `sig` that the root table (XSDT with 8-byte entries, RSDT with 4) lists. */
static const uint8_t *find_table(const uint8_t *root, unsigned entry_size, const char *sig)
{
    uint32_t len = *(const uint32_t *)(root + 4);
    for (uint32_t off = 36; off + entry_size <= len; off += entry_size) {
        uint64_t a = entry_size == 8 ? *(const uint64_t *)(root + off) : *(const uint32_t *)(root + off);
        if (!memcmp((const void *)a, sig, 4))
            return (const uint8_t *)a;
    }
    return NULL;
}

static void check_tables(bool want)
{
    const uint8_t *rsdp = find_rsdp();
    if (!check(rsdp != NULL, "RSDP found"))
        return;
    const uint8_t *xsdt = (const uint8_t *)*(const uint64_t *)(rsdp + 24);
    const uint8_t *rsdt = (const uint8_t *)(uint64_t)*(const uint32_t *)(rsdp + 16);
    const uint8_t *x = find_table(xsdt, 8, "HPET"), *r = find_table(rsdt, 4, "HPET");
    if (!want) {
        check(x == NULL && r == NULL, "no HPET table in the XSDT or the RSDT");
        return;
    }
    if (!check(x != NULL && x == r, "the XSDT and the RSDT list the same HPET table"))
        return;
    check_eq(*(const uint32_t *)(x + 4), 56, "HPET table length");
    check_eq(sum(x, 56), 0, "HPET table checksum");
    check_eq(x[40], 0, "HPET table base address is in system memory");
    check_eq(*(const uint64_t *)(x + 44), HPET_BASE, "HPET table base address");
    check_eq(*(const uint32_t *)(x + 36), rd32(REG_CAP),
             "HPET table event timer block ID is the capabilities' low half");
    check(*(const uint16_t *)(x + 53) > 0, "HPET table gives a minimum periodic tick");
}

/* --- Time ------------------------------------------------------------------------------------ */

static uint64_t period_fs;

static uint64_t hpet_ticks_per_ms(void)
{
    return 1000000000000ull / period_fs;
}

/* The PM timer, 24 bits, made monotonic over the waits here (each far below its 4.7 s wrap). */
static uint32_t pm_ticks_since(uint32_t start)
{
    return (inl(PM_TIMER_PORT) - start) & 0xffffff;
}

static void halt_until(volatile unsigned *count, unsigned want, uint64_t timeout_us)
{
    uint64_t deadline = tsc_deadline_in_us(timeout_us);
    irq_enable();
    while (*count < want && !tsc_reached(deadline))
        cpu_relax();
    irq_disable();
}

static void spin_us(uint64_t us)
{
    irq_enable();
    delay_us(us);
    irq_disable();
}

static void check_capabilities(void)
{
    uint64_t cap = rd64(REG_CAP);
    period_fs = cap >> 32;
    check(period_fs > 0 && period_fs <= 100000000, "COUNTER_CLK_PERIOD %lu fs is at most 100 ns", period_fs);
    check_eq(cap & 0xff, 1, "REV_ID is 1");
    check_eq((cap >> 8) & 0x1f, 2, "NUM_TIM_CAP: three timers");
    check(cap & (1u << 13), "COUNT_SIZE_CAP: a 64-bit main counter");
    check(cap & (1u << 15), "LEG_RT_CAP: the legacy replacement route");
    check_eq(rd32(REG_CAP + 4), period_fs, "the capabilities' upper half read alone");
    for (unsigned n = 0; n < 3; n++) {
        uint64_t c = rd64(TCFG(n));
        check((c & TN_PER_CAP) && (c & TN_SIZE_CAP) && (c >> 32) != 0,
              "timer %u is periodic- and 64-bit-capable with I/O APIC routes 0x%lx", n, c >> 32);
    }
    if (!period_fs)
        period_fs = 100000000; /* keep the rest of the checks going */
}

static void check_counter(void)
{
    wr64(REG_CONFIG, 0);
    wr64(REG_COUNTER, 0);
    uint64_t a = rd64(REG_COUNTER);
    delay_us(200);
    check_eq(rd64(REG_COUNTER), a, "the main counter stands still while halted");
    wr64(REG_CONFIG, CFG_ENABLE);
    /* 20 ms by the PM timer: the HPET must count 20 ms of its own ticks, within 1%. */
    uint32_t pm0 = inl(PM_TIMER_PORT);
    uint64_t t0 = rdtsc(), h0 = rd64(REG_COUNTER);
    while (pm_ticks_since(pm0) < PM_TIMER_HZ / 50)
        cpu_relax();
    uint64_t h1 = rd64(REG_COUNTER), t1 = rdtsc();
    uint32_t pm = pm_ticks_since(pm0);
    uint64_t hpet_us = (h1 - h0) * period_fs / 1000000000, pm_us = pm * 1000000ull / PM_TIMER_HZ;
    uint64_t tsc_us = tsc_to_us(t1 - t0);
    check(hpet_us * 100 >= pm_us * 99 && hpet_us * 100 <= pm_us * 101,
          "the main counter keeps time with the PM timer: %lu us against %lu us", hpet_us, pm_us);
    check(hpet_us * 100 >= tsc_us * 98 && hpet_us * 100 <= tsc_us * 102,
          "the main counter keeps time with the TSC: %lu us against %lu us", hpet_us, tsc_us);
    /* The two halves agree with a 64-bit read around them. */
    wr64(REG_CONFIG, 0);
    wr64(REG_COUNTER, 0x00000001fffffff0ull);
    wr64(REG_CONFIG, CFG_ENABLE);
    delay_us(50);
    uint32_t hi = rd32(REG_COUNTER + 4), lo = rd32(REG_COUNTER);
    check(hi == 2 && lo < 0x100000, "the counter carries into its upper half (0x%x:%08x)", hi, lo);
}

/* --- Interrupts ------------------------------------------------------------------------------ */

static volatile unsigned taken[256];
static void rtc_ack(void);
static volatile uint64_t counter_at_oneshot, status_at_level;
static volatile bool level_clear;

static void on_irq(struct rt_frame *f)
{
    taken[f->vector]++;
    if (f->vector == VEC_ONESHOT && taken[f->vector] == 1)
        counter_at_oneshot = rd64(REG_COUNTER);
    if (f->vector == VEC_IRQ8)
        rtc_ack();
    if (f->vector == VEC_LEVEL) {
        status_at_level = rd64(REG_STATUS);
        if (level_clear)
            wr64(REG_STATUS, 1u << 1); /* write 1 to clear, before the runtime's EOI */
        level_clear = true;            /* the first time not: the EOI must bring it back */
    }
}

static void check_oneshot_edge(void)
{
    ioapic_route(20, VEC_ONESHOT, false);
    uint64_t cmp = rd64(REG_COUNTER) + 2 * hpet_ticks_per_ms();
    wr64(TCMP(2), cmp);
    wr64(TCFG(2), TN_INT_ENB | TN_ROUTE(20));
    check_eq(rd64(TCFG(2)) >> 9 & 0x1f, 20, "timer 2 takes route 20");
    halt_until(&taken[VEC_ONESHOT], 1, 100000);
    check_eq(taken[VEC_ONESHOT], 1, "one-shot: one edge interrupt on pin 20");
    check(counter_at_oneshot >= cmp, "one-shot: not before the counter reached the comparator (%lu >= %lu)",
          counter_at_oneshot, cmp);
    spin_us(10000);
    check_eq(taken[VEC_ONESHOT], 1, "one-shot: no second interrupt");
    check_eq(rd64(TCMP(2)), cmp, "one-shot: the comparator keeps its value");
    check_eq(rd64(REG_STATUS) & 4, 0, "edge mode sets no status bit");
    wr64(TCFG(2), 0);
    ioapic_mask(20);
}

static void check_periodic(void)
{
    ioapic_route(21, VEC_PERIODIC, false);
    uint64_t period = hpet_ticks_per_ms();
    /* Linux's sequence (2.3.9.2.2): VAL_SET, the first match, then the period. */
    wr64(TCFG(0), TN_INT_ENB | TN_PERIODIC | TN_VAL_SET | TN_ROUTE(21));
    uint64_t first = rd64(REG_COUNTER) + period;
    wr64(TCMP(0), first);
    wr64(TCMP(0), period);
    uint64_t t0 = rdtsc();
    halt_until(&taken[VEC_PERIODIC], 20, 100000);
    uint64_t us = tsc_to_us(rdtsc() - t0), cmp = rd64(TCMP(0));
    check(taken[VEC_PERIODIC] >= 20, "periodic: 20 interrupts on pin 21");
    check(us >= 19000 && us <= 26000, "periodic: 20 interrupts of a 1 ms period took %lu us", us);
    check(cmp > first && (cmp - first) % period == 0 && cmp > rd64(REG_COUNTER) - period,
          "periodic: the comparator moves on by the period");
    wr64(TCFG(0), 0);
    ioapic_mask(21);
}

static void check_level(void)
{
    ioapic_route(22, VEC_LEVEL, true);
    wr64(REG_STATUS, 7);
    wr64(TCFG(1), TN_LEVEL | TN_INT_ENB | TN_ROUTE(22));
    wr64(TCMP(1), rd64(REG_COUNTER) + hpet_ticks_per_ms());
    halt_until(&taken[VEC_LEVEL], 2, 100000);
    spin_us(5000);
    check_eq(status_at_level & 2, 2, "level: Tn_INT_STS is set in the handler");
    check_eq(taken[VEC_LEVEL], 2, "level: delivered again after an EOI with the status set, not after clearing it");
    check_eq(rd64(REG_STATUS) & 2, 0, "level: writing 1 cleared the status bit");
    /* With the interrupt disabled a match still sets the status bit (2.3.8). */
    wr64(TCFG(1), TN_LEVEL | TN_ROUTE(22));
    wr64(TCMP(1), rd64(REG_COUNTER) + hpet_ticks_per_ms() / 10);
    spin_us(1000);
    check_eq(rd64(REG_STATUS) & 2, 2, "level, interrupt disabled: the status bit is set");
    check_eq(taken[VEC_LEVEL], 2, "level, interrupt disabled: no interrupt");
    wr64(REG_STATUS, 2);
    wr64(TCFG(1), 0);
    ioapic_mask(22);
}

static void check_32bit_mode(void)
{
    ioapic_route(23, VEC_WRAP, false);
    wr64(TCFG(2), TN_32MODE | TN_ROUTE(23));
    check_eq(rd64(TCFG(2)) & TN_32MODE, TN_32MODE, "Tn_32MODE_CNF takes");
    wr32(TCMP(2), 0x800);     /* as a 32-bit kernel writes it */
    wr32(TCMP(2) + 4, 0x12345);
    check_eq(rd64(TCMP(2)), 0x800, "32-bit mode: the comparator's upper half reads 0");
    /* Halted just below a wrap of the low half; the match is 0x800 past it, 2^32 ticks before
     * the 64-bit counter itself comes there. */
    wr64(REG_CONFIG, 0);
    wr64(REG_COUNTER, 0x3fffff000ull);
    wr64(TCFG(2), TN_32MODE | TN_INT_ENB | TN_ROUTE(23));
    wr64(REG_CONFIG, CFG_ENABLE);
    halt_until(&taken[VEC_WRAP], 1, 100000);
    check_eq(taken[VEC_WRAP], 1, "32-bit mode: the comparator matches across the low half's wrap");
    check(rd64(REG_COUNTER) >= 0x400000800ull, "32-bit mode: the main counter stays 64 bits wide");
    wr64(TCFG(2), 0);
    ioapic_mask(23);
}

static void rtc_ack(void)
{
    outb(0x70, 0x0c);
    (void)inb(0x71); /* register C read: IRQ 8 goes low and can rise again */
}

/* The PIT's channel 0 at 1 kHz (mode 2) and the CMOS clock's periodic interrupt at 1024 Hz,
 * or both quiet. */
static void legacy_sources(bool on)
{
    if (on) {
        outb(0x43, 0x34);
        outb(0x40, 0xa9); /* 1193: 1 ms */
        outb(0x40, 0x04);
    } else {
        outb(0x43, 0x30); /* mode 0 with no count: idle */
    }
    outb(0x70, 0x0a);
    outb(0x71, 0x26);     /* 32.768 kHz time base, 1024 Hz periodic rate */
    outb(0x70, 0x0b);
    outb(0x71, on ? 0x42 : 0x02); /* PIE, 24-hour */
    rtc_ack();
}

static void check_legacy_replacement(void)
{
    unsigned own_routes = taken[VEC_PERIODIC] + taken[VEC_LEVEL];
    ioapic_route(2, VEC_IRQ0, false);
    ioapic_route(8, VEC_IRQ8, false);
    legacy_sources(true);
    halt_until(&taken[VEC_IRQ0], 3, 100000);
    halt_until(&taken[VEC_IRQ8], 3, 100000);
    check(taken[VEC_IRQ0] >= 3 && taken[VEC_IRQ8] >= 3,
          "without the route: the PIT's IRQ 0 and the CMOS clock's IRQ 8 arrive");

    /* The route comes on while the CMOS clock holds IRQ 8 high (pins masked, register C not
     * read). With timers 0 and 1 quiet, neither the PIT nor the CMOS clock gets through. */
    ioapic_mask(2);
    ioapic_mask(8);
    delay_us(3000);
    wr64(TCFG(0), 0);
    wr64(TCFG(1), 0);
    wr64(REG_CONFIG, CFG_ENABLE | CFG_LEGACY);
    check_eq(rd64(REG_CONFIG), CFG_ENABLE | CFG_LEGACY, "LEG_RT_CNF takes");
    ioapic_route(2, VEC_IRQ0, false);
    ioapic_route(8, VEC_IRQ8, false);
    spin_us(100); /* what the local APIC took in before the route came on is delivered now */
    taken[VEC_IRQ0] = taken[VEC_IRQ8] = 0;
    spin_us(10000);
    check(taken[VEC_IRQ0] == 0 && taken[VEC_IRQ8] == 0,
          "legacy route: the PIT's and the CMOS clock's interrupts are not delivered (%u, %u)", taken[VEC_IRQ0],
          taken[VEC_IRQ8]);

    /* Timer 0 periodic on IRQ 0 (pin 2), timer 1 one-shot on IRQ 8, whatever their routes say. */
    uint64_t period = hpet_ticks_per_ms();
    wr64(TCFG(0), TN_INT_ENB | TN_PERIODIC | TN_VAL_SET | TN_ROUTE(21));
    wr64(TCMP(0), rd64(REG_COUNTER) + period);
    wr64(TCMP(0), period);
    wr64(TCFG(1), TN_INT_ENB | TN_ROUTE(22));
    wr64(TCMP(1), rd64(REG_COUNTER) + 3 * period);
    legacy_sources(false);
    halt_until(&taken[VEC_IRQ0], 10, 100000);
    halt_until(&taken[VEC_IRQ8], 1, 100000);
    spin_us(5000);
    check(taken[VEC_IRQ0] >= 10, "legacy route: timer 0 interrupts on IRQ 0 (I/O APIC pin 2)");
    check_eq(taken[VEC_IRQ8], 1,
             "legacy route: timer 1 interrupts once on IRQ 8, which the CMOS clock held high");
    check_eq(taken[VEC_PERIODIC] + taken[VEC_LEVEL], own_routes, "legacy route: nothing on the timers' own routes");

    /* The route off: the PIT and the CMOS clock are back. */
    wr64(TCFG(0), 0);
    wr64(TCFG(1), 0);
    wr64(REG_CONFIG, CFG_ENABLE);
    legacy_sources(true);
    taken[VEC_IRQ0] = taken[VEC_IRQ8] = 0;
    halt_until(&taken[VEC_IRQ0], 3, 100000);
    halt_until(&taken[VEC_IRQ8], 3, 100000);
    check(taken[VEC_IRQ0] >= 3 && taken[VEC_IRQ8] >= 3,
          "the route off: the PIT's IRQ 0 and the CMOS clock's IRQ 8 are back");
    legacy_sources(false);
    ioapic_mask(2);
    ioapic_mask(8);
}

void guest_main(void)
{
    if (rt_arg(0) == 1) {
        check_tables(false);
        printf("# reading 0xfed00000, where no device is\n");
        uint32_t v = rd32(REG_CAP);
        check_eq(v, 0xffffffff, "0xfed00000 reads all-ones (no HPET)");
        return;
    }
    check_capabilities();
    check_tables(true);
    check_counter();
    for (unsigned v = VEC_ONESHOT; v <= VEC_IRQ8; v++)
        irq_set_handler(v, on_irq);
    check_oneshot_edge();
    check_periodic();
    check_level();
    check_32bit_mode();
    check_legacy_replacement();
    wr64(REG_CONFIG, 0);
}
