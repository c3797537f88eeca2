/* SPDX-License-Identifier: BSD-2-Clause */
/* The local APIC of each vCPU (include/vm/vlapic.h; SDM Vol. 3A chapter 12, and Vol. 3C
 * chapter 31 "APIC Virtualization and Virtual Interrupts" for what the CPU does with the page). */
#include "devices/vlapic.h"

#include "arch/x86/cpu.h"
#include "arch/x86/percpu.h"
#include "arch/x86/tsc.h"
#include "arch/x86/xcall.h"
#include "kernel/heap.h"
#include "kernel/log.h"
#include "kernel/page_alloc.h"
#include "lib/string.h"
#include "sched/sched.h"
#include "devices/ioapic.h"
#include "vm/platform.h"
#include "vm/vm.h"
#include "vmx/inject.h"
#include "vmx/vcpu.h"

struct vlapic_assist vlapic_assist;

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

/* What each LVT register keeps (SDM Vol. 3A figure 12-8): vector, delivery mode, mask, and
 * for the timer its mode, for LINT0/1 polarity and trigger. */
static const uint32_t lvt_writable[7] = {
    [LVT_CMCI] = 0x107ff, [LVT_TIMER] = 0x700ff, [LVT_THERMAL] = 0x107ff, [LVT_PERF] = 0x107ff,
    [LVT_LINT0] = 0x1a7ff, [LVT_LINT1] = 0x1a7ff, [LVT_ERROR] = 0x100ff,
};

/* The register at `offset` of the virtual-APIC page (SDM Vol. 3C 31.1.1). */
#define REG(l, offset) ((l)->regs[(offset) / 4])

static uint32_t lvt_offset(unsigned i)
{
    return i == LVT_CMCI ? REG_LVT_CMCI : REG_LVT_TIMER + 16 * (i - LVT_TIMER);
}

static bool x2apic(const struct vlapic *l)
{
    return l->apic_base & BASE_X2APIC;
}

bool vlapic_hw_enabled(const struct vlapic *l)
{
    return l->apic_base & BASE_ENABLED;
}

bool vlapic_is_bsp(const struct vlapic *l)
{
    return l->apic_base & BASE_BSP;
}

/* The xAPIC register page is there (enabled, not in x2APIC mode), at l's base. */
static bool xapic_mmio(const struct vlapic *l)
{
    return (l->apic_base & (BASE_ENABLED | BASE_X2APIC)) == BASE_ENABLED;
}

bool vlapic_at_default_xapic(const struct vlapic *l)
{
    return xapic_mmio(l) && (l->apic_base & BASE_ADDRESS) == PLATFORM_LAPIC_BASE;
}

struct vlapic_assist vlapic_assist_for_mode(const struct vlapic *l)
{
    return vlapic_at_default_xapic(l) ? vlapic_assist : (struct vlapic_assist){ 0 };
}

static uint32_t apic_id(const struct vlapic *l)
{
    return l->vcpu->id;
}

/* The 256-bit registers (ISR, TMR, IRR): bit n is bit n % 32 of the word at base + n / 32 * 16. */
static uint32_t *vec_word(struct vlapic *l, uint32_t base, unsigned n)
{
    return &l->regs[(base + (n / 32) * 16) / 4];
}

static bool test_vec(struct vlapic *l, uint32_t base, unsigned n)
{
    return *vec_word(l, base, n) >> (n % 32) & 1;
}

static void clear_vec(struct vlapic *l, uint32_t base, unsigned n)
{
    *vec_word(l, base, n) &= ~(1u << (n % 32));
}

static void set_vec(struct vlapic *l, uint32_t base, unsigned n)
{
    *vec_word(l, base, n) |= 1u << (n % 32);
}

static int highest_vec(struct vlapic *l, uint32_t base)
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
static uint32_t ppr(struct vlapic *l)
{
    int isrv = highest_vec(l, REG_ISR);
    uint32_t tpr = REG(l, REG_TPR) & 0xff, isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;
    return (tpr & 0xf0) >= isr_class ? tpr : isr_class;
}

/* A vector the APIC would deliver: above the processor priority, the APIC enabled; lock held. */
static bool deliverable_locked(struct vlapic *l, int irr)
{
    return irr >= 0 && (REG(l, REG_SVR) & SVR_ENABLED) && ((unsigned)irr & 0xf0) > (ppr(l) & 0xf0);
}

