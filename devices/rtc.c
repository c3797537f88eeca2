/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The VM's MC146818 CMOS clock and RAM (include/devices/rtc.h). References are to the Motorola
 * MC146818 data sheet: "Address map", "Time, calendar and alarm data modes", "Update cycle",
 * "Register A" (UIP, DV2-DV0, RS3-RS0), "Register B" (SET, PIE, AIE, UIE, SQWE, DM, 24/12,
 * DSE), "Register C" (IRQF, PF, AF, UF), "Register D" (VRT) and "Periodic interrupt". The RAM
 * layout is the IBM PC/AT BIOS's.
 *
 * The clock is never ticked: it is the time at its last (re)start plus the TSC's progress
 * since, and the flags of register C are worked out from the TSC when they are looked at.
 * A timer is needed only while an enabled interrupt is due.
 */
#include "devices/rtc.h"

#include <stddef.h>

#include "arch/x86/cpu.h"
#include "arch/x86/spinlock.h"
#include "arch/x86/tsc.h"
#include "devices/vdev.h"
#include "drivers/cmos_rtc.h"
#include "lib/string.h"
#include "sched/vtimer.h"
#include "vm/irq.h"
#include "vm/platform.h"
#include "vm/vm.h"

#define REG_SECONDS 0x00
#define REG_ALARM_SECONDS 0x01
#define REG_MINUTES 0x02
#define REG_ALARM_MINUTES 0x03
#define REG_HOURS 0x04
#define REG_ALARM_HOURS 0x05
#define REG_WEEKDAY 0x06
#define REG_DAY 0x07
#define REG_MONTH 0x08
#define REG_YEAR 0x09
#define REG_A 0x0a
#define REG_B 0x0b
#define REG_C 0x0c
#define REG_D 0x0d
#define REG_CENTURY 0x32  /* PC convention (IBM PC/AT BIOS); the ACPI FADT's CENTURY says so too */

#define A_UIP 0x80
#define A_DV_RESET 0x60   /* DV2-DV1 = 11: divider chain held in reset */
#define A_RS 0x0f
#define B_SET 0x80
#define B_PIE 0x40
#define B_AIE 0x20
#define B_UIE 0x10
#define B_SQWE 0x08
#define B_BINARY 0x04     /* DM */
#define B_24H 0x02
#define C_IRQF 0x80
#define C_PF 0x40
#define C_AF 0x20
#define C_UF 0x10
#define C_FLAGS 0x70      /* PF, AF, UF: the same bits as PIE, AIE, UIE in register B */
#define D_VRT 0x80

#define IRQ_RTC 8
#define UIP_US 244        /* UIP rises 244 us (tBUC) before each update */

/* --- Clock ----------------------------------------------------------------------------------- */

static bool bcd_mode(const struct mc146818 *c)
{
    return !(c->ram[REG_B] & B_BINARY);
}

static bool h24_mode(const struct mc146818 *c)
{
    return c->ram[REG_B] & B_24H;
}

static bool divider_running(const struct mc146818 *c)
{
    return (c->ram[REG_A] & A_DV_RESET) != A_DV_RESET;
}

static uint64_t running_seconds(const struct mc146818 *c, uint64_t tsc)
{
    return c->base_seconds + (tsc > c->base_tsc ? (tsc - c->base_tsc) / c->tsc_hz : 0);
}

/* The time registers show `seconds` in the format register B selects. */
static void show_time(struct mc146818 *c, uint64_t seconds)
{
    struct rtc_time t;
    bool bcd = bcd_mode(c);
    rtc_time_from_unix(seconds, &t);
    c->ram[REG_SECONDS] = rtc_encode(t.second, bcd);
    c->ram[REG_MINUTES] = rtc_encode(t.minute, bcd);
    c->ram[REG_HOURS] = rtc_encode_hour(t.hour, bcd, h24_mode(c));
    c->ram[REG_WEEKDAY] = rtc_encode(rtc_weekday(seconds), bcd);
    c->ram[REG_DAY] = rtc_encode(t.day, bcd);
    c->ram[REG_MONTH] = rtc_encode(t.month, bcd);
    c->ram[REG_YEAR] = rtc_encode(t.year % 100, bcd);
    c->ram[REG_CENTURY] = rtc_encode(t.year / 100 % 100, bcd);
}

