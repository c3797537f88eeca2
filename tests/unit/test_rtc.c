/* SPDX-License-Identifier: BSD-2-Clause */
// sources: devices/rtc.c devices/vdev.c drivers/cmos_rtc.c kernel/log.c lib/format.c tests/unit/fake_vm.c tests/unit/fake_vtimer.c
/* The CMOS clock: calendar and register encodings, then the MC146818 chip with made-up TSC
 * values (1 MHz, so 244 us of UIP is 244 ticks): time registers in each format, UIP, SET,
 * register C's flags and the interrupt schedule, the divider, the alarm, the RAM. (The VM glue
 * reads the machine's clock through port I/O, which a host test cannot do: the bochs_legacy
 * boot test covers it.) */
#include "stubs.h"
#include "fake_vtimer.h"

#include <stdlib.h>
#include <string.h>

#include "devices/rtc.h"
#include "drivers/cmos_rtc.h"
#include "sched/vtimer.h"
#include "vm/irq.h"
#include "vm/platform.h"
#include "vm/vm.h"

/* --- What devices/rtc.c needs of the rest of mhv (unused here: the glue is not driven) ----- */

uint64_t tsc_hz;

void vm_irq_line(struct vm *v, unsigned irq, bool high)
{
    (void)v, (void)irq, (void)high;
}

/* --- Calendar and encodings ------------------------------------------------------------------ */

static void check_date(uint64_t seconds, unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s)
{
    struct rtc_time t;
    rtc_time_from_unix(seconds, &t);
    assert_int_equal(t.year, y);
    assert_int_equal(t.month, mo);
    assert_int_equal(t.day, d);
    assert_int_equal(t.hour, h);
    assert_int_equal(t.minute, mi);
    assert_int_equal(t.second, s);
    assert_int_equal(rtc_time_to_unix(&t), seconds);
}

static void test_unix_time_and_dates(void **state)
{
    (void)state;
    check_date(0, 1970, 1, 1, 0, 0, 0);
    check_date(951782400, 2000, 2, 29, 0, 0, 0);    /* 2000 is a leap year (divisible by 400) */
    check_date(1709208000, 2024, 2, 29, 12, 0, 0);
    check_date(1748781296, 2025, 6, 1, 12, 34, 56);
    check_date(2147483648ull, 2038, 1, 19, 3, 14, 8);
    check_date(4102444799ull, 2099, 12, 31, 23, 59, 59);
    check_date(4107542400ull, 2100, 3, 1, 0, 0, 0);  /* 2100 is not: no 29 February */
    struct rtc_time feb29_2100 = { 2100, 2, 29, 0, 0, 0 };
    assert_int_equal(rtc_time_to_unix(&feb29_2100), 4107542400ull); /* normalised */
    struct rtc_time before = { 1969, 12, 31, 23, 59, 59 };
    assert_int_equal(rtc_time_to_unix(&before), 0);
    /* Every day from 1970 to 2100 converts both ways and the days follow each other. */
    struct rtc_time prev;
    rtc_time_from_unix(0, &prev);
    for (uint64_t s = 86400; s < 4107542400ull + 86400 * 400; s += 86400) {
        struct rtc_time t;
        rtc_time_from_unix(s + 3723, &t);
        assert_int_equal(rtc_time_to_unix(&t), s + 3723);
        assert_int_equal(t.hour * 3600 + t.minute * 60 + t.second, 3723);
        bool next_day = t.year == prev.year && t.month == prev.month && t.day == prev.day + 1;
        bool next_month = t.year == prev.year && t.month == prev.month + 1 && t.day == 1;
        bool next_year = t.year == prev.year + 1 && t.month == 1 && t.day == 1 && prev.month == 12 && prev.day == 31;
        assert_true(next_day || next_month || next_year);
        prev = t;
    }
}

static void test_weekday(void **state)
{
    (void)state;
    assert_int_equal(rtc_weekday(0), 5);            /* Thursday */
    assert_int_equal(rtc_weekday(946684800), 7);    /* 2000-01-01, Saturday */
    assert_int_equal(rtc_weekday(951782400), 3);    /* 2000-02-29, Tuesday */
    assert_int_equal(rtc_weekday(1748781296), 1);   /* 2025-06-01, Sunday */
}

