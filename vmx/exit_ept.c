/* SPDX-License-Identifier: BSD-2-Clause */
/* EPT violations and misconfigurations (SDM Vol. 3C 30.3.3). Guest RAM is mapped in full, so
 * a violation is either an MMIO access to an emulated device (decode the instruction, perform
 * it, retire it: a move here, anything else in vmx/emulate_vcpu.c) or an access outside the
 * guest's memory, which stops the VM. */
#include <stddef.h>

#include "arch/x86/cpu.h"
#include "kernel/log.h"
#include "devices/vlapic.h"
#include "vm/vm.h"
#include "vmx/debug_break.h"
#include "vmx/decode.h"
#include "vmx/emulate_vcpu.h"
#include "vmx/exit.h"
#include "vmx/guest_walk.h"
#include "vmx/inject.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs.h"

static const struct mmio_handler *find(struct vm *vm, uint64_t gpa)
{
    for (unsigned i = 0; i < vm->mmio_count; i++)
        if (gpa >= vm->mmio[i].base && gpa - vm->mmio[i].base < vm->mmio[i].size)
            return &vm->mmio[i];
    return NULL;
}

const struct mmio_handler *mmio_lookup(struct vcpu *v, uint64_t gpa, struct mmio_handler *moved)
{
    const struct mmio_handler *h = v->lapic->moved ? vlapic_moved_mmio(v, gpa, moved) : NULL;
    return h ? h : find(v->vm, gpa); /* the VM's devices, the APIC at 0xfee00000 among them */
}

/* Fetches the bytes of the instruction at the guest's RIP, as far as they go, for the decoder:
 * through CS (its limit) and paging, as a fetch at the guest's privilege. It ran before the
 * exit, so a fetch fails only when the guest changed its page tables since (another vCPU):
 * *fault then says what the CPU would raise for the first byte not fetched. */
static unsigned fetch_instruction(struct vcpu *v, unsigned mode, uint8_t *bytes, unsigned max,
                                  struct guest_fault *fault, enum guest_access_result *stopped)
{
    struct paging_state paging;
    guest_paging_state(v, &paging);
    unsigned access = PAGING_FETCH | guest_user_access(v), got = 0;
    /* In 64-bit mode CS has no base or limit and RIP is canonical (the CPU fetched there):
     * only paging applies. Otherwise CS's limit ends the fetch and IP/EIP wrap within it. */
    struct vmx_segment cs;
    enum seg_addressing addressing = (v->cr0 & CR0_PE) ? SEG_ADDR_PROTECTED : SEG_ADDR_REAL;
    if (mode != 64)
        guest_segment(v, SEG_CS, &cs);
    *stopped = GUEST_OK;
    while (got < max) {
        uint64_t offset = v->exit.rip + got, linear = offset, gpa;
        if (mode != 64) {
            offset &= mode == 16 ? 0xffff : 0xffffffff;
            int vector = segment_linear(&cs, SEG_CS, addressing, 48, offset, 1, SEG_FETCH, &linear);
            if (vector) {
                *fault = (struct guest_fault){ .vector = (uint8_t)vector };
                *stopped = GUEST_FAULT;
                break;
            }
        }
        unsigned chunk = 4096 - (unsigned)(linear & 0xfff);
        if (chunk > max - got)
            chunk = max - got;
        uint64_t unused;
        if (mode != 64 && chunk > 1 &&
            segment_linear(&cs, SEG_CS, addressing, 48, offset, chunk, SEG_FETCH, &unused))
            chunk = 1; /* near the limit or the wrap: byte by byte */
        *stopped = guest_translate_in(v, &paging, linear, access, &gpa, fault);
        if (*stopped == GUEST_OK && vm_read_gpa(v->vm, gpa, bytes + got, chunk) < 0)
            *stopped = GUEST_NOT_RAM;
        if (*stopped != GUEST_OK)
            break;
        got += chunk;
    }
    return got;
}

/* Whether a move's memory operand is exactly the access that exited: all of it on the page of
 * gpa. An APIC-access exit gives the offset in the APIC page. An EPT violation gives the guest-
 * linear address of the access (qualification bits 7 and 8: valid, and the access itself, not
 * a page walk's, SDM Vol. 3C 29.2.1); an operand split across pages is two accesses, and the
 * one reported may be either: the first runs past its page, the second starts one. */
static bool one_access_at(struct vcpu *v, const struct mmio_insn *insn, uint64_t gpa)
{
    unsigned size = insn->size;
    if ((v->exit.reason & 0xffff) != EXIT_EPT_VIOLATION)
        return (gpa & 0xfff) + size <= 4096;
    if (!exit_qual_ept(v->exit.qualification).final)
        return false;
    unsigned offset = (unsigned)(v->exit.guest_linear & 0xfff);
    return offset + size <= 4096 && (offset || size == 1);
}

