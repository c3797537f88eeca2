/* SPDX-License-Identifier: BSD-2-Clause */
// sources: devices/hpet.c devices/vdev.c kernel/log.c lib/format.c tests/unit/fake_vm.c tests/unit/fake_vtimer.c
/* The HPET: registers through the chip's accesses with made-up TSC values (the TSC at exactly
 * twice the HPET's rate, so times are exact), the main counter, comparator matches one-shot
 * and periodic, level and edge, 32-bit mode and its wrap, routes and the legacy replacement;
 * then the VM glue with a fake device timer and fake interrupt lines. */
#include "stubs.h"
#include "fake_vtimer.h"

#include <stdlib.h>
#include <string.h>

#include "arch/x86/cpu.h"
#include "devices/hpet.h"
#include "sched/vtimer.h"
#include "vm/irq.h"
#include "vm/platform.h"
#include "vm/vm.h"

/* --- What devices/hpet.c needs of the rest of mhv ------------------------------------------- */

uint64_t tsc_hz;
static struct vm vm;
/* Interrupt lines as the HPET drove them: rises and falls per I/O APIC pin, and per ISA IRQ
 * through the legacy route; the level last driven. */
static unsigned pin_rises[24], pin_falls[24], isa_rises[16], isa_falls[16];
static bool pin_level[24];

void vioapic_set_pin(struct vm *v, unsigned gsi, bool high)
{
    assert_ptr_equal(v, &vm);
    assert_true(gsi < 24);
    (high ? pin_rises : pin_falls)[gsi]++;
    pin_level[gsi] = high;
}

void vm_irq_line_hpet(struct vm *v, unsigned irq, bool high)
{
    assert_ptr_equal(v, &vm);
    assert_true(irq == 0 || irq == 8);
    (high ? isa_rises : isa_falls)[irq]++;
}

/* --- The chip -------------------------------------------------------------------------------- */

#define TSC_HZ (2 * HPET_HZ)
#define T0 1000000ull /* the TSC at reset */
static struct hpet chip;

static int chip_setup(void **state)
{
    (void)state;
    hpet_reset(&chip, TSC_HZ, T0);
    return 0;
}

/* The TSC value `ticks` HPET clocks after `base`. */
static uint64_t at(uint64_t base, uint64_t ticks)
{
    return base + 2 * ticks;
}

static uint64_t rd(unsigned offset, uint64_t tsc) { return hpet_read(&chip, offset, 8, tsc); }
static uint32_t rd32(unsigned offset, uint64_t tsc) { return (uint32_t)hpet_read(&chip, offset, 4, tsc); }
static void wr(unsigned offset, uint64_t v, uint64_t tsc) { hpet_write(&chip, offset, 8, v, tsc); }
static void wr32(unsigned offset, uint32_t v, uint64_t tsc) { hpet_write(&chip, offset, 4, v, tsc); }

#define TCFG(n) HPET_REG_TIMER(n)
#define TCMP(n) (HPET_REG_TIMER(n) + HPET_TIMER_CMP)