static void test_bcd_and_binary(void **state)
{
    (void)state;
    assert_int_equal(rtc_encode(59, true), 0x59);
    assert_int_equal(rtc_encode(59, false), 59);
    assert_int_equal(rtc_encode(7, true), 0x07);
    assert_int_equal(rtc_decode(0x59, true), 59);
    assert_int_equal(rtc_decode(0x99, true), 99);
    assert_int_equal(rtc_decode(0x5a, true), -1);
    assert_int_equal(rtc_decode(0xa0, true), -1);
    assert_int_equal(rtc_decode(0x5a, false), 0x5a);
    for (unsigned v = 0; v < 100; v++)
        assert_int_equal(rtc_decode(rtc_encode(v, true), true), v);
}

static void test_twelve_hour_mode(void **state)
{
    (void)state;
    assert_int_equal(rtc_encode_hour(0, true, false), 0x12);  /* 12 AM */
    assert_int_equal(rtc_encode_hour(1, true, false), 0x01);
    assert_int_equal(rtc_encode_hour(11, true, false), 0x11);
    assert_int_equal(rtc_encode_hour(12, true, false), 0x92);  /* 12 PM */
    assert_int_equal(rtc_encode_hour(13, true, false), 0x81);
    assert_int_equal(rtc_encode_hour(23, true, false), 0x91);
    assert_int_equal(rtc_encode_hour(0, false, false), 0x0c);
    assert_int_equal(rtc_encode_hour(23, false, false), 0x8b);
    assert_int_equal(rtc_encode_hour(23, true, true), 0x23);
    for (unsigned h = 0; h < 24; h++) {
        assert_int_equal(rtc_decode_hour(rtc_encode_hour(h, true, false), true, false), h);
        assert_int_equal(rtc_decode_hour(rtc_encode_hour(h, false, false), false, false), h);
        assert_int_equal(rtc_decode_hour(rtc_encode_hour(h, true, true), true, true), h);
    }
    assert_int_equal(rtc_decode_hour(0x00, true, false), -1); /* 12-hour mode has no hour 0 */
    assert_int_equal(rtc_decode_hour(0x24, true, true), -1);
}

static void test_alarm_next(void **state)
{
    (void)state;
    uint64_t day = 1748736000; /* 2025-06-01 00:00:00 */
    assert_int_equal(rtc_alarm_next(day, -1, -1, -1), day + 1);
    assert_int_equal(rtc_alarm_next(day + 10, -1, -1, 30), day + 30);
    assert_int_equal(rtc_alarm_next(day + 30, -1, -1, 30), day + 90);
    assert_int_equal(rtc_alarm_next(day + 3600, 6, 30, 0), day + 6 * 3600 + 1800);
    assert_int_equal(rtc_alarm_next(day + 7 * 3600, 6, 30, 0), day + 86400 + 6 * 3600 + 1800); /* tomorrow */
    assert_int_equal(rtc_alarm_next(day, 12, -1, 5), day + 12 * 3600 + 5);
    assert_int_equal(rtc_alarm_next(day, 25, 0, 0), RTC_NEVER);
    assert_int_equal(rtc_alarm_next(day, -1, 99, -1), RTC_NEVER);
}

/* --- The chip --------------------------------------------------------------------------------- */

#define HZ 1000000ull /* TSC ticks per second here */
#define T0 5000000ull
#define NOON 1748781296ull /* 2025-06-01 12:34:56, a Sunday */

static struct mc146818 rtc;

static uint64_t at_ms(uint64_t ms)
{
    return T0 + ms * 1000;
}

static uint8_t rd(unsigned reg, uint64_t tsc)
{
    return mc146818_read(&rtc, reg, tsc);
}

static int chip_setup(void **state)
{
    (void)state;
    mc146818_reset(&rtc, HZ, NOON, T0);
    return 0;
}

