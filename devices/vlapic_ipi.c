/* SPDX-License-Identifier: BSD-2-Clause */
/* Interrupts between local APICs (SDM Vol. 3A 12.6): delivery to the destination APICs
 * (physical, logical, shorthands, lowest priority), INIT and STARTUP, for IPIs from the ICR
 * (decoded by vlapic_send_ipi, inline in include/devices/vlapic_internal.h) and the I/O APIC's
 * messages alike (vlapic_deliver). */
#include "devices/vlapic_internal.h"
#include "sched/sched.h"
#include "sched/vtimer.h"
#include "vm/vm.h"
#include "vmx/inject.h"
#include "vmx/vcpu.h"

static void init_vcpu(struct vcpu *t)
{
    /* INIT (SDM Vol. 3A 9.4.2): the vCPU is reset; the bootstrap one starts at the reset vector,
     * the others wait for a STARTUP IPI. The CPU that runs it next does the reset (vmx/run.c,
     * vcpu_init_signal): only there is its VMCS current, and only that CPU writes the
     * virtual-APIC page. Here: the INIT is made pending, and the vCPU woken from HLT or made to
     * leave the guest to see it. Its timer stops now. */
    if (t->se.state == VCPU_STOPPED)
        return;
    vtimer_cancel(&t->lapic->timer);
    t->halted_for_good = false;
    /* A STARTUP kept for an earlier INIT the vCPU has not taken yet belongs to that INIT (its
     * count says so): this one resets the vCPU again, and only a STARTUP sent after it may
     * start it. (INIT, STARTUP to park code, then INIT, STARTUP to the real start, all before
     * the vCPU ran: it must not park.) */
    __atomic_add_fetch(&t->init_requests, 1, __ATOMIC_SEQ_CST);
    vcpu_state_swap(t, VCPU_BLOCKED, VCPU_RUNNABLE); /* one waiting for a SIPI waits on */
    sched_kick(&t->se);
}

static void start_vcpu(struct vcpu *t, uint8_t vector)
{
    /* STARTUP (SDM Vol. 3A 9.4.4): real mode at vector << 12, for a vCPU waiting for it or
     * whose INIT is still pending (INIT and STARTUP sent back to back, as Linux does without the
     * MP specification's 10 ms wait): the SIPI is then kept for after the reset. At any other
     * time it is ignored. The CPU that runs the vCPU sets up the entry state (vmx/run.c). */
    if (t->se.state != VCPU_WAIT_FOR_SIPI && !vcpu_init_pending(t))
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
    sched_kick(&t->se);
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
        if (!(t->se.state == VCPU_BLOCKED && t->halted_in_nmi))
            vlapic_notify(t);
        break;
    case MODE_INIT:
        init_vcpu(t);
        break;
    case MODE_STARTUP:
        start_vcpu(t, vector);
        break;
    case MODE_EXTINT: /* from the I/O APIC: the vector comes from the 8259 (vlapic_extint) */
        vlapic_extint(t);
        break;
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