static unsigned field(const struct mc146818 *c, unsigned reg, int low, int high, unsigned otherwise)
{
    int v = rtc_decode(c->ram[reg], bcd_mode(c));
    return v >= low && v <= high ? (unsigned)v : otherwise;
}

/* The time the registers hold (as a guest wrote them); fields out of range read as their
 * lowest value, a century outside 19-99 as the one a two-digit year implies. */
static uint64_t held_time(const struct mc146818 *c)
{
    int hour = rtc_decode_hour(c->ram[REG_HOURS], bcd_mode(c), h24_mode(c));
    unsigned year = field(c, REG_YEAR, 0, 99, 0);
    unsigned century = field(c, REG_CENTURY, 19, 99, year < 70 ? 20 : 19);
    struct rtc_time t = { century * 100 + year, field(c, REG_MONTH, 1, 12, 1), field(c, REG_DAY, 1, 31, 1),
                          hour < 0 ? 0 : (unsigned)hour, field(c, REG_MINUTES, 0, 59, 0), field(c, REG_SECONDS, 0, 59, 0) };
    return rtc_time_to_unix(&t);
}

uint64_t mc146818_seconds(const struct mc146818 *c, uint64_t tsc)
{
    return c->frozen ? held_time(c) : running_seconds(c, tsc);
}

uint64_t rtc_alarm_next(uint64_t after, int hour, int minute, int second)
{
    if (hour > 23 || minute > 59 || second > 59)
        return RTC_NEVER;
    /* Skip whole hours, then whole minutes, that cannot match: a few dozen steps at most. */
    for (uint64_t t = after + 1; t <= after + 86400 + 1;) {
        unsigned sod = (unsigned)(t % 86400), h = sod / 3600, m = sod / 60 % 60, s = sod % 60;
        if (hour >= 0 && (int)h != hour)
            t += 3600 - sod % 3600;
        else if (minute >= 0 && (int)m != minute)
            t += 60 - s;
        else if (second >= 0 && (int)s != second)
            t++;
        else
            return t;
    }
    return RTC_NEVER;
}

/* An alarm register: 11xxxxxx is "don't care" (matches every value); a value that is not a
 * valid one never matches (99). */
static int alarm_field(const struct mc146818 *c, unsigned reg, bool hour)
{
    uint8_t v = c->ram[reg];
    if ((v & 0xc0) == 0xc0)
        return -1;
    int d = hour ? rtc_decode_hour(v, bcd_mode(c), h24_mode(c)) : rtc_decode(v, bcd_mode(c));
    return d < 0 ? 99 : d;
}

static void find_alarm(struct mc146818 *c, uint64_t after)
{
    c->alarm_at = rtc_alarm_next(after, alarm_field(c, REG_ALARM_HOURS, true), alarm_field(c, REG_ALARM_MINUTES, false),
                                 alarm_field(c, REG_ALARM_SECONDS, false));
}

/* The clock runs from `seconds` at `base_tsc`; updates come each second after it. */
static void start_clock(struct mc146818 *c, uint64_t seconds, uint64_t base_tsc)
{
    c->base_seconds = seconds;
    c->base_tsc = base_tsc;
    c->frozen = false;
    find_alarm(c, seconds);
}

/* The time registers hold still (SET, or the divider stopped). */
static void stop_clock(struct mc146818 *c, uint64_t tsc)
{
    if (!c->frozen)
        show_time(c, running_seconds(c, tsc));
    c->frozen = true;
}