static void test_time_registers(void **state)
{
    (void)state;
    assert_int_equal(rd(0x00, T0), 0x56);
    assert_int_equal(rd(0x02, T0), 0x34);
    assert_int_equal(rd(0x04, T0), 0x12);
    assert_int_equal(rd(0x06, T0), 0x01);
    assert_int_equal(rd(0x07, T0), 0x01);
    assert_int_equal(rd(0x08, T0), 0x06);
    assert_int_equal(rd(0x09, T0), 0x25);
    assert_int_equal(rd(0x32, T0), 0x20);
    assert_int_equal(rd(0x00, at_ms(999)), 0x56);
    assert_int_equal(rd(0x00, at_ms(1000)), 0x57);
    assert_int_equal(rd(0x02, at_ms(4000)), 0x35);
    assert_int_equal(rd(0x0a, T0), 0x26);
    assert_int_equal(rd(0x0b, T0), 0x02);
    assert_int_equal(rd(0x0d, T0), 0x80);
}

static void test_binary_and_12_hour_formats(void **state)
{
    (void)state;
    mc146818_write(&rtc, 0x0b, 0x06, T0); /* binary, 24-hour */
    assert_int_equal(rd(0x00, T0), 56);
    assert_int_equal(rd(0x09, T0), 25);
    assert_int_equal(rd(0x32, T0), 20);
    mc146818_write(&rtc, 0x0b, 0x00, T0); /* BCD, 12-hour */
    assert_int_equal(rd(0x04, T0), 0x92);
    mc146818_write(&rtc, 0x0b, 0x04, T0); /* binary, 12-hour */
    assert_int_equal(rd(0x04, T0), 0x8c);
}

static void test_uip_before_each_update(void **state)
{
    (void)state;
    assert_int_equal(rd(0x0a, at_ms(500)) & 0x80, 0);
    assert_int_equal(rd(0x0a, T0 + 999800) & 0x80, 0x80); /* within 244 us of the update */
    assert_int_equal(rd(0x00, T0 + 999800), 0x56);
    assert_int_equal(rd(0x0a, T0 + 1000000) & 0x80, 0);  /* the update is done */
    assert_int_equal(rd(0x00, T0 + 1000000), 0x57);
}

static void test_set_freezes_and_sets_the_time(void **state)
{
    (void)state;
    mc146818_write(&rtc, 0x0b, 0x82, at_ms(300)); /* SET */
    assert_int_equal(rd(0x0a, T0 + 999900) & 0x80, 0); /* no update, no UIP */
    assert_int_equal(rd(0x00, at_ms(5000)), 0x56);
    mc146818_write(&rtc, 0x09, 0x30, at_ms(5000));
    mc146818_write(&rtc, 0x08, 0x12, at_ms(5000));
    mc146818_write(&rtc, 0x07, 0x31, at_ms(5000));
    mc146818_write(&rtc, 0x04, 0x23, at_ms(5000));
    mc146818_write(&rtc, 0x02, 0x59, at_ms(5000));
    mc146818_write(&rtc, 0x00, 0x58, at_ms(5000));
    assert_int_equal(rd(0x00, at_ms(9000)), 0x58);
    mc146818_write(&rtc, 0x0b, 0x02, at_ms(10000)); /* run from 2030-12-31 23:59:58 */
    assert_int_equal(rd(0x00, at_ms(10999)), 0x58);
    assert_int_equal(rd(0x00, at_ms(12000)), 0x00);
    assert_int_equal(rd(0x09, at_ms(12000)), 0x31);
    assert_int_equal(rd(0x08, at_ms(12000)), 0x01);
    assert_int_equal(rd(0x07, at_ms(12000)), 0x01);
    assert_int_equal(rd(0x32, at_ms(12000)), 0x20);
    assert_int_equal(mc146818_seconds(&rtc, at_ms(12000)), 1924992000ull); /* 2031-01-01 */
}

static void test_century_rolls_over(void **state)
{
    (void)state;
    mc146818_reset(&rtc, HZ, 4102444799ull, T0); /* 2099-12-31 23:59:59 */
    assert_int_equal(rd(0x32, T0), 0x20);
    assert_int_equal(rd(0x09, at_ms(1000)), 0x00);
    assert_int_equal(rd(0x32, at_ms(1000)), 0x21);
}