static void test_capabilities_and_reset_values(void **state)
{
    (void)state;
    uint64_t cap = rd(HPET_REG_CAP, T0);
    assert_int_equal(cap >> 32, HPET_PERIOD_FS);          /* COUNTER_CLK_PERIOD, fs */
    assert_true((cap >> 32) <= 100000000ull);             /* 2.3.4: at most 100 ns */
    assert_int_equal(cap & 0xff, 1);                      /* REV_ID */
    assert_int_equal((cap >> 8) & 0x1f, HPET_TIMERS - 1); /* NUM_TIM_CAP: the last timer's number */
    assert_true(cap & (1u << 13));                        /* COUNT_SIZE_CAP: 64-bit counter */
    assert_true(cap & (1u << 15));                        /* LEG_RT_CAP */
    assert_int_equal((cap >> 16) & 0xffff, 0x8086);
    /* The period is the rate the counter runs at, to the nearest femtosecond. */
    uint64_t hz = (1000000000000000ull + (cap >> 33)) / (cap >> 32);
    assert_int_equal(hz, HPET_HZ);
    assert_int_equal(rd32(HPET_REG_CAP + 4, T0), HPET_PERIOD_FS); /* the upper half alone */
    assert_int_equal(rd(HPET_REG_CONFIG, T0), 0);
    assert_int_equal(rd(HPET_REG_STATUS, T0), 0);
    assert_int_equal(rd(HPET_REG_COUNTER, T0 + 5000), 0); /* halted at 0 */
    for (unsigned n = 0; n < HPET_TIMERS; n++) {
        uint64_t c = rd(TCFG(n), T0);
        assert_int_equal(c >> 32, HPET_ROUTE_CAP);         /* Tn_INT_ROUTE_CAP */
        assert_int_equal(c & 0xffffffff, (1u << 4) | (1u << 5)); /* periodic and 64-bit capable, all off */
        assert_int_equal(rd(TCMP(n), T0), ~0ull);           /* comparators reset to all ones */
        assert_int_equal(rd(HPET_REG_TIMER(n) + HPET_TIMER_FSB, T0), 0);
    }
    /* Read-only and reserved registers ignore writes. */
    wr(HPET_REG_CAP, 0, T0);
    assert_int_equal(rd(HPET_REG_CAP, T0), cap);
    wr(0x008, ~0ull, T0);
    assert_int_equal(rd(0x008, T0), 0);
    wr(HPET_REG_CONFIG, ~0ull, T0);
    assert_int_equal(rd(HPET_REG_CONFIG, T0), 3);          /* only ENABLE_CNF and LEG_RT_CNF */
    assert_int_equal(rd(0x3f8, T0), 0);
}

static void test_main_counter(void **state)
{
    (void)state;
    wr(HPET_REG_COUNTER, 0x1234, T0);                       /* written while halted */
    assert_int_equal(rd(HPET_REG_COUNTER, T0 + 1000000), 0x1234);
    uint64_t t1 = T0 + 1000000;
    wr(HPET_REG_CONFIG, HPET_CFG_ENABLE, t1);
    assert_int_equal(rd(HPET_REG_COUNTER, t1), 0x1234);
    assert_int_equal(rd(HPET_REG_COUNTER, at(t1, 1000)), 0x1234 + 1000);
    assert_int_equal(rd(HPET_REG_COUNTER, at(t1, 1000) + 1), 0x1234 + 1000); /* half a tick */
    /* A second of TSC is HPET_HZ ticks, exactly. */
    assert_int_equal(rd(HPET_REG_COUNTER, t1 + TSC_HZ), 0x1234 + HPET_HZ);
    /* Halting keeps the value; enabling again counts on from it. */
    uint64_t t2 = t1 + TSC_HZ;
    wr(HPET_REG_CONFIG, 0, t2);
    assert_int_equal(rd(HPET_REG_COUNTER, t2 + 777777), 0x1234 + HPET_HZ);
    wr(HPET_REG_CONFIG, HPET_CFG_ENABLE, t2 + 777777);
    assert_int_equal(rd(HPET_REG_COUNTER, at(t2 + 777777, 10)), 0x1234 + HPET_HZ + 10);
    /* 32-bit halves: the upper half of a counter past 2^32, and a write of one half. */
    wr(HPET_REG_CONFIG, 0, t2);
    wr(HPET_REG_COUNTER, 0x00000005fffffff0ull, t2);
    wr(HPET_REG_CONFIG, HPET_CFG_ENABLE, t2);
    assert_int_equal(rd32(HPET_REG_COUNTER + 4, at(t2, 0x20)), 6);
    assert_int_equal(rd32(HPET_REG_COUNTER, at(t2, 0x20)), 0x10);
    wr(HPET_REG_CONFIG, 0, at(t2, 0x20));
    wr32(HPET_REG_COUNTER + 4, 0xabcd, at(t2, 0x20));
    assert_int_equal(rd(HPET_REG_COUNTER, at(t2, 0x20)), 0x0000abcd00000010ull);
}

