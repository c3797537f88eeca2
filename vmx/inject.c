/* SPDX-License-Identifier: BSD-2-Clause */
/* Event injection (SDM Vol. 3C 28.6) and skip_instruction(). */
#include "vmx/inject.h"

#include <stdbool.h>

#include "arch/x86/cpu.h"
#include "arch/x86/msr.h"
#include "vm/platform.h"
#include "devices/vlapic.h"
#include "vm/vm.h"
#include "vmx/caps.h"
#include "vmx/preflight.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs.h"

#define INFO_TYPE_HW_EXCEPTION ((uint32_t)EVENT_TYPE_HW_EXCEPTION << 8)

static bool has_error_code(unsigned vector)
{
    return vector == VEC_DF || (vector >= VEC_TS && vector <= VEC_PF) || vector == VEC_AC;
}

static bool contributory(unsigned vector)
{
    return vector == VEC_DE || (vector >= VEC_TS && vector <= VEC_GP);
}

/* Exceptions of the fault class (SDM Vol. 3A table 7-1): the RFLAGS image the CPU pushes for
 * them has RF set (7.13), so that returning re-executes the instruction without a second
 * instruction-breakpoint #DB. #DB and #DF are left out (mhv injects #DB only as a trap). */
static bool fault_class(unsigned vector)
{
    return vector == VEC_DE || vector == 5 || vector == VEC_UD || vector == 7 || (vector >= VEC_TS && vector <= VEC_PF) ||
           vector == 16 || vector == VEC_AC || vector == 19 || vector == 20;
}

void inject_exception(struct vcpu *v, unsigned vector, uint32_t error_code)
{
    /* An exception raised while delivering another (IDT-vectoring information valid, type
     * hardware exception): contributory or #PF on top of #PF/contributory is a #DF; anything
     * on top of #DF is a triple fault. */
    uint32_t first = v->exit.idt_vectoring_info;
    if ((first & INFO_VALID) && INFO_TYPE(first) == EVENT_TYPE_HW_EXCEPTION) {
        unsigned f = INFO_VECTOR(first);
        if (f == VEC_DF) {
            vm_stop(v->vm, STOP_CRASH, 255, "triple fault: exception %u while delivering a double fault at RIP 0x%lx", vector,
                    v->exit.rip);
            return;
        }
        if ((contributory(f) || f == VEC_PF) && (contributory(vector) || (vector == VEC_PF && f == VEC_PF))) {
            vector = VEC_DF;
            error_code = 0;
        }
    }
    v->exit.idt_vectoring_info = 0; /* superseded: not re-injected */
    if (fault_class(vector))
        vmcs_writenat(v, VMCS_GUEST_RFLAGS, vmcs_readnat(v, VMCS_GUEST_RFLAGS) | RFLAGS_RF);
    bool protected_mode = v->cr0 & CR0_PE;
    __atomic_or_fetch(&v->pending_events, EVENT_EXCEPTION, __ATOMIC_SEQ_CST);
    v->pending_info = INFO_VALID | INFO_TYPE_HW_EXCEPTION | vector |
                      (has_error_code(vector) && protected_mode ? INFO_ERROR_CODE : 0);
    v->pending_error = error_code;
}

#define PROC_INTERRUPT_WINDOW (1u << 2)
#define PROC_NMI_WINDOW (1u << 22)
#define INFO_TYPE_EXTERNAL ((uint32_t)EVENT_TYPE_EXTERNAL << 8)
#define INFO_TYPE_NMI ((uint32_t)EVENT_TYPE_NMI << 8)

void inject_interrupt(struct vcpu *v, uint8_t vector)
{
    vlapic_set_irq(v, vector, false);
}

