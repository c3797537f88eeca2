/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The VM's HPET (include/devices/hpet.h). References are to the IA-PC HPET (High Precision
 * Event Timers) Specification 1.0a: 2.3 the register set (2.3.4 capabilities and ID, 2.3.5
 * general configuration, 2.3.6 general interrupt status, 2.3.7 main counter, 2.3.8 timer
 * configuration and capabilities, 2.3.9 comparators and their periodic and one-shot modes),
 * 2.4 interrupt mapping (the legacy replacement route) and 3.2.5 the 32-bit counter modes.
 *
 * The main counter is the TSC scaled to HPET_HZ from the moment it was last enabled or
 * written. A comparator matches when the counter (its low 32 bits in 32-bit mode) passes its
 * value; the matches since the last look are found when the guest looks or when the device
 * timer, armed at the earliest match that would interrupt, fires.
 */
#include "devices/hpet.h"

#include <stddef.h>

#include "arch/x86/cpu.h"
#include "arch/x86/spinlock.h"
#include "arch/x86/tsc.h"
#include "devices/ioapic.h"
#include "devices/vdev.h"
#include "sched/vtimer.h"
#include "vm/irq.h"
#include "vm/platform.h"
#include "vm/vm.h"

/* Writable bits of a timer's configuration (2.3.8): interrupt type and enable, periodic,
 * VAL_SET, 32-bit mode, the route. FSB delivery is not offered (Tn_FSB_INT_DEL_CAP 0), so
 * Tn_FSB_EN_CNF stays 0. */
#define TN_WRITABLE (HPET_TN_LEVEL | HPET_TN_INT_ENB | HPET_TN_PERIODIC | HPET_TN_VAL_SET | HPET_TN_32MODE | \
                     HPET_TN_ROUTE_MASK)
#define TN_CAPS (HPET_TN_PER_INT_CAP | HPET_TN_SIZE_CAP | (uint64_t)HPET_ROUTE_CAP << 32)
#define HOUR_TICKS (HPET_HZ * 3600)

/* --- Time ------------------------------------------------------------------------------------ */

/* floor(d * HPET_HZ / tsc_hz), split so nothing overflows 64 bits. */
static uint64_t ticks_of(const struct hpet *h, uint64_t d)
{
    return d / h->tsc_hz * HPET_HZ + d % h->tsc_hz * HPET_HZ / h->tsc_hz;
}

/* ceil(t * tsc_hz / HPET_HZ) for t up to an hour of ticks: the first TSC delta at which
 * ticks_of reaches t. */
static uint64_t tsc_of(const struct hpet *h, uint64_t t)
{
    return t / HPET_HZ * h->tsc_hz + (t % HPET_HZ * h->tsc_hz + HPET_HZ - 1) / HPET_HZ;
}

uint64_t hpet_counter(const struct hpet *h, uint64_t tsc)
{
    if (!(h->config & HPET_CFG_ENABLE))
        return h->count_base;
    return h->count_base + ticks_of(h, tsc > h->tsc_base ? tsc - h->tsc_base : 0);
}

/* A timer's width: 32 bits in 32-bit mode (3.2.5), else 64. */
static uint64_t width_mask(const struct hpet_timer *t)
{
    return t->config & HPET_TN_32MODE ? 0xffffffffull : ~0ull;
}

/* The counter next equals the comparator 1 + this many ticks after `from` (0 .. 2^width - 1:
 * a comparator equal to `from` matches again only after a full wrap). */
static uint64_t ticks_before_match(const struct hpet_timer *t, uint64_t from)
{
    return (t->cmp - from - 1) & width_mask(t);
}

/* --- Matches --------------------------------------------------------------------------------- */

