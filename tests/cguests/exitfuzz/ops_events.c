/* SPDX-License-Identifier: BSD-2-Clause */
/* Events around exits (fuzz.h): single steps over instructions mhv performs, HLT woken by
 * each kind of interrupt, interrupt windows with the STI and MOV SS shadows, PAUSE loops.
 * What must happen: a single-step trap after an emulated instruction as after any other,
 * with DR6.BS (SDM Vol. 3B 18.3.1.4); no interrupt inside an STI or MOV SS shadow, one right
 * after (Vol. 3A 7.8.3); every HLT ends (Vol. 2A HLT). */
#include "fuzz.h"

#define RFLAGS_TF (1ull << 8)
#define DR6_BS (1ull << 14)
#define VEC_WAKE 0xf0
#define VEC_WINDOW 0xfe

/* TF set by POPF traps after the instruction following the POPF (SDM Vol. 3B 18.3.1.4):
 * the one between 771 and 772. The trap reports RIP 772, the fixup records #DB; the handler
 * returns there with TF still set, so the next instruction traps too, as a stray #DB (the
 * driver's handler clears TF), and the POPF after it clears it for good. */
#define STEP_OVER(insn, ...)                                                                       \
    FZ_TRY_RAW("pushfq\n\torq $0x100, (%%rsp)\n\tpopfq\n\t771: " insn "\n772:\n\t"                  \
               "pushfq\n\tandq $~0x100, (%%rsp)\n\tpopfq\n\t" FZ_FIXUP_ENTRY, __VA_ARGS__)

void op_single_step(struct fuzz_op *op)
{
    uint64_t a = 0, b = 0, c = 0, d = 0;
    unsigned which = (unsigned)fz_below(op, 11);
    fz_note(op, "single step", which, 0, 0);
    write_dr6(0xffff0ff0);
    int r;
    switch (which) {
    case 0: r = STEP_OVER("cpuid", : "+a"(a), "+b"(b), "+c"(c), "+d"(d) : : "memory", "cc"); break;
    case 1: c = MSR_EFER; r = STEP_OVER("rdmsr", : "+a"(a), "+c"(c), "+d"(d) : : "memory", "cc"); break;
    case 2: r = STEP_OVER("inb $0x61, %%al", : "+a"(a) : : "memory", "cc"); break;
    case 3: r = STEP_OVER("outb %%al, $0x80", : "+a"(a) : : "memory", "cc"); break;
    case 4: a = MHV_HC_NOP; r = STEP_OVER("vmcall", : "+a"(a), "+b"(b), "+c"(c), "+d"(d) : : "memory", "cc"); break;
    case 5: r = STEP_OVER("wbinvd", : : : "memory", "cc"); break;
    case 6: b = 0xfebf0000; r = STEP_OVER("movl (%%rbx), %%eax", : "+a"(a), "+b"(b) : : "memory", "cc"); break;
    case 7: b = 0xfebf0018; r = STEP_OVER("movl %%eax, (%%rbx)", : "+a"(a), "+b"(b) : : "memory", "cc"); break;
    case 8: { /* a port string instruction, one element */
        static uint8_t bytes[RT_MAX_CPUS][4];
        uint64_t di = (uint64_t)(uintptr_t)bytes[op->cpu];
        d = 0x61;
        r = STEP_OVER("insb", : "+D"(di), "+d"(d) : : "memory", "cc");
        break;
    }
    case 9: { /* XSETBV of what XCR0 holds */
        if (!(read_cr4() & CR4_OSXSAVE) || !fz_features.xsave)
            return;
        a = xgetbv(0);
        d = a >> 32;
        a = (uint32_t)a;
        r = STEP_OVER("xsetbv", : "+a"(a), "+c"(c), "+d"(d) : : "memory", "cc");
        break;
    }
    default: r = STEP_OVER("nop", : : : "memory", "cc"); break; /* no exit: the baseline */
    }
    static const char *const traps[] = {
        "a single-step trap after CPUID", "a single-step trap after RDMSR", "a single-step trap after IN",
        "a single-step trap after OUT", "a single-step trap after VMCALL", "a single-step trap after WBINVD",
        "a single-step trap after an MMIO load", "a single-step trap after an MMIO store", "a single-step trap after INSB",
        "a single-step trap after XSETBV", "a single-step trap after NOP (no exit)",
    };
    static const char *const bs[] = {
        "DR6.BS after a single step over CPUID", "DR6.BS after a single step over RDMSR", "DR6.BS after a single step over IN",
        "DR6.BS after a single step over OUT", "DR6.BS after a single step over VMCALL", "DR6.BS after a single step over WBINVD",
        "DR6.BS after a single step over an MMIO load", "DR6.BS after a single step over an MMIO store",
        "DR6.BS after a single step over INSB", "DR6.BS after a single step over XSETBV", "DR6.BS after a single step over NOP",
    };
    uint64_t dr6 = read_dr6();
    fz_expect(op, r, VEC_DB, traps[which]);
    if (r == VEC_DB)
        fz_expect_value(op, (dr6 & DR6_BS) != 0, 1, bs[which]);
    write_dr6(0xffff0ff0);
}