void inject_nmi(struct vcpu *v)
{
    /* Any CPU may call it: counted, then the hint (the entry path clears the hint first and
     * takes the count after, so none is missed). */
    __atomic_add_fetch(&v->nmi_queued, 1, __ATOMIC_SEQ_CST);
    __atomic_or_fetch(&v->pending_events, EVENT_NMI, __ATOMIC_SEQ_CST);
    if (!v->halted_in_nmi)
        v->halted_for_good = false; /* an NMI ends even a HLT with interrupts off */
}

/* The local APIC's vector the vCPU would take now, or -1. With virtual-interrupt delivery
 * the CPU delivers those itself from RVI (SDM Vol. 3C 31.2), so mhv never injects them. With
 * `take`, the interrupt is acknowledged (IRR -> ISR). */
static int apic_vector(struct vcpu *v, bool take)
{
    if (v->lapic->assist.vid)
        return -1;
    int vector = vlapic_pending_vector(v->lapic);
    if (vector >= 0 && take)
        vlapic_acknowledge(v->lapic, vector);
    return vector;
}

/* The 8259's INTR as a level: it reaches vCPU 0 through LINT0 in ExtINT mode, or straight to
 * its INTR pin while its local APIC is disabled (SDM Vol. 3A 12.4.3, 12.5.1). */
static bool pic_level(struct vcpu *v)
{
    return v->id == 0 && vlapic_accepts_pic(v->lapic) && vpic_pending_vector(v->vm) >= 0;
}

/* An interrupt the 8259 supplies the vector for: its INTR (pic_level), or an ExtINT message from
 * the I/O APIC waiting for this vCPU (vlapic_extint). -1 when none. With `take`, the vCPU takes
 * it now: the acknowledge cycle happens here, at the entry that injects it, and its vector is
 * the one the 8259 hands out then (IRQ 7, the spurious one, when the request went away since
 * INTR rose or the message was sent). Without, the vector the acknowledge would read now. */
static int pic_vector(struct vcpu *v, bool take)
{
    struct vm *vm = v->vm;
    if (!vm->pic)
        return -1;
    /* Taken, a message is consumed in one step: one sent meanwhile is not lost. */
    bool message = take ? __atomic_exchange_n(&v->extint_pending, false, __ATOMIC_SEQ_CST)
                        : __atomic_load_n(&v->extint_pending, __ATOMIC_SEQ_CST);
    if (!message && !pic_level(v))
        return -1;
    return vpic_intack(vm, take);
}

/* The vector mhv would inject now: its local APIC's, else the 8259's; -1 when none. */
static int interrupt_vector(struct vcpu *v, bool take)
{
    int vector = apic_vector(v, take);
    return vector >= 0 ? vector : pic_vector(v, take);
}

/* Nothing to inject: the hint stays only while the APIC still needs the entry path (vectors
 * posted, or held back by priority without virtual-interrupt delivery). vm/irq.c sets it
 * without the APIC's lock when the PIC's output changes: the PIC is asked once more after it
 * was cleared, so a change racing with this is not lost. */
static void refresh_hint(struct vcpu *v)
{
    vlapic_refresh_entry_work(v->lapic);
    if (!v->lapic->entry_work && v->vm->pic) {
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (pic_vector(v, false) >= 0)
            v->lapic->entry_work = true;
    }
}

bool inject_interrupt_deliverable(struct vcpu *v)
{
    /* The APIC's state whatever delivers it: a vector the CPU would deliver through RVI ends
     * a HLT as surely as one mhv would inject. */
    return (v->pending_events & EVENT_NMI) || vlapic_pending_vector(v->lapic) >= 0 || pic_vector(v, false) >= 0;
}

/* Without virtual-interrupt delivery, the TPR threshold that goes with a TPR shadow (the VMCS's
 * only view of the local APIC then; include/devices/vlapic.h). */
static void sync_tpr_threshold(struct vcpu *v)
{
    struct vlapic_entry_state s;
    vlapic_entry_state(v->lapic, false, &s);
    vmcs_write32(v, VMCS_TPR_THRESHOLD, s.tpr_threshold);
}

