/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The VM's 8254 PIT (include/devices/pit.h). References are to the Intel 8254 data sheet
 * ("8254 Programmable Interval Timer", order number 231164): "Control word format", "Counter
 * latch command", "Read-back command", "Status byte", "Modes of operation" (modes 0-5) and
 * "Gate". Port 0x61 is the PC/AT's system control port B (PIIX4 data sheet, "NMI status and
 * control register").
 *
 * No counter ticks: each channel remembers when it started, and its count and OUT are worked
 * out from the TSC at the moment the guest looks. Only channel 0's interrupts need a timer.
 */
#include "devices/pit.h"

#include <stddef.h>

#include "arch/x86/cpu.h"
#include "arch/x86/spinlock.h"
#include "arch/x86/tsc.h"
#include "devices/vdev.h"
#include "sched/vtimer.h"
#include "vm/irq.h"
#include "vm/platform.h"
#include "vm/vm.h"

/* PC wiring: channel 0 is IRQ 0, channel 2's gate and OUT are port 0x61 bits 0 and 5; the
 * gates of channels 0 and 1 are tied high. */
#define PORT61_GATE2 0x01
#define PORT61_WRITABLE 0x0f  /* gate 2, speaker data, parity and channel check enables */
#define PORT61_REFRESH 0x10   /* toggles with every DRAM refresh request, each 15.085 us */
#define PORT61_OUT2 0x20
#define REFRESH_CLOCKS 18     /* 15.085 us of PIT clocks */

/* --- Counter arithmetic --------------------------------------------------------------------- */

/* Modes 2 and 3 with a count of 1 are illegal (data sheet, mode 2 and mode 3); treat as 2. */
static uint32_t period(uint32_t reload)
{
    return reload < 2 ? 2 : reload;
}

uint32_t pit_count_at(unsigned mode, uint32_t reload, uint64_t elapsed, bool bcd)
{
    uint32_t modulus = bcd ? 10000 : 65536;
    uint32_t n = period(reload), phase, half, v;
    switch (mode) {
    case 2: /* rate generator: N, N-1, ..., 1, then reloads N */
        v = n - (uint32_t)(elapsed % n);
        break;
    case 3: /* square wave: counts down by two, twice per period: N, N-2, ... in each half
             * (an odd N spends one more clock in the high half) */
        phase = (uint32_t)(elapsed % n);
        half = (n + 1) / 2;
        v = n - 2 * (phase < half ? phase : phase - half);
        break;
    default: /* 0, 1, 4, 5: one pass down from N; after terminal count the counter wraps
              * and keeps counting (0xffff or 9999 next) */
        v = (uint32_t)((reload + modulus - elapsed % modulus) % modulus);
        break;
    }
    return v % modulus;
}

bool pit_out_at(unsigned mode, uint32_t reload, uint64_t elapsed)
{
    uint32_t n = period(reload);
    switch (mode) {
    case 0: /* interrupt on terminal count: low until the count reaches 0 */
    case 1: /* hardware one-shot: low from the trigger to terminal count */
        return elapsed >= reload;
    case 2: /* low for the one clock the count is 1 */
        return elapsed % n != n - 1;
    case 3: /* high for the first half of each period */
        return elapsed % n < (n + 1) / 2;
    default: /* 4, 5 strobes: low for one clock at terminal count */
        return elapsed != reload;
    }
}

uint64_t pit_next_edge(unsigned mode, uint32_t reload, uint64_t elapsed)
{
    uint64_t n = period(reload);
    switch (mode) {
    case 0:
    case 1:
        return elapsed < reload ? reload : PIT_NEVER;
    case 2:
    case 3: /* OUT rises as each period begins again */
        return (elapsed / n + 1) * n;
    default:
        return elapsed < (uint64_t)reload + 1 ? (uint64_t)reload + 1 : PIT_NEVER;
    }
}

uint64_t pit_next_irq(unsigned mode, uint32_t reload, uint64_t delivered, uint64_t now)
{
    uint64_t earliest = delivered + PIT_MIN_IRQ_TICKS;
    if (earliest < now)
        earliest = now;
    return pit_next_edge(mode, reload, earliest - 1);
}

/* --- Time ------------------------------------------------------------------------------------ */

/* PIT clocks since the chip's epoch at TSC value tsc. Split so nothing overflows 64 bits. */
static uint64_t pit_time(const struct pit8254 *p, uint64_t tsc)
{
    uint64_t d = tsc > p->epoch ? tsc - p->epoch : 0;
    return d / p->tsc_hz * PIT_HZ + d % p->tsc_hz * PIT_HZ / p->tsc_hz;
}

