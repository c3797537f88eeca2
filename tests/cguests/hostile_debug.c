/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Hostile guest: single steps and debug registers around the instructions mhv performs for
 * the guest (SDM Vol. 3B chapter 18). mhv retires CPUID, RDMSR, IN/OUT, INS/OUTS, VMCALL,
 * XSETBV, WBINVD, MMIO accesses and HLT itself, so whatever the CPU would have reported for
 * them it has to report: a single-step trap after each, with DR6.BS (18.3.1.4), also after a
 * HLT that an interrupt ended, before that interrupt (Vol. 3A 7.9: traps on the previous
 * instruction come before interrupts); one trap only after MOV SS and the instruction in its
 * shadow (18.3.1.4, Vol. 3A 7.8.3); a data breakpoint on the memory an emulated INS, OUTS or
 * MMIO access touches, an I/O breakpoint on an emulated port (18.2.4, 18.3.1.2); and RF
 * cleared once an emulated instruction is done, so an instruction breakpoint on the next one
 * fires (18.3.1.1). Each case records every #DB (its RIP, DR6) and checks the list.
 */
#include "rt.h"

MHV_GUEST(.name = "hostile_debug", .memory_mib = 8);

#define TF (1ull << 8)
#define RF (1ull << 16)
#define DR6_BS (1ull << 14)
#define DR6_B(n) (1ull << (n))
#define VEC_TIMER 0x40
#define MAX_EVENTS 8

struct db_event {
    uint64_t rip, dr6;
    unsigned seq;
};
static struct db_event events[MAX_EVENTS];
static volatile unsigned n_events, seq, irq_seq;
static volatile bool set_rf; /* return from #DB with RF: for instruction breakpoints (faults) */

static void on_db(struct rt_frame *f)
{
    uint64_t dr6 = read_dr6();
    if (n_events < MAX_EVENTS)
        events[n_events] = (struct db_event){ f->rip, dr6, ++seq };
    n_events++;
    write_dr6(0xffff0ff0);
    f->rflags &= ~TF; /* one single step per case */
    if (set_rf)
        f->rflags |= RF;
}

static void on_timer(struct rt_frame *f)
{
    (void)f;
    irq_seq = ++seq;
}

static void reset_events(void)
{
    n_events = 0;
    irq_seq = 0;
    set_rf = false;
    write_dr6(0xffff0ff0);
}

/* "popfq with TF" then the instruction under test between labels 1 and 2: the single-step
 * trap after it reports RIP = 2. */
#define TF_ON "pushfq\n\torq $0x100, (%%rsp)\n\tpopfq\n\t"

/* The #DB seen, on a line of its own (the check's name stays short). */
static void explain(bool ok, uint64_t expected_rip)
{
    if (!ok)
        printf("#   %u #DB; the first at 0x%lx with DR6 0x%lx; expected at 0x%lx\n", n_events,
               n_events ? events[0].rip : 0, n_events ? events[0].dr6 : 0, expected_rip);
}

static void expect_one_step(const char *what, uint64_t after)
{
    bool ok = n_events == 1 && events[0].rip == after && (events[0].dr6 & DR6_BS);
    check(ok, "a single step over %s: one #DB after it, with DR6.BS", what);
    explain(ok, after);
}

