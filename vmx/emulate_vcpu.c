/* SPDX-License-Identifier: BSD-2-Clause */
/* Instruction emulation on a vCPU (see include/vmx/emulate_vcpu.h): the callbacks of
 * vmx/emulate.c on the VMCS's guest state, and what becomes of the instruction afterwards. */
#include "vmx/emulate_vcpu.h"

#include <stddef.h>

#include "arch/x86/cpu.h"
#include "arch/x86/msr.h"
#include "kernel/log.h"
#include "lib/string.h"
#include "vm/vm.h"
#include "vmx/debug_break.h"
#include "vmx/emulate.h"
#include "vmx/guest_descriptor.h"
#include "vmx/guest_walk.h"
#include "vmx/inject.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs.h"

#define INTERRUPTIBILITY_MOV_SS (1u << 1)
/* REP string elements per exit, as for INS/OUTS (vmx/exit_io.c): one exit stays short. */
#define STRING_BATCH 1024
#define TLB_ENTRIES 4

/* One instruction's emulation: the executor's state first (the callbacks get it back as
 * struct emu *), then what the vCPU side keeps while the instruction runs. Everything read from
 * the VMCS is read once, when first needed. */
struct vcpu_emu {
    struct emu e;
    struct vcpu *v;
    enum seg_addressing addressing;
    unsigned va_bits;
    uint8_t segs_read;                 /* bit n: seg[n] holds segment n */
    struct vmx_segment seg[SEG_GS + 1];
    bool paging_read, user_read;
    unsigned user;                     /* PAGING_USER at CPL 3 */
    struct paging_state paging;
    /* Pages translated by this instruction (or the exit's own), with the access they were
     * checked for: a write translation serves reads too. */
    struct { uint64_t linear, gpa; bool write, valid; } tlb[TLB_ENTRIES];
    unsigned tlb_next;
    uint64_t bad_gpa;                  /* EMU_STOP: the guest-physical address that is nothing */
    bool bad_write;
    uint64_t dr7;                      /* the guest's breakpoints, if any (vmx/debug_break.c) */
};

static struct vcpu_emu *of(struct emu *e)
{
    return (struct vcpu_emu *)e;
}

static const struct vmx_segment *segment(struct vcpu_emu *c, unsigned seg)
{
    if (!(c->segs_read & (1u << seg))) {
        guest_segment(c->v, seg, &c->seg[seg]);
        c->segs_read |= (uint8_t)(1u << seg);
    }
    return &c->seg[seg];
}

static unsigned cpl(struct vcpu_emu *c)
{
    return SEG_AR_DPL(segment(c, SEG_SS)->access); /* SS.DPL is the CPL (SDM Vol. 3C 25.4.1) */
}

/* --- Memory ---------------------------------------------------------------------------------- */

int guest_phys_access(struct vcpu *v, uint64_t gpa, void *buf, unsigned len, bool write)
{
    uint8_t *p = buf;
    struct mmio_handler moved;
    while (len) {
        const struct mmio_handler *h = mmio_lookup(v, gpa, &moved);
        if (!h) {
            int rc = write ? vm_write_gpa(v->vm, gpa, p, len) : vm_read_gpa(v->vm, gpa, p, len);
            return rc < 0 ? -1 : 0;
        }
        /* A device's accesses are 1, 2, 4 or 8 bytes: an aligned access stays whole, a longer
         * or odd one (SSE, a far pointer, a page split) goes in pieces, low to high. */
        uint64_t left = h->base + h->size - gpa;
        unsigned n = left < len ? (unsigned)left : len;
        len -= n;
        while (n) {
            unsigned piece = n >= 8 ? 8 : n >= 4 ? 4 : n >= 2 ? 2 : 1;
            uint64_t value = 0;
            if (write) {
                memcpy(&value, p, piece);
                if (h->write)
                    h->write(v, h->ctx, gpa - h->base, piece, value);
            } else {
                value = h->read ? h->read(v, h->ctx, gpa - h->base, piece) : ~0ull;
                memcpy(p, &value, piece);
            }
            gpa += piece, p += piece, n -= piece;
        }
    }
    return 0;
}

