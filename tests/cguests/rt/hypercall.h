/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mhv's hypercalls (README "Hypercalls", include/vm/abi.h): VMCALL with the number in RAX and
 * arguments in RBX, RCX, RDX; the result in RAX, negative for an error (MHV_E*).
 */
#ifndef RT_HYPERCALL_H
#define RT_HYPERCALL_H

#include <stddef.h>
#include <stdint.h>

#include "vm/abi.h"

struct hc_regs {
    uint64_t rax, rbx, rcx, rdx;
};

/* Any number and arguments; every register VMCALL may change comes back. */
static inline struct hc_regs hypercall_raw(struct hc_regs in)
{
    __asm__ volatile("vmcall" : "+a"(in.rax), "+b"(in.rbx), "+c"(in.rcx), "+d"(in.rdx) : : "memory");
    return in;
}

static inline int64_t hypercall(uint64_t nr, uint64_t a, uint64_t b, uint64_t c)
{
    return (int64_t)hypercall_raw((struct hc_regs){ nr, a, b, c }).rax;
}

static inline int64_t hc_version(uint64_t *abi, uint64_t *signature)
{
    struct hc_regs r = hypercall_raw((struct hc_regs){ MHV_HC_VERSION, 0, 0, 0 });
    *abi = r.rbx;
    *signature = r.rcx;
    return (int64_t)r.rax;
}

static inline int64_t hc_console_write(const void *buf, size_t len)
{
    return hypercall(MHV_HC_CONSOLE_WRITE, (uint64_t)(uintptr_t)buf, len, 0);
}

static inline int64_t hc_stop(unsigned status) { return hypercall(MHV_HC_STOP, status, 0, 0); }
static inline int64_t hc_nop(void) { return hypercall(MHV_HC_NOP, 0, 0, 0); }
/* vector 32-255, or 2 for an NMI: delivered to the calling vCPU when it can take it. */
static inline int64_t hc_inject(unsigned vector) { return hypercall(MHV_HC_INJECT, vector, 0, 0); }
/* A one-shot interrupt on vector for the calling vCPU after us microseconds (0 cancels). */
static inline int64_t hc_timer(uint64_t us, unsigned vector) { return hypercall(MHV_HC_TIMER, us, vector, 0); }
static inline int64_t hc_send_ipi(unsigned vector, unsigned vcpu) { return hypercall(MHV_HC_SEND_IPI, vector, vcpu, 0); }

#endif
