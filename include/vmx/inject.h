/* SPDX-License-Identifier: BSD-2-Clause */
/* Event injection and instruction retirement (SDM Vol. 3C 28.6 "Event Injection"). */
#ifndef MHV_VMX_INJECT_H
#define MHV_VMX_INJECT_H

#include <stdbool.h>
#include <stdint.h>

struct vcpu;

enum { VEC_DE = 0, VEC_DB = 1, VEC_NMI = 2, VEC_BP = 3, VEC_UD = 6, VEC_DF = 8, VEC_TS = 10, VEC_NP = 11,
       VEC_SS = 12, VEC_GP = 13, VEC_PF = 14, VEC_AC = 17, VEC_MC = 18 };

#include "arch/x86/cpu.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs.h"
#include "devices/vlapic.h"


/* The RIP after an instruction that ends exactly at 4 GiB in 32-bit code: EIP wraps to 0 (SDM
 * Vol. 1 3.5: the instruction pointer is 32 bits outside 64-bit mode). Out of line: reached
 * only when an instruction crosses the 4 GiB line. */
uint64_t inject_wrap_rip(struct vcpu *v, uint64_t next);

/* The debug trap the CPU would raise after an instruction mhv performed (or after an element of
 * a REP string instruction): DR6.BS when the guest single-steps (RFLAGS.TF; SDM Vol. 3B
 * 18.3.1.4) and B0-B3 for the data and I/O breakpoints it hit (v->debug_hits, 18.3.1.2). */
void inject_debug_trap(struct vcpu *v, bool single_step);

/* Retires the instruction that exited, going on at `next`: STI/MOV-SS blocking ends (SDM Vol.
 * 3C 25.4.2), and a single-stepping guest, or one whose breakpoint the instruction hit, gets
 * its #DB. */
static inline void retire_at(struct vcpu *v, uint64_t next)
{
    vmcs_writenat(v, VMCS_GUEST_RIP, next);
    bool single_step = vmcs_readnat(v, VMCS_GUEST_RFLAGS) & RFLAGS_TF;
    if (__builtin_expect(single_step || v->debug_hits, 0))
        inject_debug_trap(v, single_step);
    uint32_t blocking = vmcs_read32(v, VMCS_GUEST_INTERRUPTIBILITY);
    if (blocking & BLOCKING_STI_MOVSS)
        vmcs_write32(v, VMCS_GUEST_INTERRUPTIBILITY, blocking & ~BLOCKING_STI_MOVSS);
}

/* retire_at the next instruction: RIP += the exit's instruction length. Inline: almost every
 * exit does it. */
static inline void skip_instruction(struct vcpu *v)
{
    uint64_t next = v->exit.rip + v->exit.instruction_length;
    if (__builtin_expect((next ^ v->exit.rip) >> 32, 0))
        next = inject_wrap_rip(v, next);
    retire_at(v, next);
}

/* Queues a hardware exception for the next entry (error code where the vector has one and the
 * guest is in protected mode). A second exception raised while one is being delivered is
 * combined as the CPU would (SDM Vol. 3A 7.15, table 7-5): #DF, or a triple fault (VM stop). */
void inject_exception(struct vcpu *v, unsigned vector, uint32_t error_code);
static inline void inject_gp(struct vcpu *v) { inject_exception(v, VEC_GP, 0); }
/* #PF with CR2 = the faulting linear address (SDM Vol. 3A 7.15, interrupt 14). */
void inject_page_fault(struct vcpu *v, uint64_t cr2, uint32_t error_code);
static inline void inject_ud(struct vcpu *v) { inject_exception(v, VEC_UD, 0); }

/* Before each entry: writes the queued event, or re-injects the event whose delivery the last
 * exit interrupted (IDT-vectoring information, SDM Vol. 3C 29.2.4 and 30.2.1), and brings the
 * VMCS's view of the local APIC up to date when its hint says so (posted vectors into IRR;
 * RVI/SVI and the EOI-exit bitmap, or the TPR threshold). The common case, nothing to deliver,
 * is a check inline on the entry path; with virtual-interrupt delivery it includes RVI, which
 * the CPU sets itself for a self-IPI (include/devices/vlapic.h says why that matters). */
void inject_events(struct vcpu *v);
#define inject_before_entry(v)                                                              \
    do {                                                                                    \
        if ((v)->pending_events || (v)->lapic->entry_work ||                               \
            ((v)->exit.idt_vectoring_info & INFO_VALID) ||                                   \
            ((v)->lapic->assist.vid && (vmcs_read16(v, VMCS_GUEST_INTERRUPT_STATUS) & 0xff))) \
            inject_events(v);                                                               \
    } while (0)

enum { EVENT_EXCEPTION = 1, EVENT_NMI = 4 };

/* An external interrupt (vector 16-255, edge) for v: it goes to v's local APIC (devices/vlapic_delivery.c).
 * mhv injects it at the first entry where the guest accepts it (RFLAGS.IF = 1, no STI/MOV-SS
 * blocking, above the processor priority), with the interrupt-window exit armed until then
 * (SDM Vol. 3C 26.7.5, 28.7.1); with virtual-interrupt delivery the entry only updates RVI and
 * the CPU delivers it itself (31.2). An NMI goes in like the former, with the NMI window. Any
 * CPU may call these. */
void inject_interrupt(struct vcpu *v, uint8_t vector);
void inject_nmi(struct vcpu *v);
/* Whether an NMI or an interrupt could be delivered now (HLT ends at once). */
bool inject_interrupt_deliverable(struct vcpu *v);
/* After an interrupt-window (nmi_window false) or NMI-window exit: disarms that window (the
 * event goes in on the next entry). */
void inject_window_opened(struct vcpu *v, bool nmi_window);
/* At an exit while v->in_nmi_handler: whether the guest's IRET has lifted virtual-NMI
 * blocking since (the exit path calls it; vmx/inject.c says why mhv keeps its own view). */
void inject_note_nmi_blocking(struct vcpu *v);

#endif