/* The first TSC value at which pit_time reaches t. */
static uint64_t tsc_at(const struct pit8254 *p, uint64_t t)
{
    return p->epoch + t / PIT_HZ * p->tsc_hz + (t % PIT_HZ * p->tsc_hz + PIT_HZ - 1) / PIT_HZ;
}

/* --- One channel ----------------------------------------------------------------------------- */

static bool gate_triggered_mode(unsigned mode)
{
    return mode == 1 || mode == 5;
}

static uint64_t elapsed(const struct pit_channel *c, uint64_t now)
{
    if (!c->loaded || (gate_triggered_mode(c->mode) && !c->triggered))
        return 0;
    if (c->paused)
        return c->held;
    return now - c->start;
}

static uint16_t to_bcd(uint32_t v)
{
    return (uint16_t)((v / 1000 % 10) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | v % 10);
}

static uint32_t from_bcd(uint16_t v)
{
    return (v >> 12 & 0xf) * 1000 + (v >> 8 & 0xf) * 100 + (v >> 4 & 0xf) * 10 + (v & 0xf);
}

/* The count as the guest reads it (BCD digits when counting in BCD). Undefined on the chip
 * between a control word and the count: 0 here. */
static uint16_t count_now(const struct pit_channel *c, uint64_t now)
{
    if (!c->loaded)
        return 0;
    uint32_t v = pit_count_at(c->mode, c->reload, elapsed(c, now), c->bcd);
    return c->bcd ? to_bcd(v) : (uint16_t)v;
}

static bool out_now(const struct pit_channel *c, uint64_t now)
{
    if (!c->loaded)
        return c->mode != 0; /* after the control word: low in mode 0, high in the others */
    if (gate_triggered_mode(c->mode) && !c->triggered)
        return true;
    if ((c->mode == 2 || c->mode == 3) && !c->gate)
        return true; /* a low gate forces OUT high at once in modes 2 and 3 */
    return pit_out_at(c->mode, c->reload, elapsed(c, now));
}

static void schedule_irq(struct pit_channel *c)
{
    if (!c->loaded || (gate_triggered_mode(c->mode) && !c->triggered))
        c->irq_edge = PIT_NEVER;
    else
        c->irq_edge = pit_next_edge(c->mode, c->reload, 0);
}

/* The count is complete: the counting element takes it (at once: the chip does so on the next
 * clock, 0.8 us later). In modes 2 and 3 the data sheet loads a new count only at the end of
 * the current period; it starts over at once here, which only shifts the phase. */
static void load(struct pit_channel *c, uint16_t raw, uint64_t now)
{
    uint32_t n = c->bcd ? from_bcd(raw) : raw;
    c->reload = n ? n : c->bcd ? 10000 : 65536; /* 0 is the largest count */
    c->loaded = true;
    c->null_count = false;
    c->triggered = false;
    c->start = now;
    c->held = 0;
    c->paused = !c->gate && !gate_triggered_mode(c->mode); /* waits for the gate */
    schedule_irq(c);
}

static void set_gate(struct pit_channel *c, bool gate, uint64_t now)
{
    if (gate == c->gate)
        return;
    c->gate = gate;
    if (!c->loaded)
        return;
    if (gate) {
        if (gate_triggered_mode(c->mode)) {
            c->triggered = true; /* modes 1, 5: the rising edge (re)starts the count */
            c->start = now;
        } else if (c->mode == 2 || c->mode == 3) {
            c->start = now; /* the rising edge reloads the counter */
        } else {
            c->start = now - c->held; /* modes 0, 4: counting goes on where it stopped */
        }
        c->paused = false;
        schedule_irq(c);
    } else if (!gate_triggered_mode(c->mode)) {
        c->held = now - c->start; /* a low gate holds the count */
        c->paused = true;
    }
}

