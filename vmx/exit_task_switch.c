/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Task-switch exits (basic reason 9): under VMX every hardware task switch of a 32-bit guest
 * exits (SDM Vol. 3C 26.4.2), whether a CALL or JMP to a TSS or task gate, an IRET with NT=1,
 * or an interrupt or exception through a task gate in the IDT. The CPU has made the first
 * checks (Vol. 3C 26.4.2: privilege, the selector within the GDT, the descriptor's type,
 * present bit and limit) before exiting; mhv performs the rest as the CPU would (Vol. 3A 8.3
 * "Task Switching" with its table "Exception Conditions Checked During a Task Switch", and
 * the TASK-SWITCH operation of JMP and CALL in Vol. 2A):
 *
 *   before the commit point, in the old task: the new TSS descriptor (checked again: the
 *   guest may have changed it since), every byte of both TSSs and descriptors to be touched
 *   (a #PF here leaves everything as it was), the old task's busy flag (JMP, IRET), its state
 *   saved in its TSS (IRET clears NT in the saved EFLAGS), the back-link (CALL, gate), the new
 *   busy flag (all but IRET);
 *
 *   after it, in the new task: TR, CR0.TS, DR7's local breakpoint enables, EFLAGS (NT set for
 *   CALL and gates), EIP and the general registers, CR3 (32-bit TSS with paging on), LDTR,
 *   then CS, SS, DS, ES, FS, GS with their checks (#TS, #NP, #SS with the selector and the
 *   EXT bit as error code), then the error code of an exception delivered through the gate
 *   pushed on the new stack, and a debug trap when the new TSS's T flag is set.
 *
 * The exit's qualification (Vol. 3C 29.2.1, "Exit Qualification for Task Switches") gives the
 * new TSS selector in bits 15:0 and the source in bits 31:30; for a gate, the IDT-vectoring
 * information names the event being delivered.
 */
#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/cpu.h"
#include "kernel/panic.h"
#include "vm/vm.h"
#include "vmx/caps.h"
#include "vmx/exit.h"
#include "vmx/guest_descriptor.h"
#include "vmx/guest_walk.h"
#include "vmx/inject.h"
#include "vmx/preflight.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs.h"

/* What started the switch: the exit qualification's source (vmx/exit_qual.h). */
enum source { FROM_CALL = TASK_FROM_CALL, FROM_IRET = TASK_FROM_IRET, FROM_JMP = TASK_FROM_JMP, FROM_GATE = TASK_FROM_GATE };

/* System-descriptor types (SDM Vol. 3A table 3-2). */
enum { TSS16_AVAILABLE = 1, LDT_TYPE = 2, TSS16_BUSY = 3, TSS32_AVAILABLE = 9, TSS32_BUSY = 11, TSS_BUSY_BIT = 2 };

#define EFLAGS_NT (1u << 14)
#define EFLAGS_VM (1u << 17)
#define EFLAGS_VALID 0x3f7fd5u /* bits a task switch may load; bit 1 reads as 1 */
#define DR7_LOCAL_ENABLES 0x155u /* L0-L3 and LE, cleared by a task switch (Vol. 3B 19.2.4) */
#define DR6_BT (1u << 15)

/* The two TSS formats (Vol. 3A figures 8-2 and 8-11): offsets of the fields used here. */
struct tss_layout {
    unsigned size;                 /* the smallest limit + 1 the CPU accepts */
    unsigned ip, flags, gpr, sreg; /* EIP, EFLAGS, EAX..EDI, ES..GS (or ES..DS) */
    unsigned gpr_size, sregs, ldt; /* bytes per register slot, segment registers saved, LDT selector */
};
static const struct tss_layout tss32 = { 0x68, 0x20, 0x24, 0x28, 0x48, 4, 6, 0x60 };
static const struct tss_layout tss16 = { 0x2c, 0x0e, 0x10, 0x12, 0x22, 2, 4, 0x2a };
#define TSS32_CR3 0x1c
#define TSS32_TRAP 0x64