static volatile uint64_t woken[RT_MAX_CPUS];
static void on_wake(struct rt_frame *f)
{
    (void)f;
    woken[smp_id()]++;
}

void op_hlt(struct fuzz_op *op)
{
    irq_set_handler(VEC_WAKE, on_wake);
    fz_apic_sane();
    unsigned how = (unsigned)fz_below(op, 4);
    uint64_t us = fz_range(op, 1, 300);
    fz_note(op, "hlt", how, us, 0);
    switch (how) {
    case 0: hc_timer(us, VEC_WAKE); break;
    case 1: apic_send_ipi(smp_id(), ICR_FIXED | ICR_LEVEL_ASSERT | VEC_WAKE); break; /* already pending */
    case 2: apic_timer_oneshot(VEC_WAKE, (uint32_t)us_to_tsc(us)); break;
    default:
        if (apic_timer_deadline(VEC_WAKE, rdtsc() + us_to_tsc(us)) < 0)
            hc_timer(us, VEC_WAKE);
        break;
    }
    uint64_t before = woken[op->cpu];
    /* STI's shadow covers HLT: the wake-up cannot slip in between. A timer may have fired
     * before it: HLT then ends at once. */
    irq_enable_and_halt();
    irq_disable();
    if (how == 1)
        fz_expect_value(op, woken[op->cpu] - before >= 1, 1, "HLT with an interrupt pending ends with it");
}

void op_interrupt_window(struct fuzz_op *op)
{
    irq_set_handler(VEC_WINDOW, on_wake);
    fz_apic_sane();
    unsigned how = (unsigned)fz_below(op, 3);
    fz_note(op, "interrupt window", how, 0, 0);
    apic_send_ipi(smp_id(), ICR_FIXED | ICR_LEVEL_ASSERT | VEC_WINDOW); /* pending, IF=0 */
    uint64_t before = this_cpu()->interrupts;
    uint16_t ss;
    switch (how) {
    case 0:
        /* STI; CLI: the CLI runs in STI's shadow, nothing in between (SDM Vol. 2B STI). */
        __asm__ volatile("sti\n\tcli" ::: "memory");
        fz_expect_value(op, this_cpu()->interrupts - before, 0, "no interrupt inside STI's shadow");
        break;
    case 1:
        /* STI; MOV SS; CLI: STI's shadow covers MOV SS, whose own shadow covers the CLI. */
        __asm__ volatile("movw %%ss, %0\n\tsti\n\tmovw %0, %%ss\n\tcli" : "=&r"(ss) : : "memory");
        fz_expect_value(op, this_cpu()->interrupts - before, 0, "no interrupt inside STI's and MOV SS's shadows");
        break;
    default:
        break;
    }
    __asm__ volatile("sti\n\tnop\n\tnop\n\tcli" ::: "memory");
    fz_expect_value(op, this_cpu()->interrupts - before >= 1, 1, "a pending interrupt arrives once the shadow is over");
}

void op_pause_loop(struct fuzz_op *op)
{
    uint64_t n = fz_range(op, 50, 1000);
    fz_note(op, "pause loop", n, 0, 0);
    for (uint64_t i = 0; i < n; i++)
        cpu_relax();
}