static void write_control(struct pit8254 *p, uint8_t value, uint64_t now)
{
    unsigned sc = value >> 6, rw = (value >> 4) & 3;
    if (sc == 3) {
        /* Read-back: D5 = 0 latches the counts, D4 = 0 the status, of each counter whose bit
         * (D1 counter 0, D2 counter 1, D3 counter 2) is set. A second latch before the first
         * is read is ignored. */
        for (unsigned i = 0; i < 3; i++) {
            struct pit_channel *c = &p->ch[i];
            if (!(value & (2u << i)))
                continue;
            if (!(value & 0x20) && !c->count_latched) {
                c->latched_count = count_now(c, now);
                c->count_latched = true;
            }
            if (!(value & 0x10) && !c->status_latched) {
                c->status = (uint8_t)(out_now(c, now) << 7 | c->null_count << 6 | c->access << 4 | c->mode << 1 | c->bcd);
                c->status_latched = true;
            }
        }
        return;
    }
    struct pit_channel *c = &p->ch[sc];
    if (rw == 0) { /* counter latch command */
        if (!c->count_latched) {
            c->latched_count = count_now(c, now);
            c->count_latched = true;
        }
        return;
    }
    /* A control word resets the counter's control logic: no count, latches dropped, the
     * flip-flops at the LSB. Modes 6 and 7 are modes 2 and 3 (M2 is "don't care" there). BCD
     * counting is kept (0..9999). */
    unsigned mode = (value >> 1) & 7;
    c->mode = (uint8_t)(mode > 5 ? mode - 4 : mode);
    c->access = (uint8_t)rw;
    c->bcd = value & 1;
    c->loaded = false;
    c->null_count = true;
    c->triggered = false;
    c->paused = false;
    c->write_msb_next = false;
    c->read_msb_next = false;
    c->count_latched = false;
    c->status_latched = false;
    c->irq_edge = PIT_NEVER;
}

static void write_count(struct pit_channel *c, uint8_t value, uint64_t now)
{
    switch (c->access) {
    case 1:
        load(c, value, now);
        break;
    case 2:
        load(c, (uint16_t)(value << 8), now);
        break;
    default:
        if (!c->write_msb_next) {
            c->write_lsb = value;
            c->write_msb_next = true;
            c->null_count = true;
            if (c->mode == 0) { /* mode 0: "writing the first byte disables counting" */
                c->loaded = false;
                c->irq_edge = PIT_NEVER;
            }
        } else {
            c->write_msb_next = false;
            load(c, (uint16_t)(c->write_lsb | value << 8), now);
        }
        break;
    }
}

static uint8_t read_count(struct pit_channel *c, uint64_t now)
{
    if (c->status_latched) { /* a latched status is read before a latched count */
        c->status_latched = false;
        return c->status;
    }
    uint16_t v = c->count_latched ? c->latched_count : count_now(c, now);
    bool msb;
    switch (c->access) {
    case 1: msb = false; break;
    case 2: msb = true; break;
    default:
        msb = c->read_msb_next;
        c->read_msb_next = !msb;
        break;
    }
    if (c->count_latched && (c->access != 3 || msb))
        c->count_latched = false; /* the whole latched count has been read */
    return msb ? (uint8_t)(v >> 8) : (uint8_t)v;
}

/* --- The chip -------------------------------------------------------------------------------- */

void pit8254_reset(struct pit8254 *p, uint64_t ticks_per_s, uint64_t tsc)
{
    *p = (struct pit8254){ .tsc_hz = ticks_per_s ? ticks_per_s : 1, .epoch = tsc };
    for (unsigned i = 0; i < 3; i++) {
        p->ch[i].access = 3;
        p->ch[i].gate = i != 2;
        p->ch[i].irq_edge = PIT_NEVER;
    }
}

void pit8254_write(struct pit8254 *p, unsigned offset, uint8_t value, uint64_t tsc)
{
    uint64_t now = pit_time(p, tsc);
    if (offset == 3)
        write_control(p, value, now);
    else if (offset < 3)
        write_count(&p->ch[offset], value, now);
}

uint8_t pit8254_read(struct pit8254 *p, unsigned offset, uint64_t tsc)
{
    if (offset >= 3)
        return 0xff; /* the control word register cannot be read */
    return read_count(&p->ch[offset], pit_time(p, tsc));
}

void pit8254_write_port61(struct pit8254 *p, uint8_t value, uint64_t tsc)
{
    p->port61 = value & PORT61_WRITABLE;
    set_gate(&p->ch[2], value & PORT61_GATE2, pit_time(p, tsc));
}

uint8_t pit8254_read_port61(struct pit8254 *p, uint64_t tsc)
{
    uint64_t now = pit_time(p, tsc);
    uint8_t v = p->port61;
    if ((now / REFRESH_CLOCKS) & 1)
        v |= PORT61_REFRESH;
    if (out_now(&p->ch[2], now))
        v |= PORT61_OUT2;
    return v; /* bits 6, 7 (IOCHK, SERR NMI sources): never */
}