static void test_one_shot_edge(void **state)
{
    (void)state;
    wr(HPET_REG_CONFIG, HPET_CFG_ENABLE, T0);
    wr(TCFG(2), HPET_TN_INT_ENB | 21u << HPET_TN_ROUTE_SHIFT, T0);
    assert_int_equal(hpet_target(&chip, 2), 21);
    wr(TCMP(2), 1000, T0);
    assert_int_equal(hpet_next_deadline(&chip, T0), at(T0, 1000));
    hpet_update(&chip, at(T0, 999));
    assert_int_equal(hpet_take_edges(&chip), 0);
    hpet_update(&chip, at(T0, 1000));
    assert_int_equal(hpet_take_edges(&chip), 1u << 2);
    assert_int_equal(hpet_take_edges(&chip), 0);            /* taken once */
    assert_int_equal(rd(HPET_REG_STATUS, at(T0, 1000)), 0); /* edge mode: no status bit */
    assert_int_equal(rd(TCMP(2), at(T0, 5000)), 1000);      /* one-shot: the comparator stays */
    hpet_update(&chip, at(T0, 100000));
    assert_int_equal(hpet_take_edges(&chip), 0);            /* and matches no more before a wrap */
    /* Without the interrupt enabled, a match sends nothing and arms nothing. */
    wr(TCFG(2), 0, at(T0, 100000));
    wr(TCMP(2), 100500, at(T0, 100000));
    assert_int_equal(hpet_next_deadline(&chip, at(T0, 100000)), 0);
    hpet_update(&chip, at(T0, 200000));
    assert_int_equal(hpet_take_edges(&chip), 0);
    /* A halted counter matches nothing and needs no timer. */
    wr(TCFG(2), HPET_TN_INT_ENB, at(T0, 200000));
    wr(TCMP(2), 200010, at(T0, 200000));
    wr(HPET_REG_CONFIG, 0, at(T0, 200000));
    assert_int_equal(hpet_next_deadline(&chip, at(T0, 200000)), 0);
    hpet_update(&chip, at(T0, 300000));
    assert_int_equal(hpet_take_edges(&chip), 0);
}

static void test_periodic_comparator_arithmetic(void **state)
{
    (void)state;
    wr(HPET_REG_CONFIG, HPET_CFG_ENABLE, T0);
    /* Linux's sequence: periodic with VAL_SET, the first match, then the period. */
    wr(TCFG(0), HPET_TN_INT_ENB | HPET_TN_PERIODIC | HPET_TN_VAL_SET, T0);
    assert_true(rd(TCFG(0), T0) & HPET_TN_VAL_SET);
    wr(TCMP(0), 5000, T0);
    assert_false(rd(TCFG(0), T0) & HPET_TN_VAL_SET);        /* used up */
    wr(TCMP(0), 3000, T0);                                  /* the period only */
    assert_int_equal(rd(TCMP(0), T0), 5000);
    assert_int_equal(hpet_next_deadline(&chip, T0), at(T0, 5000));
    hpet_update(&chip, at(T0, 4999));
    assert_int_equal(hpet_take_edges(&chip), 0);
    assert_int_equal(rd(TCMP(0), at(T0, 5000)), 8000);      /* matched: one period on */
    assert_int_equal(hpet_take_edges(&chip), 1);
    assert_int_equal(hpet_next_deadline(&chip, at(T0, 5000)), at(T0, 8000));
    /* Three and a half periods unseen: one interrupt, the comparator past now on the grid. */
    assert_int_equal(rd(TCMP(0), at(T0, 18500)), 20000);
    assert_int_equal(hpet_take_edges(&chip), 1);
    /* A new period written without VAL_SET applies from the next match (2.3.9.2.2). */
    wr(TCMP(0), 1500, at(T0, 18500));
    assert_int_equal(rd(TCMP(0), at(T0, 19999)), 20000);
    assert_int_equal(rd(TCMP(0), at(T0, 20000)), 21500);
    /* A tiny period interrupts no faster than HPET_MIN_PERIOD apart. */
    wr(TCMP(0), 10, at(T0, 20000));
    hpet_update(&chip, at(T0, 21500));
    hpet_take_edges(&chip);
    assert_int_equal(rd(TCMP(0), at(T0, 21500)), 21510);
    assert_int_equal(hpet_next_deadline(&chip, at(T0, 21500)), at(T0, 21500 + HPET_MIN_PERIOD));
    /* A 64-bit value in two 32-bit halves with VAL_SET: the low half keeps VAL_SET. */
    wr(TCFG(0), HPET_TN_INT_ENB | HPET_TN_PERIODIC | HPET_TN_VAL_SET, at(T0, 21500));
    wr32(TCMP(0), 0x1000, at(T0, 21500));
    assert_true(rd(TCFG(0), at(T0, 21500)) & HPET_TN_VAL_SET);
    wr32(TCMP(0) + 4, 1, at(T0, 21500));
    assert_false(rd(TCFG(0), at(T0, 21500)) & HPET_TN_VAL_SET);
    assert_int_equal(rd(TCMP(0), at(T0, 21500)), 0x100001000ull);
}