static enum emu_result translate(struct vcpu_emu *c, uint64_t linear, bool write, uint64_t *gpa)
{
    uint64_t page = linear & ~0xfffull;
    for (unsigned i = 0; i < TLB_ENTRIES; i++)
        if (c->tlb[i].valid && c->tlb[i].linear == page && (c->tlb[i].write || !write)) {
            *gpa = c->tlb[i].gpa | (linear & 0xfff);
            return EMU_OK;
        }
    if (!c->paging_read) {
        guest_paging_state(c->v, &c->paging);
        c->paging_read = true;
    }
    if (!c->user_read) {
        c->user = cpl(c) == 3 ? PAGING_USER : 0;
        c->user_read = true;
    }
    switch (guest_translate_in(c->v, &c->paging, linear, c->user | (write ? PAGING_WRITE : 0), gpa, &c->e.fault)) {
    case GUEST_OK:
        break;
    case GUEST_FAULT:
        return EMU_FAULT;
    default:
        c->bad_gpa = c->e.fault.gpa;
        c->e.stop_reason = "guest page table outside RAM";
        return EMU_STOP;
    }
    unsigned slot = c->tlb_next++ % TLB_ENTRIES;
    c->tlb[slot].linear = page, c->tlb[slot].gpa = *gpa & ~0xfffull;
    c->tlb[slot].write = write, c->tlb[slot].valid = true;
    return EMU_OK;
}

/* seg:offset through the segment's checks, then paging for every page before any byte moves
 * (an access split across pages faults on either without touching the other), then RAM or
 * the device behind each page. */
static enum emu_result mem(struct emu *e, unsigned seg, uint64_t offset, void *buf, unsigned len, enum emu_access how)
{
    struct vcpu_emu *c = of(e);
    static const struct vmx_segment flat = { 0 };
    /* In 64-bit mode only FS and GS have a base, and nothing has a limit (SDM Vol. 3A 3.2.4). */
    const struct vmx_segment *s = c->addressing == SEG_ADDR_64 && seg < SEG_FS ? &flat : segment(c, seg);
    uint64_t linear, gpa[2];
    int vector = segment_linear(s, seg, c->addressing, c->va_bits, offset, len, how == EMU_READ ? SEG_READ : SEG_WRITE,
                                &linear);
    if (vector)
        return emu_raise(e, (unsigned)vector, 0);
    bool write = how != EMU_READ;
    unsigned first = len;
    enum emu_result r = translate(c, linear, write, &gpa[0]);
    if (r == EMU_OK && (linear & 0xfff) + len > 4096) {
        uint64_t next = (linear | 0xfff) + 1;
        if (c->addressing != SEG_ADDR_64)
            next &= 0xffffffffull; /* linear addresses wrap at 4 GiB outside 64-bit mode */
        first = (unsigned)(4096 - (linear & 0xfff));
        r = translate(c, next, write, &gpa[1]);
    }
    if (r != EMU_OK)
        return r;
    write = how == EMU_WRITE;
    for (unsigned i = 0, done = 0; done < len && i < 2; done += first, first = len - done, i++) /* one page or two */
        if (guest_phys_access(c->v, gpa[i], (uint8_t *)buf + done, first, write) < 0) {
            c->bad_gpa = gpa[i];
            c->bad_write = write;
            e->stop_reason = "access outside guest memory";
            return EMU_STOP;
        }
    debug_note_access(c->v, c->dr7, linear, len, how == EMU_READ ? DEBUG_READ : DEBUG_WRITE);
    return EMU_OK;
}

/* --- System state ------------------------------------------------------------------------------ */

static bool rip_ok(struct emu *e, uint64_t rip)
{
    struct vcpu_emu *c = of(e);
    if (c->addressing == SEG_ADDR_64)
        return linear_is_canonical(rip, c->va_bits);
    return rip <= segment(c, SEG_CS)->limit;
}

/* CR0 as the guest reads it: its own value of the bits mhv owns (the read shadow), the
 * others as they are (SDM Vol. 3C 26.6.6). */
static uint64_t cr0(struct emu *e)
{
    struct vcpu *v = of(e)->v;
    uint64_t mask = vmcs_readnat(v, VMCS_CR0_GUEST_HOST_MASK);
    return (vmcs_readnat(v, VMCS_GUEST_CR0) & ~mask) | (vmcs_readnat(v, VMCS_CR0_READ_SHADOW) & mask);
}