/* Everything one task switch needs, gathered at the exit. */
struct task_switch {
    struct vcpu *v;
    enum source source;
    uint16_t selector;            /* the new TSS */
    uint32_t event;               /* IDT-vectoring information (gates), else 0 */
    uint16_t ext;                 /* EXT bit of the error codes: an external event caused the switch */
    uint64_t return_rip;          /* EIP saved in the old TSS */
    struct descriptor_tables tables;
    struct vmx_segment old_tr;
    uint64_t new_desc, new_desc_linear;
    const struct tss_layout *old_fmt, *new_fmt;
    uint32_t new_base;
    uint8_t image[0x68];          /* the new TSS's static and dynamic fields */
};

static enum guest_access_result raise(struct guest_fault *f, unsigned vector, uint32_t error)
{
    *f = (struct guest_fault){ .vector = (uint8_t)vector, .error_code = error };
    return GUEST_FAULT;
}

static uint32_t read_le(const uint8_t *p, unsigned size)
{
    uint32_t x = 0;
    for (unsigned i = 0; i < size; i++)
        x |= (uint32_t)p[i] << (8 * i);
    return x;
}

static void write_le(uint8_t *p, unsigned size, uint32_t x)
{
    for (unsigned i = 0; i < size; i++)
        p[i] = (uint8_t)(x >> (8 * i));
}

/* Translates the first and last byte of a range for a write, so the writes after the commit
 * point cannot fault (the range is below 4 KiB: two pages at most). */
static enum guest_access_result probe_write(struct vcpu *v, uint64_t linear, unsigned len, struct guest_fault *f)
{
    uint64_t gpa;
    enum guest_access_result r = guest_translate(v, linear, PAGING_WRITE | PAGING_IMPLICIT, &gpa, f);
    if (r == GUEST_OK)
        r = guest_translate(v, (linear + len - 1) & 0xffffffffull, PAGING_WRITE | PAGING_IMPLICIT, &gpa, f);
    return r;
}

/* Before the commit point: the new TSS descriptor, both TSSs and the descriptors to update.
 * Faults here are the old task's: #GP (for IRET #TS) for a selector outside the GDT or a
 * descriptor of the wrong type or busy state, #NP when not present, #TS for a short limit. */
static enum guest_access_result check_new_task(struct task_switch *t, struct guest_fault *f)
{
    struct vcpu *v = t->v;
    uint16_t error = (t->selector & 0xfffc) | t->ext;
    unsigned bad_selector = t->source == FROM_IRET ? VEC_TS : VEC_GP;
    enum guest_access_result r;
    if (t->selector & SELECTOR_TI)
        return raise(f, bad_selector, error);
    switch (descriptor_read(v, &t->tables, t->selector, &t->new_desc, &t->new_desc_linear, &r, f)) {
    case DESCRIPTOR_BEYOND_LIMIT:
        return raise(f, bad_selector, error);
    case DESCRIPTOR_ACCESS_FAILED:
        return r;
    case DESCRIPTOR_FOUND:
        break;
    }
    struct vmx_segment d;
    segment_from_descriptor(t->new_desc, t->selector, &d);
    unsigned type = SEG_AR_TYPE(d.access);
    bool busy = type == TSS16_BUSY || type == TSS32_BUSY;
    bool tss = busy || type == TSS16_AVAILABLE || type == TSS32_AVAILABLE;
    if ((d.access & SEG_AR_S) || !tss || busy != (t->source == FROM_IRET))
        return raise(f, bad_selector, error);
    if (!(d.access & SEG_AR_P))
        return raise(f, VEC_NP, error);
    t->new_fmt = type >= TSS32_AVAILABLE ? &tss32 : &tss16;
    if (d.limit < t->new_fmt->size - 1)
        return raise(f, VEC_TS, error);
    t->new_base = (uint32_t)d.base;

    /* The old TSS must hold the state to be saved (Bochs checks this too). */
    t->old_fmt = SEG_AR_TYPE(t->old_tr.access) == TSS32_BUSY ? &tss32 : &tss16;
    unsigned first = t->old_fmt->ip, last = t->old_fmt->sreg + t->old_fmt->gpr_size * t->old_fmt->sregs;
    if (t->old_tr.limit < last - 1)
        return raise(f, VEC_TS, (t->old_tr.selector & 0xfffc) | t->ext);

