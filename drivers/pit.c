/* SPDX-License-Identifier: BSD-2-Clause */
/* 8254 PIT channel 2 as a one-shot stopwatch (Intel 8254 data sheet; PC port 0x61 gates it). */
#include "drivers/pit.h"

#include "arch/x86/cpu.h"
#include "arch/x86/io.h"

#define PIT_HZ 1193182u
#define PIT_CHANNEL2 0x42
#define PIT_COMMAND 0x43
#define PC_SPEAKER_PORT 0x61 /* bit 0: channel 2 gate, bit 1: speaker, bit 5: channel 2 output */
#define SPIN_LIMIT 50000000u /* a machine without a PIT must not hang the boot */

uint64_t pit_measure_tsc_ticks(unsigned ms)
{
    uint32_t count = PIT_HZ * ms / 1000;
    uint8_t port61 = inb(PC_SPEAKER_PORT) & ~0x03; /* speaker off, gate low */
    outb(PC_SPEAKER_PORT, port61);
    outb(PIT_COMMAND, 0xb0); /* channel 2, lobyte/hibyte, mode 0 (interrupt on terminal count) */
    outb(PIT_CHANNEL2, count & 0xff);
    outb(PIT_CHANNEL2, count >> 8);
    outb(PC_SPEAKER_PORT, port61 | 0x01); /* gate high: counting starts */
    uint64_t start = rdtsc();
    for (uint32_t i = 0; i < SPIN_LIMIT; i++) {
        if (inb(PC_SPEAKER_PORT) & 0x20) {
            uint64_t end = rdtsc();
            outb(PC_SPEAKER_PORT, port61);
            return end - start;
        }
    }
    outb(PC_SPEAKER_PORT, port61);
    return 0;
}