static uint16_t sreg(struct emu *e, unsigned seg)
{
    return segment(of(e), seg)->selector;
}

/* Real-address and virtual-8086 modes: a selector is a paragraph number. */
static bool real_style(struct vcpu_emu *c)
{
    return c->addressing == SEG_ADDR_REAL || (c->e.rflags & RFLAGS_VM);
}

static enum emu_result raise_selector(struct emu *e, unsigned vector, uint16_t selector)
{
    return emu_raise(e, vector, selector & 0xfffc);
}

/* The descriptor a selector names (GDT or LDT): #GP(selector) beyond its table; a failed read
 * is the guest's fault or mhv's stop. */
static enum emu_result lookup(struct vcpu_emu *c, uint16_t selector, uint64_t *desc, uint64_t *linear)
{
    struct descriptor_tables t;
    enum guest_access_result r;
    descriptor_tables_of(c->v, &t);
    switch (descriptor_read(c->v, &t, selector, desc, linear, &r, &c->e.fault)) {
    case DESCRIPTOR_FOUND:
        return EMU_OK;
    case DESCRIPTOR_BEYOND_LIMIT:
        return raise_selector(&c->e, VEC_GP, selector);
    default:
        if (r == GUEST_FAULT)
            return EMU_FAULT;
        c->bad_gpa = c->e.fault.gpa;
        c->e.stop_reason = "descriptor table outside RAM";
        return EMU_STOP;
    }
}

/* Sets the accessed flag of a descriptor being loaded, as the CPU does (SDM Vol. 3A 3.4.5.1). */
static enum emu_result mark_accessed(struct vcpu_emu *c, uint64_t linear, struct vmx_segment *s, uint8_t bit)
{
    if ((s->access & bit) == bit)
        return EMU_OK;
    switch (descriptor_update_type(c->v, linear, bit, 0, &c->e.fault)) {
    case GUEST_OK:
        s->access |= bit;
        return EMU_OK;
    case GUEST_FAULT:
        return EMU_FAULT;
    default:
        c->bad_gpa = c->e.fault.gpa;
        c->e.stop_reason = "descriptor table outside RAM";
        return EMU_STOP;
    }
}

static void set_segment(struct vcpu_emu *c, unsigned seg, const struct vmx_segment *s)
{
    guest_set_segment(c->v, seg, s);
    c->seg[seg] = *s;
    c->segs_read |= (uint8_t)(1u << seg);
}

/* MOV Sreg, m16 with the checks of SDM Vol. 2B MOV ("Operation", protected mode). */
static enum emu_result load_sreg(struct emu *e, unsigned seg, uint16_t selector)
{
    struct vcpu_emu *c = of(e);
    struct vmx_segment s = *segment(c, seg);
    if (real_style(c)) {
        s.selector = selector;
        s.base = (uint64_t)selector << 4;
        if (s.access & SEG_AR_UNUSABLE)
            s.access = SEG_AR_P | SEG_AR_S | SEG_TYPE_RW | SEG_TYPE_ACCESSED | (c->e.rflags & RFLAGS_VM ? 3u << 5 : 0);
        set_segment(c, seg, &s);
        return EMU_OK;
    }
    unsigned level = cpl(c), rpl = SELECTOR_RPL(selector);
    if (!(selector & ~3u)) {
        /* A null selector: unusable. SS takes one only in 64-bit mode, below CPL 3, with RPL =
         * CPL; it keeps DPL = CPL, which the VMCS's SS must show. FS and GS lose their base. */
        if (seg == SEG_SS && (c->addressing != SEG_ADDR_64 || level == 3 || rpl != level))
            return emu_raise(e, VEC_GP, 0);
        s = (struct vmx_segment){ .selector = selector, .access = SEG_AR_UNUSABLE };
        if (seg == SEG_SS)
            s.access |= SEG_AR_P | SEG_AR_S | SEG_TYPE_RW | SEG_TYPE_ACCESSED | (level << 5);
        set_segment(c, seg, &s);
        return EMU_OK;
    }
    uint64_t desc, linear;
    enum emu_result r = lookup(c, selector, &desc, &linear);
    if (r != EMU_OK)
        return r;
    segment_from_descriptor(desc, selector, &s);
    unsigned type = SEG_AR_TYPE(s.access), dpl = SEG_AR_DPL(s.access);
    bool code = type & SEG_TYPE_CODE, conforming = code && (type & SEG_TYPE_DOWN_CONF);
    if (!(s.access & SEG_AR_S))
        return raise_selector(e, VEC_GP, selector);
    if (seg == SEG_SS) {
        if (rpl != level || code || !(type & SEG_TYPE_RW) || dpl != level)
            return raise_selector(e, VEC_GP, selector);
        if (!(s.access & SEG_AR_P))
            return raise_selector(e, VEC_SS, selector);
    } else {
        if (code && !(type & SEG_TYPE_RW))
            return raise_selector(e, VEC_GP, selector);
        if (!conforming && (rpl > dpl || level > dpl))
            return raise_selector(e, VEC_GP, selector);
        if (!(s.access & SEG_AR_P))
            return raise_selector(e, VEC_NP, selector);
    }
    if ((r = mark_accessed(c, linear, &s, SEG_TYPE_ACCESSED)) != EMU_OK)
        return r;
    set_segment(c, seg, &s);
    return EMU_OK;
}

