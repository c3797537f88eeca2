/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The machine's CMOS real-time clock (include/drivers/cmos_rtc.h). References are to the
 * Motorola MC146818 data sheet: "Address map", "Time, calendar and alarm data modes",
 * "Register A" (UIP), "Register B" (DM, 24/12) and "Update cycle".
 */
#include "drivers/cmos_rtc.h"

#include "arch/x86/cpu.h"
#include "arch/x86/io.h"
#include "arch/x86/spinlock.h"
#include "kernel/log.h"

#define CMOS_INDEX 0x70 /* bit 7 would mask NMIs: mhv keeps them enabled */
#define CMOS_DATA 0x71
#define REG_A 0x0a
#define REG_B 0x0b
#define REG_CENTURY 0x32
#define A_UIP 0x80
#define B_24H 0x02
#define B_BINARY 0x04
/* An update cycle keeps UIP set for at most 244 + 1984 us; a clock that never clears it (or a
 * missing one, reading 0xff) must not hang the boot. */
#define UIP_POLLS 2000000u
#define READ_TRIES 10
#define FALLBACK_TIME 946684800ull /* 2000-01-01 00:00:00 */

/* --- Calendar ------------------------------------------------------------------------------- */

static bool leap(unsigned year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static unsigned days_in_month(unsigned year, unsigned month)
{
    static const uint8_t days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return month == 2 && leap(year) ? 29 : days[month - 1];
}

uint64_t rtc_time_to_unix(const struct rtc_time *t)
{
    if (t->year < 1970)
        return 0;
    uint64_t days = 0;
    for (unsigned y = 1970; y < t->year; y++)
        days += leap(y) ? 366 : 365;
    unsigned month = t->month >= 1 && t->month <= 12 ? t->month : 1;
    for (unsigned m = 1; m < month; m++)
        days += days_in_month(t->year, m);
    days += t->day ? t->day - 1 : 0;
    return days * 86400 + (uint64_t)t->hour * 3600 + (uint64_t)t->minute * 60 + t->second;
}

void rtc_time_from_unix(uint64_t seconds, struct rtc_time *t)
{
    uint64_t days = seconds / 86400;
    unsigned rest = (unsigned)(seconds % 86400);
    t->hour = rest / 3600;
    t->minute = rest / 60 % 60;
    t->second = rest % 60;
    unsigned year = 1970;
    while (days >= (leap(year) ? 366u : 365u)) {
        days -= leap(year) ? 366 : 365;
        year++;
    }
    unsigned month = 1;
    while (days >= days_in_month(year, month)) {
        days -= days_in_month(year, month);
        month++;
    }
    t->year = year;
    t->month = month;
    t->day = (unsigned)days + 1;
}

unsigned rtc_weekday(uint64_t seconds)
{
    return (unsigned)((seconds / 86400 + 4) % 7) + 1; /* 1970-01-01 was a Thursday (5) */
}

uint8_t rtc_encode(unsigned value, bool bcd)
{
    return bcd ? (uint8_t)((value / 10 % 10) << 4 | value % 10) : (uint8_t)value;
}

int rtc_decode(uint8_t reg, bool bcd)
{
    if (!bcd)
        return reg;
    if ((reg >> 4) > 9 || (reg & 0xf) > 9)
        return -1;
    return (reg >> 4) * 10 + (reg & 0xf);
}

uint8_t rtc_encode_hour(unsigned hour, bool bcd, bool h24)
{
    if (h24)
        return rtc_encode(hour, bcd);
    unsigned h12 = hour % 12 ? hour % 12 : 12;
    return (uint8_t)(rtc_encode(h12, bcd) | (hour >= 12 ? 0x80 : 0));
}

int rtc_decode_hour(uint8_t reg, bool bcd, bool h24)
{
    if (h24) {
        int h = rtc_decode(reg, bcd);
        return h >= 0 && h <= 23 ? h : -1;
    }
    int h = rtc_decode(reg & 0x7f, bcd);
    if (h < 1 || h > 12)
        return -1;
    return h % 12 + (reg & 0x80 ? 12 : 0);
}

/* --- The machine's clock -------------------------------------------------------------------- */

static struct spinlock cmos_lock = SPINLOCK_INIT;
static bool boot_time_known;
static uint64_t boot_seconds, boot_tsc;

static uint8_t cmos_read(uint8_t reg)
{
    outb(CMOS_INDEX, reg);
    return inb(CMOS_DATA);
}

static bool wait_no_update(void)
{
    for (uint32_t i = 0; i < UIP_POLLS; i++)
        if (!(cmos_read(REG_A) & A_UIP))
            return true;
    return false;
}

struct raw_time {
    uint8_t second, minute, hour, day, month, year, century, b;
};

static void read_raw(struct raw_time *r)
{
    r->second = cmos_read(0x00);
    r->minute = cmos_read(0x02);
    r->hour = cmos_read(0x04);
    r->day = cmos_read(0x07);
    r->month = cmos_read(0x08);
    r->year = cmos_read(0x09);
    r->century = cmos_read(REG_CENTURY);
    r->b = cmos_read(REG_B);
}

static bool same(const struct raw_time *a, const struct raw_time *b)
{
    return a->second == b->second && a->minute == b->minute && a->hour == b->hour && a->day == b->day &&
           a->month == b->month && a->year == b->year && a->century == b->century && a->b == b->b;
}

int cmos_rtc_read(struct rtc_time *t)
{
    struct raw_time a, b;
    bool stable = false;
    uint64_t flags = spin_lock_irqsave(&cmos_lock);
    /* Registers read outside an update are consistent ("Update cycle"); reading all of them
     * twice, each time after UIP was seen clear, catches an update that began in between. */
    for (int i = 0; i < READ_TRIES && !stable; i++) {
        if (!wait_no_update())
            break;
        read_raw(&a);
        if (!wait_no_update())
            break;
        read_raw(&b);
        stable = same(&a, &b);
    }
    spin_unlock_irqrestore(&cmos_lock, flags);
    if (!stable)
        return -1;
    bool bcd = !(b.b & B_BINARY), h24 = b.b & B_24H;
    int second = rtc_decode(b.second, bcd), minute = rtc_decode(b.minute, bcd);
    int hour = rtc_decode_hour(b.hour, bcd, h24), day = rtc_decode(b.day, bcd);
    int month = rtc_decode(b.month, bcd), year = rtc_decode(b.year, bcd), century = rtc_decode(b.century, bcd);
    if (second < 0 || second > 59 || minute < 0 || minute > 59 || hour < 0 || day < 1 || day > 31 || month < 1 ||
        month > 12 || year < 0 || year > 99)
        return -1;
    if (century < 19 || century > 21)
        century = 20;
    *t = (struct rtc_time){ (unsigned)(century * 100 + year), (unsigned)month, (unsigned)day,
                            (unsigned)hour, (unsigned)minute, (unsigned)second };
    return 0;
}

void cmos_rtc_init(void)
{
    struct rtc_time t;
    uint64_t flags = spin_lock_irqsave(&cmos_lock);
    bool known = boot_time_known;
    spin_unlock_irqrestore(&cmos_lock, flags);
    if (known)
        return;
    uint64_t seconds = FALLBACK_TIME;
    if (cmos_rtc_read(&t) == 0) {
        seconds = rtc_time_to_unix(&t);
        log_info("rtc: %04u-%02u-%02u %02u:%02u:%02u from the CMOS clock; the VMs' clocks start from it", t.year,
                 t.month, t.day, t.hour, t.minute, t.second);
    } else {
        log_warn("rtc: the CMOS clock cannot be read; the VMs' clocks start at 2000-01-01 00:00:00");
    }
    uint64_t tsc = rdtsc();
    flags = spin_lock_irqsave(&cmos_lock);
    if (!boot_time_known) {
        boot_seconds = seconds;
        boot_tsc = tsc;
        boot_time_known = true;
    }
    spin_unlock_irqrestore(&cmos_lock, flags);
}

void cmos_rtc_boot_time(uint64_t *unix_seconds, uint64_t *tsc)
{
    cmos_rtc_init();
    uint64_t flags = spin_lock_irqsave(&cmos_lock);
    *unix_seconds = boot_seconds;
    *tsc = boot_tsc;
    spin_unlock_irqrestore(&cmos_lock, flags);
}
