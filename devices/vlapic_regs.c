/* SPDX-License-Identifier: BSD-2-Clause */
/* The local APIC's registers (SDM Vol. 3A 12.4, 12.12): reads and writes through the xAPIC
 * page (MMIO, APIC-write exits, a moved page), CR8, and the x2APIC MSRs with IA32_APIC_BASE
 * and IA32_TSC_DEADLINE. */
#include "arch/x86/cpu.h"
#include "arch/x86/tsc.h"
#include "devices/ioapic.h"
#include "devices/vlapic_internal.h"
#include "kernel/page_alloc.h"
#include "sched/vtimer.h"
#include "vm/platform.h"
#include "vm/vm.h"
#include "vmx/vcpu.h"

/* What each LVT register keeps (SDM Vol. 3A figure 12-8): vector, delivery mode, mask, and
 * for the timer its mode, for LINT0/1 polarity and trigger. */
static const uint32_t lvt_writable[7] = {
    [LVT_CMCI] = 0x107ff, [LVT_TIMER] = 0x700ff, [LVT_THERMAL] = 0x107ff, [LVT_PERF] = 0x107ff,
    [LVT_LINT0] = 0x1a7ff, [LVT_LINT1] = 0x1a7ff, [LVT_ERROR] = 0x100ff,
};

static uint32_t read_register(struct vlapic *l, uint32_t offset)
{
    uint64_t flags = spin_lock_irqsave(&l->lock);
    uint32_t value;
    vlapic_merge_posted(l); /* IRR and TMR as they stand */
    if ((offset >= REG_ISR && offset < REG_IRR + 0x80) || (offset >= REG_LVT_TIMER && offset <= REG_LVT_ERROR)) {
        value = REG(l, offset);
    } else {
        switch (offset) {
        case REG_ID: value = x2apic(l) ? apic_id(l) : apic_id(l) << 24; break;
        case REG_VERSION: value = VERSION; break;
        case REG_PPR: value = ppr(l); break;
        case REG_DFR: value = x2apic(l) ? 0 : REG(l, REG_DFR); break;
        case REG_ICR_HIGH: value = x2apic(l) ? 0 : REG(l, REG_ICR_HIGH); break;
        case REG_TIMER_CURRENT: value = vlapic_timer_current(l); break;
        case REG_TPR: case REG_LDR: case REG_SVR: case REG_ESR: case REG_ICR_LOW: case REG_TIMER_INITIAL:
        case REG_TIMER_DIVIDE:
            value = REG(l, offset);
            break;
        default: value = 0; break; /* APR, RRD, EOI, CMCI (max LVT 5: none), reserved */
        }
    }
    spin_unlock_irqrestore(&l->lock, flags);
    return value;
}

/* An EOI the vLAPIC performs itself (MMIO or x2APIC MSR write, APIC-write exit): the highest
 * vector in service is done. */
static void eoi(struct vlapic *l)
{
    uint64_t flags = spin_lock_irqsave(&l->lock);
    int vector = highest_vec(l, REG_ISR);
    bool level = false;
    if (vector >= 0) {
        clear_vec(l, REG_ISR, (unsigned)vector);
        level = test_vec(l, REG_TMR, (unsigned)vector);
    }
    REG(l, REG_EOI) = 0;
    if (l->assist.vid)
        l->entry_work = true; /* SVI changes: the entry path writes it */
    spin_unlock_irqrestore(&l->lock, flags);
    /* A level-triggered interrupt came from the I/O APIC: its remote IRR clears (12.8.5). */
    if (level)
        vioapic_eoi(l->vcpu->vm, (uint8_t)vector);
}

/* Writes one register: `value` is what the guest wrote. With APIC-register virtualization the
 * CPU has already put it in the page (SDM Vol. 3C 31.4.3.2), so nothing here may depend on
 * the register's previous contents there (the timer mode and divisor are kept aside); what the
 * register keeps is written back. EOI, ICR and the timer act outside the lock. */
