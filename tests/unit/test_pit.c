/* SPDX-License-Identifier: BSD-2-Clause */
// sources: devices/pit.c devices/vdev.c kernel/log.c lib/format.c tests/unit/fake_vm.c tests/unit/fake_vtimer.c
/* The 8254: counter arithmetic per mode, then the chip through its ports with made-up TSC
 * values (10 TSC ticks per PIT clock, so times are exact), then channel 0's interrupts through
 * the VM glue with a fake device timer. */
#include "stubs.h"
#include "fake_vtimer.h"

#include <stdlib.h>
#include <string.h>

#include "arch/x86/cpu.h"
#include "devices/pit.h"
#include "sched/vtimer.h"
#include "vm/irq.h"
#include "vm/platform.h"
#include "vm/vm.h"

/* --- What devices/pit.c needs of the rest of mhv -------------------------------------------- */

uint64_t tsc_hz;
static struct vm vm;
static unsigned irq0_rises, irq0_falls;

void vm_irq_line(struct vm *v, unsigned irq, bool high)
{
    assert_ptr_equal(v, &vm);
    assert_int_equal(irq, 0);
    if (high)
        irq0_rises++;
    else
        irq0_falls++;
}

/* --- Counter arithmetic ---------------------------------------------------------------------- */

static void test_mode2_counts_down_and_reloads(void **state)
{
    (void)state;
    assert_int_equal(pit_count_at(2, 100, 0, false), 100);
    assert_int_equal(pit_count_at(2, 100, 1, false), 99);
    assert_int_equal(pit_count_at(2, 100, 99, false), 1);
    assert_int_equal(pit_count_at(2, 100, 100, false), 100);
    assert_int_equal(pit_count_at(2, 65536, 0, false), 0); /* 65536 reads as 0 */
    assert_int_equal(pit_count_at(2, 65536, 1, false), 65535);
    assert_true(pit_out_at(2, 100, 98));
    assert_false(pit_out_at(2, 100, 99)); /* low while the count is 1 */
    assert_true(pit_out_at(2, 100, 100));
}

static void test_mode0_one_shot(void **state)
{
    (void)state;
    assert_int_equal(pit_count_at(0, 100, 50, false), 50);
    assert_int_equal(pit_count_at(0, 100, 100, false), 0);
    assert_int_equal(pit_count_at(0, 100, 101, false), 65535); /* wraps and keeps counting */
    assert_int_equal(pit_count_at(0, 100, 101, true), 9999);
    assert_false(pit_out_at(0, 100, 99));
    assert_true(pit_out_at(0, 100, 100));
    assert_true(pit_out_at(0, 100, 100000));
}

static void test_mode3_square_wave(void **state)
{
    (void)state;
    for (unsigned e = 0; e < 10; e++)
        assert_int_equal(pit_out_at(3, 10, e), e < 5);
    for (unsigned e = 0; e < 11; e++)
        assert_int_equal(pit_out_at(3, 11, e), e < 6); /* odd: one clock longer high */
    assert_int_equal(pit_count_at(3, 10, 0, false), 10);
    assert_int_equal(pit_count_at(3, 10, 2, false), 6); /* by two */
    assert_int_equal(pit_count_at(3, 10, 5, false), 10); /* second half */
}

static void test_mode4_strobe(void **state)
{
    (void)state;
    assert_true(pit_out_at(4, 50, 49));
    assert_false(pit_out_at(4, 50, 50));
    assert_true(pit_out_at(4, 50, 51));
    assert_int_equal(pit_next_edge(4, 50, 0), 51);
    assert_int_equal(pit_next_edge(4, 50, 51), PIT_NEVER);
}

static void test_next_edge(void **state)
{
    (void)state;
    assert_int_equal(pit_next_edge(2, 100, 0), 100);
    assert_int_equal(pit_next_edge(2, 100, 99), 100);
    assert_int_equal(pit_next_edge(2, 100, 100), 200);
    assert_int_equal(pit_next_edge(3, 100, 150), 200);
    assert_int_equal(pit_next_edge(0, 100, 0), 100);
    assert_int_equal(pit_next_edge(0, 100, 100), PIT_NEVER);
}

