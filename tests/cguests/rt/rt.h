/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The runtime for C test guests (tests/cguests/rt/; README "Tests"). A guest is one C file,
 * tests/cguests/<name>.c, built into $(BUILD)/cguests/<name>.bin:
 *
 *     #include "rt.h"
 *     MHV_GUEST(.name = "example", .vcpus = 2);
 *     void guest_main(void)
 *     {
 *         check(rdmsr(MSR_EFER) & EFER_LMA, "long mode");
 *         check_eq(try_wrmsr(0x12345678, 0), VEC_GP, "an unknown MSR raises #GP");
 *     }                                     // exits with the number of failed checks
 *
 * guest_main() runs on vCPU 0 in long mode at CPL 0 with interrupts off, on the runtime's GDT,
 * IDT, TSS and identity-mapped page tables. What each part offers is in its header:
 *
 *   header.h       MHV_GUEST(): the image header (v2) and the runtime's parameter block
 *   guest.ld       the flat link at 0x100000, header first
 *   entry.asm      vCPU 0's entry: .bss cleared, own stack; start.c: the rest of start-up
 *   percpu.h       struct rt_cpu and this_cpu() (from the stack pointer)
 *   desc.h         GDT, TSSs (desc.c) and page tables (paging.c)
 *   trap.h         IDT, exception reports, interrupt handlers (trap.c, isr.asm)
 *   fault.h        try_* and TRY_ASM, try_call, try_user (fault.c, trap.c, isr.asm)
 *   console.h      printf, serial output; check.h: ok/not ok, exit
 *   cpu.h          port I/O, MSRs, CPUID, CR/DR/XCR, TSC, XSAVE
 *   hypercall.h    mhv's hypercalls
 *   apic.h         the local APIC, xAPIC and x2APIC
 *   smp.h          starting the other vCPUs (smp.c, trampoline.asm); lock.h: spinlock, barrier
 *   time.h         TSC clock and delays; prng.h: the seeded PRNG; params.h: seed and arguments
 */
#ifndef RT_H
#define RT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/format.h" /* ksnprintf, kvsnprintf */
#include "lib/string.h"
#include "apic.h"
#include "check.h"
#include "console.h"
#include "cpu.h"
#include "desc.h"
#include "fault.h"
#include "header.h"
#include "hypercall.h"
#include "lock.h"
#include "params.h"
#include "percpu.h"
#include "prng.h"
#include "smp.h"
#include "time.h"
#include "trap.h"

void guest_main(void); /* the guest's code, on vCPU 0 */

#endif
