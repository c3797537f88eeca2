/* SPDX-License-Identifier: BSD-2-Clause */
/* machine_stop(): the one way mhv ends. */
#include "arch/x86/cpu.h"
#include "arch/x86/io.h"
#include "arch/x86/lapic.h"
#include "arch/x86/percpu.h"
#include "kernel/console.h"
#include "kernel/log.h"
#include "kernel/panic.h"

/* QEMU's isa-debug-exit device (-device isa-debug-exit,iobase=0xf4,iosize=4): QEMU exits with
 * (value << 1) | 1. Bochs ends the simulation when "Shutdown" is written to port 0x8900. On
 * real machines nothing decodes either port and the writes are dropped. */
#define QEMU_DEBUG_EXIT_PORT 0xf4
#define BOCHS_SHUTDOWN_PORT 0x8900

volatile bool machine_stopping;

/* Halts every other CPU with an NMI (it gets through even with interrupts off); their NMI
 * handler sees machine_stopping and halts (arch/x86/idt.c). */
static void stop_other_cpus(void)
{
    machine_stopping = true;
    struct percpu *me = this_cpu();
    for (unsigned i = 0; i < cpu_count; i++)
        if (cpus[i] && cpus[i] != me && cpus[i]->online)
            lapic_send_ipi(cpus[i]->apic_id, ICR_NMI);
}

void machine_stop(enum mhv_status status)
{
    __asm__ volatile("cli");
    if (!machine_stopping)
        stop_other_cpus();
    console_emergency = true; /* the other CPUs are frozen: wait for nobody, lose nothing */
    status_line("stop: status %d", (int)status);
    console_flush(); /* an emulator exits at once: let the last line out first */
    outl(QEMU_DEBUG_EXIT_PORT, (uint32_t)status);
    for (const char *s = "Shutdown"; *s; s++)
        outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*s);
    /* Real hardware: ACPI power-off needs the FADT (SMP/ACPI work); until then, halt. */
    cpu_halt_forever();
}
