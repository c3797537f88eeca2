/* SPDX-License-Identifier: BSD-2-Clause */
/* Interrupt and exception dispatch (trap.h, fault.h). IDT gates: SDM Vol. 3A 6.14.1. */
#include "trap.h"

#include "apic.h"
#include "check.h"
#include "console.h"
#include "cpu.h"
#include "desc.h"
#include "fault.h"
#include "fault_internal.h"
#include "percpu.h"

struct gate {
    uint16_t offset0, selector;
    uint8_t ist, type;
    uint16_t offset1;
    uint32_t offset2, reserved;
} __attribute__((packed));

static struct gate idt[256] __attribute__((aligned(16)));
static rt_irq_handler handlers[256];

extern const uint8_t rt_isr_stubs[];
extern const uint64_t rt_isr_stub_size;

static void set_gate(unsigned vector, unsigned dpl, unsigned ist)
{
    uint64_t addr = (uint64_t)(uintptr_t)(rt_isr_stubs + vector * rt_isr_stub_size);
    idt[vector] = (struct gate){
        .offset0 = (uint16_t)addr, .selector = SEL_KERNEL_CODE, .ist = (uint8_t)ist,
        .type = (uint8_t)(0x8e | (dpl << 5)), /* present, 64-bit interrupt gate: IF cleared on entry */
        .offset1 = (uint16_t)(addr >> 16), .offset2 = (uint32_t)(addr >> 32),
    };
}

void rt_idt_init(void)
{
    for (unsigned v = 0; v < 256; v++)
        set_gate(v, 0, 0);
    /* A broken stack must not turn into a triple fault: #DF and #MC switch to IST1. */
    set_gate(VEC_DF, 0, 1);
    set_gate(VEC_MC, 0, 1);
    /* INT3 and INTO may be used at CPL 3, and try_user's return path is an INT from CPL 3. */
    set_gate(VEC_BP, 3, 0);
    set_gate(VEC_OF, 3, 0);
    set_gate(RT_VEC_USER_RETURN, 3, 0);
}

void rt_idt_load(void)
{
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } idtr = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
    __asm__ volatile("lidt %0" : : "m"(idtr));
}

void irq_set_handler(unsigned vector, rt_irq_handler h)
{
    if (vector < 256)
        __atomic_store_n(&handlers[vector], h, __ATOMIC_SEQ_CST);
}

const char *exception_name(unsigned vector)
{
    static const char *const names[32] = {
        "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "vector 9", "#TS", "#NP", "#SS", "#GP",
        "#PF", "vector 15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
    };
    if (vector < 32 && names[vector])
        return names[vector];
    return vector < 32 ? "reserved exception" : "interrupt";
}

struct fixup {
    uint64_t insn, resume;
};
extern const struct fixup __rt_fixups_start[], __rt_fixups_end[];

static uint64_t read_cr2_now(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}

static void record(struct rt_cpu *c, struct rt_frame *f)
{
    c->fault_error = f->error;
    c->fault_cr2 = f->vector == VEC_PF ? read_cr2_now() : 0;
    c->fault_vector = (int)f->vector;
}

/* A TRY_ASM instruction: resume after it. A trap reports the next RIP: also ours. */
static bool claimed_by_fixup(struct rt_cpu *c, struct rt_frame *f)
{
    for (const struct fixup *x = __rt_fixups_start; x < __rt_fixups_end; x++) {
        if (f->rip == x->insn || f->rip == x->resume) {
            record(c, f);
            f->rip = x->resume;
            return true;
        }
    }
    return false;
}

/* Ends the innermost try_call()/try_user(): back in rt_try_enter's frame, returning `result`. */
static void unwind_try(struct rt_cpu *c, struct rt_frame *f, int result)
{
    struct rt_try *t = c->try_ctx;
    f->rbx = t->rbx;
    f->rbp = t->rbp;
    f->r12 = t->r12;
    f->r13 = t->r13;
    f->r14 = t->r14;
    f->r15 = t->r15;
    f->rsp = t->rsp;
    f->rip = (uint64_t)(uintptr_t)rt_try_resume;
    f->cs = SEL_KERNEL_CODE;
    f->ss = SEL_KERNEL_DATA;
    f->rflags = t->rflags;
    f->rax = (uint64_t)(int64_t)result;
}

static void dump(struct rt_frame *f)
{
    printf("#   rax %016lx rbx %016lx rcx %016lx rdx %016lx\n", f->rax, f->rbx, f->rcx, f->rdx);
    printf("#   rsi %016lx rdi %016lx rbp %016lx rsp %016lx\n", f->rsi, f->rdi, f->rbp, f->rsp);
    printf("#   r8  %016lx r9  %016lx r10 %016lx r11 %016lx\n", f->r8, f->r9, f->r10, f->r11);
    printf("#   r12 %016lx r13 %016lx r14 %016lx r15 %016lx\n", f->r12, f->r13, f->r14, f->r15);
    printf("#   cs %lx ss %lx rflags %lx cr0 %lx cr3 %lx cr4 %lx\n", f->cs, f->ss, f->rflags, read_cr0(),
           read_cr3(), read_cr4());
}

static void unexpected_exception(struct rt_cpu *c, struct rt_frame *f)
{
    printf("not ok - unexpected exception %s (vector %lu) error 0x%lx on vCPU %u at rip 0x%lx, cr2 0x%lx\n",
           exception_name((unsigned)f->vector), f->vector, f->error, c ? c->id : 0, f->rip, read_cr2_now());
    dump(f);
    rt_exit_crash();
}

void rt_trap(struct rt_frame *f)
{
    struct rt_cpu *c = this_cpu();
    unsigned v = (unsigned)f->vector;
    if (v == RT_VEC_USER_RETURN && (f->cs & 3) == 3 && c->try_ctx) {
        unwind_try(c, f, -1);
        return;
    }
    if (v < 32 && v != VEC_NMI) {
        if (claimed_by_fixup(c, f))
            return;
        if (handlers[v]) {
            handlers[v](f);
            return;
        }
        if (c->try_ctx) {
            record(c, f);
            unwind_try(c, f, (int)v);
            return;
        }
        unexpected_exception(c, f);
    }
    rt_irq_handler h = handlers[v];
    if (v >= 32) {
        c->interrupts++;
        c->interrupts_by_vector[v]++;
        c->recent_interrupts[c->interrupts % 2].vector = v;
        c->recent_interrupts[c->interrupts % 2].rip = f->rip;
        c->recent_interrupts[c->interrupts % 2].rflags = f->rflags;
    }
    if (h)
        h(f);
    else if (v == VEC_NMI)
        unexpected_exception(c, f);
    else if (v != RT_VEC_SPURIOUS)
        check(false, "unexpected interrupt vector 0x%x on vCPU %u at rip 0x%lx", v, c->id, f->rip);
    if (v >= 32 && v != RT_VEC_SPURIOUS)
        apic_eoi();
}