static void test_writing_a_field_of_a_running_clock(void **state)
{
    (void)state;
    mc146818_write(&rtc, 0x02, 0x00, at_ms(2000)); /* minutes := 0 */
    assert_int_equal(rd(0x02, at_ms(2000)), 0x00);
    assert_int_equal(rd(0x00, at_ms(2000)), 0x58);
    assert_int_equal(rd(0x04, at_ms(2000)), 0x12);
}

static void test_register_c_flags(void **state)
{
    (void)state;
    assert_int_equal(rd(0x0c, at_ms(100)), 0x40); /* the 1024 Hz periodic flag, no interrupt */
    assert_int_equal(rd(0x0c, at_ms(100)), 0x00); /* read clears */
    assert_int_equal(rd(0x0c, at_ms(1000)) & 0x10, 0x10); /* an update ended */
    assert_int_equal(rd(0x0c, at_ms(1001)) & 0x10, 0x00);
    mc146818_write(&rtc, 0x0a, 0x20, at_ms(1001)); /* no periodic rate */
    rd(0x0c, at_ms(1001));
    assert_int_equal(rd(0x0c, at_ms(1500)), 0x00);
}

static void test_update_interrupt(void **state)
{
    (void)state;
    mc146818_write(&rtc, 0x0a, 0x20, T0);
    mc146818_write(&rtc, 0x0b, 0x12, at_ms(100)); /* UIE */
    assert_false(mc146818_irq(&rtc, at_ms(200)));
    assert_int_equal(mc146818_next_event(&rtc, at_ms(200)), at_ms(1000));
    assert_true(mc146818_irq(&rtc, at_ms(1000)));
    assert_int_equal(mc146818_next_event(&rtc, at_ms(1000)), 0); /* held until C is read */
    assert_true(mc146818_irq(&rtc, at_ms(5000)));
    assert_int_equal(rd(0x0c, at_ms(5000)), 0x90);
    assert_false(mc146818_irq(&rtc, at_ms(5000)));
    assert_int_equal(mc146818_next_event(&rtc, at_ms(5000)), at_ms(6000));
    mc146818_write(&rtc, 0x0b, 0x92, at_ms(5500)); /* SET clears UIE */
    assert_int_equal(rd(0x0b, at_ms(5500)), 0x82);
}

static void test_periodic_interrupt(void **state)
{
    (void)state;
    mc146818_write(&rtc, 0x0a, 0x2f, T0);         /* 2 Hz */
    mc146818_write(&rtc, 0x0b, 0x42, T0);         /* PIE */
    assert_int_equal(mc146818_next_event(&rtc, at_ms(10)), at_ms(500));
    assert_false(mc146818_irq(&rtc, at_ms(499)));
    assert_true(mc146818_irq(&rtc, at_ms(500)));
    assert_int_equal(rd(0x0c, at_ms(600)), 0xc0);
    assert_int_equal(mc146818_next_event(&rtc, at_ms(600)), at_ms(1000));
    mc146818_write(&rtc, 0x0a, 0x23, at_ms(600)); /* 8192 Hz: 122.07 us */
    uint64_t next = mc146818_next_event(&rtc, at_ms(600));
    assert_true(next > at_ms(600) && next <= at_ms(600) + 123);
}

static void test_alarm_interrupt(void **state)
{
    (void)state;
    mc146818_write(&rtc, 0x0a, 0x20, T0);
    mc146818_write(&rtc, 0x05, 0x12, T0);
    mc146818_write(&rtc, 0x03, 0x35, T0);
    mc146818_write(&rtc, 0x01, 0xc0, T0); /* 12:35:xx: every second of that minute */
    mc146818_write(&rtc, 0x0b, 0x22, T0); /* AIE */
    assert_int_equal(mc146818_next_event(&rtc, T0), at_ms(4000)); /* 12:35:00 */
    assert_false(mc146818_irq(&rtc, at_ms(3999)));
    assert_true(mc146818_irq(&rtc, at_ms(4000)));
    assert_int_equal(rd(0x0c, at_ms(4000)), 0xb0); /* IRQF, AF, UF */
    assert_int_equal(mc146818_next_event(&rtc, at_ms(4000)), at_ms(5000)); /* 12:35:01 */
    mc146818_write(&rtc, 0x01, 0x30, at_ms(4000));
    assert_int_equal(mc146818_next_event(&rtc, at_ms(4000)), at_ms(34000)); /* 12:35:30 */
}

