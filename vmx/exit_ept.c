/* SPDX-License-Identifier: BSD-2-Clause */
/* EPT violations and misconfigurations (SDM Vol. 3C 30.3.3). Guest RAM is mapped in full, so
 * a violation is an MMIO access: to an emulated device, or to an address nobody claims, which
 * reads all-ones and drops writes as on a PC (decode the instruction, perform it, retire it: a
 * move here, anything else in vmx/emulate_vcpu.c). What mhv cannot perform stops the VM: an
 * instruction fetch outside RAM, event delivery or a page walk through such memory, and any
 * unclaimed access of a VM configured with `unclaimed = stop`. */
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

/* --- Unclaimed memory ------------------------------------------------------------------------ */

/* A read or write of guest-physical gpa that neither RAM nor a device claims: logged once per
 * page, for the first VM_UNCLAIMED_LOG_PAGES pages of the VM, then once that no more are. Any
 * CPU may get here: each slot is taken by one compare-and-swap (a page's number + 1; 0 free). */
static void note_unclaimed(struct vcpu *v, uint64_t gpa, bool write)
{
    struct vm *vm = v->vm;
    uint64_t mark = (gpa & ~0xfffull) + 1;
    for (unsigned i = 0; i < VM_UNCLAIMED_LOG_PAGES; i++) {
        uint64_t seen = __atomic_load_n(&vm->unclaimed_logged[i], __ATOMIC_SEQ_CST);
        if (!seen && __atomic_compare_exchange_n(&vm->unclaimed_logged[i], &seen, mark, false, __ATOMIC_SEQ_CST,
                                                 __ATOMIC_SEQ_CST)) {
            log_warn("vm %s: vCPU %u: %s unclaimed guest-physical 0x%lx (no RAM or device there): reads all-ones, "
                     "writes dropped; the page is not logged again", vm->name, v->id, write ? "write to" : "read of",
                     gpa);
            return;
        }
        if (seen == mark)
            return;
    }
    if (!__atomic_exchange_n(&vm->unclaimed_log_full, true, __ATOMIC_SEQ_CST))
        log_warn("vm %s: unclaimed accesses on more than %u pages: no more are logged", vm->name,
                 VM_UNCLAIMED_LOG_PAGES);
}

/* A PC's bus ends a cycle no device claims with a master abort, which completes reads with
 * all-ones data and drops writes (the PCI Local Bus Specification's "Master-Abort
 * Termination"; the processor sees nothing else). ctx is the handler's base address. */
static uint64_t unclaimed_read(struct vcpu *v, void *ctx, uint64_t offset, unsigned size)
{
    (void)size;
    note_unclaimed(v, (uint64_t)(uintptr_t)ctx + offset, false);
    return ~0ull;
}

static void unclaimed_write(struct vcpu *v, void *ctx, uint64_t offset, unsigned size, uint64_t value)
{
    (void)size, (void)value;
    note_unclaimed(v, (uint64_t)(uintptr_t)ctx + offset, true);
}

/* Whether h is the stand-in for unclaimed memory (mmio_lookup). */
static bool unclaimed(const struct mmio_handler *h)
{
    return h->read == unclaimed_read;
}

/* Unclaimed memory from gpa to the end of its page or the next device in it, whichever comes
 * first (devices may be smaller than a page), into *h; NULL where gpa is RAM or the VM stops
 * at unclaimed accesses. */
static const struct mmio_handler *unclaimed_at(struct vm *vm, uint64_t gpa, struct mmio_handler *h)
{
    if (vm->unclaimed_stop || vm_gpa_to_hva(vm, gpa, 1))
        return NULL;
    uint64_t end = (gpa | 0xfff) + 1;
    for (unsigned i = 0; i < vm->mmio_count; i++)
        if (vm->mmio[i].base > gpa && vm->mmio[i].base < end)
            end = vm->mmio[i].base;
    *h = (struct mmio_handler){ gpa, end - gpa, unclaimed_read, unclaimed_write, (void *)(uintptr_t)gpa };
    return h;
}

const struct mmio_handler *mmio_lookup(struct vcpu *v, uint64_t gpa, struct mmio_handler *scratch)
{
    const struct mmio_handler *h = v->lapic->moved ? vlapic_moved_mmio(v, gpa, scratch) : NULL;
    if (!h)
        h = find(v->vm, gpa); /* the VM's devices, the APIC at 0xfee00000 among them */
    return h ? h : unclaimed_at(v->vm, gpa, scratch);
}

/* --- Instruction emulation -------------------------------------------------------------------- */

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
    struct mmio_handler scratch;
    const struct mmio_handler *h = mmio_lookup(v, gpa, &scratch);
    struct exit_qual_ept q = exit_qual_ept(v->exit.qualification);
    /* Unclaimed memory is emulated only for an instruction's own data access (qualification
     * bits 7 and 8, SDM Vol. 3C 29.2.1): a guest page walk through it, or event delivery,
     * would need the CPU's walk or delivery performed on all-ones, which mhv does not do. */
    if (h && unclaimed(h) && (!q.final || (v->exit.idt_vectoring_info & INFO_VALID)))
        h = NULL;
    /* An IDT, GDT, TSS or stack in device memory: the access is the CPU's own, delivering an
     * event (IDT-vectoring information valid, SDM Vol. 3C 28.2.4), not the instruction's at
     * RIP, so there is nothing to emulate; KVM stops such a guest too. */
    if (h && (v->exit.idt_vectoring_info & INFO_VALID))
        return exit_stop_vm(v, "event delivery through device memory (an IDT, GDT, TSS or stack in an MMIO range)");
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