/* Vectors other CPUs posted go into IRR (and TMR); lock held, on the CPU that runs the vCPU
 * (with virtual-interrupt delivery the CPU itself changes IRR while the guest runs, so nobody
 * else may write it). Level-triggered vectors join the EOI-exit bitmap, so that their EOIs,
 * even virtualized ones, reach the I/O APIC. */
static void merge_posted(struct vlapic *l)
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

/* --- Timer (SDM Vol. 3A 12.5.4) ------------------------------------------------------------ */

static unsigned timer_mode(const struct vlapic *l)
{
    return l->timer_mode;
}

/* The divide configuration register: bits 0, 1 and 3 encode 2, 4, ..., 128, or 1. */
static uint64_t timer_divisor(struct vlapic *l)
{
    uint32_t divide = REG(l, REG_TIMER_DIVIDE);
    unsigned code = (divide & 3) | ((divide >> 1) & 4);
    return code == 7 ? 1 : 2ull << code;
}

static uint64_t timer_period_ticks(struct vlapic *l)
{
    return (uint64_t)REG(l, REG_TIMER_INITIAL) * timer_divisor(l);
}

/* Whether the count is running (12.5.4): from a write of a non-zero initial count until a
 * one-shot count reaches 0 (noticed here even before its device timer fires); a periodic count
 * runs on. Lock held. */
static bool timer_counting(struct vlapic *l)
{
    if (!l->timer_counting)
        return false;
    if (timer_mode(l) == TIMER_ONESHOT && rdtsc() - l->timer_start >= timer_period_ticks(l))
        l->timer_counting = false; /* its interrupt is the device timer's to deliver */
    return l->timer_counting;
}

/* The current count: 0 when not counting, and in TSC-deadline mode. */
static uint32_t timer_current(struct vlapic *l)
{
    uint32_t initial = REG(l, REG_TIMER_INITIAL);
    if (!initial || timer_mode(l) == TIMER_TSC_DEADLINE || !timer_counting(l))
        return 0;
    uint64_t elapsed = (rdtsc() - l->timer_start) / timer_divisor(l);
    if (timer_mode(l) == TIMER_PERIODIC)
        return initial - (uint32_t)(elapsed % initial);
    /* The TSC moved on since timer_counting looked: a one-shot count may have run out since. */
    return elapsed < initial ? initial - (uint32_t)elapsed : 0;
}

static void accept_locked(struct vlapic *l, uint8_t vector, bool level);
static void notify(struct vcpu *v);

/* A periodic timer that fired late gets one interrupt, and its next period is aligned to the
 * original start, so it neither bursts nor drifts. */
static void timer_fired(struct vtimer *t)
{
    struct vlapic *l = t->ctx;
    uint64_t flags = spin_lock_irqsave(&l->lock);
    uint32_t lvt = REG(l, REG_LVT_TIMER);
    bool deliver = !(lvt & LVT_MASKED);
    uint8_t vector = lvt & 0xff;
    if (timer_mode(l) == TIMER_PERIODIC && REG(l, REG_TIMER_INITIAL) && l->timer_counting) {
        uint64_t period = timer_period_ticks(l), now = rdtsc();
        l->timer_start += ((now - l->timer_start) / period) * period;
        vtimer_arm(&l->timer, l->timer_start + period);
    } else if (timer_mode(l) == TIMER_ONESHOT) {
        l->timer_counting = false;
    } else if (timer_mode(l) == TIMER_TSC_DEADLINE) {
        l->tsc_deadline = 0; /* the MSR reads 0 once the timer fired (SDM Vol. 3A 12.5.4.1) */
    }
    if (deliver && vector >= 16)
        accept_locked(l, vector, false);
    spin_unlock_irqrestore(&l->lock, flags);
    if (deliver)
        notify(l->vcpu);
}

static void timer_start_count(struct vlapic *l)
{
    l->timer_start = rdtsc();
    l->timer_counting = REG(l, REG_TIMER_INITIAL) && timer_mode(l) != TIMER_TSC_DEADLINE;
    if (l->timer_counting)
        vtimer_arm(&l->timer, l->timer_start + timer_period_ticks(l));
    else
        vtimer_cancel(&l->timer);
}