enum { TSS16_AVAILABLE = 1, TSS_AVAILABLE = 9, TSS_BUSY_BIT = 2 };

/* LTR with the checks of SDM Vol. 2A LTR: CPL 0, a selector in the GDT naming an available TSS
 * (16 bytes in IA-32e mode, with a canonical base), marked busy as it is loaded. */
static enum emu_result load_tr(struct emu *e, uint16_t selector)
{
    struct vcpu_emu *c = of(e);
    if (real_style(c))
        return emu_raise(e, VEC_UD, 0);
    if (cpl(c) != 0 || !(selector & ~3u))
        return emu_raise(e, VEC_GP, 0);
    if (selector & SELECTOR_TI)
        return raise_selector(e, VEC_GP, selector);
    bool lma = vmcs_read64(c->v, VMCS_GUEST_EFER) & EFER_LMA;
    if (lma && (selector & ~7u) + 15 > vmcs_read32(c->v, VMCS_GUEST_GDTR_LIMIT))
        return raise_selector(e, VEC_GP, selector);
    uint64_t desc, linear, high = 0;
    enum emu_result r = lookup(c, selector, &desc, &linear);
    if (r != EMU_OK)
        return r;
    struct vmx_segment s;
    segment_from_descriptor(desc, selector, &s);
    unsigned type = SEG_AR_TYPE(s.access);
    if ((s.access & SEG_AR_S) || (type != TSS_AVAILABLE && (lma || type != TSS16_AVAILABLE)))
        return raise_selector(e, VEC_GP, selector);
    if (!(s.access & SEG_AR_P))
        return raise_selector(e, VEC_NP, selector);
    if (lma) {
        enum guest_access_result g = guest_read(c->v, linear + 8, &high, 8, PAGING_IMPLICIT, &e->fault);
        if (g == GUEST_FAULT)
            return EMU_FAULT;
        if (g != GUEST_OK) {
            c->bad_gpa = e->fault.gpa;
            e->stop_reason = "descriptor table outside RAM";
            return EMU_STOP;
        }
        s.base |= (high & 0xffffffffull) << 32;
        if (((high >> 40) & 0x1f) || !linear_is_canonical(s.base, c->va_bits))
            return raise_selector(e, VEC_GP, selector);
    }
    if ((r = mark_accessed(c, linear, &s, TSS_BUSY_BIT)) != EMU_OK)
        return r;
    guest_set_segment(c->v, SEG_TR, &s);
    return EMU_OK;
}

/* A far JMP to a code segment (SDM Vol. 2A JMP, "Far jumps in protected mode" and IA-32e
 * mode). Through a call gate, a task gate or a TSS it is not emulated: the VM stops. */