static void test_next_irq_is_clamped_and_not_a_burst(void **state)
{
    (void)state;
    /* A count of 10 would interrupt at 119 kHz: no faster than 10 kHz, on period boundaries. */
    uint64_t next = pit_next_irq(2, 10, 10, 10);
    assert_true(next >= 10 + PIT_MIN_IRQ_TICKS);
    assert_int_equal(next % 10, 0);
    assert_true(next < 10 + PIT_MIN_IRQ_TICKS + 10);
    /* Delivered at 1000, next looked for at 5500: one interrupt at 6000, not four at once. */
    assert_int_equal(pit_next_irq(2, 1000, 1000, 5500), 6000);
    /* On time: the next period. */
    assert_int_equal(pit_next_irq(2, 1000, 1000, 1000), 2000);
    /* An edge due exactly now still counts. */
    assert_int_equal(pit_next_irq(2, 1000, 1000, 3000), 3000);
    /* One-shot: nothing after it. */
    assert_int_equal(pit_next_irq(0, 1000, 1000, 1000), PIT_NEVER);
}

/* --- The chip through its ports --------------------------------------------------------------- */

#define T0 1000000ull
#define CLK 10ull /* TSC ticks per PIT clock */

static struct pit8254 pit;

static uint64_t at(uint64_t clocks)
{
    return T0 + clocks * CLK;
}

static uint16_t read16(unsigned ch, uint64_t tsc)
{
    uint8_t lo = pit8254_read(&pit, ch, tsc);
    return (uint16_t)(lo | pit8254_read(&pit, ch, tsc) << 8);
}

static int chip_setup(void **state)
{
    (void)state;
    pit8254_reset(&pit, PIT_HZ * CLK, T0);
    return 0;
}

static void test_latch_gives_decreasing_counts(void **state)
{
    (void)state;
    pit8254_write(&pit, 3, 0x34, at(0)); /* channel 0, LSB then MSB, mode 2 */
    pit8254_write(&pit, 0, 0x9c, at(0));
    pit8254_write(&pit, 0, 0x2e, at(0)); /* 11932: 100 Hz */
    pit8254_write(&pit, 3, 0x00, at(100)); /* counter latch */
    assert_int_equal(read16(0, at(5000)), 11932 - 100); /* the latched value, not the live one */
    pit8254_write(&pit, 3, 0x00, at(300));
    assert_int_equal(read16(0, at(300)), 11932 - 300);
    assert_int_equal(read16(0, at(11932 + 7)), 11932 - 7); /* live, after a reload */
}

static void test_read_back_status(void **state)
{
    (void)state;
    pit8254_write(&pit, 3, 0x34, at(0));
    pit8254_write(&pit, 3, 0xe2, at(0)); /* read-back: status of channel 0 */
    assert_int_equal(pit8254_read(&pit, 0, at(0)), 0xf4); /* OUT high, null count, RW 3, mode 2 */
    pit8254_write(&pit, 0, 0x00, at(0));
    pit8254_write(&pit, 0, 0x01, at(0)); /* 256 */
    pit8254_write(&pit, 3, 0xc2, at(10)); /* status and count */
    assert_int_equal(pit8254_read(&pit, 0, at(20)), 0xb4);
    assert_int_equal(read16(0, at(30)), 256 - 10);
    pit8254_write(&pit, 3, 0xb6, at(0)); /* channel 2, mode 3 */
    pit8254_write(&pit, 3, 0xe8, at(0));
    assert_int_equal(pit8254_read(&pit, 2, at(0)) & 0x3f, 0x36);
}

static void test_access_modes(void **state)
{
    (void)state;
    pit8254_write(&pit, 3, 0x10, at(0)); /* channel 0, LSB only, mode 0 */
    pit8254_write(&pit, 0, 0x50, at(0));
    assert_int_equal(pit8254_read(&pit, 0, at(0x10)), 0x40);
    assert_int_equal(pit8254_read(&pit, 0, at(0x10)), 0x40); /* no flip-flop */
    pit8254_write(&pit, 3, 0x24, at(0)); /* MSB only, mode 2 */
    pit8254_write(&pit, 0, 0x02, at(0)); /* 0x200 */
    assert_int_equal(pit8254_read(&pit, 0, at(0x100)), 0x01);
}

