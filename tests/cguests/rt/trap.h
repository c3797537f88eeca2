/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Interrupts and exceptions. Every vector has a stub (isr.asm) that saves the general
 * registers in a struct rt_frame and calls rt_trap(). Exceptions go first to the expected-fault
 * mechanisms (fault.h), then to a handler registered for that vector, else they are reported
 * (vector, error code, RIP, CR2, registers) and the VM exits with RT_STATUS_CRASH. Vectors
 * 32-255 go to the handler registered with irq_set_handler(); the runtime sends the local APIC
 * its EOI after the handler returns (not for the spurious vector 0xff). An interrupt without a
 * handler is a failed check ("not ok - unexpected interrupt ...") and is acknowledged.
 */
#ifndef RT_TRAP_H
#define RT_TRAP_H

#include <stdint.h>

struct rt_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss; /* what the CPU pushed */
};

enum {
    VEC_DE = 0, VEC_DB = 1, VEC_NMI = 2, VEC_BP = 3, VEC_OF = 4, VEC_BR = 5, VEC_UD = 6, VEC_NM = 7,
    VEC_DF = 8, VEC_TS = 10, VEC_NP = 11, VEC_SS = 12, VEC_GP = 13, VEC_PF = 14, VEC_MF = 16,
    VEC_AC = 17, VEC_MC = 18, VEC_XM = 19, VEC_VE = 20, VEC_CP = 21,
};

/* Vectors the runtime uses itself. */
#define RT_VEC_USER_RETURN 0xfd /* INT from CPL 3: try_user()'s function returned */
#define RT_VEC_SPURIOUS 0xff    /* the local APIC's spurious vector (apic.c) */

typedef void (*rt_irq_handler)(struct rt_frame *frame);

/* Registers h for vector (any 0-255; for exceptions it runs when no expected fault claims it).
 * NULL removes it. Handlers run with interrupts off, on the interrupted vCPU's stack. */
void irq_set_handler(unsigned vector, rt_irq_handler h);
const char *exception_name(unsigned vector);

void rt_trap(struct rt_frame *frame); /* from isr.asm */
void rt_idt_init(void);
void rt_idt_load(void);

#endif
