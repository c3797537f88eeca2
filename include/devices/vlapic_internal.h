/* SPDX-License-Identifier: BSD-2-Clause */
/* What the local APIC's files (devices/vlapic.c, vlapic_timer.c, vlapic_delivery.c,
 * vlapic_ipi.c, vlapic_regs.c) share, and nothing else includes: the register layout and the
 * helpers that work on it. The interface is include/devices/vlapic.h. */
#ifndef MHV_DEVICES_VLAPIC_INTERNAL_H
#define MHV_DEVICES_VLAPIC_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/xcall.h"
#include "devices/vlapic.h"
#include "sched/sched.h"
#include "sched/vtimer.h"
#include "vm/platform.h"
#include "vmx/vcpu.h"

/* Register offsets in the xAPIC page (SDM Vol. 3A table 12-1); x2APIC MSR = 0x800 + offset / 16. */
enum {
    REG_ID = 0x20, REG_VERSION = 0x30, REG_TPR = 0x80, REG_APR = 0x90, REG_PPR = 0xa0, REG_EOI = 0xb0,
    REG_RRD = 0xc0, REG_LDR = 0xd0, REG_DFR = 0xe0, REG_SVR = 0xf0, REG_ISR = 0x100, REG_TMR = 0x180,
    REG_IRR = 0x200, REG_ESR = 0x280, REG_LVT_CMCI = 0x2f0, REG_ICR_LOW = 0x300, REG_ICR_HIGH = 0x310,
    REG_LVT_TIMER = 0x320, REG_LVT_ERROR = 0x370, REG_TIMER_INITIAL = 0x380, REG_TIMER_CURRENT = 0x390,
    REG_TIMER_DIVIDE = 0x3e0, REG_SELF_IPI = 0x3f0,
};

enum { LVT_CMCI, LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR };

#define LVT_MASKED (1u << 16)
#define SVR_ENABLED (1u << 8)
#define BASE_BSP (1ull << 8)
#define BASE_X2APIC (1ull << 10)
#define BASE_ENABLED (1ull << 11)
#define BASE_ADDRESS (~0xfffull)
#define VERSION 0x50014u /* version 0x14 (integrated APIC), max LVT 5: six LVT entries, no CMCI */
#define ESR_SEND_ILLEGAL_VECTOR (1u << 5)
#define ESR_RECEIVE_ILLEGAL_VECTOR (1u << 6)

#define MODE_FIXED 0
#define MODE_LOWEST 1
#define MODE_SMI 2
#define MODE_NMI 4
#define MODE_INIT 5
#define MODE_STARTUP 6
#define MODE_EXTINT 7

#define TIMER_ONESHOT 0
#define TIMER_PERIODIC 1
#define TIMER_TSC_DEADLINE 2

#define MSR_APIC_BASE 0x1b
#define MSR_TSC_DEADLINE 0x6e0

/* The register at `offset` of the virtual-APIC page (SDM Vol. 3C 31.1.1). */
#define REG(l, offset) ((l)->regs[(offset) / 4])

static inline uint32_t lvt_offset(unsigned i)
{
    return i == LVT_CMCI ? REG_LVT_CMCI : REG_LVT_TIMER + 16 * (i - LVT_TIMER);
}

static inline bool x2apic(const struct vlapic *l)
{
    return l->apic_base & BASE_X2APIC;
}

/* The xAPIC register page is there (enabled, not in x2APIC mode), at l's base. */
static inline bool xapic_mmio(const struct vlapic *l)
{
    return (l->apic_base & (BASE_ENABLED | BASE_X2APIC)) == BASE_ENABLED;
}

/* Enabled in xAPIC mode at 0xfee00000: the state in which the CPU's APIC virtualisation (which
 * knows only the APIC-access page mapped there) can be used. Every APIC-write exit asks. */
static inline bool vlapic_at_default_xapic(const struct vlapic *l)
{
    return xapic_mmio(l) && (l->apic_base & BASE_ADDRESS) == PLATFORM_LAPIC_BASE;
}

static inline uint32_t apic_id(const struct vlapic *l)
{
    return l->vcpu->id;
}

/* The 256-bit registers (ISR, TMR, IRR): bit n is bit n % 32 of the word at base + n / 32 * 16. */
static inline uint32_t *vec_word(struct vlapic *l, uint32_t base, unsigned n)
{
    return &l->regs[(base + (n / 32) * 16) / 4];
}

static inline bool test_vec(struct vlapic *l, uint32_t base, unsigned n)
{
    return *vec_word(l, base, n) >> (n % 32) & 1;
}

static inline void clear_vec(struct vlapic *l, uint32_t base, unsigned n)
{
    *vec_word(l, base, n) &= ~(1u << (n % 32));
}

static inline void set_vec(struct vlapic *l, uint32_t base, unsigned n)
{
    *vec_word(l, base, n) |= 1u << (n % 32);
}

static inline int highest_vec(struct vlapic *l, uint32_t base)
{
    for (int i = 7; i >= 0; i--) {
        uint32_t w = l->regs[(base + 16 * (unsigned)i) / 4];
        if (w)
            return i * 32 + 31 - __builtin_clz(w);
    }
    return -1;
}

/* Processor priority (SDM Vol. 3A 12.8.3.1): the task priority, or the class of the highest
 * vector in service if that is higher. */
static inline uint32_t ppr(struct vlapic *l)
{
    int isrv = highest_vec(l, REG_ISR);
    uint32_t tpr = REG(l, REG_TPR) & 0xff, isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;
    return (tpr & 0xf0) >= isr_class ? tpr : isr_class;
}


static inline unsigned timer_mode(const struct vlapic *l)
{
    return l->timer_mode;
}