static bool update_in_progress(const struct mc146818 *c, uint64_t tsc)
{
    if (c->frozen || tsc < c->base_tsc)
        return false;
    uint64_t into = (tsc - c->base_tsc) % c->tsc_hz;
    return c->tsc_hz - into <= c->tsc_hz * UIP_US / 1000000;
}

/* --- Flags and interrupts -------------------------------------------------------------------- */

/* Register A RS3-RS0 with the 32.768 kHz time base: 0 none, 1 and 2 are 256 and 128 Hz,
 * 3-15 are 8192 Hz down to 2 Hz ("Periodic interrupt rate" table). */
static uint64_t periodic_hz(const struct mc146818 *c)
{
    unsigned rs = c->ram[REG_A] & A_RS;
    return rs == 0 ? 0 : rs == 1 ? 256 : rs == 2 ? 128 : 65536u >> rs;
}

/* Periodic edges since the divider started, at tsc (split so nothing overflows). */
static uint64_t periodic_edges(const struct mc146818 *c, uint64_t tsc, uint64_t rate)
{
    uint64_t d = tsc > c->divider_tsc ? tsc - c->divider_tsc : 0;
    return d / c->tsc_hz * rate + d % c->tsc_hz * rate / c->tsc_hz;
}

static void set_irqf(struct mc146818 *c)
{
    uint8_t flags = c->ram[REG_C] & C_FLAGS;
    c->ram[REG_C] = (uint8_t)(flags | ((flags & c->ram[REG_B]) ? C_IRQF : 0));
}

/* Sets the flags of every event since the last look: UF for an update, AF for an update that
 * matched the alarm, PF for a periodic edge. They stay set until register C is read. */
static void note_events(struct mc146818 *c, uint64_t tsc)
{
    if (tsc > c->checked_tsc) {
        uint8_t flags = 0;
        if (!c->frozen) {
            uint64_t before = running_seconds(c, c->checked_tsc), now = running_seconds(c, tsc);
            if (now > before) {
                flags |= C_UF;
                if (c->alarm_at <= now) {
                    flags |= C_AF;
                    find_alarm(c, now);
                }
            }
        }
        uint64_t rate = periodic_hz(c);
        if (rate && divider_running(c) && periodic_edges(c, tsc, rate) > periodic_edges(c, c->checked_tsc, rate))
            flags |= C_PF;
        c->ram[REG_C] |= flags;
        c->checked_tsc = tsc;
    }
    set_irqf(c);
}

bool mc146818_irq(struct mc146818 *c, uint64_t tsc)
{
    note_events(c, tsc);
    return c->ram[REG_C] & C_IRQF;
}

uint64_t mc146818_next_event(const struct mc146818 *c, uint64_t tsc)
{
    if (c->ram[REG_C] & C_IRQF)
        return 0;
    uint8_t b = c->ram[REG_B];
    uint64_t best = RTC_NEVER, rate = periodic_hz(c), t;
    if ((b & B_PIE) && rate && divider_running(c)) {
        uint64_t e = periodic_edges(c, tsc, rate) + 1;
        t = c->divider_tsc + e / rate * c->tsc_hz + (e % rate * c->tsc_hz + rate - 1) / rate;
        best = t < best ? t : best;
    }
    if (!c->frozen && tsc >= c->base_tsc) {
        if (b & B_UIE) {
            t = c->base_tsc + ((tsc - c->base_tsc) / c->tsc_hz + 1) * c->tsc_hz;
            best = t < best ? t : best;
        }
        if ((b & B_AIE) && c->alarm_at != RTC_NEVER) {
            t = c->base_tsc + (c->alarm_at - c->base_seconds) * c->tsc_hz;
            best = t < best ? t : best;
        }
    }
    return best == RTC_NEVER ? 0 : best;
}

/* --- Registers ------------------------------------------------------------------------------- */

static bool is_time_register(unsigned reg)
{
    return reg == REG_SECONDS || reg == REG_MINUTES || reg == REG_HOURS || (reg >= REG_WEEKDAY && reg <= REG_YEAR) ||
           reg == REG_CENTURY;
}