static void set_tsc_deadline(struct vlapic *l, uint64_t guest_tsc)
{
    l->tsc_deadline = guest_tsc;
    if (!guest_tsc || timer_mode(l) != TIMER_TSC_DEADLINE) {
        vtimer_cancel(&l->timer);
        return;
    }
    /* The guest's TSC runs at the host's rate with an offset (VMCS TSC offset). */
    vtimer_arm(&l->timer, guest_tsc - l->vcpu->tsc_offset);
}

/* --- Interrupt acceptance and delivery ----------------------------------------------------- */

static void accept_locked(struct vlapic *l, uint8_t vector, bool level)
{
    uint32_t bit = 1u << (vector % 32);
    l->posted[vector / 32] |= bit;
    if (level)
        l->posted_level[vector / 32] |= bit;
    else
        l->posted_level[vector / 32] &= ~bit;
    l->entry_work = true;
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
    accept_locked(l, lvt & 0xff, false);
    return true;
}

/* An IPI with a vector below 16 sent: the sender logs it (12.5.3). */
static void send_illegal_vector(struct vlapic *l)
{
    uint64_t flags = spin_lock_irqsave(&l->lock);
    bool interrupted = record_error_locked(l, ESR_SEND_ILLEGAL_VECTOR);
    spin_unlock_irqrestore(&l->lock, flags);
    if (interrupted)
        notify(l->vcpu);
}

/* The vCPU must look at its APIC: woken when halted, made to exit when running elsewhere (the
 * next entry merges what was posted: without posted-interrupt processing, only an exit makes
 * the CPU see new IRR bits). */
static void notify(struct vcpu *v)
{
    /* Pairs with the fence in handle_hlt: either it sees the posted bit, or this sees BLOCKED. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (v->state == VCPU_BLOCKED) {
        sched_wake(v);
        return;
    }
    int home = v->home_cpu;
    if (home >= 0 && (unsigned)home != this_cpu()->index && cpus[home] && cpus[home]->running == v)
        smp_send_kick((unsigned)home);
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
        accept_locked(l, vector, level);
    spin_unlock_irqrestore(&l->lock, flags);
    notify(v);
}

int vlapic_pending_vector(struct vlapic *l)
{
    uint64_t flags = spin_lock_irqsave(&l->lock);
    merge_posted(l);
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
    merge_posted(l);
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

static void init_vcpu(struct vcpu *t)
{
    /* INIT (SDM Vol. 3A 9.4.2): the vCPU is reset; the bootstrap one starts at the reset vector,
     * the others wait for a STARTUP IPI. The CPU that runs it next does the reset (vmx/run.c,
     * vcpu_init_signal): only there is its VMCS current, and only that CPU writes the
     * virtual-APIC page. Here: the INIT is made pending, and the vCPU woken from HLT or made to
     * leave the guest to see it. Its timer stops now. */
    if (t->state == VCPU_STOPPED)
        return;
    vtimer_cancel(&t->lapic->timer);
    t->halted_for_good = false;
    /* A STARTUP kept for an earlier INIT the vCPU has not taken yet belongs to that INIT (its
     * count says so): this one resets the vCPU again, and only a STARTUP sent after it may
     * start it. (INIT, STARTUP to park code, then INIT, STARTUP to the real start, all before
     * the vCPU ran: it must not park.) */
    __atomic_add_fetch(&t->init_requests, 1, __ATOMIC_SEQ_CST);
    vcpu_state_swap(t, VCPU_BLOCKED, VCPU_RUNNABLE); /* one waiting for a SIPI waits on */
    sched_kick(t);
}

