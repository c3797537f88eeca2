/* SPDX-License-Identifier: BSD-2-Clause */
/* Local APIC in xAPIC (MMIO) or x2APIC (MSR) mode (SDM Vol. 3A chapter 12). */
#ifndef MHV_ARCH_X86_LAPIC_H
#define MHV_ARCH_X86_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

/* Interrupt vectors mhv owns. 0x20-0x2f receive the (masked) 8259 PICs' spurious IRQs. */
#define VECTOR_LAPIC_TIMER 0xef
#define VECTOR_XCALL 0xf0
#define VECTOR_RESCHEDULE 0xf1
#define VECTOR_KICK 0xf2 /* only makes a CPU leave its guest, so a new virtual interrupt goes in */
#define VECTOR_LAPIC_ERROR 0xfe
#define VECTOR_SPURIOUS 0xff

/* ICR delivery modes (SDM Vol. 3A 12.6.1). */
#define ICR_FIXED (0u << 8)
#define ICR_NMI (4u << 8)
#define ICR_INIT (5u << 8)
#define ICR_STARTUP (6u << 8)
#define ICR_LEVEL_ASSERT (1u << 14)

/* Chooses the mode (x2APIC whenever CPUID offers it) and enables the boot CPU's APIC.
 * mmio_base comes from the MADT (0: read IA32_APIC_BASE). */
void lapic_init(uint64_t mmio_base);
/* Enables the calling CPU's local APIC in the chosen mode (every AP calls this). */
void lapic_enable_this_cpu(void);
bool lapic_x2apic_mode(void);
uint32_t lapic_id(void);
void lapic_eoi(void);
/* Sends an IPI to one APIC ID; icr_low = delivery mode | vector | level. */
void lapic_send_ipi(uint32_t apic_id, uint32_t icr_low);

/* The APIC ID CPUID reports for the calling CPU (x2APIC ID from leaf 0xb where present). */
uint32_t cpu_apic_id_from_cpuid(void);

/* One-shot timer: an interrupt on VECTOR_LAPIC_TIMER after `ns` nanoseconds (TSC-deadline
 * mode where the CPU has it, the one-shot count otherwise). */
void lapic_timer_oneshot_ns(uint64_t ns);
bool lapic_timer_uses_tsc_deadline(void);

#endif
