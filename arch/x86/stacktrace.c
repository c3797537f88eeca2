/* SPDX-License-Identifier: BSD-2-Clause */
/* Frame-pointer stack walk. Each frame is [rbp] = caller's rbp, [rbp+8] = return address
 * (System V AMD64 ABI with -fno-omit-frame-pointer). The chain ends at rbp = 0 (boot/entry.asm
 * clears it). A corrupt chain must not fault the walker: every rbp is checked first. */
#include "arch/x86/stacktrace.h"

#include <stdbool.h>

#include "kernel/ksyms.h"
#include "kernel/log.h"

#define MAX_FRAMES 32

extern char __kernel_start[], __kernel_end[];

/* Stacks live in the kernel image (boot stack, IST stacks) or, later, in pages from the page
 * allocator, all below the top of identity-mapped RAM. */
extern uint64_t paging_mapped_top;

static bool plausible_frame(uint64_t rbp, uint64_t prev)
{
    uint64_t top = paging_mapped_top ? paging_mapped_top : (uint64_t)(uintptr_t)__kernel_end;
    return rbp >= 0x1000 && !(rbp & 7) && rbp + 16 <= top && rbp > prev;
}

static void print_frame(int n, uint64_t addr)
{
    uint64_t off;
    const char *name = ksym_lookup(addr, &off);
    if (name)
        log_err("  #%d 0x%016lx %s+0x%lx", n, addr, name, off);
    else
        log_err("  #%d 0x%016lx", n, addr);
}

void stacktrace_print(uint64_t rip, uint64_t rbp)
{
    log_err("stack trace:");
    print_frame(0, rip);
    uint64_t prev = 0;
    for (int n = 1; n < MAX_FRAMES && plausible_frame(rbp, prev); n++) {
        const uint64_t *frame = (const uint64_t *)(uintptr_t)rbp;
        if (!frame[1])
            break;
        /* frame[1] is a return address: the call instruction ends just before it. */
        print_frame(n, frame[1] - 1);
        prev = rbp;
        rbp = frame[0];
    }
}

void stacktrace_print_here(void)
{
    uint64_t rbp = (uint64_t)(uintptr_t)__builtin_frame_address(0);
    stacktrace_print((uint64_t)(uintptr_t)__builtin_return_address(0) - 1,
                     ((const uint64_t *)(uintptr_t)rbp)[0]);
}
