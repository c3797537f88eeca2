/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The VM's High Precision Event Timer (devices/hpet.c; IA-PC HPET specification 1.0a): one
 * block of 1 KiB at PLATFORM_HPET_BASE with a 64-bit main counter at HPET_HZ and HPET_TIMERS
 * comparators, each one-shot or periodic, 64-bit or forced to 32 bits, edge or level
 * triggered, routed to an I/O APIC pin or, in legacy replacement mode, timers 0 and 1 to ISA
 * IRQ 0 and IRQ 8 in place of the PIT and the CMOS clock. No FSB (MSI) delivery.
 *
 * Nothing ticks: the main counter is worked out from the TSC when it is read, and the
 * comparators' matches between two looks are found by arithmetic. The chip logic (struct
 * hpet) takes the TSC value as an argument, so host unit tests drive it with made-up times;
 * the VM glue adds the lock, the MMIO range, the interrupt lines and one device timer.
 */
#ifndef MHV_DEVICES_HPET_H
#define MHV_DEVICES_HPET_H

#include <stdbool.h>
#include <stdint.h>

#define HPET_TIMERS 3
/* 14.31818 MHz, the PC's reference oscillator, as Intel's chipsets clock their HPET; the
 * capabilities register gives the period in femtoseconds (10^15 / HPET_HZ, to the nearest). */
#define HPET_HZ 14318180ull
#define HPET_PERIOD_FS 69841279ull
#define HPET_MMIO_SIZE 0x400
/* I/O APIC pins a comparator may be routed to (Tn_INT_ROUTE_CAP): 20-23, which no other
 * device of the platform drives (pc-testdev's lines 16-23 exist only with `testdev = true`). */
#define HPET_ROUTE_CAP 0x00f00000u
/* Periodic interrupts come no faster than this (10 kHz, as the PIT's): a tiny period gives a
 * comparator that reads true, not an interrupt storm. Also the ACPI table's minimum tick. */
#define HPET_MIN_PERIOD (HPET_HZ / 10000 + 1)

/* Register offsets (HPET 1.0a 2.3.2) and bits (2.3.4-2.3.9). */
#define HPET_REG_CAP 0x000
#define HPET_REG_CONFIG 0x010
#define HPET_REG_STATUS 0x020
#define HPET_REG_COUNTER 0x0f0
#define HPET_REG_TIMER(n) (0x100 + 0x20 * (n))  /* + 0: configuration and capabilities */
#define HPET_TIMER_CMP 0x08                     /* + 8: comparator; + 0x10: FSB route */
#define HPET_TIMER_FSB 0x10

#define HPET_CAP_REV_ID 0x01ull
#define HPET_CAP_COUNT_SIZE (1ull << 13)
#define HPET_CAP_LEG_RT (1ull << 15)
#define HPET_CAP_VENDOR_ID 0x8086ull            /* bits 31:16 */
#define HPET_CFG_ENABLE (1ull << 0)
#define HPET_CFG_LEG_RT (1ull << 1)
#define HPET_TN_LEVEL (1ull << 1)               /* Tn_INT_TYPE_CNF: 1 level, 0 edge */
#define HPET_TN_INT_ENB (1ull << 2)
#define HPET_TN_PERIODIC (1ull << 3)            /* Tn_TYPE_CNF */
#define HPET_TN_PER_INT_CAP (1ull << 4)
#define HPET_TN_SIZE_CAP (1ull << 5)            /* a 64-bit comparator */
#define HPET_TN_VAL_SET (1ull << 6)
#define HPET_TN_32MODE (1ull << 8)
#define HPET_TN_ROUTE_SHIFT 9                   /* Tn_INT_ROUTE_CNF, bits 13:9 */
#define HPET_TN_ROUTE_MASK (0x1full << HPET_TN_ROUTE_SHIFT)
#define HPET_TN_FSB_EN (1ull << 14)
#define HPET_TN_FSB_CAP (1ull << 15)

struct hpet_timer {
    uint64_t config;   /* Tn_CONF_CAP as it reads (capabilities in the read-only bits) */
    uint64_t cmp;      /* the next match, in the timer's width */
    uint64_t period;   /* periodic mode: the last value written, added at each match */
};

struct hpet {
    uint64_t tsc_hz;
    uint64_t config;       /* general configuration: ENABLE_CNF, LEG_RT_CNF */
    uint64_t status;       /* general interrupt status: Tn_INT_STS (level mode) */
    uint64_t count_base;   /* main counter at tsc_base while running; its value while halted */
    uint64_t tsc_base;
    uint64_t seen;         /* main counter up to which the comparators' matches are done */
    unsigned edges;        /* bit n: timer n matched with an edge interrupt to send */
    struct hpet_timer t[HPET_TIMERS];
};

/* Power-on (HPET 1.0a 2.3.4-2.3.9): counter halted at 0, no legacy route, every comparator
 * all ones, one-shot, edge, interrupts off, routed to pin 0. */
void hpet_reset(struct hpet *h, uint64_t ticks_per_s, uint64_t tsc);
/* A register access of 1, 2, 4 or 8 bytes at `offset` (0..HPET_MMIO_SIZE - 1; an access past
 * a register's end goes on into the next), at TSC value `tsc`. Reserved bytes read 0. */
uint64_t hpet_read(struct hpet *h, unsigned offset, unsigned size, uint64_t tsc);
void hpet_write(struct hpet *h, unsigned offset, unsigned size, uint64_t value, uint64_t tsc);
/* The main counter at `tsc`. */
uint64_t hpet_counter(const struct hpet *h, uint64_t tsc);
/* Processes the comparators' matches up to `tsc`: status bits of level-triggered timers,
 * edges of edge-triggered ones with interrupts enabled, periodic comparators moved on. */
void hpet_update(struct hpet *h, uint64_t tsc);
/* Timer n's level output: level-triggered, interrupts enabled, its status bit set and the
 * counter enabled. */
bool hpet_level(const struct hpet *h, unsigned n);
/* The timers with an edge to send since the last call (bit n: timer n); clears them. */
unsigned hpet_take_edges(struct hpet *h);
/* Where timer n's interrupt goes: HPET_TO_ISA | irq under the legacy route (timers 0 and 1),
 * otherwise the I/O APIC pin of Tn_INT_ROUTE_CNF. */
#define HPET_TO_ISA 0x100u
unsigned hpet_target(const struct hpet *h, unsigned n);
/* The TSC value at which the next interrupt may need sending (a match of a timer with
 * interrupts enabled whose output is not already asserted), or 0 for none. Periodic timers
 * with a period under HPET_MIN_PERIOD are looked at no sooner than HPET_MIN_PERIOD ahead;
 * matches further than an hour ahead are looked for again after an hour. */
uint64_t hpet_next_deadline(const struct hpet *h, uint64_t tsc);

/* The VM's HPET, for vm/irq.c: whether ISA IRQ `irq` belongs to the HPET's legacy route now
 * (IRQ 0 and 8 while LEG_RT_CNF is set), so that the PIT's and the CMOS clock's edges on it
 * are not delivered. Read without the device's lock. */
struct vm;
bool vhpet_owns_irq(struct vm *vm, unsigned irq);

#endif