void hpet_update(struct hpet *h, uint64_t tsc)
{
    if (!(h->config & HPET_CFG_ENABLE))
        return; /* a halted counter matches nothing (2.3.5: ENABLE_CNF 0 halts it) */
    uint64_t now = hpet_counter(h, tsc), elapsed = now - h->seen;
    if (!elapsed)
        return;
    for (unsigned n = 0; n < HPET_TIMERS; n++) {
        struct hpet_timer *t = &h->t[n];
        uint64_t before = ticks_before_match(t, h->seen);
        if (before >= elapsed)
            continue;
        /* A match in (seen, now]. Level: the status bit is set whether or not the interrupt
         * is enabled (2.3.8, Tn_INT_ENB_CNF: "the timer will still operate and generate
         * appropriate status bits"); edge: an interrupt only when enabled, and its status bit
         * is not used (2.3.6). Several matches since the last look make one interrupt. */
        if (t->config & HPET_TN_LEVEL)
            h->status |= 1ull << n;
        else if (t->config & HPET_TN_INT_ENB)
            h->edges |= 1u << n;
        /* Periodic (2.3.9.2.2): each match adds the last value written to the comparator, so
         * it moves past now by whole periods. */
        if ((t->config & HPET_TN_PERIODIC) && t->period) {
            uint64_t later = (elapsed - 1 - before) / t->period; /* matches after the first */
            t->cmp = (t->cmp + (later + 1) * t->period) & width_mask(t);
        }
    }
    h->seen = now;
}

bool hpet_level(const struct hpet *h, unsigned n)
{
    const struct hpet_timer *t = &h->t[n];
    return (h->config & HPET_CFG_ENABLE) && (t->config & HPET_TN_LEVEL) && (t->config & HPET_TN_INT_ENB) &&
           (h->status & (1ull << n));
}

unsigned hpet_take_edges(struct hpet *h)
{
    unsigned e = h->config & HPET_CFG_ENABLE ? h->edges : 0;
    h->edges = 0;
    return e;
}

/* 2.4, LEG_RT_CNF: timer 0 to IRQ 0 (I/O APIC pin 2) and timer 1 to IRQ 8, whatever their
 * route fields say; timer 2 and up as routed. */
unsigned hpet_target(const struct hpet *h, unsigned n)
{
    if ((h->config & HPET_CFG_LEG_RT) && n < 2)
        return HPET_TO_ISA | (n ? 8 : 0);
    return (unsigned)((h->t[n].config & HPET_TN_ROUTE_MASK) >> HPET_TN_ROUTE_SHIFT);
}

uint64_t hpet_next_deadline(const struct hpet *h, uint64_t tsc)
{
    if (!(h->config & HPET_CFG_ENABLE))
        return 0;
    uint64_t now = hpet_counter(h, tsc), best = 0;
    for (unsigned n = 0; n < HPET_TIMERS; n++) {
        const struct hpet_timer *t = &h->t[n];
        if (!(t->config & HPET_TN_INT_ENB) || hpet_level(h, n))
            continue; /* no interrupt, or its line stays asserted until the status is cleared */
        uint64_t before = ticks_before_match(t, now);
        uint64_t d = before < HOUR_TICKS ? before + 1 : HOUR_TICKS;
        if ((t->config & HPET_TN_PERIODIC) && t->period < HPET_MIN_PERIOD && d < HPET_MIN_PERIOD)
            d = HPET_MIN_PERIOD;
        if (!best || d < best)
            best = d;
    }
    if (!best)
        return 0;
    uint64_t deadline = h->tsc_base + tsc_of(h, now + best - h->count_base);
    return deadline ? deadline : 1;
}

/* --- Registers ------------------------------------------------------------------------------- */

void hpet_reset(struct hpet *h, uint64_t ticks_per_s, uint64_t tsc)
{
    *h = (struct hpet){ .tsc_hz = ticks_per_s ? ticks_per_s : 1, .tsc_base = tsc };
    for (unsigned n = 0; n < HPET_TIMERS; n++)
        h->t[n] = (struct hpet_timer){ .config = TN_CAPS, .cmp = ~0ull };
}

