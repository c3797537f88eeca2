/* SPDX-License-Identifier: BSD-2-Clause */
/* try_call() and try_user() (fault.h); TRY_ASM needs no code here, only trap.c's table lookup. */
#include "fault.h"

#include "cpu.h"
#include "desc.h"
#include "fault_internal.h"

#define USER_STACK_SIZE 8192

static uint8_t user_stacks[RT_MAX_CPUS][USER_STACK_SIZE] __attribute__((aligned(16)));

int try_call(void (*fn)(void *arg), void *arg)
{
    struct rt_cpu *c = this_cpu();
    struct rt_try t = { .rflags = read_rflags(), .outer = c->try_ctx };
    c->fault_vector = -1;
    c->try_ctx = &t;
    int v = rt_try_enter(fn, arg, &t);
    c->try_ctx = t.outer;
    return v;
}

struct user_call {
    void (*fn)(void *);
    void *arg;
};

/* Inside rt_try_enter: the CPL 3 stack is this vCPU's own, and a fault or interrupt at CPL 3
 * lands on TSS.RSP0, which must lie below everything live on this stack. */
static void enter_user(void *p)
{
    struct user_call *u = p;
    struct rt_cpu *c = this_cpu();
    uintptr_t sp;
    __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
    rt_tss[c->id].rsp[0] = (sp - 256) & ~(uintptr_t)15;
    rt_user_enter(u->fn, u->arg, user_stacks[c->id] + USER_STACK_SIZE, read_rflags() & RFLAGS_IF ? 0x202 : 0x2);
}

int try_user(void (*fn)(void *arg), void *arg)
{
    struct user_call u = { fn, arg };
    struct rt_cpu *c = this_cpu();
    uint64_t rsp0 = rt_tss[c->id].rsp[0];
    int v = try_call(enter_user, &u);
    rt_tss[c->id].rsp[0] = rsp0;
    return v;
}