static void write_register(struct vlapic *l, uint32_t offset, uint32_t value)
{
    uint64_t flags = spin_lock_irqsave(&l->lock);
    switch (offset) {
    case REG_ID:
        REG(l, REG_ID) = apic_id(l) << 24; /* read-only here: guests that move their APIC ID are not supported */
        break;
    case REG_TPR:
        REG(l, REG_TPR) = value & 0xff;
        l->entry_work = true; /* a vector held back may be deliverable now */
        break;
    case REG_LDR:
        if (!x2apic(l))
            REG(l, REG_LDR) = value & 0xff000000u;
        break;
    case REG_DFR:
        if (!x2apic(l))
            REG(l, REG_DFR) = value | 0x0fffffffu;
        break;
    case REG_SVR:
        REG(l, REG_SVR) = value & 0x1ff;
        if (!(value & SVR_ENABLED)) /* software disable masks every LVT (12.4.7.2) */
            for (unsigned i = 0; i < 7; i++)
                REG(l, lvt_offset(i)) |= LVT_MASKED;
        l->entry_work = true; /* enabling makes IRR deliverable again */
        break;
    case REG_ESR:
        /* A write latches the errors seen since the previous write and clears them (12.5.3). */
        REG(l, REG_ESR) = l->esr_pending;
        l->esr_pending = 0;
        break;
    case REG_ICR_HIGH:
        if (!x2apic(l))
            REG(l, REG_ICR_HIGH) = value & 0xff000000u;
        break;
    case REG_ICR_LOW:
        REG(l, REG_ICR_LOW) = value & ~(1u << 12); /* delivery status: always idle, delivery is immediate */
        break;
    case REG_TIMER_INITIAL:
        /* Ignored in TSC-deadline mode, where the register stays 0 (12.5.4.1). */
        if (timer_mode(l) == TIMER_TSC_DEADLINE) {
            REG(l, REG_TIMER_INITIAL) = 0;
        } else {
            REG(l, REG_TIMER_INITIAL) = value;
            vlapic_timer_start_count(l);
        }
        break;
    case REG_TIMER_DIVIDE: {
        /* The count goes on from where it is, at the new rate (12.5.4): where it is was counted
         * at the old divisor (kept aside, as the page may already hold the new value). */
        uint32_t current = vlapic_timer_current(l);
        REG(l, REG_TIMER_DIVIDE) = value & 0xb;
        l->timer_divisor = vlapic_divisor_of(value);
        if (current && timer_mode(l) != TIMER_TSC_DEADLINE) {
            uint64_t done = (uint64_t)(REG(l, REG_TIMER_INITIAL) - current) * l->timer_divisor;
            l->timer_start = rdtsc() - done;
            vtimer_arm(&l->timer, l->timer_start + vlapic_timer_period_ticks(l));
        }
        break;
    }
    default:
        if (offset >= REG_LVT_TIMER && offset <= REG_LVT_ERROR) {
            unsigned i = LVT_TIMER + (offset - REG_LVT_TIMER) / 16;
            uint32_t lvt = value & lvt_writable[i];
            if (!(REG(l, REG_SVR) & SVR_ENABLED))
                lvt |= LVT_MASKED;
            REG(l, offset) = lvt;
            unsigned mode = (lvt >> 17) & 3;
            if (i == LVT_TIMER && mode != l->timer_mode) {
                vlapic_timer_counting(l); /* a one-shot count that ran out stays out in any new mode */
                /* A switch to or from TSC-deadline mode disarms the timer (12.5.4.1); between
                 * one-shot and periodic the count goes on, and the new mode decides what happens
                 * when it reaches 0 (vlapic_timer_fired). Mode 3 is reserved: taken as one-shot. */
                bool deadline_switch = mode == TIMER_TSC_DEADLINE || l->timer_mode == TIMER_TSC_DEADLINE;
                l->timer_mode = mode == 3 ? TIMER_ONESHOT : mode;
                if (deadline_switch) {
                    REG(l, REG_TIMER_INITIAL) = 0;
                    l->tsc_deadline = 0;
                    l->timer_counting = false;
                    vtimer_cancel(&l->timer);
                }
            }
        }
        break; /* read-only and reserved registers keep their contents */
    }
    spin_unlock_irqrestore(&l->lock, flags);

    if (offset == REG_EOI)
        eoi(l);
    else if (offset == REG_ICR_LOW)
        vlapic_send_ipi(l, ((uint64_t)REG(l, REG_ICR_HIGH) << 32) | REG(l, REG_ICR_LOW));
}

/* Whether the page this MMIO access hit is v's APIC: the one at 0xfee00000 (ctx NULL, the
 * registered handler and APIC-access exits) while the APIC is there, or the page it was moved
 * to (ctx non-NULL: vlapic_moved_mmio checked it). */
static bool mmio_is_apic(const struct vlapic *l, const void *ctx)
{
    return ctx ? xapic_mmio(l) : vlapic_at_default_xapic(l);
}

uint64_t vlapic_mmio_read(struct vcpu *v, void *ctx, uint64_t offset, unsigned size)
{
    struct vlapic *l = v->lapic;
    if (!mmio_is_apic(l, ctx))
        return ~0ull; /* no APIC here: the bus answers all-ones (12.12.2) */
    uint32_t value = read_register(l, (uint32_t)offset & 0xff0);
    value >>= 8 * (offset & 3);
    return size >= 4 ? value : value & ((1u << (8 * size)) - 1);
}

