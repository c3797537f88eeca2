/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The 8254 programmable interval timer of each VM (devices/pit.c): channels 0-2 at ports 0x40-0x42,
 * the control word register at 0x43, and the PC's system control port B at 0x61 (channel 2's
 * gate, the speaker enable, channel 2's OUT). Time is the TSC's: a counter's value is
 * computed from the TSC when it is read, never ticked. The chip logic (struct pit8254) takes the
 * TSC value as an argument, so host unit tests drive it with made-up times; the VM glue adds the
 * lock, the ports and channel 0's interrupts (IRQ 0, through a device timer).
 */
#ifndef MHV_DEVICES_PIT_H
#define MHV_DEVICES_PIT_H

#include <stdbool.h>
#include <stdint.h>

#define PIT_HZ 1193182ull      /* the PC's PIT clock: 14.31818 MHz / 12 */
#define PIT_NEVER UINT64_MAX

/* Interrupts from channel 0 come no faster than this (10 kHz): a guest that programs a tiny
 * count gets a counter that reads true but not an interrupt storm. */
#define PIT_MIN_IRQ_TICKS (PIT_HZ / 10000 + 1)

/* Counter values and OUT in a mode, `elapsed` PIT clocks after the count `reload` (1..65536,
 * or 1..10000 counting in BCD) was loaded. count: the counting element's value, 0..65535
 * (0..9999 counting in BCD, as a binary number). next_edge: the first time after `elapsed` at which OUT
 * rises, which is an interrupt on channel 0 (IRQ 0 is edge-triggered), or PIT_NEVER. Modes 1
 * and 5 are counted from their gate trigger. */
uint32_t pit_count_at(unsigned mode, uint32_t reload, uint64_t elapsed, bool bcd);
bool pit_out_at(unsigned mode, uint32_t reload, uint64_t elapsed);
uint64_t pit_next_edge(unsigned mode, uint32_t reload, uint64_t elapsed);
/* The interrupt after one delivered at `delivered` (elapsed clocks), looked for at `now`: the
 * next OUT edge at or after both now and delivered + PIT_MIN_IRQ_TICKS. Edges missed in
 * between are dropped (one late interrupt, not a burst), and the schedule stays on the
 * counter's own period boundaries. */
uint64_t pit_next_irq(unsigned mode, uint32_t reload, uint64_t delivered, uint64_t now);

struct pit_channel {
    uint8_t mode;           /* 0-5 */
    uint8_t access;         /* RW1-RW0: 1 LSB only, 2 MSB only, 3 LSB then MSB */
    bool bcd;
    bool loaded;            /* a count was written since the control word */
    bool gate;
    bool triggered;         /* modes 1 and 5: a gate rising edge started the count */
    bool paused;            /* counting held by a low gate (modes 0, 2, 3, 4) */
    bool null_count;        /* status bit 6: a count was written but not yet loaded */
    uint32_t reload;        /* the count in use, 1..65536 */
    uint64_t start;         /* PIT time at which elapsed was 0 */
    uint64_t held;          /* elapsed clocks while paused */
    bool write_msb_next;
    uint8_t write_lsb;
    bool read_msb_next;     /* the LSB/MSB flip-flop of reads (latched or not) */
    bool count_latched;
    uint16_t latched_count;
    bool status_latched;
    uint8_t status;
    uint64_t irq_edge;      /* channel 0: elapsed clocks of the next interrupt, or PIT_NEVER */
};

struct pit8254 {
    struct pit_channel ch[3];
    uint64_t tsc_hz;
    uint64_t epoch;         /* the TSC value at PIT time 0 */
    uint8_t port61;         /* bits 0-3 as written (channel 2 gate, speaker, check enables) */
};

/* Power-on: no channel counting, channel 2's gate low. */
void pit8254_reset(struct pit8254 *p, uint64_t ticks_per_s, uint64_t tsc);
/* Port offsets 0-3 (0x40-0x43), at TSC value `tsc`. */
void pit8254_write(struct pit8254 *p, unsigned offset, uint8_t value, uint64_t tsc);
uint8_t pit8254_read(struct pit8254 *p, unsigned offset, uint64_t tsc);
/* Port 0x61. */
void pit8254_write_port61(struct pit8254 *p, uint8_t value, uint64_t tsc);
uint8_t pit8254_read_port61(struct pit8254 *p, uint64_t tsc);
/* Channel 0's interrupts: the TSC value of the next one, or 0 for none. pit8254_irq_due says
 * whether it is due at `tsc` and, if so, consumes it and schedules the following one. */
uint64_t pit8254_irq_deadline(const struct pit8254 *p);
bool pit8254_irq_due(struct pit8254 *p, uint64_t tsc);

#endif