uint64_t pit8254_irq_deadline(const struct pit8254 *p)
{
    const struct pit_channel *c = &p->ch[0];
    if (c->irq_edge == PIT_NEVER || !c->loaded || c->paused)
        return 0;
    uint64_t t = tsc_at(p, c->start + c->irq_edge);
    return t ? t : 1;
}

bool pit8254_irq_due(struct pit8254 *p, uint64_t tsc)
{
    struct pit_channel *c = &p->ch[0];
    if (c->irq_edge == PIT_NEVER || !c->loaded || c->paused)
        return false;
    uint64_t e = elapsed(c, pit_time(p, tsc));
    if (e < c->irq_edge)
        return false;
    c->irq_edge = pit_next_irq(c->mode, c->reload, c->irq_edge, e);
    return true;
}

/* --- The VM's device ------------------------------------------------------------------------- */

struct vpit {
    struct spinlock lock;
    struct pit8254 chip;
    struct vm *vm;
    struct vtimer timer;
};

static void fire(struct vtimer *t);

/* Under the lock: points the timer (vCPU 0's) at channel 0's next interrupt. fire() may
 * re-arm it, as include/sched/vtimer.h allows. */
static void rearm(struct vpit *p)
{
    vtimer_set(&p->timer, pit8254_irq_deadline(&p->chip));
}

/* Channel 0's OUT rose: one edge on IRQ 0. A timer that fired late delivers one interrupt and
 * moves on to the next period boundary after now (pit_next_irq). */
static void fire(struct vtimer *t)
{
    struct vpit *p = t->ctx;
    uint64_t flags = spin_lock_irqsave(&p->lock);
    bool due = pit8254_irq_due(&p->chip, rdtsc());
    rearm(p);
    spin_unlock_irqrestore(&p->lock, flags);
    if (due)
        vm_irq_pulse(p->vm, 0);
}

/* Byte registers: the dispatcher makes a wider access a byte access to each port in turn. */
static uint64_t port_read(struct vcpu *v, void *state, uint64_t port, unsigned size)
{
    (void)v, (void)size;
    struct vpit *p = state;
    uint64_t now = rdtsc();
    return port == 0x61 ? pit8254_read_port61(&p->chip, now) : pit8254_read(&p->chip, (unsigned)port - 0x40, now);
}

static void port_write(struct vcpu *v, void *state, uint64_t port, unsigned size, uint64_t value)
{
    (void)v, (void)size;
    struct vpit *p = state;
    uint64_t now = rdtsc();
    if (port == 0x61)
        pit8254_write_port61(&p->chip, (uint8_t)value, now);
    else
        pit8254_write(&p->chip, (unsigned)port - 0x40, (uint8_t)value, now);
}

/* After a write or a reset, under the lock: the timer follows channel 0 (reads change nothing
 * it depends on). */
static unsigned sync(void *state, enum vdev_event event)
{
    if (event != VDEV_READ)
        rearm(state);
    return 0;
}

static void reset(struct vm *vm, void *state)
{
    (void)vm;
    struct vpit *p = state;
    pit8254_reset(&p->chip, tsc_hz, rdtsc());
}

static void init(struct vm *vm, void *state, uint64_t where, const void *config)
{
    (void)where, (void)config;
    struct vpit *p = state;
    p->vm = vm;
    vtimer_init(&p->timer, vm_platform_timer_owner(vm), fire, p); /* the platform comes after the vCPUs */
    pit8254_reset(&p->chip, tsc_hz, rdtsc());
    vm->pit = p;
}

static const struct vdev_range ranges[] = {
    { VDEV_PORT, 0x40, 4, VDEV_SIZE_1, port_read, port_write },
    { VDEV_PORT, 0x61, 1, VDEV_SIZE_1, port_read, port_write },
};

static const struct vdev_ops vpit_ops = {
    .name = "8254 PIT",
    .no_memory = "the 8254 PIT",
    .state_size = sizeof(struct vpit),
    .lock = VDEV_LOCK(struct vpit, lock),
    .ranges = ranges,
    .range_count = sizeof(ranges) / sizeof(ranges[0]),
    .init = init,
    .reset = reset,
    .sync = sync,
};

void vpit_attach(struct vm *vm)
{
    vdev_attach(vm, &vpit_ops, 0, NULL);
}