static void arm_window(struct vcpu *v, uint32_t bit)
{
    if (!vmx_ctl_allowed(&vmx_boot_caps, CTL_PROC, bit))
        return; /* no NMI-window exiting on this CPU: the NMI waits for the next exit */
    uint32_t proc = vmcs_read32(v, VMCS_PROC_CONTROLS);
    if (!(proc & bit))
        vmcs_write32(v, VMCS_PROC_CONTROLS, proc | bit);
}

void inject_window_opened(struct vcpu *v, bool nmi_window)
{
    /* Only the window that opened: the other one may still be wanted (an NMI-window exit
     * says nothing of RFLAGS.IF, and a virtual interrupt held in RVI behind an armed
     * interrupt window must stay behind it, see sync_virtual_interrupts). The APIC's part of
     * the entry path runs again, as it decides whether the interrupt window is needed. */
    uint32_t bit = nmi_window ? PROC_NMI_WINDOW : PROC_INTERRUPT_WINDOW;
    vmcs_write32(v, VMCS_PROC_CONTROLS, vmcs_read32(v, VMCS_PROC_CONTROLS) & ~bit);
    v->lapic->entry_work = true;
}

/* With virtual-interrupt delivery: RVI/SVI (26.4.2) and the EOI-exit bitmap (26.6.8) for this
 * entry. A vector the guest cannot take now (interrupts off, STI/MOV-SS blocking, another event
 * going in) waits behind the interrupt-window exit, which keeps the CPU from recognizing it
 * (31.2.1) until the guest can take it: see the Bochs erratum in include/devices/vlapic.h. */
static void sync_virtual_interrupts(struct vcpu *v, uint32_t info)
{
    uint32_t blocking = vmcs_read32(v, VMCS_GUEST_INTERRUPTIBILITY);
    bool open = !info && (vmcs_readnat(v, VMCS_GUEST_RFLAGS) & RFLAGS_IF) && !(blocking & BLOCKING_STI_MOVSS);
    struct vlapic_entry_state s;
    vlapic_entry_state(v->lapic, open, &s);
    vmcs_write16(v, VMCS_GUEST_INTERRUPT_STATUS, s.interrupt_status);
    if (s.eoi_exit_changed) {
        vmcs_write64(v, VMCS_EOI_EXIT_BITMAP0, s.eoi_exit[0]);
        vmcs_write64(v, VMCS_EOI_EXIT_BITMAP1, s.eoi_exit[1]);
        vmcs_write64(v, VMCS_EOI_EXIT_BITMAP2, s.eoi_exit[2]);
        vmcs_write64(v, VMCS_EOI_EXIT_BITMAP3, s.eoi_exit[3]);
    }
    /* Any vector in RVI, deliverable now or only once the TPR or an EOI lowers the priority:
     * the guest lowers those itself without an exit (TPR virtualization, EOI virtualization,
     * SDM Vol. 3C 31.1.2, 31.1.4), and each evaluates RVI; with the window armed nothing is
     * recognized while the guest cannot take it. */
    if ((s.interrupt_status & 0xff) && !open)
        arm_window(v, PROC_INTERRUPT_WINDOW);
    refresh_hint(v);
}

/* Virtual-NMI blocking (SDM Vol. 3C 25.3, 27.7.1.2) is set only by the delivery of an NMI that
 * mhv injected and cleared only by the guest's IRET, so mhv knows when it can be set:
 * v->in_nmi_handler, from that NMI's entry until an exit shows the bit clear. The VMCS bit is
 * trusted only then. Bochs 2.7 needs this (SourceForge bug #1456, fixed in Bochs 2.8): a VM
 * entry whose interruptibility state has the bit clear does not clear the CPU's blocking, so
 * the blocking of a vCPU switched out in its NMI handler carries over to the next guest that
 * CPU enters, which saves it on its exits and takes its NMIs only after an IRET of its own
 * (kvm-unit-tests' eventinj lost its second NMI test that way). A bit set without an NMI of
 * mhv's is that leak: it is ignored, and cleared before an NMI goes in (an entry that injects
 * an NMI with the bit set fails, 26.3.1.5). On Bochs 2.7 such a guest still gets NMI-window
 * exits late (the CPU holds the leaked blocking until the guest's next IRET), which matters
 * only for an NMI held back by an STI or MOV-SS shadow. */