static void test_level_status_write_one_to_clear(void **state)
{
    (void)state;
    wr(HPET_REG_CONFIG, HPET_CFG_ENABLE, T0);
    wr(TCFG(1), HPET_TN_LEVEL | HPET_TN_INT_ENB | 22u << HPET_TN_ROUTE_SHIFT, T0);
    wr(TCMP(1), 100, T0);
    assert_false(hpet_level(&chip, 1));
    assert_int_equal(rd(HPET_REG_STATUS, at(T0, 100)), 2);  /* Tn_INT_STS */
    assert_true(hpet_level(&chip, 1));
    assert_int_equal(hpet_take_edges(&chip), 0);            /* level, not edge */
    assert_int_equal(hpet_next_deadline(&chip, at(T0, 100)), 0); /* asserted until cleared */
    wr(HPET_REG_STATUS, 1, at(T0, 200));                    /* another bit: no effect */
    assert_true(hpet_level(&chip, 1));
    wr(HPET_REG_STATUS, 0, at(T0, 200));                    /* writing 0: no effect */
    assert_int_equal(rd(HPET_REG_STATUS, at(T0, 200)), 2);
    wr(HPET_REG_STATUS, 2, at(T0, 200));
    assert_int_equal(rd(HPET_REG_STATUS, at(T0, 200)), 0);
    assert_false(hpet_level(&chip, 1));
    /* With the interrupt disabled the status bit is still set (2.3.8), the line stays low. */
    wr(TCFG(1), HPET_TN_LEVEL | 22u << HPET_TN_ROUTE_SHIFT, at(T0, 200));
    wr(TCMP(1), 300, at(T0, 200));
    assert_int_equal(rd(HPET_REG_STATUS, at(T0, 300)), 2);
    assert_false(hpet_level(&chip, 1));
    /* Enabling it with the status set asserts the line; halting the counter drops it. */
    wr(TCFG(1), HPET_TN_LEVEL | HPET_TN_INT_ENB | 22u << HPET_TN_ROUTE_SHIFT, at(T0, 300));
    assert_true(hpet_level(&chip, 1));
    wr(HPET_REG_CONFIG, 0, at(T0, 300));
    assert_false(hpet_level(&chip, 1));
}