void mc146818_reset(struct mc146818 *c, uint64_t ticks_per_s, uint64_t seconds, uint64_t tsc)
{
    memset(c, 0, sizeof(*c));
    c->tsc_hz = ticks_per_s ? ticks_per_s : 1;
    c->ram[REG_A] = 0x26; /* DV = 010 (32.768 kHz, running), RS = 0110 (1024 Hz) */
    c->ram[REG_B] = B_24H;
    c->ram[REG_D] = D_VRT;
    c->divider_tsc = tsc;
    c->checked_tsc = tsc;
    start_clock(c, seconds, tsc);
}

void mc146818_reset_pin(struct mc146818 *c, uint64_t tsc)
{
    note_events(c, tsc);
    c->ram[REG_B] &= (uint8_t)~(B_PIE | B_AIE | B_UIE | B_SQWE);
    c->ram[REG_C] = 0;
}

void mc146818_set_bios_data(struct mc146818 *c, uint64_t bytes)
{
    uint64_t kib = bytes >> 10;
    uint64_t ext = kib > 1024 ? kib - 1024 : 0; /* KiB above 1 MiB */
    uint64_t low = bytes < (4ull << 30) ? bytes : 4ull << 30;
    uint64_t above16 = low > (16ull << 20) ? (low - (16ull << 20)) >> 16 : 0;
    uint64_t above4g = bytes > (4ull << 30) ? (bytes - (4ull << 30)) >> 16 : 0;
    if (ext > 0xffff)
        ext = 0xffff;
    if (above16 > 0xffff)
        above16 = 0xffff;
    if (above4g > 0xffffff)
        above4g = 0xffffff;
    c->ram[0x10] = 0x00;    /* diskette drive types: none */
    c->ram[0x12] = 0x00;    /* fixed disk types: none */
    c->ram[0x14] = 0x02;    /* equipment: no diskette, math coprocessor, EGA/VGA display */
    c->ram[0x15] = 0x80;    /* base memory: 640 KiB */
    c->ram[0x16] = 0x02;
    c->ram[0x17] = c->ram[0x30] = (uint8_t)ext;
    c->ram[0x18] = c->ram[0x31] = (uint8_t)(ext >> 8);
    c->ram[0x34] = (uint8_t)above16;
    c->ram[0x35] = (uint8_t)(above16 >> 8);
    c->ram[0x5b] = (uint8_t)above4g;
    c->ram[0x5c] = (uint8_t)(above4g >> 8);
    c->ram[0x5d] = (uint8_t)(above4g >> 16);
    /* The AT BIOS's checksum of bytes 0x10-0x2d, high byte first at 0x2e. */
    unsigned sum = 0;
    for (unsigned i = 0x10; i <= 0x2d; i++)
        sum += c->ram[i];
    c->ram[0x2e] = (uint8_t)(sum >> 8);
    c->ram[0x2f] = (uint8_t)sum;
}

uint8_t mc146818_read(struct mc146818 *c, unsigned reg, uint64_t tsc)
{
    reg &= 0x7f;
    uint8_t v;
    if (is_time_register(reg)) {
        if (!c->frozen)
            show_time(c, running_seconds(c, tsc));
        return c->ram[reg];
    }
    switch (reg) {
    case REG_A:
        return (uint8_t)((c->ram[REG_A] & ~A_UIP) | (update_in_progress(c, tsc) ? A_UIP : 0));
    case REG_C: /* reading C clears it, and with IRQF the IRQ output */
        note_events(c, tsc);
        v = c->ram[REG_C];
        c->ram[REG_C] = 0;
        return v;
    case REG_D: /* VRT: the battery is good, always */
        return D_VRT;
    default:
        return c->ram[reg];
    }
}