    /* Every byte the switch will touch, translated now: the new TSS read whole, its back-link
     * written (CALL, gates), the old TSS's dynamic fields, and both descriptors' type bytes. */
    if ((r = guest_read(v, t->new_base, t->image, t->new_fmt->size, PAGING_IMPLICIT, f)) != GUEST_OK)
        return r;
    if ((t->source == FROM_CALL || t->source == FROM_GATE) && (r = probe_write(v, t->new_base, 2, f)) != GUEST_OK)
        return r;
    if ((r = probe_write(v, t->old_tr.base + first, last - first, f)) != GUEST_OK)
        return r;
    uint64_t old_desc = t->tables.gdt_base + (t->old_tr.selector & ~7u);
    if ((t->source == FROM_JMP || t->source == FROM_IRET) && (r = probe_write(v, old_desc + 5, 1, f)) != GUEST_OK)
        return r;
    if (t->source != FROM_IRET && (r = probe_write(v, t->new_desc_linear + 5, 1, f)) != GUEST_OK)
        return r;
    return GUEST_OK;
}

/* The old task's state into its TSS, and the busy flags and back-link (Vol. 3A 8.4: JMP clears
 * the old busy flag and sets the new; CALL and gates keep the old one, set the new one and
 * the back-link; IRET clears the old one and keeps the new one). */
static enum guest_access_result leave_old_task(struct task_switch *t, struct guest_fault *f)
{
    struct vcpu *v = t->v;
    const struct tss_layout *fmt = t->old_fmt;
    uint8_t state[0x60];
    enum guest_access_result r;
    uint64_t old_desc = t->tables.gdt_base + (t->old_tr.selector & ~7u);
    if (t->source == FROM_JMP || t->source == FROM_IRET)
        if ((r = descriptor_update_type(v, old_desc, 0, TSS_BUSY_BIT, f)) != GUEST_OK)
            return r;

    /* The fields are rewritten in place: the reserved upper halves of the 32-bit TSS's selector
     * slots keep what they hold, as the CPU writes only the selectors' words. */
    unsigned first = fmt->ip, last = fmt->sreg + fmt->gpr_size * fmt->sregs;
    if ((r = guest_read(v, t->old_tr.base + first, state + first, last - first, PAGING_IMPLICIT, f)) != GUEST_OK)
        return r;
    uint32_t eflags = (uint32_t)vmcs_readnat(v, VMCS_GUEST_RFLAGS);
    if (t->source == FROM_IRET)
        eflags &= ~EFLAGS_NT;
    v->regs.gpr[GPR_RSP] = vmcs_readnat(v, VMCS_GUEST_RSP);
    write_le(state + fmt->ip, fmt->gpr_size, (uint32_t)t->return_rip);
    write_le(state + fmt->flags, fmt->gpr_size, eflags);
    for (unsigned i = 0; i < 8; i++)
        write_le(state + fmt->gpr + fmt->gpr_size * i, fmt->gpr_size, (uint32_t)v->regs.gpr[i]);
    /* Selectors in ES, CS, SS, DS (, FS, GS) order: the VMCS's order too. */
    for (unsigned i = 0; i < fmt->sregs; i++)
        write_le(state + fmt->sreg + fmt->gpr_size * i, 2,
                 (uint16_t)vmcs_read_checked(v, VMCS_GUEST_ES_SELECTOR + 2 * i));
    if ((r = guest_write(v, t->old_tr.base + first, state + first, last - first, PAGING_IMPLICIT, f)) != GUEST_OK)
        return r;

    if (t->source == FROM_CALL || t->source == FROM_GATE) {
        uint8_t link[2];
        write_le(link, 2, t->old_tr.selector);
        if ((r = guest_write(v, t->new_base, link, 2, PAGING_IMPLICIT, f)) != GUEST_OK)
            return r;
    }
    if (t->source != FROM_IRET)
        return descriptor_update_type(v, t->new_desc_linear, TSS_BUSY_BIT, 0, f);
    return GUEST_OK;
}

