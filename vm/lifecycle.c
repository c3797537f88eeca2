/* SPDX-License-Identifier: BSD-2-Clause */
/* What happens when a VM stops (on_poweroff / on_crash in its configuration): it stays
 * stopped, it restarts from its image, or the whole machine powers off. */
#include <stdbool.h>

#include "arch/x86/cpu.h"
#include "arch/x86/percpu.h"
#include "arch/x86/tsc.h"
#include "arch/x86/xcall.h"
#include "kernel/log.h"
#include "sched/sched.h"
#include "vm/config.h"
#include "vm/guest_image.h"
#include "vm/vm.h"
#include "vmx/vcpu.h"

/* A VM that keeps crashing is given up on, as an init system gives up on a service. */
#define RESTART_BURST 3
#define RESTART_WINDOW_S 10

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
}

static bool running_somewhere(const struct vcpu *v)
{
    for (unsigned c = 0; c < cpu_count; c++)
        if (cpus[c] && cpus[c]->running == v)
            return true;
    return false;
}

void vm_restart_if_ready(struct vm *vm)
{
    if (!vm->restart_pending)
        return;
    for (unsigned i = 0; i < vm->vcpu_count; i++)
        if (running_somewhere(vm->vcpus[i]))
            return; /* another CPU still runs one of them: it tries again when that one stops */
    /* restart_pending stays set until the VM runs again, so that no CPU meanwhile finds
     * nothing to run and ends the machine (vm_running_count); restart_busy says which CPU
     * is at it. */
    if (__atomic_exchange_n(&vm->restart_busy, true, __ATOMIC_ACQ_REL))
        return; /* another CPU got here first */
    /* Each vCPU's VMCS is made current here (vcpu_load VMCLEARs it where it was active). A
     * CPU too busy to release one now makes the restart wait for a later try (from any CPU's
     * scheduler loop: vm_restart_waiting). */
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
        vm->vcpus[i]->state = i == 0 ? VCPU_RUNNABLE : VCPU_WAIT_FOR_SIPI;
        sched_kick(vm->vcpus[i]);
    }
}

void vm_restart_waiting(void)
{
    for (unsigned i = 0; i < vm_count; i++)
        if (vms[i]->restart_pending)
            vm_restart_if_ready(vms[i]);
}
