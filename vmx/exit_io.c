/* SPDX-License-Identifier: BSD-2-Clause */
/* I/O instruction exits (SDM Vol. 3C 29.2.1 table 29-5, decoded in vmx/exit_qual.h). Every port exits (both I/O bitmaps
 * are all ones); a registry of port handlers serves them; unclaimed ports read all-ones and
 * drop writes, as on a PC bus with nothing behind them. String forms (INS/OUTS) and their REP
 * prefixes are executed here, at most STRING_BATCH elements per exit so one exit stays short. */
#include <stddef.h>

#include "arch/x86/cpu.h"
#include "kernel/log.h"
#include "vm/vm.h"
#include "vmx/debug_break.h"
#include "vmx/emulate_vcpu.h"
#include "vmx/exit.h"
#include "vmx/guest_walk.h"
#include "vmx/inject.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs.h"

#define STRING_BATCH 1024

static const struct io_handler *find(struct vm *vm, uint16_t port)
{
    for (unsigned i = 0; i < vm->io_count; i++)
        if (port >= vm->io[i].base && port - vm->io[i].base < vm->io[i].count)
            return &vm->io[i];
    return NULL;
}

static uint32_t port_in(struct vcpu *v, uint16_t port, unsigned size)
{
    const struct io_handler *h = find(v->vm, port);
    uint32_t mask = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
    return (h && h->read ? h->read(v, h->ctx, port, size) : 0xffffffffu) & mask;
}

static void port_out(struct vcpu *v, uint16_t port, unsigned size, uint32_t value)
{
    const struct io_handler *h = find(v->vm, port);
    if (size < 4)
        value &= (1u << (8 * size)) - 1; /* OUT AL/AX: only those bits reach the port */
    if (h && h->write)
        h->write(v, h->ctx, port, size, value);
}

/* Where the elements of one string instruction go: its segment, paging state and the last
 * page it translated, read once per exit (an element is usually on the page before's). */
struct string_walk {
    struct vcpu *v;
    struct vmx_segment seg;
    unsigned seg_index;
    enum seg_addressing mode;
    unsigned va_bits;
    struct paging_state paging;
    unsigned access;            /* enum paging_access: write for INS, user at CPL 3 */
    uint64_t page_linear, page_gpa;
    bool page_valid;
};

/* The guest-physical address of the byte at linear, through the one-page cache. */
static enum guest_access_result byte_gpa(struct string_walk *w, uint64_t linear, uint64_t *gpa,
                                         struct guest_fault *f)
{
    if (!w->page_valid || (linear & ~0xfffull) != w->page_linear) {
        enum guest_access_result r = guest_translate_in(w->v, &w->paging, linear, w->access, &w->page_gpa, f);
        if (r != GUEST_OK)
            return r;
        w->page_linear = linear & ~0xfffull;
        w->page_gpa &= ~0xfffull;
        w->page_valid = true;
    }
    *gpa = w->page_gpa | (linear & 0xfff);
    return GUEST_OK;
}

/* One element: segmentation (limit, type, canonical form), then paging for every page it
 * touches, all before the port is accessed, so a fault leaves the port's data unread (SDM
 * Vol. 2B INS/OUTS: the faults are the memory operand's). An element split across pages has
 * a CR2 of the second page's first byte when that page faults. */
static enum guest_access_result element_gpas(struct string_walk *w, uint64_t offset, unsigned size, bool in,
                                             uint64_t gpa[2], unsigned *first_len, struct guest_fault *f)
{
    uint64_t linear;
    int vector = segment_linear(&w->seg, w->seg_index, w->mode, w->va_bits, offset, size, in ? SEG_WRITE : SEG_READ,
                                &linear);
    if (vector) {
        *f = (struct guest_fault){ .vector = (uint8_t)vector };
        return GUEST_FAULT;
    }
    enum guest_access_result r = byte_gpa(w, linear, &gpa[0], f);
    *first_len = size;
    if (r == GUEST_OK && (linear & 0xfff) + size > 4096) {
        uint64_t next = (linear | 0xfff) + 1;
        if (w->mode != SEG_ADDR_64)
            next &= 0xffffffffull; /* linear addresses wrap at 4 GiB outside 64-bit mode */
        *first_len = (unsigned)(4096 - (linear & 0xfff));
        r = byte_gpa(w, next, &gpa[1], f);
    }
    return r;
}

/* An element's bytes between the port's value and guest memory, RAM or an emulated device
 * (INS into MMIO): INS writes, OUTS reads. */
static int move(struct vcpu *v, uint64_t gpa, void *value, unsigned len, bool in)
{
    return guest_phys_access(v, gpa, value, len, in);
}

static enum exit_action string_io(struct vcpu *v, uint16_t port, unsigned size, bool in, bool rep)
{
    exit_info_read(v, EXIT_INSTRUCTION_INFO);
    /* Instruction information: address size in bits 9:7 (0: 16, 1: 32, 2: 64-bit), the
     * segment of OUTS in bits 17:15 (SDM Vol. 3C table 29-8); INS always writes ES:[rDI].
     * Each element's address comes from rSI/rDI truncated to the address size, so a 16- or
     * 32-bit index wraps within its segment and DF=1 runs below offset 0 the same way. */
    struct exit_insn_info_io info = exit_insn_info_io(v->exit.instruction_info);
    unsigned asize = info.address_size;
    uint64_t amask = asize == 0 ? 0xffff : asize == 1 ? 0xffffffffull : ~0ull;
    uint64_t rflags = vmcs_readnat(v, VMCS_GUEST_RFLAGS);
    int64_t step = (rflags & (1u << 10)) ? -(int64_t)size : (int64_t)size; /* DF */
    uint64_t count = rep ? v->regs.gpr[GPR_RCX] & amask : 1;
    unsigned reg = in ? GPR_RDI : GPR_RSI;
    uint64_t index = v->regs.gpr[reg];

