/* SPDX-License-Identifier: BSD-2-Clause */
/* Random device programming that the guest survives (fuzz.h). The values stay random where
 * the outcome is harmless and are bent only where the guest could not go on: interrupt
 * vectors 16-31 (the runtime's stubs would take them for exceptions with or without an
 * error code, and 0xff, the spurious vector, which the runtime never EOIs), INIT, STARTUP
 * and ExtINT deliveries (ops_apic.c owns INIT and STARTUP; the PIC's vector base is random),
 * level-triggered unmasked I/O APIC pins (a level that stays high would interrupt the guest
 * forever), periodic APIC timers faster than FZ_MIN_TIMER_PERIOD ticks, the PIC's path to
 * the CPU (LINT0 stays masked: its vectors are the fuzzer's to scramble), and the ports
 * that stop or reset the VM or write to mhv's console. */
#include "fuzz.h"

#define FZ_MIN_TIMER_PERIOD 50000u /* TSC ticks: 1 ms at Bochs's nominal 50 MHz */

#define MODE_FIXED 0
#define MODE_LOWEST 1
#define MODE_NMI 4
#define MODE_INIT 5
#define MODE_STARTUP 6
#define MODE_EXTINT 7
#define LVT_MODE_MASK (7u << 8)

static uint32_t vector_ok(uint32_t value)
{
    uint32_t v = value & 0xff;
    if (v >= 16 && v < 32)
        v += 0x20;
    else if (v == 0xff)
        v = 0xfe;
    return (value & ~0xffu) | v;
}

/* An LVT entry with a delivery mode (LINT0/1, thermal, performance, CMCI): fixed, NMI or SMI
 * only; a vector the runtime can take. */
static uint32_t lvt_with_mode(uint32_t value)
{
    unsigned mode = (value >> 8) & 7;
    if (mode == MODE_INIT || mode == MODE_STARTUP || mode == MODE_EXTINT || mode == 3)
        value &= ~LVT_MODE_MASK;
    return vector_ok(value);
}

uint32_t fz_sanitize_lapic(unsigned offset, uint32_t value)
{
    switch (offset) {
    case APIC_ID:
        return apic_read(APIC_ID); /* IPIs find vCPUs by their IDs */
    case APIC_ICR_LOW: {
        unsigned mode = (value >> 8) & 7;
        if (mode == MODE_INIT || mode == MODE_STARTUP)
            value &= ~LVT_MODE_MASK;
        return vector_ok(value);
    }
    case APIC_LVT_TIMER: {
        uint32_t v = vector_ok(value) & ~LVT_MODE_MASK; /* no delivery mode: bits 8-10 reserved */
        if (((v >> 17) & 3) == 1 && apic_read(APIC_TIMER_INITIAL) < FZ_MIN_TIMER_PERIOD)
            v &= ~(3u << 17); /* periodic with a short period: one-shot instead */
        return v;
    }
    case APIC_TIMER_INITIAL: {
        uint32_t lvt = apic_read(APIC_LVT_TIMER);
        if (((lvt >> 17) & 3) == 1 && value && value < FZ_MIN_TIMER_PERIOD)
            return FZ_MIN_TIMER_PERIOD + (value & 0xffff);
        return value;
    }
    case APIC_LVT_LINT0:
        return lvt_with_mode(value) | LVT_MASKED;
    case APIC_LVT_LINT1: case 0x2f0 /* CMCI */: case 0x330 /* thermal */: case 0x340 /* performance */:
        return lvt_with_mode(value);
    case APIC_LVT_ERROR:
        return vector_ok(value);
    case 0x3f0: /* SELF IPI (x2APIC) */
        return vector_ok(value);
    default:
        return value;
    }
}

uint32_t fz_sanitize_ioapic(unsigned index, uint32_t value)
{
    if (index < 0x10 || index >= 0x10 + 2 * 24 || (index & 1))
        return value; /* ID, version, arbitration, destinations: anything goes */
    unsigned mode = (value >> 8) & 7;
    /* NMIs too: an NMI for a vCPU in its start-up trampoline would kill it (fz_send_icr). */
    if (mode == MODE_INIT || mode == MODE_EXTINT || mode == MODE_NMI)
        value &= ~LVT_MODE_MASK;
    if ((value & (1u << 15)) && !(value & LVT_MASKED))
        value |= LVT_MASKED; /* level-triggered: only masked */
    return vector_ok(value);
}

bool fz_sanitize_port_byte(uint16_t port, uint8_t *value)
{
    switch (port) {
    case 0xf4: case 0xf5: case 0xf6: case 0xf7:
        return false; /* the debug exit stops the VM */
    case 0x3f8:
        return false; /* COM1's transmit register: raw bytes on mhv's console */
    case 0x64:
        /* The 8042's commands 0xd1 (write the output port, whose bit 0 resets) and
         * 0xf0-0xff (pulse the reset line): a harmless command instead. */
        if (*value == 0xd1 || *value >= 0xf0)
            *value = 0x20;
        return true;
    case 0x92:
        /* Bit 0 going 0 -> 1 resets: keep it as it is. */
        *value = (uint8_t)((*value & ~1u) | (inb(0x92) & 1u));
        return true;
    case 0xcf9:
        *value &= (uint8_t)~4u; /* RST_CPU */
        return true;
    case 0x605:
        *value &= (uint8_t)~0x20u; /* PM1a_CNT.SLP_EN (bit 13) */
        return true;
    case 0x71:
        /* The destructive variant's resets need CMOS shutdown status 0 (ops_destructive.c):
         * the index another vCPU selected could be 0x0f. */
        return !fz_cfg.destructive;
    default:
        return true;
    }
}
