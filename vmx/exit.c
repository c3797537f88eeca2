/* SPDX-License-Identifier: BSD-2-Clause */
/* VM-exit dispatch (the table is vmx/exit_table.c) and the handlers too small for a file of
 * their own. */
#include <stddef.h>

#include "vmx/exit.h"

#include "arch/x86/cpu.h"
#include "arch/x86/percpu.h"
#include "kernel/log.h"
#include "kernel/panic.h"
#include "lib/format.h"
#include "devices/vlapic.h"
#include "vm/platform.h"
#include "vm/vm.h"
#include "vmx/inject.h"
#include "vmx/caps.h"
#include "vmx/exit_qual.h"
#include "vmx/segment.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs.h"

enum exit_action handle_unexpected(struct vcpu *v)
{
    return exit_stop_vm(v, "exit mhv does not handle (its control is off, or it cannot happen here)");
}

enum exit_action handle_raise_ud(struct vcpu *v)
{
    /* Instructions the guest cannot use here (VMX, SMX, SGX, ...) behave as if absent. */
    inject_ud(v);
    return EXIT_RESUME;
}

enum exit_action handle_skip_only(struct vcpu *v)
{
    /* INVD, WBINVD: caches stay coherent under EPT write-back; nothing to emulate. */
    skip_instruction(v);
    return EXIT_RESUME;
}

/* A fault-like exit in the middle of an IRET that had lifted virtual-NMI blocking (bit 12 of
 * the exit qualification of EPT violations and PML-full exits, of the interruption information
 * of exception exits; SDM Vol. 3C 29.2.1, 29.2.2): the blocking was cleared before the exit
 * (29.1), but the IRET has not completed and runs again (or faults) after the resume, so the
 * guest is still in its NMI handler. The blocking goes back, or an NMI pending meanwhile would
 * be taken on the IRET itself, nesting the handler ("Resuming Guest Software after Handling an
 * Exception" in the SDM's VMM chapter). Bit 12 means nothing when the exit came during event
 * delivery or without virtual NMIs. */
void exit_restore_nmi_blocking(struct vcpu *v)
{
    if ((v->exit.idt_vectoring_info & INFO_VALID) || !(vmcs_read32(v, VMCS_PIN_CONTROLS) & PIN_VIRTUAL_NMIS))
        return;
    vmcs_write32(v, VMCS_GUEST_INTERRUPTIBILITY, vmcs_read32(v, VMCS_GUEST_INTERRUPTIBILITY) | BLOCKING_NMI);
    v->in_nmi_handler = true;
}

enum exit_action handle_exception_nmi(struct vcpu *v)
{
    uint32_t info = v->exit.interruption_info;
    exit_keep_nmi_blocked_in_iret(v, info);
    unsigned vector = INFO_VECTOR(info), type = INFO_TYPE(info);
    if (type == EVENT_TYPE_NMI) {
        /* A host NMI arrived while the guest ran (NMI exiting). Only machine_stop sends NMIs. */
        log_warn("vm %s: NMI taken during guest execution", v->vm->name);
        return EXIT_RESUME;
    }
    if (vector == VEC_MC)
        return exit_stop_vm(v, "machine check during guest execution");
    /* An intercepted exception the guest should see: give it back. */
    inject_exception(v, vector, v->exit.interruption_error);
    return EXIT_RESUME;
}

enum exit_action handle_external_interrupt(struct vcpu *v)
{
    (void)v;
    /* The interrupt is still pending in the local APIC (no acknowledge-on-exit): open a
     * window and mhv's own IDT handles it (cross-CPU calls, timers). */
    irq_window();
    return this_cpu()->need_resched ? EXIT_RESCHED : EXIT_RESUME;
}

enum exit_action handle_triple_fault(struct vcpu *v)
{
    vm_stop(v->vm, STOP_CRASH, 255, "triple fault (vCPU %u at RIP 0x%lx)", v->id, v->exit.rip);
    return EXIT_RESCHED;
}

enum exit_action handle_init_sipi(struct vcpu *v)
{
    /* mhv never sends INIT or SIPI to CPUs in VMX operation; treat one as spurious. */
    log_warn("vm %s: vCPU %u: physical %s signal while the guest ran; ignored", v->vm->name, v->id,
             v->exit.reason == EXIT_INIT ? "INIT" : "SIPI");
    return EXIT_RESUME;
}

enum exit_action handle_window(struct vcpu *v)
{
    inject_window_opened(v, (v->exit.reason & 0xffff) == EXIT_NMI_WINDOW); /* the event goes in at the entry */
    return EXIT_RESUME;
}