static void write_a(struct mc146818 *c, uint8_t value, uint64_t tsc)
{
    bool was = divider_running(c);
    c->ram[REG_A] = value & (uint8_t)~A_UIP; /* UIP is read-only */
    bool is = divider_running(c);
    if (was && !is) {
        stop_clock(c, tsc);
    } else if (!was && is) {
        /* Out of divider reset, "the first update cycle begins one-half second later". */
        c->divider_tsc = tsc;
        if (!(c->ram[REG_B] & B_SET))
            start_clock(c, held_time(c), tsc - (tsc < c->tsc_hz / 2 ? tsc : c->tsc_hz / 2));
    }
}

static void write_b(struct mc146818 *c, uint8_t value, uint64_t tsc)
{
    uint8_t old = c->ram[REG_B];
    if (value & B_SET)
        value &= (uint8_t)~B_UIE; /* SET = 1 clears UIE */
    c->ram[REG_B] = value;
    if (!(old & B_SET) && (value & B_SET)) {
        stop_clock(c, tsc); /* shown in the new format: a guest may switch format and SET at once */
    } else if ((old & B_SET) && !(value & B_SET) && divider_running(c)) {
        start_clock(c, held_time(c), tsc); /* the time as set counts from now */
    } else if (!c->frozen) {
        find_alarm(c, running_seconds(c, tsc)); /* the alarm registers' format may have changed */
    }
}

void mc146818_write(struct mc146818 *c, unsigned reg, uint8_t value, uint64_t tsc)
{
    reg &= 0x7f;
    note_events(c, tsc); /* what happened so far counts under the old settings */
    if (is_time_register(reg)) {
        if (c->frozen) {
            c->ram[reg] = value;
        } else {
            /* Setting one field of a running clock: the others keep counting from now. */
            show_time(c, running_seconds(c, tsc));
            c->ram[reg] = value;
            start_clock(c, held_time(c), tsc);
        }
    } else {
        switch (reg) {
        case REG_A:
            write_a(c, value, tsc);
            break;
        case REG_B:
            write_b(c, value, tsc);
            break;
        case REG_C:
        case REG_D:
            break; /* read-only */
        default:
            c->ram[reg] = value;
            if (!c->frozen && (reg == REG_ALARM_SECONDS || reg == REG_ALARM_MINUTES || reg == REG_ALARM_HOURS))
                find_alarm(c, running_seconds(c, tsc));
            break;
        }
    }
    set_irqf(c); /* the interrupt enables may have changed */
}

/* --- The VM's device ------------------------------------------------------------------------- */

struct vrtc {
    struct spinlock lock;
    struct mc146818 chip;
    struct vm *vm;
    uint8_t index;       /* port 0x70 bits 6-0 */
    bool nmi_masked;     /* port 0x70 bit 7: NMIs masked (no NMI source exists here) */
    bool irq;            /* IRQ 8 as last driven */
    struct vtimer timer;
};

static void fire(struct vtimer *t);

/* Under the lock: drives IRQ 8 from IRQF and points the timer at the next interrupt. IRQ 8
 * is driven under the lock, so two CPUs cannot leave it in the wrong order (lock order: the
 * RTC's, then the interrupt routing's and the timer's). The timer belongs to vCPU 0. */
static void sync(struct vrtc *r, uint64_t tsc)
{
    bool line = mc146818_irq(&r->chip, tsc);
    if (line != r->irq) {
        r->irq = line;
        vm_irq_line(r->vm, IRQ_RTC, line);
    }
    vtimer_set(&r->timer, mc146818_next_event(&r->chip, tsc));
}

static void fire(struct vtimer *t)
{
    struct vrtc *r = t->ctx;
    uint64_t flags = spin_lock_irqsave(&r->lock);
    sync(r, rdtsc());
    spin_unlock_irqrestore(&r->lock, flags);
}

/* Ports 0x70 (index) and 0x71 (data) at any width: only the low byte counts, and a wider
 * access stays on the port it names. The dispatcher holds the lock. */
