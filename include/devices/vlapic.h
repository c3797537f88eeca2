/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The local APIC of each vCPU (SDM Vol. 3A chapter 12 "Advanced Programmable Interrupt
 * Controller"): xAPIC registers in the MMIO page at 0xfee00000 and x2APIC registers as MSRs
 * 0x800-0x8ff, IRR/ISR/TMR and the priorities, EOI (forwarded to the I/O APIC for
 * level-triggered vectors), the LVT, the timer in one-shot, periodic and TSC-deadline modes on
 * a device timer, and IPIs between the VM's vCPUs including INIT and STARTUP.
 *
 * The timer counts at the TSC rate (divided by the divide configuration register): CPUID leaf
 * 0x15 tells the guest so (vmx/exit_cpuid.c), and Linux then needs no calibration.
 *
 * The registers live in a virtual-APIC page laid out like the xAPIC page (the register at
 * offset X is the 32-bit word at page + X; SDM Vol. 3C 31.1.1), whether or not the CPU's APIC
 * virtualisation is used (vlapic_assist), so the emulated and the assisted paths share one
 * copy of the state. With a TPR shadow the CPU keeps the TPR there (CR8); with APIC-register
 * virtualisation it serves most xAPIC reads from the page and puts writes there before an
 * APIC-write exit (vlapic_apic_write completes them); with virtual-interrupt delivery it moves
 * vectors from IRR to ISR itself and performs EOIs. Only the CPU that runs the vCPU writes the
 * page: other CPUs post vectors (vlapic_set_irq), which that CPU merges into IRR between exits.
 */
#ifndef MHV_DEVICES_VLAPIC_H
#define MHV_DEVICES_VLAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/spinlock.h"
#include "sched/vtimer.h"

struct vcpu;
struct vm;

/* Which APIC virtualisation features every vCPU's VMCS uses, decided once at boot by
 * vmx/vcpu.c from the VMX capabilities and the apicv= option. All false: fully emulated. */
struct vlapic_assist {
    bool tpr_shadow; /* "use TPR shadow": CR8 reads and writes go to the page's TPR, no exit */
    bool apic_regs;  /* "virtualize APIC accesses" + "APIC-register virtualization" */
    bool vid;        /* "virtual-interrupt delivery": RVI/SVI, virtualized EOIs */
};
extern struct vlapic_assist vlapic_assist;

struct vlapic {
    struct vcpu *vcpu;
    struct spinlock lock;
    struct vlapic_assist assist;    /* what this vCPU's VMCS uses now (vcpu_apic_mode_changed):
                                     * vlapic_assist while an xAPIC at the default base, else none */
    bool moved;                     /* an xAPIC whose page the guest moved from 0xfee00000 */
    uint32_t *regs;                 /* the virtual-APIC page: the register at offset X is regs[X / 4] */
    uint64_t page;                  /* its physical address (the VMCS virtual-APIC address) */
    uint64_t apic_base;             /* IA32_APIC_BASE: address, enable (bit 11), x2APIC (bit 10), BSP (bit 8) */
    uint32_t posted[8];             /* vectors accepted but not yet in IRR (other CPUs may post) */
    uint32_t posted_level[8];       /* ... and which of them are level-triggered */
    uint32_t esr_pending;           /* errors since the last ESR write (12.5.3) */
    unsigned timer_mode;            /* of the last LVT timer value accepted (the page may hold a raw write) */
    uint32_t timer_divisor;         /* of the last divide configuration accepted (likewise): 1-128 */
    uint64_t timer_start;           /* TSC when the current count started (or the period began) */
    bool timer_counting;            /* the count runs (one-shot: until it reaches 0) */
    uint64_t tsc_deadline;          /* guest TSC value armed in TSC-deadline mode; 0: none */
    struct vtimer timer;
    uint64_t eoi_exit[4];           /* EOI-exit bitmap: level-triggered vectors seen since reset */
    bool eoi_exit_all;              /* ... or every vector, as last written (see vlapic_entry_state) */
    bool eoi_exit_changed;          /* ... not yet written to the VMCS */
    volatile bool entry_work;       /* the entry path must look: a vector posted; IRR nonempty (without
                                     * virtual-interrupt delivery) or deliverable (with it); ISR or TPR
                                     * changed; the PIC's output */
};

/* Creates vCPU v's local APIC and its virtual-APIC page in the reset state. */
struct vlapic *vlapic_create(struct vcpu *v);
/* Back to the power-on state, as firmware leaves it: enabled at 0xfee00000 in xAPIC mode,
 * vCPU 0's in virtual-wire mode (a VM's start and restart). Only the CPU that runs the vCPU
 * (or none) may call it. */
void vlapic_reset(struct vlapic *l);
/* An INIT signal (SDM Vol. 3A 12.4.7.3, 9.1.1): the registers return to their power-up
 * values; the APIC ID and IA32_APIC_BASE (enable, x2APIC mode, base) stay. */
void vlapic_init_signal(struct vlapic *l);

/* IA32_APIC_BASE.EN (12.4.3): while clear, the APIC is gone: no MMIO page, no x2APIC MSRs,
 * no interrupts accepted, CPUID.1:EDX.APIC clear, and the 8259's INTR reaches the CPU
 * directly. Inline, as every interrupt sent asks. */
static inline bool vlapic_hw_enabled(const struct vlapic *l)
{
    return l->apic_base & (1ull << 11);
}

/* IA32_APIC_BASE.BSP (bit 8): the VM's bootstrap processor (vCPU 0). */
static inline bool vlapic_is_bsp(const struct vlapic *l)
{
    return l->apic_base & (1ull << 8);
}

/* The APIC virtualisation l's vCPU can use in its mode: vlapic_assist at the default xAPIC,
 * none otherwise (vmx/vcpu.c's vcpu_apic_mode_changed applies it). */
struct vlapic_assist vlapic_assist_for_mode(const struct vlapic *l);
struct mmio_handler;
/* The MMIO handler for v's APIC when the guest moved it away from 0xfee00000 (IA32_APIC_BASE)
 * and gpa falls in its page: filled into *h, else NULL. The EPT-violation path asks first
 * whether l->moved at all (one load). */
const struct mmio_handler *vlapic_moved_mmio(struct vcpu *v, uint64_t gpa, struct mmio_handler *h);

/* Asks the local APIC of v to take `vector` (fixed delivery), edge or level triggered:
 * posted for IRR, the vCPU woken or made to leave the guest on its CPU. Any CPU may call it. */
void vlapic_set_irq(struct vcpu *v, uint8_t vector, bool level);

/* The vector the APIC would deliver now (highest IRR above the processor priority), or -1. */
int vlapic_pending_vector(struct vlapic *l);
/* The CPU takes `vector`: IRR -> ISR (interrupt acknowledge; not used with virtual-interrupt
 * delivery, where the CPU does it). */
void vlapic_acknowledge(struct vlapic *l, int vector);
/* Sets entry_work to whether the entry path still has work here: posted vectors; without
 * virtual-interrupt delivery any IRR bit (blocked by priority for now); with it, a vector
 * above the processor priority (the entry path decides whether the guest can take it). */
void vlapic_refresh_entry_work(struct vlapic *l);

/* What the VMCS needs before an entry (vmx/inject.c writes it). Merges posted vectors into IRR.
 * With a TPR shadow alone: the TPR threshold, the priority class of the highest IRR vector
 * when the TPR holds it back (so lowering CR8 below it exits), else 0 (SDM Vol. 3C 31.1.2).
 * With virtual-interrupt delivery: the guest interrupt status, RVI (highest IRR, 0 while the
 * APIC is software-disabled) | SVI (highest ISR) << 8; whether a vector is deliverable (above
 * the processor priority); and the EOI-exit bitmap when it changed. `open`: the guest takes
 * an interrupt at this entry (RFLAGS.IF, no STI/MOV-SS blocking, no event injected).
 *
 * Bochs (2.7 and later) delivers a recognized virtual interrupt even while the guest's
 * RFLAGS.IF is 0 when a physical interrupt arrives in VMX non-root operation (its
 * InterruptAcknowledge prefers the virtual interrupt to the external-interrupt exit): Linux
 * then takes timer interrupts inside IRQs-off sections and hangs. Real CPUs recognize but do
 * not deliver (SDM Vol. 3C 31.2.2). mhv therefore never lets one be recognized while the guest
 * cannot take it, where it can help it: the entry path keeps the interrupt-window exit armed
 * instead (a pending virtual interrupt is not recognized then, 31.2.1) whenever a vector waits
 * in RVI, even one the TPR or an in-service vector holds back (a MOV to CR8 or an EOI, which
 * do not exit, would otherwise make it recognized), and while a second vector waits behind
 * the one delivered at entry every EOI exits (so the EOI does not recognize the next one
 * inside the handler). x2APIC self-IPIs exit (every x2APIC MSR is intercepted); an xAPIC
 * fixed IPI with the "self" shorthand does not: the CPU virtualizes it (SDM Vol. 3C 31.5,
 * self-IPI virtualization), setting the vector in VIRR and RVI itself and recognizing it at
 * once. mhv sees it only at the next exit, where the entry path arms the window as for its
 * own vectors (vmx/inject.c): until that exit, a physical interrupt on Bochs still delivers
 * such a vector with RFLAGS.IF = 0. */
struct vlapic_entry_state {
    uint16_t interrupt_status;
    bool deliverable;
    bool eoi_exit_changed;
    uint64_t eoi_exit[4];
    uint32_t tpr_threshold;
};
void vlapic_entry_state(struct vlapic *l, bool open, struct vlapic_entry_state *s);

/* Delivers an interrupt message to the vCPUs of vm it addresses: physical (APIC ID, 0xff or
 * 0xffffffff broadcast) or logical destination (flat or cluster in xAPIC, cluster in x2APIC),
 * delivery mode fixed, lowest priority (to the first match), NMI, INIT, STARTUP or ExtINT.
 * The I/O APIC and ICR writes use it. */
void vlapic_deliver(struct vm *vm, struct vcpu *from, uint32_t dest, bool logical, unsigned mode, uint8_t vector,
                    bool level, unsigned shorthand);

/* MMIO page (xAPIC mode) and MSRs (x2APIC mode, IA32_APIC_BASE, IA32_TSC_DEADLINE). The MSR
 * functions return false for an access that must raise #GP. The MMIO functions serve the page
 * at 0xfee00000 (ctx NULL) or the moved page (vlapic_moved_mmio); where the APIC is not
 * (disabled, x2APIC mode, moved elsewhere) reads return all-ones and writes go nowhere, as on
 * a bus without it (12.12.2). */
uint64_t vlapic_mmio_read(struct vcpu *v, void *ctx, uint64_t offset, unsigned size);
void vlapic_mmio_write(struct vcpu *v, void *ctx, uint64_t offset, unsigned size, uint64_t value);
bool vlapic_msr_read(struct vcpu *v, uint32_t msr, uint64_t *value);
bool vlapic_msr_write(struct vcpu *v, uint32_t msr, uint64_t value);

/* CR8 is TPR[7:4] (SDM Vol. 3A 12.8.6.3), for CR8 exits when there is no TPR shadow. */
uint64_t vlapic_get_cr8(struct vlapic *l);
void vlapic_set_cr8(struct vlapic *l, uint64_t value);

/* Exits of the CPU's APIC virtualisation (SDM Vol. 3C 31.4.3.3, 31.1.4, 31.1.2): the guest
 * wrote the register at `offset` and its value is already in the page (APIC-write, trap-like);
 * a virtualized EOI of a vector in the EOI-exit bitmap (ISR already updated by the CPU); the
 * TPR dropped below the threshold. */
void vlapic_apic_write(struct vcpu *v, uint32_t offset);
void vlapic_eoi_exit(struct vcpu *v, uint8_t vector);
void vlapic_tpr_below_threshold(struct vcpu *v);

/* The 8259 PIC's output reaches this vCPU: LINT0 in ExtINT mode, unmasked, the APIC software-
 * enabled (the virtual-wire mode firmware leaves), or the APIC disabled (INTR straight to the
 * CPU, 12.4.3). */
bool vlapic_accepts_pic(struct vlapic *l);
/* An interrupt message in ExtINT delivery mode (from the I/O APIC) reached v's APIC: v takes
 * an interrupt whose vector the 8259 supplies at the acknowledge (vmx/inject.c). */
void vlapic_extint(struct vcpu *v);

#endif