static void single_steps(void)
{
    uint64_t after, a = 0, b = 0, c = 0, d = 0;
    static uint8_t byte;

    reset_events();
    __asm__ volatile(TF_ON "cpuid\n2:\n\tleaq 2b(%%rip), %0" : "=r"(after), "+a"(a), "+b"(b), "+c"(c), "+d"(d) : : "memory");
    expect_one_step("CPUID", after);

    reset_events();
    c = MSR_EFER;
    __asm__ volatile(TF_ON "rdmsr\n2:\n\tleaq 2b(%%rip), %0" : "=r"(after), "+a"(a), "+c"(c), "+d"(d) : : "memory");
    expect_one_step("RDMSR", after);

    reset_events();
    __asm__ volatile(TF_ON "inb $0x61, %%al\n2:\n\tleaq 2b(%%rip), %0" : "=r"(after), "+a"(a) : : "memory");
    expect_one_step("IN", after);

    reset_events();
    __asm__ volatile(TF_ON "outb %%al, $0x80\n2:\n\tleaq 2b(%%rip), %0" : "=r"(after), "+a"(a) : : "memory");
    expect_one_step("OUT", after);

    reset_events();
    uint64_t di = (uint64_t)(uintptr_t)&byte;
    d = 0x61;
    __asm__ volatile(TF_ON "insb\n2:\n\tleaq 2b(%%rip), %0" : "=r"(after), "+D"(di), "+d"(d) : : "memory");
    expect_one_step("INSB", after);

    reset_events();
    a = MHV_HC_NOP;
    __asm__ volatile(TF_ON "vmcall\n2:\n\tleaq 2b(%%rip), %0" : "=r"(after), "+a"(a), "+b"(b), "+c"(c), "+d"(d) : : "memory");
    expect_one_step("VMCALL", after);

    reset_events();
    __asm__ volatile(TF_ON "wbinvd\n2:\n\tleaq 2b(%%rip), %0" : "=r"(after) : : "memory");
    expect_one_step("WBINVD", after);

    reset_events();
    b = 0xfebf0000;
    __asm__ volatile(TF_ON "movl (%%rbx), %%eax\n2:\n\tleaq 2b(%%rip), %0" : "=r"(after), "+a"(a), "+b"(b) : : "memory");
    expect_one_step("an MMIO load", after);

    if (cpuid(1, 0).ecx & (1u << 26)) {
        uint64_t cr4 = read_cr4();
        write_cr4(cr4 | CR4_OSXSAVE);
        uint64_t x = xgetbv(0);
        a = (uint32_t)x;
        d = x >> 32;
        c = 0;
        reset_events();
        __asm__ volatile(TF_ON "xsetbv\n2:\n\tleaq 2b(%%rip), %0" : "=r"(after), "+a"(a), "+c"(c), "+d"(d) : : "memory");
        expect_one_step("XSETBV", after);
        write_cr4(cr4);
    }

    reset_events();
    __asm__ volatile(TF_ON "nop\n2:\n\tleaq 2b(%%rip), %0" : "=r"(after) : : "memory");
    expect_one_step("NOP (no exit: the CPU's own behaviour)", after);
}

/* HLT ended by an interrupt with TF set: the single-step trap of the HLT first, then the
 * interrupt (traps on the previous instruction have priority over interrupts). */
static void single_step_hlt(void)
{
    uint64_t after;
    irq_set_handler(VEC_TIMER, on_timer);
    reset_events();
    hc_timer(300, VEC_TIMER);
    __asm__ volatile("pushfq\n\torq $0x300, (%%rsp)\n\tpopfq\n\t" /* TF and IF */
                     "hlt\n2:\n\tcli\n\tleaq 2b(%%rip), %0" : "=r"(after) : : "memory");
    bool stepped = n_events >= 1 && events[0].rip == after && (events[0].dr6 & DR6_BS);
    check(stepped, "a single step over HLT that an interrupt ended: a #DB after the HLT with DR6.BS");
    explain(stepped, after);
    check(irq_seq != 0, "the interrupt that ended the HLT was taken");
    check(stepped && irq_seq && events[0].seq < irq_seq, "the HLT's single-step trap came before the interrupt (SDM Vol. 3A 7.9)");
}

/* MOV SS: debug exceptions wait until after the next instruction, so one trap covers both. */
static void mov_ss_shadow(void)
{
    uint64_t after, a = 0, b = 0, c = 0, d = 0;
    reset_events();
    __asm__ volatile("movw %%ss, %%si\n\t" TF_ON "movw %%si, %%ss\n\tcpuid\n2:\n\tleaq 2b(%%rip), %0"
                     : "=r"(after), "+a"(a), "+b"(b), "+c"(c), "+d"(d) : : "rsi", "memory");
    expect_one_step("MOV SS and CPUID in its shadow", after);
    reset_events();
    __asm__ volatile("movw %%ss, %%si\n\t" TF_ON "movw %%si, %%ss\n\tinb $0x61, %%al\n2:\n\tleaq 2b(%%rip), %0"
                     : "=r"(after), "+a"(a) : : "rsi", "memory");
    expect_one_step("MOV SS and IN in its shadow", after);
    reset_events();
    __asm__ volatile("movw %%ss, %%si\n\t" TF_ON "movw %%si, %%ss\n\tnop\n2:\n\tleaq 2b(%%rip), %0"
                     : "=r"(after) : : "rsi", "memory");
    expect_one_step("MOV SS and NOP in its shadow (no exit: the CPU's own behaviour)", after);
}