enum exit_action exit_emulate_mmio(struct vcpu *v, const struct mmio_handler *h, uint64_t gpa)
{
    uint8_t bytes[15];
    unsigned mode = guest_cpu_mode(v);
    struct guest_fault fault;
    enum guest_access_result fetched;
    unsigned avail = fetch_instruction(v, mode, bytes, sizeof(bytes), &fault, &fetched);
    struct mmio_insn insn;
    int decoded = decode_mmio_insn(bytes, avail, mode, &insn);
    if (decoded == DECODE_TRUNCATED && fetched == GUEST_FAULT) {
        guest_inject_fault(v, &fault); /* the instruction's next byte cannot be fetched now */
        return EXIT_RESUME;
    }
    if (decoded < 0)
        return exit_stop_vm(v, "MMIO access by an instruction mhv does not emulate");
    /* The moves guests use for device registers take the short way: one access, to the
     * exit's own address. Everything else (and a move that may straddle two pages) goes
     * through the executor, which forms the addresses itself (vmx/emulate_vcpu.c). */
    if (insn.op > MMIO_STORE || !one_access_at(v, &insn, gpa))
        return emulate_vcpu_insn(v, &insn, mode);
    uint64_t offset = gpa - h->base;
    if (insn.op == MMIO_LOAD) {
        uint64_t value = h->read ? h->read(v, h->ctx, offset, insn.size) : ~0ull;
        v->regs.gpr[GPR_RSP] = vmcs_readnat(v, VMCS_GUEST_RSP);
        mmio_insn_complete_load(&insn, value, v->regs.gpr, mode);
        if (insn.reg == GPR_RSP)
            vmcs_writenat(v, VMCS_GUEST_RSP, v->regs.gpr[GPR_RSP]);
    } else {
        v->regs.gpr[GPR_RSP] = vmcs_readnat(v, VMCS_GUEST_RSP);
        if (h->write)
            h->write(v, h->ctx, offset, insn.size, mmio_insn_store_value(&insn, v->regs.gpr));
    }
    /* Data breakpoints on the access: its linear address comes with EPT violations
     * (qualification bit 7, SDM Vol. 3C 29.2.1); APIC-access exits give none. */
    if ((v->exit.reason & 0xffff) == EXIT_EPT_VIOLATION && exit_qual_ept(v->exit.qualification).linear_valid)
        debug_note_access(v, debug_enabled_dr7(v), v->exit.guest_linear, insn.size,
                          insn.op == MMIO_LOAD ? DEBUG_READ : DEBUG_WRITE);
    if (v->vm->state != VM_RUNNING)
        return EXIT_RESCHED;
    /* The exit gives no instruction length for EPT violations or APIC accesses: the decoder's. */
    v->exit.instruction_length = insn.length;
    skip_instruction(v);
    return EXIT_RESUME;
}

enum exit_action handle_ept_violation(struct vcpu *v)
{
    uint64_t gpa = v->exit.guest_physical;
    exit_keep_nmi_blocked_in_iret(v, (uint32_t)v->exit.qualification);
    struct mmio_handler moved;
    const struct mmio_handler *h = mmio_lookup(v, gpa, &moved);
    /* An IDT, GDT, TSS or stack in device memory: the access is the CPU's own, delivering an
     * event (IDT-vectoring information valid, SDM Vol. 3C 28.2.4), not the instruction's at
     * RIP, so there is nothing to emulate; KVM stops such a guest too. */
    if (h && (v->exit.idt_vectoring_info & INFO_VALID))
        return exit_stop_vm(v, "event delivery through device memory (an IDT, GDT, TSS or stack in an MMIO range)");
    struct exit_qual_ept q = exit_qual_ept(v->exit.qualification);
    if (h && !q.fetch)
        return exit_emulate_mmio(v, h, gpa);
    log_err("vm %s: vCPU %u: %s of guest-physical 0x%lx, outside the VM's %lu KiB of memory and devices",
            v->vm->name, v->id, q.fetch ? "instruction fetch" : q.write ? "write" : "read", gpa, v->vm->mem_size >> 10);
    return exit_stop_vm(v, "access outside guest memory");
}

enum exit_action handle_ept_misconfig(struct vcpu *v)
{
    /* mhv builds every EPT entry itself: a misconfiguration is mhv's bug, but only this VM
     * depends on these tables. */
    log_err("vm %s: EPT misconfiguration at guest-physical 0x%lx (an mhv bug)", v->vm->name, v->exit.guest_physical);
    return exit_stop_vm(v, "EPT misconfiguration");
}