static uint64_t port_read(struct vcpu *v, void *state, uint64_t port, unsigned size)
{
    (void)v, (void)size;
    struct vrtc *r = state;
    uint64_t tsc = rdtsc();
    uint8_t value;
    if (port == 0x70) {
        /* Write-only on a PC; here it reads back the index and the NMI mask last written. */
        value = (uint8_t)(r->index | (r->nmi_masked ? 0x80 : 0));
    } else {
        value = mc146818_read(&r->chip, r->index, tsc);
        sync(r, tsc);
    }
    return value;
}

static void port_write(struct vcpu *v, void *state, uint64_t port, unsigned size, uint64_t value)
{
    (void)v, (void)size;
    struct vrtc *r = state;
    uint64_t tsc = rdtsc();
    if (port == 0x70) {
        r->index = value & 0x7f;
        r->nmi_masked = value & 0x80;
    } else {
        mc146818_write(&r->chip, r->index, (uint8_t)value, tsc);
        sync(r, tsc);
    }
}

/* A VM restart is a machine reset: the RTC's RESET pin, and the BIOS's POST writing the
 * memory sizes again. The time and the rest of the RAM stay, as the battery keeps them. */
static void reset(struct vm *vm, void *state)
{
    struct vrtc *r = state;
    uint64_t tsc = rdtsc();
    mc146818_reset_pin(&r->chip, tsc);
    mc146818_set_bios_data(&r->chip, vm->mem_size);
    r->index = 0;
    r->nmi_masked = false;
    sync(r, tsc);
}

uint8_t vrtc_shutdown_status(struct vm *vm)
{
    struct vrtc *r = vm->rtc;
    if (!r)
        return 0;
    uint64_t flags = spin_lock_irqsave(&r->lock);
    uint8_t value = r->chip.ram[RTC_SHUTDOWN_STATUS];
    spin_unlock_irqrestore(&r->lock, flags);
    return value;
}

uint64_t vrtc_seconds(struct vm *vm)
{
    struct vrtc *r = vm->rtc;
    if (!r)
        return 0;
    uint64_t flags = spin_lock_irqsave(&r->lock);
    uint64_t seconds = mc146818_seconds(&r->chip, rdtsc());
    spin_unlock_irqrestore(&r->lock, flags);
    return seconds;
}

static void init(struct vm *vm, void *state, uint64_t where, const void *config)
{
    (void)where, (void)config;
    struct vrtc *r = state;
    r->vm = vm;
    vtimer_init(&r->timer, vm_platform_timer_owner(vm), fire, r); /* the platform comes after the vCPUs */
    /* The machine's wall clock at boot, carried forward by the TSC in whole seconds so the
     * VM's updates keep the phase of that reading. */
    uint64_t boot_seconds, boot_tsc, hz = tsc_hz ? tsc_hz : 1, tsc = rdtsc();
    cmos_rtc_boot_time(&boot_seconds, &boot_tsc);
    uint64_t whole = tsc > boot_tsc ? (tsc - boot_tsc) / hz : 0;
    mc146818_reset(&r->chip, hz, boot_seconds + whole, boot_tsc + whole * hz);
    mc146818_set_bios_data(&r->chip, vm->mem_size);
    vm->rtc = r;
}

static const struct vdev_range ranges[] = {
    { VDEV_PORT, 0x70, 2, VDEV_SIZE_ANY, port_read, port_write },
};

static const struct vdev_ops vrtc_ops = {
    .name = "MC146818 CMOS clock",
    .no_memory = "the CMOS clock",
    .state_size = sizeof(struct vrtc),
    .lock = VDEV_LOCK(struct vrtc, lock),
    .ranges = ranges,
    .range_count = sizeof(ranges) / sizeof(ranges[0]),
    .init = init,
    .reset = reset,
};

void vrtc_attach(struct vm *vm)
{
    vdev_attach(vm, &vrtc_ops, 0, NULL);
}