static void set_breakpoint(unsigned n, uint64_t addr, unsigned rw, unsigned len)
{
    switch (n) {
    case 0: write_dr0(addr); break;
    case 1: write_dr1(addr); break;
    case 2: write_dr2(addr); break;
    default: write_dr3(addr); break;
    }
    uint64_t dr7 = read_dr7();
    dr7 &= ~((3ull << (2 * n)) | (0xfull << (16 + 4 * n)));
    dr7 |= (1ull << (2 * n)) | ((uint64_t)rw << (16 + 4 * n)) | ((uint64_t)len << (18 + 4 * n));
    write_dr7(dr7);
}

static void clear_breakpoints(void)
{
    write_dr7(0x400);
    write_dr6(0xffff0ff0);
}

static void expect_break(const char *what, unsigned n, uint64_t after)
{
    bool ok = n_events >= 1 && (events[0].dr6 & DR6_B(n)) && (after == 0 || events[0].rip == after);
    check(ok, "a breakpoint %s: #DB with DR6.B%u", what, n);
    explain(ok, after);
}

static uint8_t buffer[64] __attribute__((aligned(64)));

static void data_breakpoints(void)
{
    uint64_t after, di, si, cx, dx, a = 0, b;

    /* INSB writes the guest's memory on mhv's hands. */
    reset_events();
    set_breakpoint(0, (uint64_t)(uintptr_t)&buffer[3], 1 /* write */, 0 /* 1 byte */);
    di = (uint64_t)(uintptr_t)&buffer[3];
    dx = 0x61;
    __asm__ volatile("insb\n2:\n\tleaq 2b(%%rip), %0" : "=r"(after), "+D"(di), "+d"(dx) : : "memory");
    clear_breakpoints();
    expect_break("on the byte INSB writes (data write)", 0, after);

    /* REP INSB across the breakpoint: the trap after that element; the rest are done after. */
    reset_events();
    set_breakpoint(1, (uint64_t)(uintptr_t)&buffer[21], 1, 0);
    di = (uint64_t)(uintptr_t)&buffer[16];
    cx = 16;
    dx = 0x61;
    __asm__ volatile("rep insb" : "+D"(di), "+c"(cx), "+d"(dx) : : "memory");
    clear_breakpoints();
    expect_break("inside what REP INSB writes (data write)", 1, 0);
    check(cx == 0 && di == (uint64_t)(uintptr_t)&buffer[32], "REP INSB went on to its end after the #DB");

    /* OUTSB reads the guest's memory on mhv's hands. */
    reset_events();
    set_breakpoint(2, (uint64_t)(uintptr_t)&buffer[40], 3 /* read or write */, 3 /* 4 bytes */);
    si = (uint64_t)(uintptr_t)&buffer[41];
    dx = 0x80;
    __asm__ volatile("outsb\n2:\n\tleaq 2b(%%rip), %0" : "=r"(after), "+S"(si), "+d"(dx) : : "memory");
    clear_breakpoints();
    expect_break("on the bytes OUTSB reads (data read/write)", 2, after);

    /* An MMIO store and load, performed by mhv. */
    reset_events();
    set_breakpoint(3, 0xfebf0008, 1, 3);
    b = 0xfebf0008;
    __asm__ volatile("movl %%eax, (%%rbx)\n2:\n\tleaq 2b(%%rip), %0" : "=r"(after), "+a"(a), "+b"(b) : : "memory");
    clear_breakpoints();
    expect_break("on an MMIO store's address (data write)", 3, after);
    reset_events();
    set_breakpoint(0, 0xfebf0000, 3, 3);
    b = 0xfebf0000;
    __asm__ volatile("movl (%%rbx), %%eax\n2:\n\tleaq 2b(%%rip), %0" : "=r"(after), "+a"(a), "+b"(b) : : "memory");
    clear_breakpoints();
    expect_break("on an MMIO load's address (data read/write)", 0, after);
}

