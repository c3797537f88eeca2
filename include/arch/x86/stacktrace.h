/* SPDX-License-Identifier: BSD-2-Clause */
/* Stack traces by walking the frame-pointer chain (the kernel builds with frame pointers). */
#ifndef MHV_ARCH_X86_STACKTRACE_H
#define MHV_ARCH_X86_STACKTRACE_H

#include <stdint.h>

/* Prints "  #n 0xADDR symbol+0xoff" lines starting at rip, then the callers found from rbp. */
void stacktrace_print(uint64_t rip, uint64_t rbp);
/* Stack trace of the caller. */
void stacktrace_print_here(void);

#endif