static void test_32bit_mode_wraps(void **state)
{
    (void)state;
    wr(HPET_REG_COUNTER, 0x2fffffff0ull, T0);
    wr(TCFG(2), HPET_TN_INT_ENB | HPET_TN_32MODE, T0);
    assert_true(rd(TCFG(2), T0) & HPET_TN_32MODE);
    assert_int_equal(rd(TCMP(2), T0), 0xffffffffull);       /* the upper half reads 0 now */
    wr(TCMP(2), 0x5500000010ull, T0);                       /* the upper half of a write is dropped */
    assert_int_equal(rd(TCMP(2), T0), 0x10);
    wr(HPET_REG_CONFIG, HPET_CFG_ENABLE, T0);
    /* The low 32 bits of the counter wrap to 0x10 after 0x20 ticks: the match. */
    assert_int_equal(hpet_next_deadline(&chip, T0), at(T0, 0x20));
    hpet_update(&chip, at(T0, 0x1f));
    assert_int_equal(hpet_take_edges(&chip), 0);
    hpet_update(&chip, at(T0, 0x20));
    assert_int_equal(hpet_take_edges(&chip), 1u << 2);
    assert_int_equal(rd(HPET_REG_COUNTER, at(T0, 0x20)), 0x300000010ull); /* the counter stays 64-bit */
    /* The same comparator in 64-bit mode matches only at 0x10 itself, long past. */
    wr(TCFG(2), HPET_TN_INT_ENB, at(T0, 0x20));
    hpet_update(&chip, at(T0, 0x20 + (1ull << 32)));
    assert_int_equal(hpet_take_edges(&chip), 0);
    /* Periodic in 32-bit mode: the comparator wraps at 32 bits. */
    wr(HPET_REG_CONFIG, 0, T0);
    wr(HPET_REG_COUNTER, 0xffffff00ull, T0);
    wr(TCFG(2), HPET_TN_INT_ENB | HPET_TN_32MODE | HPET_TN_PERIODIC | HPET_TN_VAL_SET, T0);
    wr(TCMP(2), 0xffffff80ull, T0);
    wr(TCMP(2), 0x1000, T0);
    wr(HPET_REG_CONFIG, HPET_CFG_ENABLE, T0);
    assert_int_equal(rd(TCMP(2), at(T0, 0x80)), 0xf80);     /* 0xffffff80 + 0x1000, 32 bits */
    assert_int_equal(hpet_take_edges(&chip), 1u << 2);
    assert_int_equal(hpet_next_deadline(&chip, at(T0, 0x80)), at(T0, 0x1080));
}

static void test_routes_and_legacy_replacement(void **state)
{
    (void)state;
    /* A route outside Tn_INT_ROUTE_CAP is not taken: the old one reads back. */
    wr(TCFG(0), 20u << HPET_TN_ROUTE_SHIFT, T0);
    assert_int_equal(hpet_target(&chip, 0), 20);
    wr(TCFG(0), 5u << HPET_TN_ROUTE_SHIFT, T0);
    assert_int_equal((rd(TCFG(0), T0) & HPET_TN_ROUTE_MASK) >> HPET_TN_ROUTE_SHIFT, 20);
    /* No FSB delivery: Tn_FSB_EN_CNF stays 0, the FSB route register reads 0. */
    wr(TCFG(0), HPET_TN_FSB_EN | 20u << HPET_TN_ROUTE_SHIFT, T0);
    assert_false(rd(TCFG(0), T0) & (HPET_TN_FSB_EN | HPET_TN_FSB_CAP));
    /* Legacy replacement: timer 0 to IRQ 0, timer 1 to IRQ 8, timer 2 as routed. */
    wr(TCFG(2), 23u << HPET_TN_ROUTE_SHIFT, T0);
    wr(HPET_REG_CONFIG, HPET_CFG_LEG_RT | HPET_CFG_ENABLE, T0);
    assert_int_equal(hpet_target(&chip, 0), HPET_TO_ISA | 0);
    assert_int_equal(hpet_target(&chip, 1), HPET_TO_ISA | 8);
    assert_int_equal(hpet_target(&chip, 2), 23);
    wr(HPET_REG_CONFIG, HPET_CFG_ENABLE, T0);
    assert_int_equal(hpet_target(&chip, 0), 20);
}