static void start_vcpu(struct vcpu *t, uint8_t vector)
{
    /* STARTUP (SDM Vol. 3A 9.4.4): real mode at vector << 12, for a vCPU waiting for it or
     * whose INIT is still pending (INIT and STARTUP sent back to back, as Linux does without the
     * MP specification's 10 ms wait): the SIPI is then kept for after the reset. At any other
     * time it is ignored. The CPU that runs the vCPU sets up the entry state (vmx/run.c). */
    if (t->state != VCPU_WAIT_FOR_SIPI && !vcpu_init_pending(t))
        return;
    /* It belongs to the last INIT sent; a second STARTUP for the same INIT finds the CPU
     * started by the first and is ignored, so the first one kept stays. Kept before the state
     * changes: a CPU that sees the vCPU runnable finds its STARTUP too. */
    uint64_t inits = __atomic_load_n(&t->init_requests, __ATOMIC_SEQ_CST);
    uint64_t kept = __atomic_load_n(&t->startup, __ATOMIC_SEQ_CST);
    uint64_t mine = inits << 32 | STARTUP_KEPT | vector;
    while (!((kept & STARTUP_KEPT) && kept >> 32 == inits) &&
           !__atomic_compare_exchange_n(&t->startup, &kept, mine, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
        ;
    if (!vcpu_state_swap(t, VCPU_WAIT_FOR_SIPI, VCPU_RUNNABLE))
        vcpu_state_swap(t, VCPU_BLOCKED, VCPU_RUNNABLE);
    sched_kick(t);
}

static void deliver_to(struct vcpu *t, unsigned mode, uint8_t vector, bool level)
{
    if (!vlapic_hw_enabled(t->lapic))
        return; /* not on the APIC bus while globally disabled (12.4.3) */
    switch (mode) {
    case MODE_FIXED: case MODE_LOWEST:
        vlapic_set_irq(t, vector, level);
        break;
    case MODE_NMI:
        inject_nmi(t);
        /* Pending, not waking one halted in its NMI handler (vmx/exit.c, handle_hlt). */
        if (!(t->state == VCPU_BLOCKED && t->halted_in_nmi))
            notify(t);
        break;
    case MODE_INIT:
        init_vcpu(t);
        break;
    case MODE_STARTUP:
        start_vcpu(t, vector);
        break;
    case MODE_EXTINT: /* the PIC's vector comes through LINT0 (vm/irq.c) */
    case MODE_SMI:
    default:
        break;
    }
}

/* Whether the APIC of t matches a logical destination (SDM Vol. 3A 12.6.2.2, 12.12.10.2). */
static bool logical_match(struct vlapic *t, uint32_t dest)
{
    uint32_t ldr = REG(t, REG_LDR);
    if (x2apic(t)) {
        if (dest == 0xffffffffu)
            return true;
        return (dest >> 16) == (ldr >> 16) && (dest & ldr & 0xffff);
    }
    ldr >>= 24;
    dest &= 0xff;
    if (dest == 0xff)
        return true;
    if ((REG(t, REG_DFR) >> 28) == 0xf) /* flat model: a bit per APIC */
        return dest & ldr;
    return (dest >> 4) == (ldr >> 4) && (dest & ldr & 0xf); /* cluster model */
}

void vlapic_deliver(struct vm *vm, struct vcpu *from, uint32_t dest, bool logical, unsigned mode, uint8_t vector,
                    bool level, unsigned shorthand)
{
    bool lowest_done = false;
    for (unsigned i = 0; i < vm->vcpu_count; i++) {
        struct vcpu *t = vm->vcpus[i];
        bool match;
        switch (shorthand) {
        case 1: match = t == from; break;             /* self */
        case 2: match = true; break;                  /* all including self */
        case 3: match = t != from; break;             /* all excluding self */
        default:
            if (logical)
                match = logical_match(t->lapic, dest);
            else
                match = dest == (x2apic(t->lapic) ? 0xffffffffu : 0xffu) || dest == apic_id(t->lapic);
        }
        if (!match)
            continue;
        if (mode == MODE_LOWEST) {
            /* Lowest priority: any one of them may take it; the first is as good as any
             * (SDM Vol. 3A 12.6.2.4 leaves the arbitration to the model). */
            if (lowest_done)
                continue;
            lowest_done = true;
        }
        deliver_to(t, mode, vector, level);
    }
}

static void send_ipi(struct vlapic *l, uint64_t icr)
{
    unsigned mode = (icr >> 8) & 7, shorthand = (icr >> 18) & 3;
    bool logical = icr & (1u << 11), level_assert = icr & (1u << 14), level_trigger = icr & (1u << 15);
    uint32_t dest = x2apic(l) ? (uint32_t)(icr >> 32) : (uint32_t)(icr >> 56);
    /* INIT with level de-assert (trigger level, assert clear) is the old "INIT level de-assert":
     * no effect on the targets (SDM Vol. 3A 12.6.1). */
    if (mode == MODE_INIT && level_trigger && !level_assert)
        return;
    /* A fixed or lowest-priority IPI with a vector below 16: the sender logs it too (12.5.3);
     * the receivers log theirs and drop it (vlapic_set_irq). */
    if ((mode == MODE_FIXED || mode == MODE_LOWEST) && (uint8_t)icr < 16)
        send_illegal_vector(l);
    vlapic_deliver(l->vcpu->vm, l->vcpu, dest, logical, mode, (uint8_t)icr, false, shorthand);
}

bool vlapic_accepts_pic(struct vlapic *l)
{
    if (!vlapic_hw_enabled(l))
        return true; /* the APIC is out of the way: LINT0 is the CPU's INTR pin (12.4.3) */
    uint32_t lint0 = REG(l, lvt_offset(LVT_LINT0));
    /* A software-disabled APIC passes LINT0 through as if in virtual-wire mode only when
     * firmware left it so; mhv's reset state sets LINT0 to ExtINT on vCPU 0 (vlapic_reset). */
    return !(lint0 & LVT_MASKED) && ((lint0 >> 8) & 7) == MODE_EXTINT;
}

/* --- Register access ----------------------------------------------------------------------- */

static uint32_t read_register(struct vlapic *l, uint32_t offset)
{
    uint64_t flags = spin_lock_irqsave(&l->lock);
    uint32_t value;
    merge_posted(l); /* IRR and TMR as they stand */
    if ((offset >= REG_ISR && offset < REG_IRR + 0x80) || (offset >= REG_LVT_TIMER && offset <= REG_LVT_ERROR)) {
        value = REG(l, offset);
    } else {
        switch (offset) {
        case REG_ID: value = x2apic(l) ? apic_id(l) : apic_id(l) << 24; break;
        case REG_VERSION: value = VERSION; break;
        case REG_PPR: value = ppr(l); break;
        case REG_DFR: value = x2apic(l) ? 0 : REG(l, REG_DFR); break;
        case REG_ICR_HIGH: value = x2apic(l) ? 0 : REG(l, REG_ICR_HIGH); break;
        case REG_TIMER_CURRENT: value = timer_current(l); break;
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

/* Writes one register: `value` is what the guest wrote. With APIC-register virtualization the
 * CPU has already put it in the page (SDM Vol. 3C 31.4.3.2), so nothing here may depend on
 * the register's previous contents there (the timer mode is kept aside for that); what the
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
            timer_start_count(l);
        }
        break;
    case REG_TIMER_DIVIDE: {
        /* The count goes on from where it is, at the new rate (12.5.4). */
        uint32_t current = timer_current(l);
        REG(l, REG_TIMER_DIVIDE) = value & 0xb;
        if (current && timer_mode(l) != TIMER_TSC_DEADLINE) {
            uint64_t done = (uint64_t)(REG(l, REG_TIMER_INITIAL) - current) * timer_divisor(l);
            l->timer_start = rdtsc() - done;
            vtimer_arm(&l->timer, l->timer_start + timer_period_ticks(l));
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
                timer_counting(l); /* a one-shot count that ran out stays out in any new mode */
                /* A switch to or from TSC-deadline mode disarms the timer (12.5.4.1); between
                 * one-shot and periodic the count goes on, and the new mode decides what happens
                 * when it reaches 0 (timer_fired). Mode 3 is reserved: taken as one-shot. */
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
        send_ipi(l, ((uint64_t)REG(l, REG_ICR_HIGH) << 32) | REG(l, REG_ICR_LOW));
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

static void reset_registers(struct vlapic *l);

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
        reset_registers(l);
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
            set_tsc_deadline(l, value);
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
            send_illegal_vector(l);
        vlapic_set_irq(v, (uint8_t)value, false);
        return true;
    default:
        write_register(l, offset, (uint32_t)value);
        return true;
    }
}

/* --- Creation and reset -------------------------------------------------------------------- */

/* The registers' power-up values (12.4.7.1): nothing pending or in service, every LVT masked,
 * the APIC software-disabled (SVR 0xff), the timer stopped. Lock held. */
static void reset_registers(struct vlapic *l)
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
    reset_registers(l);
    spin_unlock_irqrestore(&l->lock, flags);
}

void vlapic_reset(struct vlapic *l)
{
    uint64_t flags = spin_lock_irqsave(&l->lock);
    struct vcpu *v = l->vcpu;
    l->apic_base = PLATFORM_LAPIC_BASE | BASE_ENABLED | (v->id == 0 ? BASE_BSP : 0);
    l->moved = false;
    reset_registers(l);
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
    vtimer_init(&l->timer, v, timer_fired, l);
    vlapic_reset(l);
    return l;
}
