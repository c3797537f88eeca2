/* SPDX-License-Identifier: BSD-2-Clause */
/* What happens when a VM stops (on_poweroff / on_crash in its configuration): it stays
 * stopped, it restarts from its image, or the whole machine powers off. */
#include <stdbool.h>

#include "arch/x86/cpu.h"
#include "arch/x86/percpu.h"
#include "arch/x86/tsc.h"
#include "arch/x86/xcall.h"
#include "kernel/console.h"
#include "kernel/log.h"
#include "sched/sched.h"
#include "vm/config.h"
#include "vm/console.h"
#include "vm/guest_image.h"
#include "vm/vm.h"
#include "vmx/vcpu.h"
#include "vmx/vmxon.h"

/* A VM that keeps crashing is given up on, as an init system gives up on a service. */
#define RESTART_BURST 3
#define RESTART_WINDOW_S 10
#define RESTART_RETRY_US 1000 /* a vCPU still running, or its VMCS held by a busy CPU */
#define CONSOLE_POLL_US 1000  /* CPU 0 reads the serial line this often (16 bytes take 1.4 ms) */

static struct vtimer restart_timer; /* restart_fired */

void vm_apply_stop_action(struct vm *vm, unsigned action)
{
    if (machine_poweroff_requested)
        return; /* already going down: nothing restarts now */
    if (action == ACTION_POWEROFF) {
        machine_poweroff_requested = true;
        status_line("vm %s: powering off the machine (its configuration says so)", vm->name);
        for (unsigned i = 0; i < vm_count; i++)
            if (vms[i]->state == VM_RUNNING)
                vm_stop(vms[i], STOP_POWEROFF, 0, "the machine is powering off");
        return;
    }
    if (action != ACTION_RESTART)
        return;
    if (!vm->boot) {
        status_line("vm %s: nothing to restart it from; left stopped", vm->name);
        return;
    }
    /* A warm boot (a soft reset that found no resume code, devices/reset.c) is the guest's own
     * doing, as often as it likes on a PC (kvm-unit-tests' init test does five in a row): only
     * the other restarts, after a crash, a power-off, a hard reset or a power cycle, count
     * towards the limit. */
    if (vm->stop_kind == STOP_REBOOT_SOFT) {
        vm->restart_pending = true;
        status_line("vm %s: restarting (a warm boot: memory kept)", vm->name);
        vtimer_arm(&restart_timer, rdtsc());
        return;
    }
    uint64_t now = rdtsc(), window = RESTART_WINDOW_S * tsc_hz;
    if (!vm->restarts || now - vm->restart_window_start > window) {
        vm->restart_window_start = now;
        vm->restarts = 0;
    }
    if (++vm->restarts > RESTART_BURST) {
        status_line("vm %s: stopped %d times within %d s; not restarted again", vm->name, RESTART_BURST + 1,
                    RESTART_WINDOW_S);
        return;
    }
    vm->restart_pending = true;
    status_line("vm %s: restarting (%u of at most %d in a row)", vm->name, vm->restarts, RESTART_BURST);
    vtimer_arm(&restart_timer, rdtsc());
}