/* What ends a HLT at once: an NMI, an INIT, or (with interrupts enabled) an interrupt the
 * vCPU can take. An NMI ends a HLT only when NMIs are not blocked: a CPU halted in its NMI
 * handler (before the IRET that unblocks them) stays halted with the next NMI pending (SDM
 * Vol. 3A 7.7), whether that NMI came before the HLT (here) or during it (devices/vlapic_ipi.c). */
static bool wakes_from_hlt(struct vcpu *v, bool interrupts)
{
    bool nmi = (v->pending_events & EVENT_NMI) && !v->halted_in_nmi;
    return nmi || vcpu_init_pending(v) || (interrupts && inject_interrupt_deliverable(v));
}

enum exit_action handle_hlt(struct vcpu *v)
{
    skip_instruction(v);
    bool interrupts = vmcs_readnat(v, VMCS_GUEST_RFLAGS) & RFLAGS_IF;
    /* Blocked first, then checked: a concurrent sender (vlapic_notify, include/devices/vlapic_internal.h, INIT) either
     * sees BLOCKED and wakes it, or is seen here. The swap fails when a VM stop got here first. */
    v->halted_for_good = !interrupts;
    v->halted_in_nmi = v->in_nmi_handler;
    if (!vcpu_state_swap(v, VCPU_RUNNABLE, VCPU_BLOCKED))
        return EXIT_RESCHED;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (wakes_from_hlt(v, interrupts)) {
        v->halted_for_good = false;
        vcpu_state_swap(v, VCPU_BLOCKED, VCPU_RUNNABLE);
        return vcpu_init_pending(v) ? EXIT_RESCHED : EXIT_RESUME;
    }
    if (interrupts)
        return EXIT_RESCHED; /* until a timer, a device or another vCPU raises one (devices/vlapic_*.c) */
    /* Interrupts off: only an NMI or INIT gets it going again. Once no vCPU of the VM can run
     * any more, the VM is over: a guest's way to power off (other vCPUs do this first while
     * Linux shuts down or reboots, so one such vCPU alone stops nothing). */
    struct vm *vm = v->vm;
    for (unsigned i = 0; i < vm->vcpu_count; i++) {
        struct vcpu *o = vm->vcpus[i];
        if (!(o->halted_for_good || o->se.state == VCPU_WAIT_FOR_SIPI || o->se.state == VCPU_STOPPED))
            return EXIT_RESCHED;
    }
    vm_stop(vm, STOP_POWEROFF, 0, "vCPU %u halted with interrupts disabled%s", v->id,
            vm->vcpu_count > 1 ? ", the last one running" : "");
    return EXIT_RESCHED;
}

/* --- The CPU's APIC virtualisation (SDM Vol. 3C chapter 31; devices/vlapic.c has the state) --- */

/* TPR below threshold (31.1.2, trap-like): the guest lowered CR8 under the class of a vector
 * its TPR held back; the entry path delivers it now. */
enum exit_action handle_tpr_below_threshold(struct vcpu *v)
{
    vlapic_tpr_below_threshold(v);
    return EXIT_RESUME;
}

/* APIC access (31.4, fault-like; qualification: SDM Vol. 3C 29.2.1): an xAPIC access the CPU
 * does not virtualize from the virtual-APIC page: reads of the PPR, the timer's current count
 * and reserved offsets, writes to read-only registers and the CMCI LVT, accesses that are not
 * 32 bits wide and aligned. The instruction has not run: it is decoded and performed on the
 * vLAPIC like an MMIO access (as vmx/exit_ept.c does for other devices), then retired. */
enum exit_action handle_apic_access(struct vcpu *v)
{
    struct exit_qual_apic_access q = exit_qual_apic_access(v->exit.qualification);
    if (!q.data) /* fetches, event delivery, guest-physical accesses */
        return exit_stop_vm(v, "APIC-access page used other than by an instruction's data access");
    static const struct mmio_handler lapic = { PLATFORM_LAPIC_BASE, 4096, vlapic_mmio_read, vlapic_mmio_write, NULL };
    return exit_emulate_mmio(v, &lapic, PLATFORM_LAPIC_BASE + q.offset);
}

/* EOI-induced exit (31.1.4, trap-like): the guest's EOI of a vector in the EOI-exit bitmap was
 * virtualized: a level-triggered one, whose EOI the I/O APIC still has to hear of, or any
 * while another vector waits (include/devices/vlapic.h); the entry path looks at the next one. */