static uint64_t capabilities(void)
{
    return HPET_CAP_REV_ID | (uint64_t)(HPET_TIMERS - 1) << 8 | HPET_CAP_COUNT_SIZE | HPET_CAP_LEG_RT |
           HPET_CAP_VENDOR_ID << 16 | HPET_PERIOD_FS << 32;
}

/* The 64-bit register at `reg` (8-byte aligned) as it reads now. */
static uint64_t reg_read(const struct hpet *h, unsigned reg)
{
    switch (reg) {
    case HPET_REG_CAP: return capabilities();
    case HPET_REG_CONFIG: return h->config;
    case HPET_REG_STATUS: return h->status;
    case HPET_REG_COUNTER: return h->seen; /* hpet_update has brought it to now */
    default:
        break;
    }
    if (reg < HPET_REG_TIMER(0) || reg >= HPET_REG_TIMER(HPET_TIMERS))
        return 0;
    const struct hpet_timer *t = &h->t[(reg - HPET_REG_TIMER(0)) / 0x20];
    switch ((reg - HPET_REG_TIMER(0)) % 0x20) {
    case 0: return t->config;
    case HPET_TIMER_CMP: return t->cmp;
    default: return 0; /* the FSB route register: no FSB delivery; and the reserved quadword */
    }
}

/* Changes the main counter's value or running state at `tsc`, matches up to then done. */
static void set_counter(struct hpet *h, uint64_t value, uint64_t tsc)
{
    h->count_base = h->seen = value;
    h->tsc_base = tsc;
}

static void write_timer_config(struct hpet_timer *t, uint64_t value)
{
    uint64_t old = t->config, v = (old & ~TN_WRITABLE) | (value & TN_WRITABLE);
    /* A route the timer cannot take is not taken: reading back shows it (2.3.8, bits 13:9). */
    unsigned route = (unsigned)((v & HPET_TN_ROUTE_MASK) >> HPET_TN_ROUTE_SHIFT);
    if (!(HPET_ROUTE_CAP & (1u << route)))
        v = (v & ~HPET_TN_ROUTE_MASK) | (old & HPET_TN_ROUTE_MASK);
    t->config = v;
    /* Forced to 32 bits, the comparator is a 32-bit one (3.2.5): its upper half reads 0. */
    t->cmp &= width_mask(t);
    t->period &= width_mask(t);
}

/* 2.3.9.2.2: in one-shot mode, or with Tn_VAL_SET_CNF, a write sets the comparator; in
 * periodic mode every write is also the increment added at each match ("the last value
 * written"). VAL_SET is used up by the write that reaches the comparator's top byte (bit 31 in
 * 32-bit mode, bit 63 otherwise), so a 64-bit value may come as two 32-bit halves. */
static void write_comparator(struct hpet_timer *t, uint64_t value, uint64_t bytes)
{
    uint64_t mask = width_mask(t);
    bool periodic = t->config & HPET_TN_PERIODIC;
    if (!periodic || (t->config & HPET_TN_VAL_SET))
        t->cmp = ((t->cmp & ~bytes) | (value & bytes)) & mask;
    if (periodic)
        t->period = ((t->period & ~bytes) | (value & bytes)) & mask;
    if (bytes & (mask ^ (mask >> 8)))
        t->config &= ~HPET_TN_VAL_SET;
}