void vm_restart_if_ready(struct vm *vm)
{
    if (!vm->restart_pending)
        return;
    for (unsigned i = 0; i < vm->vcpu_count; i++)
        if (sched_is_running(&vm->vcpus[i]->se))
            return; /* another CPU still runs one of them: it tries again when that one stops */
    /* restart_pending stays set until the VM runs again, so that no CPU meanwhile finds
     * nothing to run and ends the machine (vm_running_count); restart_busy says which CPU
     * is at it. */
    if (__atomic_exchange_n(&vm->restart_busy, true, __ATOMIC_ACQ_REL))
        return; /* another CPU got here first */
    /* Each vCPU's VMCS is made current here (vcpu_load VMCLEARs it where it was active). A
     * CPU too busy to release one now makes the restart wait for a later try (restart_fired). */
    for (unsigned i = 0; i < vm->vcpu_count; i++) {
        if (vcpu_load(vm->vcpus[i]) < 0) {
            __atomic_store_n(&vm->restart_busy, false, __ATOMIC_RELEASE);
            return;
        }
    }
    bool placed = true;
    for (unsigned i = vm->vcpu_count; i-- > 0;) {
        struct vcpu *v = vm->vcpus[i];
        vcpu_load(v); /* active nowhere else now: always loads */
        vcpu_reset(v);
        if (i == 0)
            placed = guest_boot_rebuild(vm, v) == 0;
        vcpu_put(v);
    }
    vm_reset_devices(vm);
    if (!placed) {
        __atomic_store_n(&vm->restart_pending, false, __ATOMIC_RELEASE);
        __atomic_store_n(&vm->restart_busy, false, __ATOMIC_RELEASE);
        status_line("vm %s: its kernel could not be placed again (see above); left stopped", vm->name);
        return;
    }
    /* Running again (so counted), then no longer pending (so a stop counts), and runnable only
     * now that memory and every vCPU are rebuilt. */
    __atomic_store_n(&vm->state, VM_RUNNING, __ATOMIC_SEQ_CST);
    __atomic_store_n(&vm->restart_pending, false, __ATOMIC_SEQ_CST);
    __atomic_store_n(&vm->restart_busy, false, __ATOMIC_RELEASE);
    for (unsigned i = 0; i < vm->vcpu_count; i++) {
        vm->vcpus[i]->se.state = i == 0 ? VCPU_RUNNABLE : VCPU_WAIT_FOR_SIPI;
        sched_kick(&vm->vcpus[i]->se);
    }
}

/* The CPU that does the VMs' host work: the first in VMX operation (CPU 0 but on a machine
 * whose boot CPU failed VMXON: one whose scheduler loop never runs would never do it). */
static unsigned host_work_cpu(void)
{
    for (unsigned c = 0; c < cpu_count; c++)
        if (vmx_cpu_usable(c))
            return c;
    return 0;
}

/* VM restarts are host work (one host timer for all VMs): armed when a VM is to restart, it
 * tries each waiting VM until no vCPU of it runs anywhere and every VMCS could be taken. */
static void restart_fired(struct vtimer *t)
{
    bool waiting = false;
    for (unsigned i = 0; i < vm_count; i++) {
        if (!__atomic_load_n(&vms[i]->restart_pending, __ATOMIC_ACQUIRE))
            continue;
        vm_restart_if_ready(vms[i]);
        waiting |= __atomic_load_n(&vms[i]->restart_pending, __ATOMIC_ACQUIRE);
    }
    if (waiting)
        vtimer_arm(t, rdtsc() + tsc_us_to_ticks(RESTART_RETRY_US));
}

static void console_poll_fired(struct vtimer *t)
{
    console_input_poll(); /* serial input to the VM with the console focus */
    console_drain();      /* and output waiting for the line */
    vtimer_arm(t, rdtsc() + tsc_us_to_ticks(CONSOLE_POLL_US));
}

static bool keep_scheduling(void)
{
    return vm_running_count() > 0;
}

void vm_lifecycle_init(void)
{
    vtimer_init_host(&restart_timer, host_work_cpu(), restart_fired, NULL);
}

void vm_start_all(void)
{
    static struct vtimer console_poll;
    for (unsigned i = 0; i < vm_count; i++) {
        struct vm *vm = vms[i];
        for (unsigned j = 0; j < vm->vcpu_count; j++) {
            if (!sched_placeable(&vm->vcpus[j]->se, vmx_cpu_usable)) {
                vm_stop(vm, STOP_CRASH, 253, "vCPU %u may run on no CPU in VMX operation (affinity 0x%lx)", j,
                        vm->vcpus[j]->se.affinity);
                break;
            }
        }
    }
    vtimer_init_host(&console_poll, host_work_cpu(), console_poll_fired, NULL);
    vtimer_arm(&console_poll, rdtsc());
    console_start_queue(vm_console_room); /* from now on no CPU waits for the serial line */
    sched_start(vmx_cpu_usable, keep_scheduling);
}