    struct string_walk w = { .v = v, .seg_index = in ? SEG_ES : info.segment };
    if (w.seg_index > SEG_GS)
        return exit_stop_vm(v, "OUTS with a segment register that does not exist");
    guest_segment(v, w.seg_index, &w.seg);
    w.mode = guest_addressing(v);
    w.va_bits = guest_va_bits(v);
    guest_paging_state(v, &w.paging);
    w.access = guest_user_access(v) | (in ? PAGING_WRITE : 0);

    uint64_t done = 0, dr7 = debug_enabled_dr7(v);
    /* For breakpoints: an element's linear address (in 64-bit mode only FS and GS have bases). */
    bool flat = w.mode == SEG_ADDR_64 && w.seg_index != SEG_FS && w.seg_index != SEG_GS;
    uint64_t seg_base = flat ? 0 : w.seg.base, linear_mask = w.mode == SEG_ADDR_64 ? ~0ull : 0xffffffffull;
    struct guest_fault fault;
    enum guest_access_result r = GUEST_OK;
    for (; done < count && done < STRING_BATCH && v->vm->state == VM_RUNNING; done++) {
        uint64_t gpa[2];
        unsigned first;
        uint32_t value = 0;
        r = element_gpas(&w, (index + done * step) & amask, size, in, gpa, &first, &fault);
        if (r != GUEST_OK)
            break;
        if (in)
            value = port_in(v, port, size);
        int not_ram = move(v, gpa[0], &value, first, in) < 0 ? 0
                    : first < size && move(v, gpa[1], (uint8_t *)&value + first, size - first, in) < 0 ? 1 : -1;
        if (not_ram >= 0) {
            r = GUEST_NOT_RAM;
            fault.gpa = gpa[not_ram];
            break;
        }
        if (!in)
            port_out(v, port, size, value);
        if (__builtin_expect(dr7 != 0, 0)) {
            /* A breakpoint an element hits traps after that element (SDM Vol. 3B 18.3.1.2). */
            uint64_t linear = (seg_base + ((index + done * step) & amask)) & linear_mask;
            debug_note_access(v, dr7, linear, size, in ? DEBUG_WRITE : DEBUG_READ);
            debug_note_access(v, dr7, port, size, DEBUG_IO);
            if (v->debug_hits) {
                done++;
                break;
            }
        }
    }
    /* The elements done stay done, as after an interrupted REP (SDM Vol. 2B REP): rSI/rDI and
     * rCX count them; RIP stays on the instruction unless all are done. A 16-bit index leaves
     * the rest of its register alone; a 32-bit one in 64-bit mode is a 32-bit register write,
     * zero-extended (SDM Vol. 1 3.4.1.1). */
    uint64_t keep = asize == 1 && w.mode == SEG_ADDR_64 ? 0 : ~amask;
    v->regs.gpr[reg] = (index & keep) | ((index + done * step) & amask);
    if (rep)
        v->regs.gpr[GPR_RCX] = (v->regs.gpr[GPR_RCX] & keep) | ((count - done) & amask);
    if (r == GUEST_NOT_RAM) {
        log_err("vm %s: vCPU %u: %s guest-physical 0x%lx, which is neither RAM nor a device", v->vm->name, v->id,
                in ? "INS into" : "OUTS from", fault.gpa);
        return exit_stop_vm(v, in ? "INS into memory mhv cannot reach" : "OUTS from memory mhv cannot reach");
    }
    if (v->vm->state != VM_RUNNING)
        return EXIT_RESCHED; /* an element stopped the VM (debug-exit port) */
    if (r == GUEST_FAULT) {
        v->debug_hits = 0; /* the fault is what the guest sees */
        guest_inject_fault(v, &fault);
    }
    else if (done == count)
        skip_instruction(v);
    else if (v->debug_hits)
        inject_debug_trap(v, false); /* RIP stays on the REP instruction, which goes on after */
    /* else RIP stays: the guest re-executes the REP instruction for the rest */
    return EXIT_RESUME;
}

enum exit_action handle_io(struct vcpu *v)
{
    struct exit_qual_io q = exit_qual_io(v->exit.qualification);
    uint16_t port = q.port;
    unsigned size = q.size;
    if (q.string)
        return string_io(v, port, size, q.in, q.rep);
    if (q.in) {
        uint32_t value = port_in(v, port, size);
        uint64_t *rax = &v->regs.gpr[GPR_RAX];
        /* IN AL/AX leaves the rest of RAX alone; IN EAX zero-extends into RAX. */
        *rax = size == 4 ? value : (*rax & ~((1ull << (8 * size)) - 1)) | value;
    } else {
        port_out(v, port, size, (uint32_t)v->regs.gpr[GPR_RAX]);
    }
    if (v->vm->state != VM_RUNNING)
        return EXIT_RESCHED; /* the write stopped the VM (debug-exit port) */
    if (__builtin_expect(v->cr4 & CR4_DE, 0)) /* I/O breakpoints exist only with CR4.DE */
        debug_note_access(v, debug_enabled_dr7(v), port, size, DEBUG_IO);
    skip_instruction(v);
    return EXIT_RESUME;
}
