/* SPDX-License-Identifier: BSD-2-Clause */
/* The operation kinds and how often each is drawn (fuzz.h). The weights favour what exits
 * (ports, MSRs, CPUID, MMIO, the APIC) and keep the slow ones rare: measured in Bochs, in TSC
 * ticks (instructions) per operation, guest and mhv together, most cost 600-3000, CR writes
 * about 14000, IPIs 18000, string I/O 8000 on average, an INIT/SIPI restart far more. */
#include "fuzz.h"

const struct fz_kind fz_kinds[] = {
    { "cpuid", 80, op_cpuid, false },
    { "msr", 100, op_msr, false },
    { "tsc", 4, op_tsc_msr, false },
    { "cr", 35, op_cr, false },
    { "dr", 35, op_dr, false },
    { "xcr0", 15, op_xcr0, false },
    { "port", 170, op_port, false },
    { "port-string", 30, op_port_string, false },
    { "uart-loopback", 3, op_uart_loopback, false },
    { "mmio-testdev", 50, op_mmio_testdev, false },
    { "mmio-ioapic", 25, op_mmio_ioapic, false },
    { "mmio-lapic", 45, op_mmio_lapic, false },
    { "x2apic-msr", 40, op_x2apic_msr, false },
    { "apic-mode", 4, op_apic_mode, false },
    { "apic-timer", 12, op_apic_timer, false },
    { "ipi", 25, op_ipi, false },
    { "init-sipi", 2, op_init_sipi, false },
    { "hypercall", 50, op_hypercall, false },
    { "fault", 40, op_fault, false },
    { "privileged", 40, op_privileged, false },
    { "far-transfer", 10, op_far_transfer, false },
    { "single-step", 20, op_single_step, false },
    { "hlt", 5, op_hlt, false },
    { "interrupt-window", 10, op_interrupt_window, false },
    { "pause-loop", 3, op_pause_loop, false },
    { "destructive", 1, op_destructive, true },
};
const unsigned fz_kind_count = sizeof(fz_kinds) / sizeof(fz_kinds[0]);