void inject_note_nmi_blocking(struct vcpu *v)
{
    if (!(vmcs_read32(v, VMCS_GUEST_INTERRUPTIBILITY) & BLOCKING_NMI))
        v->in_nmi_handler = false;
}

/* An NMI or external interrupt, when nothing else goes in on this entry. */
static uint32_t asynchronous_event(struct vcpu *v)
{
    uint32_t blocking = vmcs_read32(v, VMCS_GUEST_INTERRUPTIBILITY);
    if ((blocking & BLOCKING_NMI) && !v->in_nmi_handler) {
        blocking &= ~BLOCKING_NMI; /* leaked by Bochs 2.7: see above */
        vmcs_write32(v, VMCS_GUEST_INTERRUPTIBILITY, blocking);
    }
    if (v->pending_events & EVENT_NMI) {
        /* NMIs sent meanwhile: the CPU holds one while another is being handled and drops the
         * rest (SDM Vol. 3A 7.7: at most one pending while NMIs are blocked), so two that arrive
         * together are both taken, one after the other. */
        __atomic_and_fetch(&v->pending_events, (uint8_t)~EVENT_NMI, __ATOMIC_SEQ_CST);
        uint32_t queued = __atomic_exchange_n(&v->nmi_queued, 0, __ATOMIC_SEQ_CST);
        uint32_t limit = blocking & BLOCKING_NMI ? 1 : 2;
        v->nmi_pending = v->nmi_pending + queued < limit ? v->nmi_pending + queued : limit;
        if (v->nmi_pending) {
            __atomic_or_fetch(&v->pending_events, EVENT_NMI, __ATOMIC_SEQ_CST); /* look again next entry */
            if (!(blocking & (BLOCKING_STI_MOVSS | BLOCKING_NMI))) {
                v->nmi_pending--;
                if (!v->nmi_pending)
                    __atomic_and_fetch(&v->pending_events, (uint8_t)~EVENT_NMI, __ATOMIC_SEQ_CST);
                if (v->nmi_pending || v->nmi_queued)
                    arm_window(v, PROC_NMI_WINDOW); /* the next one once this handler's IRET unblocks */
                v->in_nmi_handler = true;
                return INFO_VALID | INFO_TYPE_NMI | VEC_NMI;
            }
            arm_window(v, PROC_NMI_WINDOW);
        }
    }
    if (v->lapic->entry_work) {
        bool open = (vmcs_readnat(v, VMCS_GUEST_RFLAGS) & RFLAGS_IF) && !(blocking & BLOCKING_STI_MOVSS);
        int vector = interrupt_vector(v, open);
        if (vector >= 0 && open)
            return INFO_VALID | INFO_TYPE_EXTERNAL | (uint32_t)vector;
        if (vector >= 0)
            arm_window(v, PROC_INTERRUPT_WINDOW);
        else if (!v->lapic->assist.vid) /* with it, sync_virtual_interrupts refreshes the hint */
            refresh_hint(v);
    }
    return 0;
}