/* CR3 from a 32-bit TSS while paging is on (Vol. 3A 8.2.1); under PAE paging the PDPTE
 * registers are loaded with it, and a reserved bit in one is a #GP(0) in the new task. */
static enum guest_access_result load_cr3(struct vcpu *v, uint32_t cr3, struct guest_fault *f)
{
    struct paging_state s;
    guest_paging_state(v, &s);
    s.cr3 = cr3;
    if (paging_mode_of(&s) == PAGING_PAE) {
        uint64_t pdpte[4];
        if (vm_read_gpa(v->vm, cr3 & ~0x1full, pdpte, sizeof(pdpte)) < 0) {
            f->gpa = cr3 & ~0x1full;
            return GUEST_NOT_RAM;
        }
        for (unsigned i = 0; i < 4; i++)
            if (!paging_pdpte_valid(&s, pdpte[i]))
                return raise(f, VEC_GP, 0);
        for (unsigned i = 0; i < 4; i++)
            vmcs_write_checked(v, VMCS_GUEST_PDPTE0 + 2 * i, pdpte[i]);
    }
    vmcs_writenat(v, VMCS_GUEST_CR3, cr3);
    vcpu_flush_guest_tlb(v);
    return GUEST_OK;
}

/* The descriptor a selector of the new task names (in the GDT, or the new LDT), or #TS with
 * that selector when it lies beyond its table. */
static enum guest_access_result new_task_descriptor(struct task_switch *t, uint16_t selector, struct vmx_segment *d,
                                                    uint64_t *linear, struct guest_fault *f)
{
    uint64_t desc;
    enum guest_access_result r;
    switch (descriptor_read(t->v, &t->tables, selector, &desc, linear, &r, f)) {
    case DESCRIPTOR_BEYOND_LIMIT:
        return raise(f, VEC_TS, (selector & 0xfffc) | t->ext);
    case DESCRIPTOR_ACCESS_FAILED:
        ASSERT(r != GUEST_OK); /* descriptor_read's contract: d is read only after GUEST_OK */
        return r;
    case DESCRIPTOR_FOUND:
        break;
    }
    segment_from_descriptor(desc, selector, d);
    return GUEST_OK;
}

/* Loads one segment register of the new task from its descriptor with the checks of table
 * "Exception Conditions Checked During a Task Switch" (Vol. 3A 8.3): #TS for a selector
 * beyond its table or naming the wrong kind of segment or privilege, #NP (#SS for SS) when
 * not present; the accessed flag is set as any segment load sets it. */
static enum guest_access_result load_segment(struct task_switch *t, unsigned seg, uint16_t selector, unsigned cpl,
                                             struct vmx_segment *out, struct guest_fault *f)
{
    uint16_t error = (selector & 0xfffc) | t->ext;
    if (!(selector & ~3u)) {
        if (seg == SEG_CS || seg == SEG_SS)
            return raise(f, VEC_TS, error);
        *out = (struct vmx_segment){ .selector = selector, .access = SEG_AR_UNUSABLE };
        return GUEST_OK;
    }
    struct vmx_segment d;
    uint64_t linear;
    enum guest_access_result r = new_task_descriptor(t, selector, &d, &linear, f);
    if (r != GUEST_OK)
        return r;
    unsigned type = SEG_AR_TYPE(d.access), dpl = SEG_AR_DPL(d.access), rpl = SELECTOR_RPL(selector);
    bool s = d.access & SEG_AR_S, code = type & SEG_TYPE_CODE, conforming = code && (type & SEG_TYPE_DOWN_CONF);
    unsigned not_present = VEC_NP;
    if (seg == SEG_CS) {
        if (!s || !code || (conforming ? dpl > rpl : dpl != rpl))
            return raise(f, VEC_TS, error);
    } else if (seg == SEG_SS) {
        if (!s || code || !(type & SEG_TYPE_RW))
            return raise(f, VEC_TS, error);
        if (!(d.access & SEG_AR_P))
            return raise(f, VEC_SS, error);
        if (dpl != cpl || rpl != cpl)
            return raise(f, VEC_TS, error);
        not_present = VEC_SS;
    } else {
        if (!s || (code && !(type & SEG_TYPE_RW)) || (!conforming && (rpl > dpl || cpl > dpl)))
            return raise(f, VEC_TS, error);
    }
    if (!(d.access & SEG_AR_P))
        return raise(f, not_present, error);
    if (!(type & SEG_TYPE_ACCESSED)) {
        if ((r = descriptor_update_type(t->v, linear, SEG_TYPE_ACCESSED, 0, f)) != GUEST_OK)
            return r;
        d.access |= SEG_TYPE_ACCESSED;
    }
    *out = d;
    return GUEST_OK;
}

