/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Per-vCPU data. Each vCPU runs on its own RT_STACK_SIZE-aligned stack whose lowest word points
 * at its struct rt_cpu, so this_cpu() needs no register a guest might be testing (GS base,
 * TSC_AUX, the APIC ID): it masks RSP. Interrupt and exception handlers run on the same stack
 * (or on an IST stack laid out the same way), so they find it too.
 */
#ifndef RT_PERCPU_H
#define RT_PERCPU_H

#include <stdbool.h>
#include <stdint.h>

#define RT_MAX_CPUS 8
#define RT_STACK_SIZE 16384

struct rt_try;

struct rt_cpu {
    unsigned id;                 /* vCPU number, also its local APIC ID */
    volatile bool online;        /* set by the vCPU itself once it runs C code */
    volatile bool done;          /* its smp_start() function returned */
    bool x2apic;                 /* its local APIC is in x2APIC mode (apic.c) */
    /* The last expected fault (fault.h): vector or -1, with its error code and CR2. */
    volatile int fault_vector;
    uint64_t fault_error;
    uint64_t fault_cr2;
    struct rt_try *try_ctx;      /* innermost try_call() in progress, or NULL */
    void (*fn)(unsigned cpu, void *arg); /* what smp_start() gave it */
    void *arg;
    uint64_t interrupts;         /* interrupts taken (vectors 32-255) */
    uint32_t interrupts_by_vector[256];
    /* The last two of them, for reports: [interrupts % 2] is the newest. */
    struct { uint64_t vector, rip, rflags; } recent_interrupts[2];
};

struct rt_stack {
    struct rt_cpu *owner;
    uint64_t canary;             /* RT_STACK_CANARY unless the stack overflowed */
    uint8_t bytes[RT_STACK_SIZE - 16];
} __attribute__((aligned(RT_STACK_SIZE)));

#define RT_STACK_CANARY 0x6b63617473747221ull

extern struct rt_cpu rt_cpus[RT_MAX_CPUS];
extern struct rt_stack rt_stacks[RT_MAX_CPUS];     /* each vCPU's own */
extern struct rt_stack rt_ist_stacks[RT_MAX_CPUS]; /* #DF and #MC, through IST1 */

static inline struct rt_cpu *this_cpu(void)
{
    uintptr_t sp;
    __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
    return ((struct rt_stack *)(sp & ~(uintptr_t)(RT_STACK_SIZE - 1)))->owner;
}

static inline void *rt_stack_top(struct rt_stack *s)
{
    return (uint8_t *)s + RT_STACK_SIZE;
}

#endif
