/* SPDX-License-Identifier: BSD-2-Clause */
/* Between fault.c, trap.c and isr.asm: what a try_call() saves (isr.asm writes the first
 * seven fields at fixed offsets). */
#ifndef RT_FAULT_INTERNAL_H
#define RT_FAULT_INTERNAL_H

#include <stdint.h>

struct rt_try {
    uint64_t rbx, rbp, r12, r13, r14, r15, rsp; /* offsets 0-48: rt_try_enter */
    uint64_t rflags;
    struct rt_try *outer;
};

int rt_try_enter(void (*fn)(void *), void *arg, struct rt_try *ctx);
void rt_try_resume(void);
void rt_user_enter(void (*fn)(void *), void *arg, void *user_stack_top, uint64_t rflags);

#endif