static enum emu_result far_jmp(struct emu *e, uint16_t selector, uint64_t offset, unsigned opsize)
{
    struct vcpu_emu *c = of(e);
    struct vmx_segment s = *segment(c, SEG_CS);
    if (real_style(c)) {
        offset &= size_mask(opsize);
        if (offset > s.limit)
            return emu_raise(e, VEC_GP, 0);
        s.selector = selector;
        s.base = (uint64_t)selector << 4;
        set_segment(c, SEG_CS, &s);
        e->next_rip = offset;
        return EMU_OK;
    }
    if (!(selector & ~3u))
        return emu_raise(e, VEC_GP, 0);
    uint64_t desc, linear;
    enum emu_result r = lookup(c, selector, &desc, &linear);
    if (r != EMU_OK)
        return r;
    segment_from_descriptor(desc, selector, &s);
    unsigned level = cpl(c), type = SEG_AR_TYPE(s.access), dpl = SEG_AR_DPL(s.access);
    if (!(s.access & SEG_AR_S)) {
        e->stop_reason = "far JMP through a gate or to a TSS (not emulated on MMIO)";
        return EMU_STOP;
    }
    if (!(type & SEG_TYPE_CODE))
        return raise_selector(e, VEC_GP, selector);
    if ((type & SEG_TYPE_DOWN_CONF) ? dpl > level : SELECTOR_RPL(selector) > level || dpl != level)
        return raise_selector(e, VEC_GP, selector);
    if (!(s.access & SEG_AR_P))
        return raise_selector(e, VEC_NP, selector);
    bool lma = vmcs_read64(c->v, VMCS_GUEST_EFER) & EFER_LMA, to64 = lma && (s.access & SEG_AR_L);
    if (to64 && (s.access & SEG_AR_DB))
        return raise_selector(e, VEC_GP, selector);
    if (to64 ? !linear_is_canonical(offset, c->va_bits) : (offset &= size_mask(opsize < 8 ? opsize : 4)) > s.limit)
        return emu_raise(e, VEC_GP, 0);
    if ((r = mark_accessed(c, linear, &s, SEG_TYPE_ACCESSED)) != EMU_OK)
        return r;
    s.selector = (uint16_t)((selector & ~3u) | level); /* CS.RPL becomes the CPL */
    set_segment(c, SEG_CS, &s);
    e->next_rip = offset;
    return EMU_OK;
}

/* The guest's XMM and MMX registers are in the CPU's registers while it is loaded here (mhv
 * itself never uses them; vmx/vcpu.c switches them lazily): moved with the instructions the
 * guest would use, which also leave the x87 tags and TOS as an MMX move leaves them. */