enum exit_action handle_virtualized_eoi(struct vcpu *v)
{
    vlapic_eoi_exit(v, (uint8_t)(v->exit.qualification & QUAL_EOI_VECTOR));
    return EXIT_RESUME;
}

/* APIC write (31.4.3.3, trap-like): the value is in the virtual-APIC page at the offset the
 * qualification gives; the vLAPIC completes the write (ICR, LVT, timer, SVR, ESR, ...). */
enum exit_action handle_apic_write(struct vcpu *v)
{
    vlapic_apic_write(v, (uint32_t)(v->exit.qualification & QUAL_APIC_WRITE_OFFSET));
    return v->vm->state == VM_RUNNING ? EXIT_RESUME : EXIT_RESCHED;
}

enum exit_action handle_pause(struct vcpu *v)
{
    /* PAUSE-loop exit: the guest spins (waiting for a lock holder that may not be running).
     * Yield: the PAUSE is retired and another vCPU gets the CPU. */
    skip_instruction(v);
    return EXIT_RESCHED;
}

enum exit_action handle_rdpmc(struct vcpu *v)
{
    inject_gp(v); /* no performance counters are exposed (CPUID leaf 0xa is zero) */
    return EXIT_RESUME;
}

enum exit_action handle_preemption_timer(struct vcpu *v)
{
    struct vmx_cpu *p = this_vmx_cpu();
    p->switch_from = rdtsc(); /* the switch cost is measured from here to the next entry */
    p->switched_from = v;
    v->se.preempted = true; /* the slice is over: a forced switch */
    return EXIT_RESCHED;
}

enum exit_action handle_entry_failure(struct vcpu *v)
{
    return exit_stop_vm(v, v->exit.reason == EXIT_MSR_LOADING ? "VM-entry failure: MSR loading"
                                                              : "VM-entry failure: machine-check event");
}

/* The rules for XCR0 (SDM Vol. 1 13.3; XSETBV in Vol. 2D). mhv executes XSETBV itself with
 * the guest's value, so a value the CPU would refuse must never get that far: the #GP would
 * be mhv's. */
static bool valid_xcr0(uint64_t value, uint64_t supported)
{
    uint64_t avx512 = 7ull << 5, mpx = 3ull << 3, amx = 3ull << 17;
    if (!(value & 1) || (value & ~supported))
        return false;                                     /* x87 always; nothing unsupported */
    if ((value & 4) && !(value & 2))
        return false;                                     /* AVX needs SSE */
    if ((value & mpx) && (value & mpx) != mpx)
        return false;                                     /* BNDREG and BNDCSR together */
    if ((value & avx512) && ((value & avx512) != avx512 || !(value & 4)))
        return false;                                     /* opmask, ZMM_Hi256, Hi16_ZMM together, with AVX */
    if ((value & amx) && (value & amx) != amx)
        return false;                                     /* TILECFG and TILEDATA together */
    return true;
}

enum exit_action handle_xsetbv(struct vcpu *v)
{
    uint64_t value = (v->regs.gpr[GPR_RDX] << 32) | (uint32_t)v->regs.gpr[GPR_RAX];
    uint32_t index = (uint32_t)v->regs.gpr[GPR_RCX];
    struct cpuid_regs d = cpuid(0xd, 0);
    uint64_t supported = ((uint64_t)d.edx << 32) | d.eax;
    bool cpl0 = SEG_AR_DPL(vmcs_read32(v, VMCS_GUEST_SS_ACCESS)) == 0; /* SS.DPL is the CPL */
    if (!(v->cr4 & CR4_OSXSAVE)) {
        inject_ud(v); /* XSETBV is undefined until the OS enables XSAVE (SDM Vol. 2D XSETBV) */
        return EXIT_RESUME;
    }
    if (index != 0 || !cpl0 || !valid_xcr0(value, supported)) {
        inject_gp(v);
        return EXIT_RESUME;
    }
    v->xcr0 = value;
    __asm__ volatile("xsetbv" : : "c"(0), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)));
    skip_instruction(v);
    return EXIT_RESUME;
}