/* The LDT of the new task: a null selector leaves LDTR unusable; otherwise a present LDT
 * descriptor in the GDT, or #TS(LDT selector). */
static enum guest_access_result load_ldt(struct task_switch *t, uint16_t selector, struct vmx_segment *out,
                                         struct guest_fault *f)
{
    *out = (struct vmx_segment){ .selector = selector, .access = SEG_AR_UNUSABLE };
    if (selector & SELECTOR_TI)
        return raise(f, VEC_TS, (selector & 0xfffc) | t->ext);
    if (!(selector & ~3u))
        return GUEST_OK;
    struct vmx_segment d;
    uint64_t linear;
    enum guest_access_result r = new_task_descriptor(t, selector, &d, &linear, f);
    if (r != GUEST_OK)
        return r;
    if ((d.access & SEG_AR_S) || SEG_AR_TYPE(d.access) != LDT_TYPE || !(d.access & SEG_AR_P))
        return raise(f, VEC_TS, (selector & 0xfffc) | t->ext);
    *out = d;
    return GUEST_OK;
}

/* After the commit point: the new task's state, from the TSS image read before it. A fault
 * here is the new task's: the registers loaded so far stay loaded. Segment registers not
 * loaded when it strikes keep their selectors with no usable descriptor (DS, ES, FS, GS,
 * LDTR), or their old descriptor (CS and SS, which VMX cannot mark unusable), their DPLs kept
 * equal so the state stays one VM entry accepts; the SDM asks for a task gate as #TS handler
 * for this reason (Vol. 3A 7.15, "Interrupt 10"). */
static enum guest_access_result enter_new_task(struct task_switch *t, struct guest_fault *f)
{
    struct vcpu *v = t->v;
    const struct tss_layout *fmt = t->new_fmt;
    const uint8_t *img = t->image;
    bool is32 = fmt == &tss32, nested = t->source == FROM_CALL || t->source == FROM_GATE;

    struct vmx_segment tr;
    segment_from_descriptor(t->new_desc, t->selector, &tr);
    tr.access |= TSS_BUSY_BIT;
    guest_set_segment(v, SEG_TR, &tr);
    vmcs_writenat(v, VMCS_GUEST_CR0, vmcs_readnat(v, VMCS_GUEST_CR0) | CR0_TS);
    v->cr0 |= CR0_TS;
    vmcs_writenat(v, VMCS_GUEST_DR7, vmcs_readnat(v, VMCS_GUEST_DR7) & ~(uint64_t)DR7_LOCAL_ENABLES);

    /* EFLAGS (NT set when nested), EIP, general registers. A 16-bit TSS fills the low halves;
     * the high ones read 0xffff, as Bochs leaves them. */
    uint32_t eflags = read_le(img + fmt->flags, fmt->gpr_size) | (nested ? EFLAGS_NT : 0);
    eflags = (eflags & EFLAGS_VALID) | 2;
    vmcs_writenat(v, VMCS_GUEST_RFLAGS, eflags);
    vmcs_writenat(v, VMCS_GUEST_RIP, read_le(img + fmt->ip, fmt->gpr_size));
    for (unsigned i = 0; i < 8; i++) {
        uint32_t value = read_le(img + fmt->gpr + fmt->gpr_size * i, fmt->gpr_size) | (is32 ? 0 : 0xffff0000u);
        if (i == GPR_RSP)
            vmcs_writenat(v, VMCS_GUEST_RSP, value);
        v->regs.gpr[i] = value;
    }
    /* No STI or MOV-SS shadow carries over, nor a pending debug trap of the old task; NMIs
     * stay blocked in an NMI's task until its IRET, which unblocks them. */
    if (t->source == FROM_GATE && (t->event & INFO_VALID) && INFO_TYPE(t->event) == EVENT_TYPE_NMI)
        v->in_nmi_handler = true;
    if (t->source == FROM_IRET)
        v->in_nmi_handler = false;
    uint32_t blocking = vmcs_read32(v, VMCS_GUEST_INTERRUPTIBILITY) & ~(BLOCKING_STI_MOVSS | BLOCKING_NMI);
    vmcs_write32(v, VMCS_GUEST_INTERRUPTIBILITY, blocking | (v->in_nmi_handler ? BLOCKING_NMI : 0));
    vmcs_writenat(v, VMCS_GUEST_PENDING_DEBUG, 0);

