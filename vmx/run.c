/* SPDX-License-Identifier: BSD-2-Clause */
/* One slice of one vCPU (include/vmx/run.h). Interrupts stay off while mhv runs here; they
 * are taken in the window after an external-interrupt exit. */
#include "vmx/run.h"

#include <stdbool.h>

#include "arch/x86/cpu.h"
#include "arch/x86/lapic.h"
#include "arch/x86/percpu.h"
#include "arch/x86/tsc.h"
#include "arch/x86/xcall.h"
#include "kernel/console.h"
#include "kernel/log.h"
#include "devices/vlapic.h"
#include "lib/format.h"
#include "vm/vm.h"
#include "vmx/caps.h"
#include "vmx/exit_dispatch.h"
#include "vmx/inject.h"
#include "vmx/preflight.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs.h"
#include "vmx/vmxon.h"

extern int vmx_enter(struct vcpu *v);
int vcpu_exit(struct vcpu *v);

/* After every VM exit, called by vmx/entry.asm with the guest's registers in v->regs: handles
 * the exit and answers whether the guest goes on at once (1: its registers are loaded again and
 * VMRESUME runs) or the run ends (0: vmx_enter returns to vcpu_run).
 * vm_stop() marks every vCPU of the VM stopped, so the vCPU's state is the one check, with an
 * INIT, which may come from this vCPU itself (an ICR write to self). need_resched needs none
 * here: interrupts are off between exits, so it can only be set in an external-interrupt exit,
 * and that handler then ends the run itself.
 * The preemption timer counts guest time only: a vCPU that exits all the time (polling a
 * device) would hold the CPU for many times its slice of real time, and with it this CPU's
 * share of mhv's own work (the console, typed input, device timers). So the slice also ends
 * once that much real time has passed, and console output waiting for the line is fed between
 * exits.
 * Cross-CPU calls waiting for this CPU are served between exits too, not only in the window an
 * external-interrupt exit opens: the call's IPI makes the guest exit whatever its RFLAGS.IF
 * (external-interrupt exiting, SDM Vol. 3C 26.2), but Bochs takes no host interrupt while a
 * guest runs with IF=0, so a guest spinning with interrupts off would otherwise keep every
 * remote VMCLEAR for this CPU waiting until its slice ends. */
int vcpu_exit(struct vcpu *v)
{
    if (exit_dispatch(v) != EXIT_RESUME)
        return 0;
    if (__builtin_expect(console_pending(), 0))
        console_drain();
    xcall_poll();
    if (__builtin_expect((int64_t)(rdtsc() - v->slice_end) >= 0, 0)) {
        v->se.preempted = true;
        return 0;
    }
    if (v->se.state != VCPU_RUNNABLE || vcpu_init_pending(v))
        return 0;
    inject_before_entry(v);
    return 1;
}

/* Takes the STARTUP IPI kept for the INIT this CPU took last (devices/vlapic_ipi.c start_vcpu). One
 * kept for an earlier INIT is dropped; one for a later INIT, still pending, stays for after
 * it. */