/* Byte and word accesses, and a quadword straddling two registers. */
static void test_narrow_and_straddling_accesses(void **state)
{
    (void)state;
    assert_int_equal(hpet_read(&chip, HPET_REG_CAP + 2, 2, T0), 0x8086);
    assert_int_equal(hpet_read(&chip, HPET_REG_CAP + 1, 1, T0), (HPET_TIMERS - 1) | 0xa0);
    hpet_write(&chip, TCMP(1) + 1, 1, 0x12, T0);             /* one byte of the comparator */
    assert_int_equal(rd(TCMP(1), T0), 0xffffffffffff12ffull);
    wr(TCMP(0), 0x1122334455667788ull, T0);
    /* Offsets 0x104-0x10b: the upper half of timer 0's configuration, the comparator's lower. */
    assert_int_equal(hpet_read(&chip, HPET_REG_TIMER(0) + 4, 8, T0), 0x55667788ull << 32 | HPET_ROUTE_CAP);
}

/* Deadlines an hour or more ahead are looked at again after an hour; the conversion to TSC is
 * exact at the chip's rate. */
static void test_far_deadlines(void **state)
{
    (void)state;
    wr(HPET_REG_CONFIG, HPET_CFG_ENABLE, T0);
    wr(TCFG(0), HPET_TN_INT_ENB, T0);
    wr(TCMP(0), 0, T0); /* the counter is at 0: the next match is 2^64 ticks away */
    assert_int_equal(hpet_next_deadline(&chip, T0), at(T0, HPET_HZ * 3600));
    hpet_update(&chip, at(T0, HPET_HZ * 3600));
    assert_int_equal(hpet_take_edges(&chip), 0);
    /* An odd TSC rate: the deadline is the first TSC value at which the counter has matched. */
    hpet_reset(&chip, 2999999999ull, T0);
    wr(HPET_REG_CONFIG, HPET_CFG_ENABLE, T0);
    wr(TCFG(0), HPET_TN_INT_ENB, T0);
    wr(TCMP(0), 12345678, T0);
    uint64_t d = hpet_next_deadline(&chip, T0);
    assert_int_equal(hpet_counter(&chip, d), 12345678);
    assert_true(hpet_counter(&chip, d - 1) < 12345678);
}

/* --- The VM glue: lines and the device timer ------------------------------------------------- */

static void *attach(void)
{
    static uint64_t vcpu0[8]; /* only its address is used: the timer's owner */
    memset(&vm, 0, sizeof(vm));
    memset(pin_rises, 0, sizeof(pin_rises));
    memset(pin_falls, 0, sizeof(pin_falls));
    memset(isa_rises, 0, sizeof(isa_rises));
    memset(isa_falls, 0, sizeof(isa_falls));
    memset(pin_level, 0, sizeof(pin_level));
    tsc_hz = 1000000000ull;
    vm.vcpus[0] = (struct vcpu *)vcpu0;
    vm.vcpu_count = 1;
    vhpet_attach(&vm);
    assert_non_null(vm.hpet);
    assert_int_equal(vm.mmio_count, 1);
    assert_int_equal(vm.mmio[0].base, PLATFORM_HPET_BASE);
    assert_int_equal(vm.mmio[0].size, HPET_MMIO_SIZE);
    return vm.resets[0].ctx;
}

static uint64_t mrd(unsigned offset)
{
    return vm.mmio[0].read(NULL, vm.mmio[0].ctx, offset, 8);
}

static void mwr(unsigned offset, uint64_t value)
{
    vm.mmio[0].write(NULL, vm.mmio[0].ctx, offset, 8, value);
}

static void wait_and_fire(void)
{
    assert_non_null(armed_timer);
    assert_true(armed_deadline != 0);
    while (rdtsc() < armed_deadline)
        ;
    armed_timer->fire(armed_timer);
}

