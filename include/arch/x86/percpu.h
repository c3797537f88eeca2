/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Per-CPU state: one page-aligned struct percpu per CPU, reached through GS (its first field
 * points to itself, so this_cpu() is one GS-relative load). The boot CPU's is static, the
 * others come from the page allocator when SMP bring-up starts them.
 */
#ifndef MHV_ARCH_X86_PERCPU_H
#define MHV_ARCH_X86_PERCPU_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/gdt.h"
#include "arch/x86/spinlock.h"

#define CPU_STACK_SIZE 16384

struct vmx_cpu; /* vmx/vmx_cpu.h */

/* A cross-CPU call waiting for this CPU (arch/x86/xcall.c). Callers serialize on `lock`. */
struct xcall_slot {
    struct spinlock lock;
    void (*fn)(void *arg);
    void *arg;
    volatile uint32_t pending;  /* sequence number of the call to take, 0 when none */
    volatile uint32_t finished; /* sequence number of the last call that returned */
    uint32_t sequence;
};

struct percpu {
    struct percpu *self;     /* must stay first: this_cpu() reads %gs:0 */
    unsigned index;          /* 0 = boot CPU; dense, in MADT order */
    uint32_t apic_id;
    uint32_t acpi_uid;
    volatile bool online;    /* set by the CPU itself once it runs mhv code */
    uint64_t stack_top;

    struct vmx_cpu *vmx;     /* VMX on this CPU: vmx/'s (include/vmx/vmx_cpu.h); NULL before it */
    volatile bool need_resched; /* set by an IPI or timer: the scheduler picks again soon (its
                                 * run queues are sched/'s, struct sched_queue) */

    struct xcall_slot xcall;

    /* Counters for the shell and the test summaries. */
    uint64_t interrupts;
    uint64_t xcalls_handled;

    struct cpu_descriptors descriptors; /* GDT, TSS, IST stacks */
};

/* By index (not APIC ID: those may be any 32-bit value); NULL where no CPU. As many entries as
 * the MADT lists enabled processors (percpu_reserve), one before that. */
extern struct percpu **cpus;
extern unsigned cpu_capacity;         /* entries in cpus[] */
extern unsigned cpu_count;            /* CPUs with a struct percpu (online or trying) */

static inline struct percpu *this_cpu(void)
{
    struct percpu *p;
    __asm__ volatile("movq %%gs:0, %0" : "=r"(p));
    return p;
}

static inline struct percpu *per_cpu(unsigned index)
{
    return index < cpu_capacity ? cpus[index] : (struct percpu *)0;
}

/* Makes p the calling CPU's per-CPU area (writes IA32_GS_BASE). */
void percpu_install(struct percpu *p);

/* The boot CPU's area, installed first thing in kernel_main. */
void percpu_init_boot_cpu(uint32_t apic_id);

/* The unmapped page below the calling CPU's stack (0 if unknown). */
uint64_t percpu_stack_guard(void);

/* Makes room in cpus[] for `count` CPUs (the MADT's), the boot CPU's entry kept. 0, or -1 when
 * the heap has no room (cpus[] stays as it was). */
int percpu_reserve(unsigned count);

/* Allocates and fills the area of a CPU about to start (stack with a guard page below). */
struct percpu *percpu_create(unsigned index, uint32_t apic_id, uint32_t acpi_uid);

#endif
