/* SPDX-License-Identifier: BSD-2-Clause */
/* The fatal exception dump: an exception in mhv itself is always a bug in mhv. */
#include "arch/x86/cpu.h"
#include "arch/x86/percpu.h"
#include "arch/x86/stacktrace.h"
#include "arch/x86/trap.h"
#include "kernel/console.h"
#include "kernel/log.h"
#include "kernel/panic.h"

/* SDM Vol. 3A table 7-1 "Protected-Mode Exceptions and Interrupts". */
static const char *const exception_names[32] = {
    [0] = "#DE divide error",        [1] = "#DB debug",
    [2] = "NMI",                     [3] = "#BP breakpoint",
    [4] = "#OF overflow",            [5] = "#BR bound range exceeded",
    [6] = "#UD invalid opcode",      [7] = "#NM device not available",
    [8] = "#DF double fault",        [9] = "coprocessor segment overrun",
    [10] = "#TS invalid TSS",        [11] = "#NP segment not present",
    [12] = "#SS stack-segment fault", [13] = "#GP general protection",
    [14] = "#PF page fault",         [16] = "#MF x87 floating-point error",
    [17] = "#AC alignment check",    [18] = "#MC machine check",
    [19] = "#XM SIMD floating-point", [20] = "#VE virtualization exception",
    [21] = "#CP control protection", [28] = "#HV hypervisor injection",
    [29] = "#VC VMM communication",  [30] = "#SX security exception",
};

static void describe_page_fault(uint64_t err)
{
    /* SDM Vol. 3A 5.7 figure 5-12: error code bits of a page fault. */
    log_err("page fault: %s, %s access, %s mode%s%s at CR2=0x%016lx",
            err & 1 ? "protection violation" : "page not present",
            err & 16 ? "instruction fetch" : err & 2 ? "write" : "read",
            err & 4 ? "user" : "supervisor",
            err & 8 ? ", reserved bit set" : "",
            err & 32 ? ", protection key" : "", read_cr2());
}

/* A #PF on a guard page, or the #DF it turns into, is a stack overflow: say so first. Every
 * CPU's stack has an unmapped page right below it (the boot CPU's is in boot/entry.asm). */
static void explain_stack_overflow(const struct trap_frame *f)
{
    uint64_t cr2 = read_cr2(), guard = percpu_stack_guard();
    if ((f->vector == 8 || f->vector == 14) && guard && cr2 >= guard && cr2 < guard + 4096)
        log_err("stack overflow: CR2=0x%016lx is in the guard page below cpu%u's stack", cr2, log_cpu_index());
}

static volatile int dumping; /* a fault inside the dump must not recurse forever */

void exception_fatal(const struct trap_frame *f)
{
    log_emergency = true;
    console_emergency = true;
    if (dumping++) {
        status_line("panic: exception %lu while reporting an exception", f->vector);
        machine_stop(MHV_STATUS_PANIC);
    }
    const char *name = exception_names[f->vector & 31];
    status_line("panic: exception %lu (%s) at rip 0x%016lx, error code 0x%lx", f->vector,
                name ? name : "reserved", f->rip, f->error_code);
    if (f->vector == 14)
        describe_page_fault(f->error_code);
    explain_stack_overflow(f);
    log_err("RIP=%016lx CS=%04lx RFLAGS=%016lx RSP=%016lx SS=%04lx", f->rip, f->cs, f->rflags,
            f->rsp, f->ss);
    log_err("RAX=%016lx RBX=%016lx RCX=%016lx RDX=%016lx", f->rax, f->rbx, f->rcx, f->rdx);
    log_err("RSI=%016lx RDI=%016lx RBP=%016lx", f->rsi, f->rdi, f->rbp);
    log_err("R8 =%016lx R9 =%016lx R10=%016lx R11=%016lx", f->r8, f->r9, f->r10, f->r11);
    log_err("R12=%016lx R13=%016lx R14=%016lx R15=%016lx", f->r12, f->r13, f->r14, f->r15);
    log_err("CR0=%016lx CR2=%016lx CR3=%016lx CR4=%016lx", read_cr0(), read_cr2(), read_cr3(),
            read_cr4());
    stacktrace_print(f->rip, f->rbp);
    machine_stop(MHV_STATUS_PANIC);
}
