/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The machine's own MC146818-compatible CMOS real-time clock (ports 0x70/0x71), read once at
 * boot for the wall-clock time every VM's clock starts from; and the calendar arithmetic the
 * VMs' clocks share (Motorola MC146818 data sheet, "Time, calendar and alarm data modes").
 * "Unix seconds" here count from 1970-01-01 00:00:00 in whatever zone the clock keeps (a PC's
 * RTC usually holds local time): no time zone is ever applied.
 */
#ifndef MHV_DRIVERS_CMOS_RTC_H
#define MHV_DRIVERS_CMOS_RTC_H

#include <stdbool.h>
#include <stdint.h>

struct rtc_time {
    unsigned year;      /* e.g. 2025 */
    unsigned month;     /* 1-12 */
    unsigned day;       /* 1-31 */
    unsigned hour;      /* 0-23 */
    unsigned minute, second;
};

/* Reads the clock: waits for no update in progress, reads twice until both readings agree,
 * and converts from BCD and 12-hour mode as register B says. The century is register 0x32
 * (the PC's), taken as 20 when it does not hold 19-21. 0, or -1 when no clock answers or it
 * never reads the same twice. */
int cmos_rtc_read(struct rtc_time *t);

/* Calendar: Gregorian, years 1970-9999. rtc_time_to_unix normalises out-of-range days
 * (31 February is 3 March); years before 1970 give 0. */
uint64_t rtc_time_to_unix(const struct rtc_time *t);
void rtc_time_from_unix(uint64_t seconds, struct rtc_time *t);
/* Day of the week as the clock's register 6 counts it: 1 Sunday .. 7 Saturday. */
unsigned rtc_weekday(uint64_t seconds);

/* One register value in BCD or binary (register B DM), and back: -1 when the byte is not a
 * valid value of that form (a BCD digit above 9). */
uint8_t rtc_encode(unsigned value, bool bcd);
int rtc_decode(uint8_t reg, bool bcd);
/* The hour register: 0-23 in 24-hour mode; 12-hour mode (register B bit 1 clear) holds 1-12
 * with bit 7 set for PM (00:xx is 12 AM, 12:xx is 12 PM). decode: -1 when invalid. */
uint8_t rtc_encode_hour(unsigned hour, bool bcd, bool h24);
int rtc_decode_hour(uint8_t reg, bool bcd, bool h24);

/* The wall clock at boot: reads the RTC and notes the TSC at that moment (logs the time).
 * kernel/main.c calls it once, after tsc_init(). */
void cmos_rtc_init(void);
/* The time cmos_rtc_init read and the TSC value it was read at (reads the clock first if
 * cmos_rtc_init has not run). Without a readable clock: 2000-01-01 00:00:00. */
void cmos_rtc_boot_time(uint64_t *unix_seconds, uint64_t *tsc);

#endif