/* I/O breakpoints (CR4.DE, R/W 10): on ports, which every IN and OUT hands to mhv. */
static void io_breakpoints(void)
{
    uint64_t cr4 = read_cr4(), after, a = 0;
    write_cr4(cr4 | CR4_DE);
    reset_events();
    set_breakpoint(0, 0x80, 2, 0);
    __asm__ volatile("outb %%al, $0x80\n2:\n\tleaq 2b(%%rip), %0" : "=r"(after), "+a"(a) : : "memory");
    clear_breakpoints();
    expect_break("on port 0x80, OUT (I/O, CR4.DE)", 0, after);
    reset_events();
    set_breakpoint(1, 0x61, 2, 0);
    __asm__ volatile("inb $0x61, %%al\n2:\n\tleaq 2b(%%rip), %0" : "=r"(after), "+a"(a) : : "memory");
    clear_breakpoints();
    expect_break("on port 0x61, IN (I/O, CR4.DE)", 1, after);
    write_cr4(cr4);
}

/* Instruction breakpoints on an emulated instruction and the one after it: the first #DB is a
 * fault, the handler returns with RF so the instruction runs; RF must be gone once it is done
 * (the CPU clears it after any instruction that completes), or the second breakpoint would
 * be skipped. */
static void rf_after_emulation(const char *what, unsigned which)
{
    uint64_t at, next, a = 0, b = 0, c = 0, d = 0;
    reset_events();
    set_rf = true;
    /* Labels: 1 the emulated instruction, 3 the NOP after it; DR0 and DR1 set in the asm. */
    switch (which) {
    case 0:
        __asm__ volatile("leaq 1f(%%rip), %0\n\tleaq 3f(%%rip), %1\n\t"
                         "movq %0, %%db0\n\tmovq %1, %%db1\n\tmovq $0x405, %%r8\n\tmovq %%r8, %%db7\n\t"
                         "1: cpuid\n3: nop\n\tmovq $0x400, %%r8\n\tmovq %%r8, %%db7"
                         : "=&r"(at), "=&r"(next), "+a"(a), "+b"(b), "+c"(c), "+d"(d) : : "r8", "memory");
        break;
    case 1:
        __asm__ volatile("leaq 1f(%%rip), %0\n\tleaq 3f(%%rip), %1\n\t"
                         "movq %0, %%db0\n\tmovq %1, %%db1\n\tmovq $0x405, %%r8\n\tmovq %%r8, %%db7\n\t"
                         "1: inb $0x61, %%al\n3: nop\n\tmovq $0x400, %%r8\n\tmovq %%r8, %%db7"
                         : "=&r"(at), "=&r"(next), "+a"(a) : : "r8", "memory");
        break;
    default:
        b = 0xfebf0000;
        __asm__ volatile("leaq 1f(%%rip), %0\n\tleaq 3f(%%rip), %1\n\t"
                         "movq %0, %%db0\n\tmovq %1, %%db1\n\tmovq $0x405, %%r8\n\tmovq %%r8, %%db7\n\t"
                         "1: movl (%%rbx), %%eax\n3: nop\n\tmovq $0x400, %%r8\n\tmovq %%r8, %%db7"
                         : "=&r"(at), "=&r"(next), "+a"(a), "+b"(b) : : "r8", "memory");
        break;
    }
    clear_breakpoints();
    bool first = n_events >= 1 && events[0].rip == at && (events[0].dr6 & DR6_B(0));
    bool second = n_events >= 2 && events[1].rip == next && (events[1].dr6 & DR6_B(1));
    check(first, "an instruction breakpoint on %s: #DB before it, DR6.B0", what);
    explain(first, at);
    check(second, "RF is clear after %s: the breakpoint on the next instruction fires", what);
    if (!second)
        printf("#   %u #DB; the second at 0x%lx with DR6 0x%lx; expected at 0x%lx\n", n_events,
               n_events >= 2 ? events[1].rip : 0, n_events >= 2 ? events[1].dr6 : 0, next);
}

void guest_main(void)
{
    irq_set_handler(VEC_DB, on_db);
    clear_breakpoints();
    single_steps();
    single_step_hlt();
    mov_ss_shadow();
    data_breakpoints();
    io_breakpoints();
    rf_after_emulation("CPUID", 0);
    rf_after_emulation("IN", 1);
    rf_after_emulation("an MMIO load", 2);
    irq_set_handler(VEC_DB, NULL);
}
