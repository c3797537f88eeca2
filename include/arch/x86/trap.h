/* SPDX-License-Identifier: BSD-2-Clause */
/* Interrupt and exception entry: the saved frame and handler registration. */
#ifndef MHV_ARCH_X86_TRAP_H
#define MHV_ARCH_X86_TRAP_H

#include <stdint.h>

/* Layout written by arch/x86/isr.asm; the last five fields are pushed by the CPU. */
struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss;
};

typedef void (*trap_handler_fn)(struct trap_frame *frame);

void idt_init(void);
uint64_t idt_base(void); /* for the VMCS host-state area */
/* Loads the IDT on the calling CPU (the boot CPU in idt_init, every AP later). */
void idt_load(void);
/* Routes vector (32..255) to handler; exceptions (0..31) always go to the fatal dump. */
void trap_set_handler(uint8_t vector, trap_handler_fn handler);

/* Called by isr.asm. */
void trap_dispatch(struct trap_frame *frame);

/* Prints vector, error code, all registers, CR0/2/3/4 and a stack trace, then stops. */
__attribute__((noreturn)) void exception_fatal(const struct trap_frame *frame);

#endif