static void test_bcd_counting(void **state)
{
    (void)state;
    pit8254_write(&pit, 3, 0x35, at(0)); /* mode 2, BCD */
    pit8254_write(&pit, 0, 0x00, at(0));
    pit8254_write(&pit, 0, 0x10, at(0)); /* 1000 decimal */
    assert_int_equal(read16(0, at(1)), 0x0999);
    assert_int_equal(read16(0, at(1000)), 0x1000);
}

static void test_channel2_gate_and_out2(void **state)
{
    (void)state;
    pit8254_write_port61(&pit, 0x00, at(0)); /* gate low */
    pit8254_write(&pit, 3, 0xb0, at(0));     /* channel 2, mode 0 */
    pit8254_write(&pit, 2, 0xe8, at(0));
    pit8254_write(&pit, 2, 0x03, at(0));     /* 1000 */
    assert_int_equal(pit8254_read_port61(&pit, at(5000)) & 0x20, 0); /* held by the gate */
    pit8254_write_port61(&pit, 0x01, at(5000));
    assert_int_equal(pit8254_read_port61(&pit, at(5999)) & 0x21, 0x01);
    assert_int_equal(pit8254_read_port61(&pit, at(6000)) & 0x21, 0x21); /* terminal count */
    /* Gate low in mode 0 holds the count where it is. */
    pit8254_write(&pit, 3, 0xb0, at(7000));
    pit8254_write(&pit, 2, 0xe8, at(7000));
    pit8254_write(&pit, 2, 0x03, at(7000));
    pit8254_write_port61(&pit, 0x00, at(7400));
    assert_int_equal(read16(2, at(9000)), 600);
    pit8254_write_port61(&pit, 0x01, at(9000));
    assert_int_equal(read16(2, at(9100)), 500);
}

static void test_mode0_first_byte_stops_counting(void **state)
{
    (void)state;
    pit8254_write(&pit, 3, 0x30, at(0));
    pit8254_write(&pit, 0, 0x64, at(0));
    pit8254_write(&pit, 0, 0x00, at(0)); /* 100 */
    pit8254_write(&pit, 0, 0x64, at(50)); /* rewriting: the first byte stops it */
    assert_int_equal(pit8254_irq_deadline(&pit), 0);
    pit8254_write(&pit, 0, 0x00, at(60));
    assert_int_equal(pit8254_irq_deadline(&pit), at(160));
}

static void test_port61_bits(void **state)
{
    (void)state;
    pit8254_write_port61(&pit, 0xf3, at(0));
    assert_int_equal(pit8254_read_port61(&pit, at(0)) & 0xcf, 0x03); /* bits 4-7 read-only */
    uint8_t a = pit8254_read_port61(&pit, at(0)) & 0x10, b = pit8254_read_port61(&pit, at(18)) & 0x10;
    assert_int_not_equal(a, b); /* refresh toggles */
}

static void test_irq_schedule(void **state)
{
    (void)state;
    assert_int_equal(pit8254_irq_deadline(&pit), 0);
    pit8254_write(&pit, 3, 0x34, at(0));
    pit8254_write(&pit, 0, 0xe8, at(0));
    pit8254_write(&pit, 0, 0x03, at(0)); /* 1000 */
    assert_int_equal(pit8254_irq_deadline(&pit), at(1000));
    assert_false(pit8254_irq_due(&pit, at(999)));
    assert_true(pit8254_irq_due(&pit, at(1000)));
    assert_int_equal(pit8254_irq_deadline(&pit), at(2000));
    assert_true(pit8254_irq_due(&pit, at(4500))); /* late: one interrupt ... */
    assert_int_equal(pit8254_irq_deadline(&pit), at(5000)); /* ... and back on the period */
    pit8254_write(&pit, 3, 0x30, at(6000)); /* mode 0 */
    assert_int_equal(pit8254_irq_deadline(&pit), 0);
    pit8254_write(&pit, 0, 0x10, at(6000));
    pit8254_write(&pit, 0, 0x00, at(6000));
    assert_int_equal(pit8254_irq_deadline(&pit), at(6016));
    assert_true(pit8254_irq_due(&pit, at(6020)));
    assert_int_equal(pit8254_irq_deadline(&pit), 0); /* one-shot */
}

