/* The run loop (include/vmx/run.h): pick, vcpu_load, enter until the handler says otherwise,
 * vcpu_put. Interrupts stay off while mhv runs here; they are taken in windows after external
 * interrupt exits and while idle. */
#include <stddef.h>

#include "vmx/run.h"

#include "arch/x86/cpu.h"
#include "arch/x86/lapic.h"
#include "arch/x86/percpu.h"
#include "arch/x86/smp.h"
#include "arch/x86/tsc.h"
#include "arch/x86/xcall.h"
#include "kernel/log.h"
#include "vm/vm.h"
#include "vmx/caps.h"
#include "vmx/inject.h"
#include "vmx/preflight.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs.h"

#define SLICE_US 10000        /* default time slice */
#define STRESS_SLICE_US 200   /* migration stress: hop CPUs often */
#define IDLE_WAKE_NS 1000000  /* a blocked vCPU is looked at again after 1 ms */

extern int vmx_enter(struct vcpu *v);

static uint32_t slice_value(uint64_t us)
{
    /* The preemption timer counts down once every 2^rate TSC ticks (IA32_VMX_MISC[4:0]). */
    uint64_t ticks = us * (tsc_hz / 1000000) >> (vmx_boot_caps.misc & 0x1f);
    return ticks > 0xffffffffu ? 0xffffffffu : (uint32_t)(ticks ? ticks : 1);
}

static enum exit_action enter_once(struct vcpu *v)
{
    inject_before_entry(v);
    int rc = vmx_enter(v);
    if (rc) {
        vmx_report_entry_failure(v, rc);
        return EXIT_RESCHED;
    }
    return exit_dispatch(v);
}

static void run_vcpu(struct vcpu *v)
{
    vcpu_load(v);
    if (v->sipi_vector >= 0) { /* started by a STARTUP IPI: real mode at vector << 12 */
        vcpu_set_real_mode(v, (uint16_t)(v->sipi_vector << 8), 0);
        v->sipi_vector = -1;
    }
    if (vmx_ctl_allowed(&vmx_boot_caps, CTL_PIN, PIN_PREEMPTION_TIMER))
        vmcs_write32(v, VMCS_PREEMPTION_TIMER_VALUE, slice_value(v->migrate_stress ? STRESS_SLICE_US : SLICE_US));
    v->slices++;
    /* vm_stop() marks every vCPU of the VM stopped, so the vCPU's state is the one check. */
    while (v->state == VCPU_RUNNABLE && enter_once(v) == EXIT_RESUME)
        ;
    vcpu_put(v);
}

static struct vcpu *pick(struct percpu *p)
{
    uint64_t flags = spin_lock_irqsave(&p->runq_lock);
    struct vcpu *found = NULL;
    for (unsigned i = 0; i < p->runq_len && !found; i++) {
        struct vcpu *v = p->runq[(p->runq_next + i) % p->runq_len];
        if (v->state == VCPU_RUNNABLE && v->vm->state == VM_RUNNING) {
            found = v;
            p->runq_next = (p->runq_next + i + 1) % p->runq_len;
        }
    }
    spin_unlock_irqrestore(&p->runq_lock, flags);
    return found;
}

static void wake(void *unused)
{
    (void)unused; /* the IPI itself ends the target's HLT */
}

static void enqueue(struct vcpu *v, unsigned cpu)
{
    struct percpu *p = per_cpu(cpu);
    uint64_t flags = spin_lock_irqsave(&p->runq_lock);
    p->runq[p->runq_len++] = v;
    v->home_cpu = (int)cpu;
    spin_unlock_irqrestore(&p->runq_lock, flags);
}

static void dequeue(struct vcpu *v, struct percpu *p)
{
    uint64_t flags = spin_lock_irqsave(&p->runq_lock);
    for (unsigned i = 0; i < p->runq_len; i++) {
        if (p->runq[i] == v) {
            p->runq[i] = p->runq[--p->runq_len];
            break;
        }
    }
    p->runq_next = 0;
    spin_unlock_irqrestore(&p->runq_lock, flags);
}

/* The next CPU after `from` that is in VMX root operation. */
static unsigned next_vmx_cpu(unsigned from)
{
    for (unsigned i = 1; i <= cpu_count; i++) {
        unsigned c = (from + i) % cpu_count;
        if (cpus[c] && cpus[c]->online && cpus[c]->vmx_state == VMX_CPU_ON)
            return c;
    }
    return from;
}

static void migrate(struct vcpu *v, struct percpu *p)
{
    unsigned target = next_vmx_cpu(p->index);
    if (target == p->index)
        return;
    dequeue(v, p);
    enqueue(v, target);
    xcall_run(target, wake, NULL, false);
}

static void idle(struct percpu *p)
{
    /* Wake periodically: a halted vCPU waits for time to pass until virtual interrupt sources
     * exist; then every BLOCKED vCPU here gets another look. */
    lapic_timer_oneshot_ns(IDLE_WAKE_NS);
    __asm__ volatile("sti; hlt; cli" ::: "memory");
    for (unsigned i = 0; i < p->runq_len; i++)
        if (p->runq[i]->state == VCPU_BLOCKED)
            p->runq[i]->state = VCPU_RUNNABLE;
}

void vmx_run_loop(void)
{
    struct percpu *p = this_cpu();
    if (p->vmx_state != VMX_CPU_ON)
        return;
    while (vm_running_count()) {
        struct vcpu *v = pick(p);
        if (!v) {
            idle(p);
            continue;
        }
        run_vcpu(v);
        if (v->migrate_stress && v->state == VCPU_RUNNABLE && v->vm->state == VM_RUNNING)
            migrate(v, p);
    }
}

void vmx_start_vms(void)
{
    unsigned cpu = 0;
    for (unsigned i = 0; i < vm_count; i++) {
        for (unsigned j = 0; j < vms[i]->vcpu_count; j++) {
            cpu = next_vmx_cpu(cpu);
            enqueue(vms[i]->vcpus[j], cpu);
        }
    }
    smp_set_idle_work(vmx_run_loop);
    xcall_all(wake, NULL, false);
}