void vlapic_mmio_write(struct vcpu *v, void *ctx, uint64_t offset, unsigned size, uint64_t value)
{
    struct vlapic *l = v->lapic;
    /* Registers are 32 bits at 16-byte alignment; other accesses are undefined (12.4.1). */
    if (!mmio_is_apic(l, ctx) || (offset & 0xf) || size != 4)
        return;
    write_register(l, (uint32_t)offset, (uint32_t)value);
}

const struct mmio_handler *vlapic_moved_mmio(struct vcpu *v, uint64_t gpa, struct mmio_handler *h)
{
    struct vlapic *l = v->lapic;
    uint64_t base = l->apic_base & BASE_ADDRESS;
    if (!xapic_mmio(l) || base == PLATFORM_LAPIC_BASE || gpa - base >= PAGE_SIZE)
        return NULL;
    *h = (struct mmio_handler){ base, PAGE_SIZE, vlapic_mmio_read, vlapic_mmio_write, l };
    return h;
}

void vlapic_apic_write(struct vcpu *v, uint32_t offset)
{
    /* The exit qualification is the offset written (SDM Vol. 3C 31.4.3.3); a narrower write
     * inside a register counts as a write of the whole register as the page now holds it.
     * Only an xAPIC at 0xfee00000 has APIC-register virtualisation (vcpu_apic_mode_changed). */
    struct vlapic *l = v->lapic;
    if (!vlapic_at_default_xapic(l))
        return;
    offset &= 0xff0;
    write_register(l, offset, REG(l, offset));
}

uint64_t vlapic_get_cr8(struct vlapic *l)
{
    return (REG(l, REG_TPR) >> 4) & 0xf;
}

void vlapic_set_cr8(struct vlapic *l, uint64_t value)
{
    write_register(l, REG_TPR, (uint32_t)(value & 0xf) << 4);
}

/* x2APIC mode (SDM Vol. 3A 12.12.1.2, table 12-6): which registers exist as MSRs and which
 * way; everything else in 0x800-0x8ff raises #GP, as do reads of write-only and writes of
 * read-only registers. */
enum x2apic_access { X2APIC_NONE, X2APIC_RO, X2APIC_WO, X2APIC_RW };

static enum x2apic_access x2apic_access(uint32_t offset)
{
    if (offset >= REG_ISR && offset < REG_IRR + 0x80)
        return X2APIC_RO; /* ISR, TMR, IRR */
    switch (offset) {
    case REG_ID: case REG_VERSION: case REG_PPR: case REG_LDR: case REG_TIMER_CURRENT:
        return X2APIC_RO;
    case REG_EOI: case REG_SELF_IPI:
        return X2APIC_WO;
    case REG_TPR: case REG_SVR: case REG_ESR: case REG_ICR_LOW: case REG_TIMER_INITIAL: case REG_TIMER_DIVIDE:
        return X2APIC_RW;
    default:
        return offset >= REG_LVT_TIMER && offset <= REG_LVT_ERROR ? X2APIC_RW : X2APIC_NONE;
    }
}

/* The bits a WRMSR may set in an x2APIC register (12.12.1.3: a non-zero write to a reserved
 * bit raises #GP). Status bits the APIC sets itself (delivery status, remote IRR) may be
 * written back as read and are ignored, as the xAPIC ignores them. */
static uint64_t x2apic_writable(uint32_t offset)
{
    enum { STATUS = 1u << 12, REMOTE_IRR = 1u << 14 };
    switch (offset) {
    case REG_TPR: case REG_SELF_IPI: return 0xff;
    case REG_SVR: return 0x3ff;     /* vector, enable, focus check; no EOI-broadcast suppression */
    case REG_ESR: case REG_EOI: return 0; /* written with 0 only */
    case REG_ICR_LOW: return ~((1ull << 13) | (3ull << 16) | (0xfffull << 20)); /* bit 12 ignored */
    case REG_TIMER_INITIAL: return 0xffffffffu;
    case REG_TIMER_DIVIDE: return 0xb;
    default: {
        unsigned i = LVT_TIMER + (offset - REG_LVT_TIMER) / 16;
        return lvt_writable[i] | STATUS | (i == LVT_LINT0 || i == LVT_LINT1 ? REMOTE_IRR : 0);
    }
    }
}