    /* The selectors the TSS names (a 16-bit TSS has no FS or GS: null, as in Bochs) and the
     * state of the registers until their descriptors load. */
    struct vmx_segment seg[SEG_TR];
    uint16_t selector[SEG_TR] = { 0 };
    for (unsigned i = 0; i < fmt->sregs; i++)
        selector[i] = (uint16_t)read_le(img + fmt->sreg + fmt->gpr_size * i, 2);
    selector[SEG_LDTR] = (uint16_t)read_le(img + fmt->ldt, 2);
    for (unsigned i = 0; i < SEG_TR; i++) {
        if (i == SEG_CS || i == SEG_SS)
            guest_segment(v, i, &seg[i]);
        else
            seg[i] = (struct vmx_segment){ .access = SEG_AR_UNUSABLE };
        seg[i].selector = selector[i];
    }

    enum guest_access_result r = GUEST_OK;
    bool cs_loaded = false, ss_loaded = false;
    unsigned cpl = SELECTOR_RPL(selector[SEG_CS]);
    if (is32 && (vmcs_readnat(v, VMCS_GUEST_CR0) & CR0_PG))
        r = load_cr3(v, read_le(img + TSS32_CR3, 4), f);
    if (eflags & EFLAGS_VM) {
        /* Virtual-8086 mode: real-mode style segments at CPL 3 (Vol. 3A 20.2.1), which cannot
         * fail (and which VM entry requires once EFLAGS.VM is set), then LDTR. */
        for (unsigned i = SEG_ES; i <= SEG_GS; i++)
            seg[i] = (struct vmx_segment){ selector[i], (uint64_t)selector[i] << 4, 0xffff, 0xf3 };
        cs_loaded = ss_loaded = true;
        if (r == GUEST_OK)
            r = load_ldt(t, selector[SEG_LDTR], &seg[SEG_LDTR], f);
    } else if (r == GUEST_OK) {
        static const unsigned order[] = { SEG_CS, SEG_SS, SEG_DS, SEG_ES, SEG_FS, SEG_GS };
        r = load_ldt(t, selector[SEG_LDTR], &seg[SEG_LDTR], f);
        t->tables.ldt = seg[SEG_LDTR];
        for (unsigned k = 0; k < 6 && r == GUEST_OK; k++) {
            struct vmx_segment loaded;
            r = load_segment(t, order[k], selector[order[k]], cpl, &loaded, f);
            if (r == GUEST_OK) {
                seg[order[k]] = loaded;
                cs_loaded |= order[k] == SEG_CS;
                ss_loaded |= order[k] == SEG_SS;
            }
        }
    }
    if (cs_loaded && !ss_loaded)
        seg[SEG_SS].access = (seg[SEG_SS].access & ~(3u << 5)) | (cpl << 5);
    if (!cs_loaded && !(SEG_AR_TYPE(seg[SEG_CS].access) & SEG_TYPE_CODE))
        seg[SEG_CS].access |= SEG_TYPE_CODE | SEG_TYPE_RW; /* a virtual-8086 task's CS, kept */
    for (unsigned i = 0; i < SEG_TR; i++)
        guest_set_segment(v, i, &seg[i]);
    return r;
}

/* An exception with an error code delivered through a task gate pushes it on the new task's
 * stack: a dword for a 32-bit TSS, a word for a 16-bit one (Vol. 3A 7.12.2). */