static void test_divider_reset(void **state)
{
    (void)state;
    mc146818_write(&rtc, 0x0a, 0x76, at_ms(300)); /* DV = 111: divider held */
    rd(0x0c, at_ms(300)); /* the periodic flags from before */
    assert_int_equal(rd(0x00, at_ms(3000)), 0x56);
    assert_int_equal(rd(0x0c, at_ms(3000)) & 0x50, 0); /* no updates, no periodic flags */
    mc146818_write(&rtc, 0x0a, 0x26, at_ms(3000));
    assert_int_equal(rd(0x00, at_ms(3499)), 0x56);
    assert_int_equal(rd(0x00, at_ms(3500)), 0x57); /* the first update half a second later */
}

static void test_ram_and_bios_data(void **state)
{
    (void)state;
    mc146818_set_bios_data(&rtc, 256ull << 20);
    assert_int_equal(rd(0x15, T0) | rd(0x16, T0) << 8, 640);
    assert_int_equal(rd(0x17, T0) | rd(0x18, T0) << 8, 0xffff);
    assert_int_equal(rd(0x30, T0) | rd(0x31, T0) << 8, 0xffff);
    assert_int_equal(rd(0x34, T0) | rd(0x35, T0) << 8, (256 - 16) * 16);
    assert_int_equal(rd(0x10, T0), 0);
    assert_int_equal(rd(0x14, T0), 0x02);
    unsigned sum = 0;
    for (unsigned i = 0x10; i <= 0x2d; i++)
        sum += rd(i, T0);
    assert_int_equal(rd(0x2e, T0) << 8 | rd(0x2f, T0), sum);
    mc146818_set_bios_data(&rtc, 32ull << 20);
    assert_int_equal(rd(0x17, T0) | rd(0x18, T0) << 8, 31 * 1024);
    assert_int_equal(rd(0x34, T0) | rd(0x35, T0) << 8, 16 * 16);
    mc146818_write(&rtc, 0x40, 0xa5, T0);
    assert_int_equal(rd(0x40, T0), 0xa5);
    assert_int_equal(rd(0xc0, T0), 0xa5); /* the index has 7 bits */
    mc146818_write(&rtc, 0x0d, 0x00, T0);
    assert_int_equal(rd(0x0d, T0), 0x80);
}

static void test_reset_pin(void **state)
{
    (void)state;
    mc146818_write(&rtc, 0x0b, 0x7a, T0);
    assert_true(mc146818_irq(&rtc, at_ms(1000)));
    mc146818_reset_pin(&rtc, at_ms(1000));
    assert_int_equal(rd(0x0b, at_ms(1000)), 0x02);
    assert_false(mc146818_irq(&rtc, at_ms(1000)));
    assert_int_equal(rd(0x00, at_ms(1000)), 0x57); /* the time goes on */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unix_time_and_dates),
        cmocka_unit_test(test_weekday),
        cmocka_unit_test(test_bcd_and_binary),
        cmocka_unit_test(test_twelve_hour_mode),
        cmocka_unit_test(test_alarm_next),
        cmocka_unit_test_setup(test_time_registers, chip_setup),
        cmocka_unit_test_setup(test_binary_and_12_hour_formats, chip_setup),
        cmocka_unit_test_setup(test_uip_before_each_update, chip_setup),
        cmocka_unit_test_setup(test_set_freezes_and_sets_the_time, chip_setup),
        cmocka_unit_test_setup(test_century_rolls_over, chip_setup),
        cmocka_unit_test_setup(test_writing_a_field_of_a_running_clock, chip_setup),
        cmocka_unit_test_setup(test_register_c_flags, chip_setup),
        cmocka_unit_test_setup(test_update_interrupt, chip_setup),
        cmocka_unit_test_setup(test_periodic_interrupt, chip_setup),
        cmocka_unit_test_setup(test_alarm_interrupt, chip_setup),
        cmocka_unit_test_setup(test_divider_reset, chip_setup),
        cmocka_unit_test_setup(test_ram_and_bios_data, chip_setup),
        cmocka_unit_test_setup(test_reset_pin, chip_setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