bool vlapic_msr_read(struct vcpu *v, uint32_t msr, uint64_t *value)
{
    struct vlapic *l = v->lapic;
    if (msr == MSR_APIC_BASE) {
        *value = l->apic_base;
        return true;
    }
    if (msr == MSR_TSC_DEADLINE) {
        *value = timer_mode(l) == TIMER_TSC_DEADLINE ? l->tsc_deadline : 0;
        return true;
    }
    if (msr < 0x800 || msr > 0x8ff || !x2apic(l))
        return false;
    uint32_t offset = (msr - 0x800) << 4;
    enum x2apic_access a = x2apic_access(offset);
    if (a != X2APIC_RO && a != X2APIC_RW)
        return false;
    *value = read_register(l, offset);
    if (offset == REG_ICR_LOW)
        *value |= (uint64_t)REG(l, REG_ICR_HIGH) << 32;
    return true;
}

/* The highest physical-address bit + 1 (CPUID 0x80000008 EAX[7:0]; guests see the host's). */
static unsigned maxphyaddr(void)
{
    static unsigned bits;
    if (!bits)
        bits = cpuid(0x80000000, 0).eax >= 0x80000008 ? cpuid(0x80000008, 0).eax & 0xff : 36;
    return bits;
}

/* IA32_APIC_BASE (12.4.4, 12.12.5): the base (within MAXPHYADDR), EN and EXTD; BSP is the
 * CPU's. Allowed: disabled <-> xAPIC, xAPIC -> x2APIC, x2APIC -> disabled; EXTD without EN, a
 * disabled APIC straight to x2APIC and x2APIC -> xAPIC raise #GP. Disabling loses the APIC's
 * state: it comes back in its power-up state. */
static bool write_apic_base(struct vcpu *v, uint64_t value)
{
    struct vlapic *l = v->lapic;
    uint64_t reserved = ~((1ull << maxphyaddr()) - 1) | 0xffull | (1ull << 9);
    bool en = value & BASE_ENABLED, x2 = value & BASE_X2APIC;
    bool was_en = l->apic_base & BASE_ENABLED, was_x2 = x2apic(l);
    if ((value & reserved) || (x2 && !en) || (!was_en && x2) || (was_x2 && en && !x2))
        return false;
    uint64_t flags = spin_lock_irqsave(&l->lock);
    l->apic_base = (l->apic_base & BASE_BSP) | (value & ~BASE_BSP);
    if (was_en && !en)
        vlapic_reset_registers(l);
    if (x2 && !was_x2) /* the ID in x2APIC format, and the logical ID derived from it (12.12.10.2) */
        REG(l, REG_LDR) = ((apic_id(l) >> 4) << 16) | (1u << (apic_id(l) & 0xf));
    l->moved = xapic_mmio(l) && !vlapic_at_default_xapic(l);
    spin_unlock_irqrestore(&l->lock, flags);
    vcpu_apic_mode_changed(v);
    return true;
}

bool vlapic_msr_write(struct vcpu *v, uint32_t msr, uint64_t value)
{
    struct vlapic *l = v->lapic;
    if (msr == MSR_APIC_BASE)
        return write_apic_base(v, value);
    if (msr == MSR_TSC_DEADLINE) {
        uint64_t flags = spin_lock_irqsave(&l->lock);
        if (timer_mode(l) == TIMER_TSC_DEADLINE)
            vlapic_set_tsc_deadline(l, value);
        spin_unlock_irqrestore(&l->lock, flags);
        return true;
    }
    if (msr < 0x800 || msr > 0x8ff || !x2apic(l))
        return false;
    uint32_t offset = (msr - 0x800) << 4;
    enum x2apic_access a = x2apic_access(offset);
    if (a != X2APIC_WO && a != X2APIC_RW)
        return false;
    uint64_t writable = x2apic_writable(offset);
    if (offset != REG_ICR_LOW)
        writable &= 0xffffffffu; /* bits 63:32 are reserved but in the ICR */
    if (value & ~writable)
        return false;
    if (offset == REG_LVT_TIMER && ((value >> 17) & 3) == 3)
        return false; /* timer mode 3 is reserved */
    switch (offset) {
    case REG_ICR_LOW:
        REG(l, REG_ICR_HIGH) = (uint32_t)(value >> 32);
        write_register(l, REG_ICR_LOW, (uint32_t)value);
        return true;
    case REG_SELF_IPI: /* an IPI to itself: an illegal vector is logged as sent and received */
        if ((uint8_t)value < 16)
            vlapic_send_illegal_vector(l);
        vlapic_set_irq(v, (uint8_t)value, false);
        return true;
    default:
        write_register(l, offset, (uint32_t)value);
        return true;
    }
}