/* A write of the bytes `bytes` of the 64-bit register at `reg` (value in place). */
static void reg_write(struct hpet *h, unsigned reg, uint64_t value, uint64_t bytes, uint64_t tsc)
{
    switch (reg) {
    case HPET_REG_CONFIG: {
        uint64_t v = ((h->config & ~bytes) | (value & bytes)) & (HPET_CFG_ENABLE | HPET_CFG_LEG_RT);
        if ((v ^ h->config) & HPET_CFG_ENABLE)
            set_counter(h, hpet_counter(h, tsc), tsc); /* halted where it was, or running from there */
        h->config = v;
        return;
    }
    case HPET_REG_STATUS:
        h->status &= ~(value & bytes); /* write 1 to clear (2.3.6) */
        return;
    case HPET_REG_COUNTER:
        /* 2.3.7 asks software to write it halted; written running, it jumps, and the
         * comparators count from the new value without matching what was skipped. */
        set_counter(h, (h->seen & ~bytes) | (value & bytes), tsc);
        return;
    default:
        break;
    }
    if (reg < HPET_REG_TIMER(0) || reg >= HPET_REG_TIMER(HPET_TIMERS))
        return; /* the capabilities and reserved registers are read-only */
    struct hpet_timer *t = &h->t[(reg - HPET_REG_TIMER(0)) / 0x20];
    switch ((reg - HPET_REG_TIMER(0)) % 0x20) {
    case 0:
        write_timer_config(t, (t->config & ~bytes) | (value & bytes));
        break;
    case HPET_TIMER_CMP:
        write_comparator(t, value, bytes);
        break;
    default:
        break;
    }
}

/* An access may cover part of a register or run into the next one: each 8-byte register it
 * touches is read, or written with the bytes it covers. */
uint64_t hpet_read(struct hpet *h, unsigned offset, unsigned size, uint64_t tsc)
{
    hpet_update(h, tsc);
    uint64_t value = 0;
    for (unsigned i = 0; i < size;) {
        unsigned at = offset + i, reg = at & ~7u, lane = at & 7, n = 8 - lane < size - i ? 8 - lane : size - i;
        uint64_t v = at < HPET_MMIO_SIZE ? reg_read(h, reg) >> (8 * lane) : 0;
        if (n < 8)
            v &= (1ull << (8 * n)) - 1;
        value |= v << (8 * i);
        i += n;
    }
    return value;
}

void hpet_write(struct hpet *h, unsigned offset, unsigned size, uint64_t value, uint64_t tsc)
{
    hpet_update(h, tsc);
    for (unsigned i = 0; i < size;) {
        unsigned at = offset + i, reg = at & ~7u, lane = at & 7, n = 8 - lane < size - i ? 8 - lane : size - i;
        uint64_t bytes = (n < 8 ? (1ull << (8 * n)) - 1 : ~0ull) << (8 * lane);
        if (at < HPET_MMIO_SIZE)
            reg_write(h, reg, (value >> (8 * i)) << (8 * lane), bytes, tsc);
        i += n;
    }
}

/* --- The VM's device ------------------------------------------------------------------------- */

#define NOT_DRIVEN 0xffffu

struct vhpet {
    struct spinlock lock;
    struct hpet chip;
    struct vm *vm;
    struct vtimer timer;
    unsigned driven[HPET_TIMERS]; /* where timer n's level output is asserted, or NOT_DRIVEN */
    volatile bool legacy;         /* LEG_RT_CNF with ENABLE_CNF, for vhpet_owns_irq */
};

static void drive(struct vm *vm, unsigned target, bool high)
{
    if (target & HPET_TO_ISA)
        vm_irq_line_hpet(vm, target & 0xff, high);
    else
        vioapic_set_pin(vm, target, high);
}

/* Under the lock: the outputs follow the chip, and the timer its next match. Lines are driven
 * under the lock, as the CMOS clock drives IRQ 8, so two CPUs cannot leave one in the wrong
 * order (lock order: the HPET's, then the interrupt routing's and the timer's). */