static bool take_startup(struct vcpu *v, uint8_t *vector)
{
    uint64_t kept = __atomic_load_n(&v->startup, __ATOMIC_SEQ_CST);
    while (kept & STARTUP_KEPT) {
        int32_t age = (int32_t)(v->init_handled - (uint32_t)(kept >> 32));
        if (age < 0)
            return false;
        if (__atomic_compare_exchange_n(&v->startup, &kept, 0, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
            *vector = (uint8_t)kept;
            return age == 0;
        }
    }
    return false;
}

/* The vCPU entity's run (sched/sched.h): vcpu_load, enter the guest and handle exits until
 * the vCPU blocks, stops, yields, its slice ends or this CPU is asked to reschedule; then
 * vcpu_put. */
static enum run_end vcpu_run(struct sched_entity *e, uint64_t slice_ticks)
{
    struct vcpu *v = vcpu_of(e);
    struct vmx_cpu *p = this_vmx_cpu();
    if (vcpu_load(v) < 0) {
        /* Its VMCS is still active on the CPU it came from (stolen, or moved), which was too
         * busy to release it: it runs there instead. */
        e->elsewhere = __atomic_load_n(&v->last_cpu, __ATOMIC_ACQUIRE);
        return RUN_ELSEWHERE;
    }
    uint32_t inits = __atomic_load_n(&v->init_requests, __ATOMIC_SEQ_CST);
    if (inits != v->init_handled) {
        bool bsp = vlapic_is_bsp(v->lapic);
        /* INIT (devices/vlapic_ipi.c): the bootstrap vCPU goes on at the reset vector, the others wait
         * for a STARTUP IPI, which may already have come (kept in v->startup). The INIT counts
         * as taken only once the state says so: a STARTUP IPI arriving meanwhile sees it
         * pending or sees the wait, and is kept either way. */
        vcpu_init_signal(v);
        v->awaiting_startup = !bsp;
        if (!bsp)
            vcpu_state_swap(v, VCPU_RUNNABLE, VCPU_WAIT_FOR_SIPI);
        __atomic_store_n(&v->init_handled, inits, __ATOMIC_SEQ_CST);
    }
    /* The STARTUP IPI for the INIT taken: real mode at vector << 12. The sender keeps it
     * before it makes the vCPU runnable, so a vCPU found runnable but still waiting has its
     * STARTUP kept by now: the second look finds it. Waiting is this CPU's to end, never the
     * state alone: a vCPU that runs without its STARTUP would start at 0:0. */
    for (int look = 0; v->awaiting_startup && look < 2; look++) {
        uint8_t vector;
        if (take_startup(v, &vector)) {
            vcpu_set_real_mode(v, (uint16_t)(vector << 8), 0);
            v->awaiting_startup = false;
            vcpu_state_swap(v, VCPU_WAIT_FOR_SIPI, VCPU_RUNNABLE);
        } else if (v->se.state != VCPU_RUNNABLE) {
            break;
        }
    }
    if (v->awaiting_startup || v->se.state != VCPU_RUNNABLE) {
        vcpu_put(v);
        return v->se.state == VCPU_STOPPED ? RUN_STOPPED : RUN_BLOCKED;
    }
    /* The slice: the VMX preemption timer counts down once every 2^rate TSC ticks
     * (IA32_VMX_MISC[4:0]) and, with "save timer value" on exit, keeps counting across
     * entries. Without it, the local APIC timer ends the slice with an interrupt. */
    if (vmx_ctl_allowed(&vmx_boot_caps, CTL_PIN, PIN_PREEMPTION_TIMER)) {
        uint64_t value = slice_ticks >> (vmx_boot_caps.misc & 0x1f);
        vmcs_write32(v, VMCS_PREEMPTION_TIMER_VALUE, value > 0xffffffffu ? 0xffffffffu : (uint32_t)(value ? value : 1));
    } else {
        lapic_timer_oneshot_ns(tsc_ticks_to_ns(slice_ticks));
    }
    v->se.preempted = false;
    if (p->switch_from && p->switched_from != v) {
        p->switches++;
        p->switch_ticks += rdtsc() - p->switch_from;
    }
    p->switch_from = 0;
    /* The guest runs, exit after exit, until vcpu_exit ends the run. */
    v->slice_end = rdtsc() + slice_ticks;
    if (v->se.state == VCPU_RUNNABLE && !vcpu_init_pending(v)) {
        inject_before_entry(v);
        int rc = vmx_enter(v);
        if (rc)
            vmx_report_entry_failure(v, rc);
    }
    vcpu_put(v);
    if (v->se.state == VCPU_STOPPED)
        return RUN_STOPPED;
    if (v->se.state == VCPU_BLOCKED)
        return RUN_BLOCKED;
    return v->se.preempted || this_cpu()->need_resched ? RUN_PREEMPTED : RUN_YIELDED;
}

/* A timer this CPU keeps is due before the running vCPU's slice ends (called inside its exit
 * handler, its VMCS current): its VMX preemption timer (saved at every exit, so it holds what
 * is left) is shortened. Without one, the slice's LAPIC one-shot ends it and the timer fires a
 * slice late at worst. */
static void vcpu_cut_slice(struct sched_entity *e, uint64_t deadline)
{
    struct vcpu *v = vcpu_of(e);
    if (!vmx_ctl_allowed(&vmx_boot_caps, CTL_PIN, PIN_PREEMPTION_TIMER))
        return;
    uint64_t now = rdtsc();
    uint64_t ticks = (int64_t)(deadline - now) > 0 ? deadline - now : 0;
    uint64_t value = ticks >> (vmx_boot_caps.misc & 0x1f);
    if (value < vmcs_read32(v, VMCS_PREEMPTION_TIMER_VALUE))
        vmcs_write32(v, VMCS_PREEMPTION_TIMER_VALUE, (uint32_t)value);
}

static void vcpu_describe(const struct sched_entity *e, char *name, size_t name_size, char *more, size_t more_size)
{
    const struct vcpu *v = (const struct vcpu *)((const char *)e - offsetof(struct vcpu, se));
    ksnprintf(name, name_size, "vm %s vcpu %u", v->vm->name, v->id);
    ksnprintf(more, more_size, "%lu migrations, %lu exits", v->migrations, v->exits);
}

const struct sched_entity_ops vcpu_entity_ops = {
    .run = vcpu_run,
    .cut_slice = vcpu_cut_slice,
    .describe = vcpu_describe,
};

void vmx_print_cpu_summary(void)
{
    for (unsigned c = 0; c < cpu_count; c++) {
        if (!vmx_cpu_usable(c))
            continue;
        const struct vmx_cpu *p = cpus[c]->vmx;
        log_info("sched: cpu%u: %lu vCPU switches, %lu TSC ticks each from the slice-end exit to the next "
                 "vCPU's entry; %lu migrations in, %lu ticks each in vcpu_load, %lu not taken (busy CPU)", c,
                 p->switches, p->switches ? p->switch_ticks / p->switches : 0, p->migrations_in,
                 p->migrations_in ? p->migrate_ticks / p->migrations_in : 0, p->vmclear_timeouts);
    }
}
