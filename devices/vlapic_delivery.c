/* SPDX-License-Identifier: BSD-2-Clause */
/* Interrupt acceptance and delivery of the local APIC (SDM Vol. 3A 12.8): vectors posted
 * by any CPU, merged into IRR by the one that runs the vCPU; what the next entry delivers;
 * EOIs; errors (12.5.3); ExtINT messages; and whether LINT0 takes the PIC's interrupts. */
#include "arch/x86/percpu.h"
#include "arch/x86/xcall.h"
#include "devices/ioapic.h"
#include "devices/vlapic_internal.h"
#include "sched/sched.h"
#include "vmx/vcpu.h"

/* A vector the APIC would deliver: above the processor priority, the APIC enabled; lock held. */
static bool deliverable_locked(struct vlapic *l, int irr)
{
    return irr >= 0 && (REG(l, REG_SVR) & SVR_ENABLED) && ((unsigned)irr & 0xf0) > (ppr(l) & 0xf0);
}

/* An error the APIC detected (SDM Vol. 3A 12.5.3): its bit waits for the next ESR write, and
 * the error LVT, unless masked, interrupts this APIC's vCPU. Lock held; true when the caller
 * must notify the vCPU. */
static bool record_error_locked(struct vlapic *l, uint32_t esr_bits)
{
    l->esr_pending |= esr_bits;
    uint32_t lvt = REG(l, REG_LVT_ERROR);
    if ((lvt & LVT_MASKED) || (lvt & 0xff) < 16)
        return false;
    vlapic_accept_locked(l, lvt & 0xff, false);
    return true;
}

/* An IPI with a vector below 16 sent: the sender logs it (12.5.3). */
void vlapic_send_illegal_vector(struct vlapic *l)
{
    uint64_t flags = spin_lock_irqsave(&l->lock);
    bool interrupted = record_error_locked(l, ESR_SEND_ILLEGAL_VECTOR);
    spin_unlock_irqrestore(&l->lock, flags);
    if (interrupted)
        vlapic_notify(l->vcpu);
}

void vlapic_set_irq(struct vcpu *v, uint8_t vector, bool level)
{
    struct vlapic *l = v->lapic;
    uint64_t flags = spin_lock_irqsave(&l->lock);
    /* Vectors 0-15 are illegal for fixed delivery: the receiver logs an error (12.5.3). A
     * globally disabled APIC takes no interrupt messages at all (12.4.3). */
    if (!vlapic_hw_enabled(l))
        ;
    else if (vector < 16)
        record_error_locked(l, ESR_RECEIVE_ILLEGAL_VECTOR);
    else
        vlapic_accept_locked(l, vector, level);
    spin_unlock_irqrestore(&l->lock, flags);
    vlapic_notify(v);
}

int vlapic_pending_vector(struct vlapic *l)
{
    uint64_t flags = spin_lock_irqsave(&l->lock);
    vlapic_merge_posted(l);
    int v = highest_vec(l, REG_IRR);
    if (!deliverable_locked(l, v))
        v = -1;
    spin_unlock_irqrestore(&l->lock, flags);
    return v;
}

void vlapic_refresh_entry_work(struct vlapic *l)
{
    uint64_t flags = spin_lock_irqsave(&l->lock);
    bool any = false;
    for (unsigned i = 0; i < 8; i++)
        any |= l->posted[i] != 0;
    int irr = highest_vec(l, REG_IRR);
    any |= l->assist.vid ? deliverable_locked(l, irr) : irr >= 0;
    l->entry_work = any;
    spin_unlock_irqrestore(&l->lock, flags);
}

void vlapic_acknowledge(struct vlapic *l, int vector)
{
    uint64_t flags = spin_lock_irqsave(&l->lock);
    clear_vec(l, REG_IRR, (unsigned)vector);
    set_vec(l, REG_ISR, (unsigned)vector);
    spin_unlock_irqrestore(&l->lock, flags);
}

