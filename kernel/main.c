/* SPDX-License-Identifier: BSD-2-Clause */
/* mhv's C entry point on the boot CPU (called from boot/entry.asm in long mode). */
#include <stdint.h>

#include "arch/x86/cpuinfo.h"
#include "arch/x86/gdt.h"
#include "arch/x86/lapic.h"
#include "arch/x86/paging.h"
#include "arch/x86/percpu.h"
#include "arch/x86/smp.h"
#include "arch/x86/tsc.h"
#include "arch/x86/xcall.h"
#include "arch/x86/trap.h"
#include "drivers/acpi_host.h"
#include "drivers/cmos_rtc.h"
#include "drivers/i8259.h"
#include "kernel/console.h"
#include "kernel/log.h"
#include "kernel/memory.h"
#include "kernel/multiboot2.h"
#include "kernel/options.h"
#include "kernel/page_alloc.h"
#include "kernel/panic.h"
#include "kernel/selftest.h"
#include "lib/string.h"
#include "vmx/exit.h"
#include "vmx/preflight.h"
#include "sched/sched.h"
#include "vmx/vcpu.h"
#include "vmx/vmx_cpu.h"
#include "vmx/vmxon.h"
#include "vm/boot.h"
#include "vm/vm.h"

#ifndef MHV_VERSION
#define MHV_VERSION "unknown"
#endif

extern char __kernel_start[], __kernel_end[];

static struct boot_info boot_info;

static void start_console(void)
{
    log_threshold = boot_options.loglevel;
    if (console_init(boot_options.serial_port) < 0) {
        /* Fall back to COM1 so the operator still learns what went wrong. */
        uint16_t wanted = boot_options.serial_port;
        console_init(CONSOLE_DEFAULT_PORT);
        log_warn("console: no UART answers at port 0x%x; using COM1 (0x3f8)", wanted);
    }
    log_flush_to_console();
}

static void print_boot_info(const struct boot_info *bi)
{
    log_info("boot loader: \"%s\", command line: \"%s\"", bi->loader_name, bi->cmdline);
    log_info("multiboot2 information at [0x%lx, 0x%lx), mhv image at [0x%lx, 0x%lx)", bi->info_start,
             bi->info_end, (uint64_t)(uintptr_t)__kernel_start, (uint64_t)(uintptr_t)__kernel_end);
    for (unsigned i = 0; i < bi->module_count; i++)
        log_info("module %u: '%s' at [0x%lx, 0x%lx), %lu bytes", i, bi->modules[i].name, bi->modules[i].start,
                 bi->modules[i].end, bi->modules[i].end - bi->modules[i].start);
    if (bi->acpi_revision)
        log_info("ACPI: RSDP (%s tag) copied at 0x%lx", bi->acpi_revision == 2 ? "ACPI 2.0+" : "ACPI 1.0",
                 bi->rsdp);
    else
        log_warn("ACPI: the boot loader passed no RSDP");
    if (bi->efi_system_table)
        log_info("UEFI: system table at 0x%lx%s", bi->efi_system_table,
                 bi->efi_boot_services_active ? ", boot services still active" : "");
    if (bi->problems)
        log_warn("multiboot2: %u problem%s worked around (see above)", bi->problems, bi->problems > 1 ? "s" : "");
}

/* Once every VM has stopped: one line per VM, then power off if the command line says so. */
static void report_vms_and_finish(void)
{
    unsigned failed = 0;
    for (unsigned i = 0; i < vm_count; i++) {
        struct vm *vm = vms[i];
        uint64_t exits = 0, slices = 0, migrations = 0;
        for (unsigned j = 0; j < vm->vcpu_count; j++) {
            exits += vm->vcpus[j]->exits;
            slices += vm->vcpus[j]->se.slices;
            migrations += vm->vcpus[j]->migrations;
        }
        log_info("vm %s: status %d, %u vCPU%s, %lu exits, %lu slices, %lu migrations", vm->name, vm->status,
                 vm->vcpu_count, vm->vcpu_count > 1 ? "s" : "", exits, slices, migrations);
        exit_log_reasons(vm);
        failed += vm->status != 0;
    }
    vmx_print_cpu_summary();
    sched_print_summary();
    status_line("all VMs stopped: %u with status 0, %u with another status", vm_count - failed, failed);
    if (!boot_options.vms_done_poweroff && !machine_poweroff_requested) {
        status_line("staying up (vms_done=poweroff would power off now)");
        for (;;)
            __asm__ volatile("sti; hlt; cli");
    }
    vmx_disable_all();
    machine_stop(failed ? MHV_STATUS_VM_FAILED : MHV_STATUS_OK);
}

void kernel_main(uint32_t magic, uint64_t info_phys); /* from boot/ (the multiboot2 entry) */
void kernel_main(uint32_t magic, uint64_t info_phys)
{
    percpu_init_boot_cpu(cpu_apic_id_from_cpuid());
    gdt_init_cpu(&this_cpu()->descriptors);
    idt_init();
    status_line("mhv %s, a microhypervisor for Intel VT-x", MHV_VERSION);

    int parsed = -1;
    if (magic == MB2_BOOTLOADER_MAGIC)
        parsed = mb2_parse(phys_to_virt(info_phys), info_phys, (uintptr_t)__kernel_start,
                           (uintptr_t)__kernel_end, &boot_info);
    if (parsed == 0)
        options_parse(boot_info.cmdline);
    start_console();
    if (parsed < 0)
        fatal("multiboot2 information at 0x%lx is malformed (see above); refusing to trust it", info_phys);

    print_boot_info(&boot_info);
    memory_init(&boot_info);
    paging_init(memory_top());
    /* Right after the protections are in force, and before anything needs VMX, so every
     * emulator can exercise the fault reports. */
    if (boot_options.selftest[0] && strncmp(boot_options.selftest, "vmentry-", 8))
        selftest_run(boot_options.selftest); /* the vmentry-* ones act on the first VM (vm/boot.c) */

    struct cpu_identity id;
    cpu_identify(&id);
    status_line("cpu: %s family 0x%x model 0x%x stepping %u \"%s\"", id.vendor, id.family, id.model,
                id.stepping, id.brand);
    if (acpi_host_init(&boot_info, boot_options.acpidump) < 0)
        log_warn("acpi: no usable tables; running on the boot CPU alone");

    i8259_disable();
    tsc_init();
    cmos_rtc_init(); /* the wall-clock time VMs' clocks start from */
    lapic_init(host_acpi.has_madt ? host_acpi.lapic_address : 0);
    xcall_init();
    smp_boot(&host_acpi, &boot_info, boot_options.maxcpus);

    sched_init(cpu_count); /* a run queue per CPU, before the vCPUs that join them */
    vmx_preflight();
    vmx_enable_all();
    vm_lifecycle_init();

    if (!vm_boot_from_modules(&boot_info)) {
        status_line("no VMs configured; shutting down");
        vmx_disable_all();
        machine_stop(MHV_STATUS_OK);
    }
    vm_start_all();
    sched_loop();
    report_vms_and_finish();
}
