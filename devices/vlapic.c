/* SPDX-License-Identifier: BSD-2-Clause */
/* The local APIC of each vCPU (include/devices/vlapic.h; SDM Vol. 3A chapter 12, and Vol. 3C
 * chapter 31 "APIC Virtualization and Virtual Interrupts" for what the CPU does with the page):
 * its mode and base, creation and reset. The timer, interrupt acceptance and delivery, IPIs and
 * register access are in devices/vlapic_timer.c, vlapic_delivery.c, vlapic_ipi.c and
 * vlapic_regs.c. */
#include "devices/vlapic.h"

#include "devices/vlapic_internal.h"
#include "kernel/heap.h"
#include "kernel/page_alloc.h"
#include "lib/string.h"
#include "sched/vtimer.h"
#include "vm/platform.h"
#include "vmx/vcpu.h"

struct vlapic_assist vlapic_assist;

struct vlapic_assist vlapic_assist_for_mode(const struct vlapic *l)
{
    return vlapic_at_default_xapic(l) ? vlapic_assist : (struct vlapic_assist){ 0 };
}

/* --- Creation and reset -------------------------------------------------------------------- */

/* The registers' power-up values (12.4.7.1): nothing pending or in service, every LVT masked,
 * the APIC software-disabled (SVR 0xff), the timer stopped. Lock held. */
void vlapic_reset_registers(struct vlapic *l)
{
    vtimer_cancel(&l->timer);
    memset(l->regs, 0, PAGE_SIZE);
    memset(l->posted, 0, sizeof(l->posted));
    memset(l->posted_level, 0, sizeof(l->posted_level));
    memset(l->eoi_exit, 0, sizeof(l->eoi_exit));
    l->eoi_exit_all = false;
    l->eoi_exit_changed = true;
    l->esr_pending = 0;
    l->timer_mode = TIMER_ONESHOT;
    l->timer_divisor = vlapic_divisor_of(0); /* divide by 2 (12.5.4) */
    l->timer_counting = false;
    l->tsc_deadline = 0;
    /* What the CPU serves from the page without exits (APIC-register virtualization) must be
     * there: ID and version too. */
    REG(l, REG_ID) = apic_id(l) << 24;
    REG(l, REG_VERSION) = VERSION;
    REG(l, REG_DFR) = 0xffffffffu;
    for (unsigned i = 0; i < 7; i++)
        REG(l, lvt_offset(i)) = LVT_MASKED;
    REG(l, REG_SVR) = 0xff;
    if (x2apic(l)) /* INIT keeps x2APIC mode (12.12.5.1): the logical ID comes back with it */
        REG(l, REG_LDR) = ((apic_id(l) >> 4) << 16) | (1u << (apic_id(l) & 0xf));
    l->entry_work = true; /* the next entry writes the VMCS's view: RVI/SVI, EOI-exit bitmap, threshold */
}

void vlapic_init_signal(struct vlapic *l)
{
    uint64_t flags = spin_lock_irqsave(&l->lock);
    vlapic_reset_registers(l);
    spin_unlock_irqrestore(&l->lock, flags);
}

void vlapic_reset(struct vlapic *l)
{
    uint64_t flags = spin_lock_irqsave(&l->lock);
    struct vcpu *v = l->vcpu;
    l->apic_base = PLATFORM_LAPIC_BASE | BASE_ENABLED | (v->id == 0 ? BASE_BSP : 0);
    l->moved = false;
    vlapic_reset_registers(l);
    /* mhv is the firmware too: like a PC BIOS it leaves the boot vCPU's APIC enabled in
     * virtual-wire mode (LINT0 ExtINT from the PIC, LINT1 NMI; MP spec 3.6.2.2), so guests
     * that never touch the APIC still get interrupts. The others start architecturally reset. */
    if (v->id == 0) {
        REG(l, REG_SVR) = SVR_ENABLED | 0xff;
        REG(l, lvt_offset(LVT_LINT0)) = MODE_EXTINT << 8;
        REG(l, lvt_offset(LVT_LINT1)) = MODE_NMI << 8;
    }
    spin_unlock_irqrestore(&l->lock, flags);
}

struct vlapic *vlapic_create(struct vcpu *v)
{
    struct vlapic *l = kzalloc(sizeof(*l));
    uint64_t page = pages_alloc(1);
    if (!l || !page)
        return NULL;
    l->vcpu = v;
    l->page = page;
    l->regs = phys_to_virt(page);
    vtimer_init(&l->timer, &v->se, vlapic_timer_fired, l);
    vlapic_reset(l);
    return l;
}
