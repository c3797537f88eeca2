/*
 * The local APIC of each vCPU, fully emulated (SDM Vol. 3A chapter 12 "Advanced Programmable
 * Interrupt Controller"): xAPIC registers in the MMIO page at 0xfee00000 and x2APIC registers
 * as MSRs 0x800-0x8ff, IRR/ISR/TMR and the priorities, EOI (forwarded to the I/O APIC for
 * level-triggered vectors), the LVT, the timer in one-shot, periodic and TSC-deadline modes on
 * a device timer, and IPIs between the VM's vCPUs including INIT and STARTUP.
 *
 * The timer counts at the TSC rate (divided by the divide configuration register): CPUID leaf
 * 0x15 tells the guest so (vmx/exit_cpuid.c), and Linux then needs no calibration.
 */
#ifndef MHV_VM_VLAPIC_H
#define MHV_VM_VLAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/spinlock.h"
#include "sched/vtimer.h"

struct vcpu;
struct vm;

struct vlapic {
    struct vcpu *vcpu;
    struct spinlock lock;
    uint64_t apic_base;             /* IA32_APIC_BASE: address, enable (bit 11), x2APIC (bit 10), BSP (bit 8) */
    uint32_t tpr, ldr, dfr, svr, esr, icr_low, icr_high;
    uint32_t lvt[7];                /* CMCI, timer, thermal, performance, LINT0, LINT1, error */
    uint32_t irr[8], isr[8], tmr[8];
    uint32_t timer_initial, timer_divide;
    uint64_t timer_start;           /* TSC when the current count started (or the period began) */
    uint64_t tsc_deadline;          /* guest TSC value armed in TSC-deadline mode; 0: none */
    struct vtimer timer;
    volatile bool irr_pending;      /* some IRR bit is set: the entry path looks closer */
};

/* Creates vCPU v's local APIC in its reset state (enabled, xAPIC mode, BSP for vCPU 0). */
struct vlapic *vlapic_create(struct vcpu *v);
/* Back to the power-on state (INIT keeps the APIC ID and base; restart uses this too). */
void vlapic_reset(struct vlapic *l);

/* Asks the local APIC of v to take `vector` (fixed delivery), edge or level triggered:
 * IRR set, the vCPU woken or made to leave the guest on its CPU. Any CPU may call it. */
void vlapic_set_irq(struct vcpu *v, uint8_t vector, bool level);

/* The vector the APIC would deliver now (highest IRR above the processor priority), or -1. */
int vlapic_pending_vector(struct vlapic *l);
/* Whether any IRR bit is set (deliverable or not). */
bool vlapic_irr_nonempty(struct vlapic *l);
/* The CPU takes `vector`: IRR -> ISR (interrupt acknowledge). */
void vlapic_acknowledge(struct vlapic *l, int vector);

/* Delivers an interrupt message to the vCPUs of vm it addresses: physical (APIC ID, 0xff or
 * 0xffffffff broadcast) or logical destination (flat or cluster in xAPIC, cluster in x2APIC),
 * delivery mode fixed, lowest priority (to the first match), NMI, INIT, STARTUP or ExtINT.
 * The I/O APIC and ICR writes use it. */
void vlapic_deliver(struct vm *vm, struct vcpu *from, uint32_t dest, bool logical, unsigned mode, uint8_t vector,
                    bool level, unsigned shorthand);

/* MMIO page (xAPIC mode) and MSRs (x2APIC mode, IA32_APIC_BASE, IA32_TSC_DEADLINE). The MSR
 * functions return false for an access that must raise #GP. */
uint64_t vlapic_mmio_read(struct vcpu *v, void *ctx, uint64_t offset, unsigned size);
void vlapic_mmio_write(struct vcpu *v, void *ctx, uint64_t offset, unsigned size, uint64_t value);
bool vlapic_msr_read(struct vcpu *v, uint32_t msr, uint64_t *value);
bool vlapic_msr_write(struct vcpu *v, uint32_t msr, uint64_t value);

/* LINT0 in ExtINT mode, unmasked (the virtual-wire mode firmware leaves): the 8259 PIC's
 * output reaches this vCPU. */
bool vlapic_accepts_pic(struct vlapic *l);

#endif
