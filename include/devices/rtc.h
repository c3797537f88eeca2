/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The MC146818 CMOS clock and RAM of each VM (devices/rtc.c), at ports 0x70 (index; bit 7 the NMI
 * mask) and 0x71 (data). Its clock starts at the machine's wall-clock time read at boot
 * (include/drivers/cmos_rtc.h) and runs on the TSC; a guest that sets the time keeps its own.
 * The chip logic (struct mc146818) takes the TSC value as an argument, so host unit tests
 * drive it with made-up times; the VM glue adds the lock, the ports, IRQ 8 and its timer.
 */
#ifndef MHV_DEVICES_RTC_H
#define MHV_DEVICES_RTC_H

#include <stdbool.h>
#include <stdint.h>

#define RTC_NEVER UINT64_MAX
/* The IBM PC/AT BIOS's shutdown status byte in CMOS RAM: what the firmware does after a reset
 * (devices/reset.c, vm/firmware_stub.asm): 0x05 EOI and jump through 40:67, 0x0A jump, 0x0B IRET,
 * 0x0C RETF through it; anything else boots. */
#define RTC_SHUTDOWN_STATUS 0x0f

struct mc146818 {
    uint8_t ram[128];       /* registers 0x00-0x0d, then battery-backed RAM 0x0e-0x7f */
    uint64_t tsc_hz;
    bool frozen;            /* SET, or the divider held in reset: the time registers hold still */
    uint64_t base_seconds;  /* the clock's time (Unix seconds) at base_tsc, an update instant */
    uint64_t base_tsc;
    uint64_t divider_tsc;   /* when the divider chain last started: the periodic phase */
    uint64_t checked_tsc;   /* register C holds every event up to this TSC value */
    uint64_t alarm_at;      /* the clock time the alarm next matches, or RTC_NEVER */
};

/* Power-on: the clock at `seconds` (Unix) at TSC `tsc`, 24-hour BCD mode, divider running with
 * 1024 Hz periodic rate selected, no interrupts enabled, VRT set, RAM cleared. */
void mc146818_reset(struct mc146818 *c, uint64_t ticks_per_s, uint64_t seconds, uint64_t tsc);
/* The RESET pin (a machine reset): interrupt enables and flags cleared; the time and the
 * RAM stay (battery-backed). */
void mc146818_reset_pin(struct mc146818 *c, uint64_t tsc);
/* The PC BIOS's memory-size bytes for `bytes` of RAM from address 0: 0x15/0x16 base memory
 * (640 KiB), 0x17/0x18 and 0x30/0x31 KiB above 1 MiB (at most 0xffff), 0x34/0x35 64 KiB blocks
 * above 16 MiB below 4 GiB, 0x5b-0x5d 64 KiB blocks above 4 GiB; and 0x10 (no floppy), 0x12
 * (no fixed disk), 0x14 (equipment: FPU, VGA, no floppy). */
void mc146818_set_bios_data(struct mc146818 *c, uint64_t bytes);
/* Register access (reg 0x00-0x7f) at TSC value tsc. */
uint8_t mc146818_read(struct mc146818 *c, unsigned reg, uint64_t tsc);
void mc146818_write(struct mc146818 *c, unsigned reg, uint8_t value, uint64_t tsc);
/* The IRQ output at tsc (register C's IRQF), after noting the events up to then. */
bool mc146818_irq(struct mc146818 *c, uint64_t tsc);
/* The TSC value of the next event that will raise IRQF, or 0 (none, or IRQF already set: the
 * output stays asserted until register C is read). */
uint64_t mc146818_next_event(const struct mc146818 *c, uint64_t tsc);
/* The clock's time now (Unix seconds). */
uint64_t mc146818_seconds(const struct mc146818 *c, uint64_t tsc);
struct vm;
/* The VM's CMOS shutdown status byte (0 when it has no CMOS clock). */
uint8_t vrtc_shutdown_status(struct vm *vm);
/* The VM's clock now (Unix seconds; 0 when it has no CMOS clock). */
uint64_t vrtc_seconds(struct vm *vm);

/* The next clock time after `after` whose hour, minute and second match the alarm (-1: any
 * value), or RTC_NEVER when no time of day can match. */
uint64_t rtc_alarm_next(uint64_t after, int hour, int minute, int second);

#endif