static void test_vm_level_interrupt_on_a_pin(void **state)
{
    (void)state;
    void *dev = attach();
    mwr(TCFG(1), HPET_TN_LEVEL | HPET_TN_INT_ENB | 21u << HPET_TN_ROUTE_SHIFT);
    mwr(TCMP(1), mrd(HPET_REG_COUNTER) + HPET_HZ / 1000); /* 1 ms, once the counter runs */
    assert_int_equal(armed_deadline, 0);                   /* halted: nothing to wait for */
    mwr(HPET_REG_CONFIG, HPET_CFG_ENABLE);
    wait_and_fire();
    assert_true(pin_level[21]);
    assert_int_equal(pin_rises[21], 1);
    assert_int_equal(armed_deadline, 0);                   /* asserted until the status is cleared */
    assert_int_equal(mrd(HPET_REG_STATUS), 2);
    mwr(HPET_REG_STATUS, 2);
    assert_false(pin_level[21]);
    assert_int_equal(pin_falls[21], 1);
    /* A route change of an asserted output moves the level to the new pin. */
    mwr(TCMP(1), mrd(HPET_REG_COUNTER) + 1000);
    wait_and_fire();
    assert_true(pin_level[21]);
    mwr(TCFG(1), HPET_TN_LEVEL | HPET_TN_INT_ENB | 22u << HPET_TN_ROUTE_SHIFT);
    assert_false(pin_level[21]);
    assert_true(pin_level[22]);
    /* A reset lowers it. */
    vm.resets[0].reset(&vm, vm.resets[0].ctx);
    assert_false(pin_level[22]);
    free(dev);
}

static void test_vm_legacy_route_takes_irq0_and_irq8(void **state)
{
    (void)state;
    void *dev = attach();
    assert_false(vhpet_owns_irq(&vm, 0));
    mwr(HPET_REG_CONFIG, HPET_CFG_LEG_RT);
    assert_false(vhpet_owns_irq(&vm, 0));                  /* not while halted (2.3.5) */
    mwr(TCFG(0), HPET_TN_INT_ENB | HPET_TN_PERIODIC | HPET_TN_VAL_SET);
    uint64_t period = HPET_HZ / 1000;
    mwr(TCMP(0), mrd(HPET_REG_COUNTER) + period);
    mwr(TCMP(0), period);
    mwr(HPET_REG_CONFIG, HPET_CFG_LEG_RT | HPET_CFG_ENABLE);
    assert_true(vhpet_owns_irq(&vm, 0));
    assert_true(vhpet_owns_irq(&vm, 8));
    assert_false(vhpet_owns_irq(&vm, 2));
    assert_false(vhpet_owns_irq(&vm, 4));
    /* Taking the lines over lowers them, so a level the PIT or the CMOS clock held does not
     * hide the HPET's edges. */
    assert_int_equal(isa_falls[0], 1);
    assert_int_equal(isa_falls[8], 1);
    assert_int_equal(isa_rises[0] + isa_rises[8], 0);
    for (unsigned i = 1; i <= 3; i++) {
        wait_and_fire();
        assert_int_equal(isa_rises[0], i);
        assert_int_equal(isa_falls[0], i + 1);
    }
    assert_int_equal(pin_rises[0] + pin_rises[2], 0);     /* not through its own route */
    /* Timer 1 on IRQ 8, one-shot. */
    mwr(TCFG(1), HPET_TN_INT_ENB);
    mwr(TCMP(1), mrd(HPET_REG_COUNTER) + 100);
    mwr(TCFG(0), 0);
    wait_and_fire();
    assert_int_equal(isa_rises[8], 1);
    mwr(HPET_REG_CONFIG, HPET_CFG_ENABLE);
    assert_false(vhpet_owns_irq(&vm, 0));
    free(dev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_capabilities_and_reset_values, chip_setup),
        cmocka_unit_test_setup(test_main_counter, chip_setup),
        cmocka_unit_test_setup(test_one_shot_edge, chip_setup),
        cmocka_unit_test_setup(test_periodic_comparator_arithmetic, chip_setup),
        cmocka_unit_test_setup(test_level_status_write_one_to_clear, chip_setup),
        cmocka_unit_test_setup(test_32bit_mode_wraps, chip_setup),
        cmocka_unit_test_setup(test_routes_and_legacy_replacement, chip_setup),
        cmocka_unit_test_setup(test_narrow_and_straddling_accesses, chip_setup),
        cmocka_unit_test_setup(test_far_deadlines, chip_setup),
        cmocka_unit_test(test_vm_level_interrupt_on_a_pin),
        cmocka_unit_test(test_vm_legacy_route_takes_irq0_and_irq8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