struct v16 { uint8_t b[16]; };
struct v8 { uint8_t b[8]; };
#define XMM(n)                                                                              \
    case n:                                                                                 \
        if (write)                                                                          \
            __asm__ volatile("movdqu %0, %%xmm" #n : : "m"(*(const struct v16 *)buf));     \
        else                                                                                \
            __asm__ volatile("movdqu %%xmm" #n ", %0" : "=m"(*(struct v16 *)buf));         \
        break;
#define MM(n)                                                                               \
    case n:                                                                                 \
        if (write)                                                                          \
            __asm__ volatile("movq %0, %%mm" #n : : "m"(*(const struct v8 *)buf));         \
        else                                                                                \
            __asm__ volatile("movq %%mm" #n ", %0" : "=m"(*(struct v8 *)buf));             \
        break;

static void vec(struct emu *e, unsigned kind, unsigned reg, void *buf, bool write)
{
    (void)e;
    if (kind == VEC_MM) {
        switch (reg & 7) {
            MM(0) MM(1) MM(2) MM(3) MM(4) MM(5) MM(6) MM(7)
        }
        return;
    }
    switch (reg & 15) {
        XMM(0) XMM(1) XMM(2) XMM(3) XMM(4) XMM(5) XMM(6) XMM(7)
        XMM(8) XMM(9) XMM(10) XMM(11) XMM(12) XMM(13) XMM(14) XMM(15)
    }
}

static const struct emu_ops vcpu_ops = {
    .mem = mem, .rip_ok = rip_ok, .cr0 = cr0, .sreg = sreg, .load_sreg = load_sreg,
    .load_tr = load_tr, .far_jmp = far_jmp, .vec = vec,
};

/* --- The instruction ---------------------------------------------------------------------------- */


enum exit_action emulate_vcpu_insn(struct vcpu *v, const struct mmio_insn *insn, unsigned cpu_mode)
{
    struct vcpu_emu c;
    c.v = v;
    c.segs_read = 0;
    c.paging_read = c.user_read = false;
    c.tlb_next = 0;
    c.bad_gpa = ~0ull;
    c.bad_write = false;
    c.dr7 = debug_enabled_dr7(v);
    for (unsigned i = 0; i < TLB_ENTRIES; i++)
        c.tlb[i].valid = false;
    c.addressing = cpu_mode == 64 ? SEG_ADDR_64 : (v->cr0 & CR0_PE) ? SEG_ADDR_PROTECTED : SEG_ADDR_REAL;
    c.va_bits = cpu_mode == 64 ? guest_va_bits(v) : 32;
    /* The exit's own access: its page's translation is known (guest-linear address valid, and
     * the access was to its translation: qualification bits 7 and 8, SDM Vol. 3C 29.2.1). */
    struct exit_qual_ept q = exit_qual_ept(v->exit.qualification);
    if ((v->exit.reason & 0xffff) == EXIT_EPT_VIOLATION && q.final) {
        c.tlb[0].linear = v->exit.guest_linear & ~0xfffull;
        c.tlb[0].gpa = v->exit.guest_physical & ~0xfffull;
        c.tlb[0].write = q.write;
        c.tlb[0].valid = true;
        c.tlb_next = 1;
    }

    struct emu *e = &c.e;
    e->ops = &vcpu_ops;
    memcpy(e->gpr, v->regs.gpr, sizeof(e->gpr));
    uint64_t rsp = vmcs_readnat(v, VMCS_GUEST_RSP), rflags = vmcs_readnat(v, VMCS_GUEST_RFLAGS);
    e->gpr[GPR_RSP] = rsp;
    e->rflags = rflags;
    uint64_t next = v->exit.rip + insn->length;
    e->next_rip = cpu_mode == 64 ? next : next & 0xffffffffull;
    e->mode = cpu_mode;
    e->stack_size = cpu_mode == 64 ? 8 : (segment(&c, SEG_SS)->access & SEG_AR_DB) ? 4 : 2;
    e->max_elements = STRING_BATCH;
    e->mov_ss = false;
    e->stop_reason = NULL;

    enum emu_result r = emulate_insn(e, insn);

    /* Registers as the executor left them: on a fault, those of the elements done. */
    memcpy(v->regs.gpr, e->gpr, sizeof(e->gpr));
    if (e->gpr[GPR_RSP] != rsp)
        vmcs_writenat(v, VMCS_GUEST_RSP, e->gpr[GPR_RSP]);
    if (e->rflags != rflags)
        vmcs_writenat(v, VMCS_GUEST_RFLAGS, e->rflags);
    switch (r) {
    case EMU_STOP:
        if (c.bad_gpa != ~0ull)
            log_err("vm %s: vCPU %u: %s guest-physical 0x%lx, outside the VM's %lu KiB of memory and devices",
                    v->vm->name, v->id, c.bad_write ? "write to" : "read of", c.bad_gpa, v->vm->mem_size >> 10);
        return exit_stop_vm(v, e->stop_reason);
    case EMU_FAULT:
        v->debug_hits = 0; /* the fault is what the guest sees */
        guest_inject_fault(v, &e->fault);
        return v->vm->state != VM_RUNNING ? EXIT_RESCHED : EXIT_RESUME;
    case EMU_AGAIN: /* RIP stays: the rest next time; a breakpoint hit traps after this batch */
        if (v->debug_hits)
            inject_debug_trap(v, false);
        return v->vm->state != VM_RUNNING ? EXIT_RESCHED : EXIT_RESUME;
    default:
        break;
    }
    if (v->vm->state != VM_RUNNING)
        return EXIT_RESCHED; /* a device access stopped the VM */
    if (e->next_rip == (cpu_mode == 64 ? next : next & 0xffffffffull)) {
        v->exit.instruction_length = insn->length;
        skip_instruction(v);
    } else {
        retire_at(v, e->next_rip); /* a branch */
    }
    if (e->mov_ss) /* MOV SS: no interrupt or debug trap before the next instruction ends */
        vmcs_write32(v, VMCS_GUEST_INTERRUPTIBILITY,
                     vmcs_read32(v, VMCS_GUEST_INTERRUPTIBILITY) | INTERRUPTIBILITY_MOV_SS);
    return EXIT_RESUME;
}