void inject_events(struct vcpu *v)
{
    uint32_t info = 0, error = 0;
    bool apic = v->lapic->entry_work;
    if (apic && v->lapic->assist.tpr_shadow && !v->lapic->assist.vid)
        sync_tpr_threshold(v);
    if (v->pending_events & EVENT_EXCEPTION) {
        info = v->pending_info;
        error = v->pending_error;
        __atomic_and_fetch(&v->pending_events, (uint8_t)~EVENT_EXCEPTION, __ATOMIC_SEQ_CST);
    } else if (v->exit.idt_vectoring_info & INFO_VALID) {
        /* Bit 12 is undefined in IDT-vectoring info and reserved in the entry field. */
        info = v->exit.idt_vectoring_info & ~(uint32_t)QUAL_NMI_UNBLOCKED_BY_IRET;
        error = v->exit.idt_vectoring_error;
        /* Software interrupts and exceptions need their instruction length again. */
        unsigned type = INFO_TYPE(info);
        if (event_type_software(type))
            vmcs_write32(v, VMCS_ENTRY_INSTRUCTION_LENGTH, v->exit.instruction_length);
        /* An exit during the delivery of an injected NMI saves virtual-NMI blocking as 1, and
         * an entry that injects an NMI with that bit set fails (SDM Vol. 3C 26.3.1.5; the
         * VMM chapter's "Resuming Guest Software after Handling an Exception" says to clear
         * it): the NMI sets the blocking again as it is delivered. */
        if (type == EVENT_TYPE_NMI)
            vmcs_write32(v, VMCS_GUEST_INTERRUPTIBILITY, vmcs_read32(v, VMCS_GUEST_INTERRUPTIBILITY) & ~BLOCKING_NMI);
        v->exit.idt_vectoring_info = 0;
    } else {
        info = asynchronous_event(v);
    }
    /* A vector in RVI that the vLAPIC did not put there: a self-IPI the CPU virtualized
     * (include/devices/vlapic.h), recognized with the guest's interrupts perhaps off. */
    if (v->lapic->assist.vid && (apic || (vmcs_read16(v, VMCS_GUEST_INTERRUPT_STATUS) & 0xff)))
        sync_virtual_interrupts(v, info);
    if (!info)
        return;
    /* Something goes in now; an interrupt still waiting needs the window to come back. */
    if (v->lapic->entry_work && interrupt_vector(v, false) >= 0)
        arm_window(v, PROC_INTERRUPT_WINDOW);
    if (info & INFO_ERROR_CODE)
        vmcs_write32(v, VMCS_ENTRY_EXCEPTION_ERROR_CODE, error);
    vmcs_write32(v, VMCS_ENTRY_INTERRUPTION_INFO, info);
}

void inject_page_fault(struct vcpu *v, uint64_t cr2, uint32_t error_code)
{
    /* The guest's CR2 lives in the register while its vCPU is loaded on this CPU (vmx/vcpu.c
     * saves it only when another vCPU takes the CPU), so the faulting address goes there. */
    write_cr2(cr2);
    inject_exception(v, VEC_PF, error_code);
}

uint64_t inject_wrap_rip(struct vcpu *v, uint64_t next)
{
    bool long_mode_code = (vmcs_read64(v, VMCS_GUEST_EFER) & EFER_LMA) &&
                          (vmcs_read32(v, VMCS_GUEST_CS_ACCESS) & (1u << 13)); /* CS.L */
    return long_mode_code ? next : (uint32_t)next;
}

void inject_debug_trap(struct vcpu *v, bool single_step)
{
    /* The #DB goes in as an exception rather than through the pending debug exceptions: an
     * interrupt injected at the same entry (a HLT that waited for one) would otherwise come
     * first, where the CPU takes the debug trap first (SDM Vol. 3A 7.9, priorities 4 and 5).
     * DR6 is the guest's, in this CPU's register while it is loaded (vmx/vcpu.c): it gets BS
     * for a single step and B0-B3 for the breakpoints hit, the other B bits clear; the rest
     * of DR6 is sticky (SDM Vol. 3B 18.2.3). */
    write_dr6((read_dr6() & ~0xfull) | v->debug_hits | (single_step ? DR6_BS : 0));
    v->debug_hits = 0;
    inject_exception(v, VEC_DB, 0);
}
