/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The vCPU's local APIC (SDM Vol. 3A chapter 11), in xAPIC mode (MMIO at 0xfee00000) or x2APIC
 * mode (MSRs 0x800-0x8ff), whichever this vCPU has switched to. Register numbers are xAPIC
 * offsets (APIC_EOI = 0xb0); in x2APIC mode the runtime uses MSR 0x800 + offset / 16.
 */
#ifndef RT_APIC_H
#define RT_APIC_H

#include <stdbool.h>
#include <stdint.h>

#define APIC_MMIO_BASE 0xfee00000u
#define APIC_ID 0x20
#define APIC_VERSION 0x30
#define APIC_TPR 0x80
#define APIC_EOI 0xb0
#define APIC_LDR 0xd0
#define APIC_SVR 0xf0
#define APIC_ISR 0x100
#define APIC_IRR 0x200
#define APIC_ESR 0x280
#define APIC_ICR_LOW 0x300
#define APIC_ICR_HIGH 0x310
#define APIC_LVT_TIMER 0x320
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_LVT_ERROR 0x370
#define APIC_TIMER_INITIAL 0x380
#define APIC_TIMER_CURRENT 0x390
#define APIC_TIMER_DIVIDE 0x3e0

/* ICR delivery modes and flags. */
#define ICR_FIXED 0x000
#define ICR_NMI 0x400
#define ICR_INIT 0x500
#define ICR_STARTUP 0x600
#define ICR_LEVEL_ASSERT 0x4000
#define ICR_SELF (1u << 18)
#define ICR_ALL_INCLUDING_SELF (2u << 18)
#define ICR_ALL_EXCLUDING_SELF (3u << 18)

#define LVT_MASKED (1u << 16)
#define LVT_TIMER_PERIODIC (1u << 17)
#define LVT_TIMER_TSC_DEADLINE (2u << 17)

/* Software-enables this vCPU's APIC (spurious vector RT_VEC_SPURIOUS); the runtime calls it on
 * every vCPU at start. */
void apic_init(void);
bool apic_x2apic_supported(void);
/* Switches this vCPU to x2APIC mode (IA32_APIC_BASE bit 10): 0, or -1 when not offered. */
int apic_enable_x2apic(void);
bool apic_is_x2apic(void);

uint32_t apic_read(unsigned reg);
void apic_write(unsigned reg, uint32_t value);
uint32_t apic_id(void);
void apic_eoi(void);
/* ICR: low word (vector, delivery mode, shorthand) to the APIC with ID dest. */
void apic_send_ipi(uint32_t dest, uint32_t icr_low);
static inline void apic_send_fixed(uint32_t dest, uint8_t vector) { apic_send_ipi(dest, ICR_FIXED | ICR_LEVEL_ASSERT | vector); }

/* The APIC timer counts at this rate (CPUID 0x40000010 EBX, kHz), divided by 1 here. */
uint64_t apic_timer_khz(void);
void apic_timer_oneshot(uint8_t vector, uint32_t ticks);
void apic_timer_periodic(uint8_t vector, uint32_t ticks);
void apic_timer_stop(void);
/* TSC-deadline mode (CPUID 1 ECX bit 24): an interrupt when the TSC reaches deadline. */
int apic_timer_deadline(uint8_t vector, uint64_t deadline);

#endif