static void sync(struct vhpet *p, uint64_t tsc)
{
    struct hpet *h = &p->chip;
    hpet_update(h, tsc);
    /* Legacy replacement takes IRQ 0 and 8 while the HPET is enabled (2.3.5: ENABLE_CNF 0
     * disables "all timer interrupts", the legacy route's included). */
    bool legacy = (h->config & (HPET_CFG_ENABLE | HPET_CFG_LEG_RT)) == (HPET_CFG_ENABLE | HPET_CFG_LEG_RT);
    if (legacy && !p->legacy) {
        /* The controllers now see the HPET's outputs on IRQ 0 and 8, low until it drives
         * them, not a level the PIT or the CMOS clock held (which would hide its edges). */
        vm_irq_line_hpet(p->vm, 0, false);
        vm_irq_line_hpet(p->vm, 8, false);
    }
    p->legacy = legacy;
    unsigned edges = hpet_take_edges(h);
    for (unsigned n = 0; n < HPET_TIMERS; n++) {
        unsigned target = hpet_target(h, n), want = hpet_level(h, n) ? target : NOT_DRIVEN;
        if (p->driven[n] != want) {
            if (p->driven[n] != NOT_DRIVEN)
                drive(p->vm, p->driven[n], false);
            if (want != NOT_DRIVEN)
                drive(p->vm, want, true);
            p->driven[n] = want;
        }
        if (edges & (1u << n)) {
            drive(p->vm, target, true);
            drive(p->vm, target, false);
        }
    }
    vtimer_set(&p->timer, hpet_next_deadline(h, tsc));
}

static void fire(struct vtimer *t)
{
    struct vhpet *p = t->ctx;
    uint64_t flags = spin_lock_irqsave(&p->lock);
    sync(p, rdtsc());
    spin_unlock_irqrestore(&p->lock, flags);
}

/* The dispatcher holds the lock; its sync hook (vsync) brings the outputs up to date. */
static uint64_t mmio_read(struct vcpu *v, void *state, uint64_t offset, unsigned size)
{
    (void)v;
    struct vhpet *p = state;
    return hpet_read(&p->chip, (unsigned)offset, size, rdtsc());
}

static void mmio_write(struct vcpu *v, void *state, uint64_t offset, unsigned size, uint64_t value)
{
    (void)v;
    struct vhpet *p = state;
    hpet_write(&p->chip, (unsigned)offset, size, value, rdtsc());
}

static unsigned vsync(void *state, enum vdev_event event)
{
    (void)event; /* a read may set a status bit too (a match found on the way) */
    sync(state, rdtsc());
    return 0;
}

/* A machine reset: back to power-on, every line the HPET held lowered (vsync follows). */
static void reset(struct vm *vm, void *state)
{
    (void)vm;
    struct vhpet *p = state;
    hpet_reset(&p->chip, tsc_hz, rdtsc());
}

static void init(struct vm *vm, void *state, uint64_t where, const void *config)
{
    (void)where, (void)config;
    struct vhpet *p = state;
    p->vm = vm;
    for (unsigned n = 0; n < HPET_TIMERS; n++)
        p->driven[n] = NOT_DRIVEN;
    vtimer_init(&p->timer, vm_platform_timer_owner(vm), fire, p); /* the platform comes after the vCPUs */
    hpet_reset(&p->chip, tsc_hz, rdtsc());
    vm->hpet = p;
}

bool vhpet_owns_irq(struct vm *vm, unsigned irq)
{
    struct vhpet *p = vm->hpet;
    return p && p->legacy && (irq == 0 || irq == 8);
}

static const struct vdev_range ranges[] = {
    { VDEV_MMIO, PLATFORM_HPET_BASE, HPET_MMIO_SIZE, VDEV_SIZE_ANY, mmio_read, mmio_write },
};

static const struct vdev_ops vhpet_ops = {
    .name = "HPET",
    .no_memory = "the HPET",
    .state_size = sizeof(struct vhpet),
    .lock = VDEV_LOCK(struct vhpet, lock),
    .ranges = ranges,
    .range_count = sizeof(ranges) / sizeof(ranges[0]),
    .init = init,
    .reset = reset,
    .sync = vsync,
};

void vhpet_attach(struct vm *vm)
{
    vdev_attach(vm, &vhpet_ops, 0, NULL);
}
