/* SPDX-License-Identifier: BSD-2-Clause */
/* VMCALL: mhv's hypercall ABI (include/vm/abi.h, README.md "Hypercalls"). */
#include "arch/x86/cpu.h"
#include "arch/x86/tsc.h"
#include "kernel/console.h"
#include "kernel/log.h"
#include "vm/abi.h"
#include "sched/sched.h"
#include "vm/console.h"
#include "vm/vm.h"
#include "vmx/exit.h"
#include "vmx/inject.h"
#include "vmx/segment.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs.h"

#define CONSOLE_WRITE_MAX 4096
#define TIMER_MAX_US 3600000000ull /* an hour: keeps the TSC arithmetic far from overflow */

static void hypercall_timer_fired(struct vtimer *t)
{
    struct vcpu *v = t->ctx;
    inject_interrupt(v, v->timer_vector);
    sched_wake(&v->se);
}

/* The TIMER hypercall: `vector` after `us` microseconds (us > 0), or cancelled (0). The timer
 * is one of the vCPU's, so the CPU that runs the vCPU keeps it. */
static void set_timer(struct vcpu *v, uint64_t us, uint8_t vector)
{
    if (us > TIMER_MAX_US)
        us = TIMER_MAX_US;
    if (!v->hypercall_timer.fire)
        vtimer_init(&v->hypercall_timer, &v->se, hypercall_timer_fired, v);
    v->timer_vector = vector;
    if (us)
        vtimer_arm(&v->hypercall_timer, rdtsc() + tsc_us_to_ticks(us));
    else
        vtimer_cancel(&v->hypercall_timer);
}

/* Out of line: keeps the common hypercalls free of its register pressure. */
__attribute__((noinline)) static int64_t hc_console_write(struct vcpu *v, uint64_t gpa, uint64_t len)
{
    if (len > CONSOLE_WRITE_MAX)
        return MHV_EINVAL;
    /* Validate the whole buffer before touching any of it. */
    for (uint64_t i = 0; i < len; i++)
        if (!vm_gpa_to_hva(v->vm, gpa + i, 1))
            return MHV_EFAULT;
    /* As much as mhv's console has room for (include/kernel/console.h): the guest writes the
     * rest again, as it would after a short write() to a slow terminal. What is written goes
     * in at once, so a line one call writes stays whole while other vCPUs write theirs. */
    uint64_t done = len;
    while (done && !console_guest_room(done))
        done /= 2;
    const char *s = vm_gpa_to_hva(v->vm, gpa, done);
    if (s) {
        vm_console_write(v->vm, s, done);
    } else { /* the buffer spans a hole in guest RAM: byte by byte */
        for (uint64_t i = 0; i < done; i++)
            vm_console_putc(v->vm, *(const char *)vm_gpa_to_hva(v->vm, gpa + i, 1));
    }
    console_drain();
    return (int64_t)done;
}

/* What a STOP answers instead of a result: the run ends, the guest gets no RAX. */
#define HC_STOPPED INT64_MIN

/* The calls beyond MHV_HC_NOP, out of line: the NOP (the benchmark's round trip) pays for none
 * of their registers. Returns the result for RAX, or HC_STOPPED. */
__attribute__((noinline)) static int64_t hypercall(struct vcpu *v, uint64_t *r)
{
    switch (r[GPR_RAX]) {
    case MHV_HC_VERSION:
        r[GPR_RBX] = MHV_HC_ABI_VERSION;
        r[GPR_RCX] = 0x76686d;
        return 0;
    case MHV_HC_CONSOLE_WRITE:
        return hc_console_write(v, r[GPR_RBX], r[GPR_RCX]);
    case MHV_HC_STOP:
        vm_stop(v->vm, STOP_POWEROFF, (int)(r[GPR_RBX] & 0xff), "hypercall stop from vCPU %u", v->id);
        return HC_STOPPED;
    case MHV_HC_TIMER:
        if (r[GPR_RBX] && (r[GPR_RCX] < 32 || r[GPR_RCX] > 255))
            return MHV_EINVAL;
        set_timer(v, r[GPR_RBX], (uint8_t)r[GPR_RCX]);
        return 0;
    case MHV_HC_SEND_IPI: {
        uint64_t target = r[GPR_RCX];
        if (r[GPR_RBX] < 32 || r[GPR_RBX] > 255 || target >= v->vm->vcpu_count)
            return MHV_EINVAL;
        inject_interrupt(v->vm->vcpus[target], (uint8_t)r[GPR_RBX]);
        sched_wake(&v->vm->vcpus[target]->se);
        return 0;
    }
    case MHV_HC_INJECT:
        if (r[GPR_RBX] == VEC_NMI)
            inject_nmi(v);
        else if (r[GPR_RBX] >= 32 && r[GPR_RBX] <= 255)
            inject_interrupt(v, (uint8_t)r[GPR_RBX]);
        else
            return MHV_EINVAL;
        return 0;
    default:
        return MHV_ENOSYS;
    }
}

enum exit_action handle_vmcall(struct vcpu *v)
{
    uint64_t *r = v->regs.gpr;
    int64_t result;
    if (SEG_AR_DPL(vmcs_read32(v, VMCS_GUEST_SS_ACCESS))) /* SS.DPL is the CPL */
        result = MHV_EPERM;
    else if (r[GPR_RAX] == MHV_HC_NOP)
        result = 0;
    else if ((result = hypercall(v, r)) == HC_STOPPED)
        return EXIT_RESCHED;
    r[GPR_RAX] = (uint64_t)result;
    skip_instruction(v);
    return EXIT_RESUME;
}