static enum guest_access_result push_error_code(struct task_switch *t, uint32_t error, struct guest_fault *f)
{
    struct vcpu *v = t->v;
    struct vmx_segment ss;
    guest_segment(v, SEG_SS, &ss);
    unsigned size = t->new_fmt == &tss32 ? 4 : 2;
    uint64_t mask = (ss.access & SEG_AR_DB) ? 0xffffffffull : 0xffffull;
    uint64_t rsp = vmcs_readnat(v, VMCS_GUEST_RSP), sp = (rsp - size) & mask, linear;
    int vector = segment_linear(&ss, SEG_SS, guest_addressing(v), 48, sp, size, SEG_WRITE, &linear);
    if (vector)
        return raise(f, (unsigned)vector, 0);
    uint8_t bytes[4];
    write_le(bytes, size, error);
    enum guest_access_result r = guest_write(v, linear, bytes, size, guest_user_access(v), f);
    if (r == GUEST_OK)
        vmcs_writenat(v, VMCS_GUEST_RSP, (rsp & ~mask) | sp);
    return r;
}

enum exit_action handle_task_switch(struct vcpu *v)
{
    struct task_switch t = { .v = v };
    struct exit_qual_task_switch q = exit_qual_task_switch(v->exit.qualification);
    t.selector = q.selector;
    t.source = (enum source)q.source;
    if (vmcs_read64(v, VMCS_GUEST_EFER) & (1ull << 10))
        return exit_stop_vm(v, "task switch in IA-32e mode (the CPU raises #GP there itself)");

    /* A gate's event: software interrupts and exceptions (INT n, INT1, INT3, INTO) return
     * after their instruction and set no EXT bit; the others resume where they struck. */
    unsigned type = EVENT_TYPE_HW_EXCEPTION;
    if (t.source == FROM_GATE && (v->exit.idt_vectoring_info & INFO_VALID)) {
        t.event = v->exit.idt_vectoring_info;
        type = INFO_TYPE(t.event);
    }
    bool software = t.source != FROM_GATE || event_type_software(type);
    t.return_rip = v->exit.rip + (software ? v->exit.instruction_length : 0);
    if (!(guest_cpu_mode(v) == 32))
        t.return_rip &= 0xffff;
    t.ext = t.source == FROM_GATE && type != EVENT_TYPE_SW_INTERRUPT && type != EVENT_TYPE_SW_EXCEPTION;
    descriptor_tables_of(v, &t.tables);
    guest_segment(v, SEG_TR, &t.old_tr);

    struct guest_fault f;
    enum guest_access_result r = check_new_task(&t, &f);
    if (r == GUEST_OK)
        r = leave_old_task(&t, &f);
    if (r == GUEST_OK)
        r = enter_new_task(&t, &f);
    if (r == GUEST_OK && (t.event & INFO_VALID) && type == EVENT_TYPE_HW_EXCEPTION && (t.event & INFO_ERROR_CODE))
        r = push_error_code(&t, v->exit.idt_vectoring_error, &f);
    if (r == GUEST_NOT_RAM)
        return exit_stop_vm(v, "task switch touching memory outside guest RAM");
    if (r == GUEST_FAULT) {
        /* Delivered as a fault during the gate's event, when there is one: a contributory
         * fault during a contributory exception's switch is a #DF (inject_exception). */
        guest_inject_fault(v, &f);
        return EXIT_RESUME;
    }
    v->exit.idt_vectoring_info = 0; /* the event is delivered: the new task is its handler */
    if (t.new_fmt == &tss32 && (t.image[TSS32_TRAP] & 1)) {
        /* The T flag: a debug trap before the new task's first instruction, DR6.BT set. The
         * guest's DR6 is in the register while its vCPU is loaded here (vmx/vcpu.c). */
        uint64_t dr6;
        __asm__ volatile("mov %%dr6, %0" : "=r"(dr6));
        __asm__ volatile("mov %0, %%dr6" : : "r"(dr6 | DR6_BT));
        inject_exception(v, VEC_DB, 0);
    }
    return EXIT_RESUME;
}