enum exit_action handle_random(struct vcpu *v)
{
    /* RDRAND/RDSEED exiting (only if enabled): run it here; the instruction information
     * names the destination register (SDM Vol. 3C table 29-15). */
    struct exit_insn_info_rand info = exit_insn_info_rand(v->exit.instruction_info);
    unsigned reg = info.reg, size = info.size;
    uint64_t value;
    uint8_t ok;
    if (v->exit.reason == EXIT_RDRAND)
        __asm__ volatile("rdrand %0; setc %1" : "=r"(value), "=r"(ok) : : "cc");
    else
        __asm__ volatile("rdseed %0; setc %1" : "=r"(value), "=r"(ok) : : "cc");
    if (size == 2)
        value = (v->regs.gpr[reg] & ~0xffffull) | (value & 0xffff);
    else if (size == 4)
        value = (uint32_t)value;
    v->regs.gpr[reg] = value;
    uint64_t rflags = vmcs_readnat(v, VMCS_GUEST_RFLAGS) & ~0x8d5ull; /* CF set on success, rest clear */
    vmcs_writenat(v, VMCS_GUEST_RFLAGS, rflags | (ok ? 1 : 0));
    skip_instruction(v);
    return EXIT_RESUME;
}

/* Reads `fields` into v->exit. Inline in both callers: exit_dispatch_rare for an exit's table
 * fields, exit_info_read for what a handler or the dump needs later. */
static inline __attribute__((always_inline)) void read_fields(struct vcpu *v, unsigned fields, bool first)
{
    struct exit_info *e = &v->exit;
    if (fields & EXIT_RIP)
        e->rip = vmcs_readnat(v, VMCS_GUEST_RIP);
    if (fields & EXIT_LENGTH)
        e->instruction_length = vmcs_read32(v, VMCS_EXIT_INSTRUCTION_LENGTH);
    if (fields & EXIT_QUALIFICATION)
        e->qualification = vmcs_readnat(v, VMCS_EXIT_QUALIFICATION);
    if (fields & EXIT_VECTORING) {
        uint32_t info = e->idt_vectoring_info = vmcs_read32(v, VMCS_IDT_VECTORING_INFO);
        /* The error code matters only with a valid event that has one; a software event
         * (types 4-6, bit 10 set) delivered again needs its instruction's length (SDM Vol. 3C
         * 29.2.5). */
        if ((info & (INFO_VALID | INFO_ERROR_CODE)) == (INFO_VALID | INFO_ERROR_CODE))
            e->idt_vectoring_error = vmcs_read32(v, VMCS_IDT_VECTORING_ERROR_CODE);
        if (__builtin_expect((info & (INFO_VALID | (4u << 8))) == (INFO_VALID | (4u << 8)), 0) &&
            !(fields & EXIT_LENGTH)) {
            e->instruction_length = vmcs_read32(v, VMCS_EXIT_INSTRUCTION_LENGTH);
            fields |= EXIT_LENGTH;
        }
    }
    if (fields & EXIT_INTERRUPTION) {
        e->interruption_info = vmcs_read32(v, VMCS_EXIT_INTERRUPTION_INFO);
        e->interruption_error = vmcs_read32(v, VMCS_EXIT_INTERRUPTION_ERROR_CODE);
    }
    if (fields & EXIT_INSTRUCTION_INFO)
        e->instruction_info = vmcs_read32(v, VMCS_EXIT_INSTRUCTION_INFO);
    if (fields & EXIT_LINEAR)
        e->guest_linear = vmcs_readnat(v, VMCS_GUEST_LINEAR_ADDRESS);
    if (fields & EXIT_PHYSICAL)
        e->guest_physical = vmcs_read64(v, VMCS_GUEST_PHYSICAL_ADDRESS);
    e->fields = (uint8_t)(first ? fields : e->fields | fields);
}

/* Reading a field the exit did not set is harmless (its value is undefined, SDM Vol. 3C
 * 29.2): the dump of a VM stop reads them all. */
void exit_info_read(struct vcpu *v, unsigned fields)
{
    read_fields(v, fields & ~v->exit.fields, false);
}

/* Debug builds check the SDM's word that only the table's DURING_EVENT reasons can interrupt
 * event delivery: an event lost here would vanish from the guest. */
void exit_check_no_vectoring(struct vcpu *v)
{
    uint32_t info = vmcs_read32(v, VMCS_IDT_VECTORING_INFO);
    if (info & INFO_VALID)
        panic("vm %s: vCPU %u: exit %u (%s) with IDT-vectoring information 0x%x, which the exit table does not "
              "expect", v->vm->name, v->id, v->exit.reason & 0xffff, exit_reason_name(v->exit.reason & 0xffff), info);
}

/* The rare exits (include/vmx/exit_dispatch.h): their fields, the NMI bookkeeping, the counts,
 * the handler. Out of line, so that the common path needs no registers saved. */