void vlapic_entry_state(struct vlapic *l, bool open, struct vlapic_entry_state *s)
{
    uint64_t flags = spin_lock_irqsave(&l->lock);
    vlapic_merge_posted(l);
    int irr = highest_vec(l, REG_IRR);
    *s = (struct vlapic_entry_state){ 0 };
    if (l->assist.vid) {
        /* RVI and SVI (SDM Vol. 3C 26.4.2): the CPU delivers from RVI and performs EOIs on
         * SVI; after entry it virtualizes the PPR and evaluates what is pending (31.2.1). A
         * software-disabled APIC delivers nothing (its IRR waits). */
        int isr = highest_vec(l, REG_ISR);
        uint16_t rvi = irr >= 0 && (REG(l, REG_SVR) & SVR_ENABLED) ? (uint16_t)irr : 0;
        s->interrupt_status = (uint16_t)(rvi | (isr >= 0 ? isr : 0) << 8);
        s->deliverable = deliverable_locked(l, irr);
        /* The vector delivered at this entry leaves another behind: its EOI must exit rather
         * than recognize that one with interrupts off (the Bochs erratum in vlapic.h). */
        bool all = false;
        if (s->deliverable && open) {
            clear_vec(l, REG_IRR, (unsigned)irr);
            all = highest_vec(l, REG_IRR) >= 0;
            set_vec(l, REG_IRR, (unsigned)irr);
        }
        if (all != l->eoi_exit_all) {
            l->eoi_exit_all = all;
            l->eoi_exit_changed = true;
        }
        s->eoi_exit_changed = l->eoi_exit_changed;
        for (unsigned i = 0; i < 4; i++)
            s->eoi_exit[i] = all ? ~0ull : l->eoi_exit[i];
        l->eoi_exit_changed = false;
    } else {
        /* Without virtual-interrupt delivery a MOV to CR8 (or a virtualized TPR write) exits
         * only when it takes VTPR[7:4] below the threshold (31.1.2): the class of the highest
         * request while the TPR holds it back. Never above VTPR[7:4], as entry requires
         * (28.2.1.1, 28.7.7). */
        uint32_t tpr_class = (REG(l, REG_TPR) >> 4) & 0xf, irr_class = irr < 0 ? 0 : (uint32_t)irr >> 4;
        s->tpr_threshold = irr >= 0 && irr_class <= tpr_class ? irr_class : 0;
    }
    spin_unlock_irqrestore(&l->lock, flags);
}

void vlapic_eoi_exit(struct vcpu *v, uint8_t vector)
{
    /* EOI virtualization already cleared the ISR bit and updated SVI and the PPR (SDM Vol. 3C
     * 31.1.4); what remains is the I/O APIC's part. */
    struct vlapic *l = v->lapic;
    uint64_t flags = spin_lock_irqsave(&l->lock);
    bool level = test_vec(l, REG_TMR, vector);
    l->entry_work = true; /* the next vector's turn: the entry path looks again */
    spin_unlock_irqrestore(&l->lock, flags);
    if (level)
        vioapic_eoi(v->vm, vector);
}

void vlapic_tpr_below_threshold(struct vcpu *v)
{
    v->lapic->entry_work = true; /* the held-back vector may go in now */
}

void vlapic_extint(struct vcpu *v)
{
    /* An ExtINT message bypasses IRR and ISR and goes to the core (SDM Vol. 3A 12.8.1, step
     * 2): the request waits, like a raised INTR pin, until the vCPU takes an interrupt, whose
     * acknowledge cycle then reads the vector from the 8259 (vmx/inject.c). It is an edge
     * (the 82093AA datasheet requires edge trigger for ExtINT): one message, one acknowledge. */
    __atomic_store_n(&v->extint_pending, true, __ATOMIC_SEQ_CST);
    v->lapic->entry_work = true;
    vlapic_notify(v);
}

bool vlapic_accepts_pic(struct vlapic *l)
{
    if (!vlapic_hw_enabled(l))
        return true; /* the APIC is out of the way: LINT0 is the CPU's INTR pin (12.4.3) */
    /* A software-disabled APIC holds every LVT entry masked (12.4.7.2), LINT0 too, whatever
     * the register page says. Enabled, LINT0 in ExtINT mode and unmasked passes the 8259's
     * INTR through as a level (12.5.1: ExtINT is always level-sensitive): the virtual-wire
     * mode firmware leaves on vCPU 0 (vlapic_reset). */
    uint32_t lint0 = REG(l, lvt_offset(LVT_LINT0));
    return (REG(l, REG_SVR) & SVR_ENABLED) && !(lint0 & LVT_MASKED) && ((lint0 >> 8) & 7) == MODE_EXTINT;
}