static void test_tsc_conversion_is_exact_over_long_times(void **state)
{
    (void)state;
    pit8254_reset(&pit, 2999999999ull, 0); /* an awkward TSC rate */
    pit8254_write(&pit, 3, 0x34, 0);
    pit8254_write(&pit, 0, 0x00, 0);
    pit8254_write(&pit, 0, 0x00, 0); /* 65536 */
    uint64_t day = 2999999999ull * 86400;
    assert_true(pit8254_irq_due(&pit, day));
    uint64_t next = pit8254_irq_deadline(&pit);
    /* The next interrupt is on a period boundary: at most one period (55 ms) after a day. */
    assert_true(next > day && next - day <= 2999999999ull * 65536 / PIT_HZ + 1);
    uint64_t clocks = PIT_HZ * 86400, edge = (clocks / 65536 + 1) * 65536;
    assert_int_equal(next, (uint64_t)(((unsigned __int128)edge * 2999999999ull + PIT_HZ - 1) / PIT_HZ));
}

/* --- The VM glue: channel 0 interrupts through the device timer ----------------------------- */

static void test_irq0_through_the_timer(void **state)
{
    (void)state;
    static uint64_t vcpu0[8]; /* only its address is used: the timer's owner */
    memset(&vm, 0, sizeof(vm));
    tsc_hz = 1000000000ull;
    vm.vcpus[0] = (struct vcpu *)vcpu0;
    vm.vcpu_count = 1;
    irq0_rises = irq0_falls = 0;
    vpit_attach(&vm);
    const struct io_handler *h = &vm.io[0];
    assert_int_equal(h->base, 0x40);
    uint64_t before = rdtsc();
    h->write(NULL, h->ctx, 0x43, 1, 0x34);
    h->write(NULL, h->ctx, 0x40, 1, 0xa9);
    h->write(NULL, h->ctx, 0x40, 1, 0x04); /* 1193: 1 ms */
    assert_non_null(armed_timer);
    assert_true(armed_deadline >= before + 999000 && armed_deadline <= rdtsc() + 1000000);
    while (rdtsc() < armed_deadline)
        ;
    uint64_t first = armed_deadline;
    armed_timer->fire(armed_timer);
    assert_int_equal(irq0_rises, 1);
    assert_int_equal(irq0_falls, 1);
    assert_true(armed_deadline > first); /* re-armed one period on */
    h->write(NULL, h->ctx, 0x43, 1, 0x30); /* a control word stops it */
    assert_int_equal(armed_deadline, 0);
    free(vm.resets[0].ctx); /* the device: vdev_attach allocates it with its state */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mode2_counts_down_and_reloads),
        cmocka_unit_test(test_mode0_one_shot),
        cmocka_unit_test(test_mode3_square_wave),
        cmocka_unit_test(test_mode4_strobe),
        cmocka_unit_test(test_next_edge),
        cmocka_unit_test(test_next_irq_is_clamped_and_not_a_burst),
        cmocka_unit_test_setup(test_latch_gives_decreasing_counts, chip_setup),
        cmocka_unit_test_setup(test_read_back_status, chip_setup),
        cmocka_unit_test_setup(test_access_modes, chip_setup),
        cmocka_unit_test_setup(test_bcd_counting, chip_setup),
        cmocka_unit_test_setup(test_channel2_gate_and_out2, chip_setup),
        cmocka_unit_test_setup(test_mode0_first_byte_stops_counting, chip_setup),
        cmocka_unit_test_setup(test_port61_bits, chip_setup),
        cmocka_unit_test_setup(test_irq_schedule, chip_setup),
        cmocka_unit_test(test_tsc_conversion_is_exact_over_long_times),
        cmocka_unit_test(test_irq0_through_the_timer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