enum exit_action exit_dispatch_rare(struct vcpu *v, const struct exit_entry *row)
{
    /* MMIO's EPT violations are the common ones: their reads with the tests folded away. */
    if (row == &exit_table[EXIT_EPT_VIOLATION])
        read_fields(v, EXIT_EPT_VIOLATION_FIELDS, true);
    else
        read_fields(v, row->fields, true);
    /* A failed entry records its reason and qualification, not this field (SDM Vol. 3C 28.8). */
    if (MHV_DEBUG && !(row->fields & EXIT_VECTORING) && !(v->exit.reason & EXIT_REASON_ENTRY_FAILED))
        exit_check_no_vectoring(v);
    if (v->in_nmi_handler)
        inject_note_nmi_blocking(v);
    v->exits++;
    uint32_t basic = v->exit.reason & 0xffff;
    if (basic < EXIT_REASON_COUNT)
        v->exits_by_reason[basic]++;
    return row->handler(v);
}

static void dump_guest(struct vcpu *v)
{
    exit_info_read(v, EXIT_ALL_FIELDS);
    const struct exit_info *e = &v->exit;
    const uint64_t *r = v->regs.gpr;
    log_err("vm %s: vCPU %u exit %u (%s), qualification 0x%lx, instruction length %u, info 0x%x", v->vm->name,
            v->id, e->reason & 0xffff, exit_reason_name(e->reason & 0xffff), e->qualification,
            e->instruction_length, e->instruction_info);
    log_err("  guest linear 0x%lx, guest physical 0x%lx, interruption 0x%x/0x%x, IDT vectoring 0x%x/0x%x",
            e->guest_linear, e->guest_physical, e->interruption_info, e->interruption_error,
            e->idt_vectoring_info, e->idt_vectoring_error);
    log_err("  RIP=%016lx RSP=%016lx RFLAGS=%016lx CS=%04x SS=%04x", e->rip, vmcs_readnat(v, VMCS_GUEST_RSP),
            vmcs_readnat(v, VMCS_GUEST_RFLAGS), vmcs_read16(v, VMCS_GUEST_CS_SELECTOR),
            vmcs_read16(v, VMCS_GUEST_SS_SELECTOR));
    log_err("  CR0=%016lx CR3=%016lx CR4=%016lx EFER=%016lx", vmcs_readnat(v, VMCS_GUEST_CR0),
            vmcs_readnat(v, VMCS_GUEST_CR3), vmcs_readnat(v, VMCS_GUEST_CR4), vmcs_read64(v, VMCS_GUEST_EFER));
    log_err("  RAX=%016lx RBX=%016lx RCX=%016lx RDX=%016lx", r[GPR_RAX], r[GPR_RBX], r[GPR_RCX], r[GPR_RDX]);
    log_err("  RSI=%016lx RDI=%016lx RBP=%016lx R8=%016lx", r[GPR_RSI], r[GPR_RDI], r[GPR_RBP], r[GPR_R8]);
}

enum exit_action exit_stop_vm(struct vcpu *v, const char *why)
{
    dump_guest(v);
    vm_stop(v->vm, STOP_CRASH, 254, "%s (exit %u, %s, at RIP 0x%lx)", why, v->exit.reason & 0xffff,
            exit_reason_name(v->exit.reason & 0xffff), v->exit.rip);
    return EXIT_RESCHED;
}

void exit_log_reasons(const struct vm *vm)
{
    uint64_t counts[EXIT_REASON_COUNT] = { 0 };
    for (unsigned i = 0; i < vm->vcpu_count; i++)
        for (unsigned r = 0; r < EXIT_REASON_COUNT; r++)
            counts[r] += vm->vcpus[i]->exits_by_reason[r];
    /* Most frequent first, as "reason count" pairs on one line. */
    char line[640];
    int n = 0;
    for (;;) {
        unsigned best = EXIT_REASON_COUNT;
        for (unsigned r = 0; r < EXIT_REASON_COUNT; r++)
            if (counts[r] && (best == EXIT_REASON_COUNT || counts[r] > counts[best]))
                best = r;
        if (best == EXIT_REASON_COUNT || n >= (int)sizeof(line) - 64)
            break;
        n += ksnprintf(line + n, sizeof(line) - (size_t)n, "%s%s %lu", n ? ", " : "", exit_reason_name(best),
                       counts[best]);
        counts[best] = 0;
    }
    log_info("vm %s: exits: %s", vm->name, n ? line : "none");
}