/* --- Timer (devices/vlapic_timer.c); lock held where not said otherwise ------------------- */

/* The divisor a divide configuration register value selects (SDM Vol. 3A figure 12-10). */
uint32_t vlapic_divisor_of(uint32_t divide);
uint64_t vlapic_timer_period_ticks(struct vlapic *l);
bool vlapic_timer_counting(struct vlapic *l);
uint32_t vlapic_timer_current(struct vlapic *l);
void vlapic_timer_fired(struct vtimer *t); /* takes the lock */
void vlapic_timer_start_count(struct vlapic *l);

/* IA32_TSC_DEADLINE written in TSC-deadline mode (12.5.4.1): armed, or disarmed by 0. Inline:
 * a TSC-deadline timer is rearmed for every tick. */
static inline void vlapic_set_tsc_deadline(struct vlapic *l, uint64_t guest_tsc)
{
    l->tsc_deadline = guest_tsc;
    if (!guest_tsc || timer_mode(l) != TIMER_TSC_DEADLINE) {
        vtimer_cancel(&l->timer);
        return;
    }
    /* The guest's TSC runs at the host's rate with an offset (VMCS TSC offset). */
    vtimer_arm(&l->timer, guest_tsc - l->vcpu->tsc_offset);
}

/* --- Acceptance and delivery (devices/vlapic_delivery.c) ---------------------------------- */

/* The two steps of every entry and every interrupt are inline here, as they were when the
 * APIC was one file (each call would cost the EOI and self-IPI paths about 20 instructions). */

/* Vectors other CPUs posted go into IRR (and TMR); lock held, on the CPU that runs the vCPU
 * (with virtual-interrupt delivery the CPU itself changes IRR while the guest runs, so nobody
 * else may write it). Level-triggered vectors join the EOI-exit bitmap, so that their EOIs,
 * even virtualized ones, reach the I/O APIC. */
static inline void vlapic_merge_posted(struct vlapic *l)
{
    for (unsigned i = 0; i < 8; i++) {
        uint32_t p = l->posted[i];
        if (!p)
            continue;
        uint32_t level = l->posted_level[i] & p;
        l->posted[i] = 0;
        l->posted_level[i] &= ~p;
        REG(l, REG_IRR + 16 * i) |= p;
        REG(l, REG_TMR + 16 * i) = (REG(l, REG_TMR + 16 * i) & ~p) | level;
        uint64_t bits = (uint64_t)level << (32 * (i % 2));
        if (bits & ~l->eoi_exit[i / 2]) {
            l->eoi_exit[i / 2] |= bits;
            l->eoi_exit_changed = true;
        }
    }
}

/* A vector accepted: posted, for the CPU that runs the vCPU to merge. Lock held. */
static inline void vlapic_accept_locked(struct vlapic *l, uint8_t vector, bool level)
{
    uint32_t bit = 1u << (vector % 32);
    l->posted[vector / 32] |= bit;
    if (level)
        l->posted_level[vector / 32] |= bit;
    else
        l->posted_level[vector / 32] &= ~bit;
    l->entry_work = true;
}

void vlapic_send_illegal_vector(struct vlapic *l);

/* The vCPU must look at its APIC: woken when halted, made to exit when running elsewhere (the
 * next entry merges what was posted: without posted-interrupt processing, only an exit makes
 * the CPU see new IRR bits). Inline: every interrupt a timer or another vCPU raises ends here. */
static inline void vlapic_notify(struct vcpu *v)
{
    /* Pairs with the fence in handle_hlt: either it sees the posted bit, or this sees BLOCKED. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (v->se.state == VCPU_BLOCKED) {
        sched_wake(&v->se);
        return;
    }
    int home = v->se.home_cpu;
    if (home >= 0 && sched_running_elsewhere(&v->se))
        smp_send_kick((unsigned)home);
}

/* --- IPIs (devices/vlapic_ipi.c) ---------------------------------------------------------- */

/* An ICR write (12.6.1): its fields decoded and the message sent to its destinations through
 * vlapic_deliver. Inline in the register write, as it was before the APIC was split in files
 * (a call here cost every IPI and self-IPI a few instructions more). */
static inline void vlapic_send_ipi(struct vlapic *l, uint64_t icr)
{
    unsigned mode = (icr >> 8) & 7, shorthand = (icr >> 18) & 3;
    bool logical = icr & (1u << 11), level_assert = icr & (1u << 14), level_trigger = icr & (1u << 15);
    uint32_t dest = x2apic(l) ? (uint32_t)(icr >> 32) : (uint32_t)(icr >> 56);
    /* INIT with level de-assert (trigger level, assert clear) is the old "INIT level de-assert":
     * no effect on the targets (SDM Vol. 3A 12.6.1). */
    if (mode == MODE_INIT && level_trigger && !level_assert)
        return;
    /* Delivery mode 111 is reserved in the ICR (SDM Vol. 3A 12.6.1, figure 12-12): ExtINT
     * comes only from the I/O APIC and LINT0. Such an IPI delivers nothing. */
    if (mode == MODE_EXTINT)
        return;
    /* A fixed or lowest-priority IPI with a vector below 16: the sender logs it too (12.5.3);
     * the receivers log theirs and drop it (vlapic_set_irq). */
    if ((mode == MODE_FIXED || mode == MODE_LOWEST) && (uint8_t)icr < 16)
        vlapic_send_illegal_vector(l);
    vlapic_deliver(l->vcpu->vm, l->vcpu, dest, logical, mode, (uint8_t)icr, false, shorthand);
}

/* --- Reset (devices/vlapic.c) ------------------------------------------------------------- */

void vlapic_reset_registers(struct vlapic *l); /* lock held */

#endif
