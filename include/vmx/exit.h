/* SPDX-License-Identifier: BSD-2-Clause */
/* VM exits: the information read once per exit, and the dispatch table (vmx/exit.c). */
#ifndef MHV_VMX_EXIT_H
#define MHV_VMX_EXIT_H

#include <stdbool.h>
#include <stdint.h>

#include "vmx/exit_qual.h"

struct vcpu;

/* Basic exit reasons (SDM Vol. 3D appendix C); the table covers 0..69. */
enum exit_reason {
    EXIT_EXCEPTION_NMI = 0, EXIT_EXTERNAL_INTERRUPT = 1, EXIT_TRIPLE_FAULT = 2, EXIT_INIT = 3,
    EXIT_SIPI = 4, EXIT_IO_SMI = 5, EXIT_OTHER_SMI = 6, EXIT_INTERRUPT_WINDOW = 7, EXIT_NMI_WINDOW = 8,
    EXIT_TASK_SWITCH = 9, EXIT_CPUID = 10, EXIT_GETSEC = 11, EXIT_HLT = 12, EXIT_INVD = 13,
    EXIT_INVLPG = 14, EXIT_RDPMC = 15, EXIT_RDTSC = 16, EXIT_RSM = 17, EXIT_VMCALL = 18,
    EXIT_VMCLEAR = 19, EXIT_VMLAUNCH = 20, EXIT_VMPTRLD = 21, EXIT_VMPTRST = 22, EXIT_VMREAD = 23,
    EXIT_VMRESUME = 24, EXIT_VMWRITE = 25, EXIT_VMXOFF = 26, EXIT_VMXON = 27, EXIT_CR_ACCESS = 28,
    EXIT_DR_ACCESS = 29, EXIT_IO = 30, EXIT_RDMSR = 31, EXIT_WRMSR = 32, EXIT_INVALID_GUEST_STATE = 33,
    EXIT_MSR_LOADING = 34, EXIT_MWAIT = 36, EXIT_MONITOR_TRAP = 37, EXIT_MONITOR = 39, EXIT_PAUSE = 40,
    EXIT_MACHINE_CHECK = 41, EXIT_TPR_BELOW_THRESHOLD = 43, EXIT_APIC_ACCESS = 44, EXIT_VIRTUALIZED_EOI = 45,
    EXIT_GDTR_IDTR = 46, EXIT_LDTR_TR = 47, EXIT_EPT_VIOLATION = 48, EXIT_EPT_MISCONFIG = 49,
    EXIT_INVEPT = 50, EXIT_RDTSCP = 51, EXIT_PREEMPTION_TIMER = 52, EXIT_INVVPID = 53, EXIT_WBINVD = 54,
    EXIT_XSETBV = 55, EXIT_APIC_WRITE = 56, EXIT_RDRAND = 57, EXIT_INVPCID = 58, EXIT_VMFUNC = 59,
    EXIT_ENCLS = 60, EXIT_RDSEED = 61, EXIT_PML_FULL = 62, EXIT_XSAVES = 63, EXIT_XRSTORS = 64,
    EXIT_PCONFIG = 65, EXIT_SPP = 66, EXIT_UMWAIT = 67, EXIT_TPAUSE = 68, EXIT_LOADIWKEY = 69,
    EXIT_REASON_COUNT = 70,
};

#define EXIT_REASON_ENTRY_FAILED (1u << 31) /* bit 31 of the exit reason field */

/* The event types of the interruption-information formats, bits 10:8 (INFO_TYPE(), SDM Vol. 3C
 * 26.8.3 and 26.9.2-3: the VM-entry, VM-exit and IDT-vectoring fields). */
enum event_type {
    EVENT_TYPE_EXTERNAL = 0, EVENT_TYPE_NMI = 2, EVENT_TYPE_HW_EXCEPTION = 3, EVENT_TYPE_SW_INTERRUPT = 4,
    EVENT_TYPE_PRIV_SW_EXCEPTION = 5, EVENT_TYPE_SW_EXCEPTION = 6,
};
/* INT n, INT1, INT3 and INTO: delivered again, they need their instruction's length. */
static inline bool event_type_software(unsigned type)
{
    return type == EVENT_TYPE_SW_INTERRUPT || type == EVENT_TYPE_PRIV_SW_EXCEPTION || type == EVENT_TYPE_SW_EXCEPTION;
}

/* The exit information fields a handler may need (SDM Vol. 3C 29.2), a bit each. The exit
 * table (vmx/exit_table.c) says per reason which ones its handler reads, and exit_dispatch
 * reads those and no others: a VMREAD costs, and CPUID or VMCALL need only RIP and the
 * instruction length. IDT-vectoring information is valid only for exits that can interrupt
 * the delivery of an event: exceptions, task switches through a gate, APIC accesses, EPT
 * violations and misconfigurations, PML-full and SPP-related exits (SDM Vol. 3C 29.2.4 "VM exits
 * that occur during event delivery"); for every other reason the field is invalid and mhv
 * takes it as 0 without reading it (debug builds read it and check). */
enum exit_field {
    EXIT_RIP = 1u << 0,          /* the guest's RIP at the exit */
    EXIT_LENGTH = 1u << 1,       /* VM-exit instruction length */
    EXIT_QUALIFICATION = 1u << 2,
    EXIT_VECTORING = 1u << 3,    /* IDT-vectoring information, its error code, and the instruction
                                  * length when the event was a software one (re-injection) */
    EXIT_INTERRUPTION = 1u << 4, /* VM-exit interruption information and error code */
    EXIT_INSTRUCTION_INFO = 1u << 5,
    EXIT_LINEAR = 1u << 6,       /* guest-linear address */
    EXIT_PHYSICAL = 1u << 7,     /* guest-physical address */
    EXIT_ALL_FIELDS = 0xff,
    /* An EPT violation: where it happened, with what access, during what (vmx/exit_ept.c). */
    EXIT_EPT_VIOLATION_FIELDS = EXIT_RIP | EXIT_VECTORING | EXIT_QUALIFICATION | EXIT_LINEAR | EXIT_PHYSICAL,
};

/* The exit information of the last exit. A field is valid when its bit is in `fields`;
 * idt_vectoring_info is always valid (0 for reasons that cannot have it). */
struct exit_info {
    uint32_t reason;           /* full field; basic reason in bits 15:0 */
    uint8_t fields;            /* enum exit_field: the ones read so far */
    uint64_t qualification;    /* raw; the handler decodes it once (vmx/exit_qual.h) */
    uint32_t instruction_length;
    uint32_t idt_vectoring_info, idt_vectoring_error;
    uint64_t rip;
    uint32_t instruction_info;
    uint64_t guest_linear;
    uint64_t guest_physical;
    uint32_t interruption_info, interruption_error;
};

/* Reads the fields in `fields` not read yet for this exit (out of line: the table's flags
 * cover the common paths; this serves the rare ones, such as string I/O's instruction
 * information and the dump of a VM stop). */
void exit_info_read(struct vcpu *v, unsigned fields);

/* Puts back the virtual-NMI blocking an IRET lifted when the exit interrupted it (bit 12 of
 * `field`, the exit qualification or interruption information: vmx/exit.c). The test is
 * inline: EPT violations (every MMIO access) pass here, and bit 12 is almost never set. */
void exit_restore_nmi_blocking(struct vcpu *v);
static inline void exit_keep_nmi_blocked_in_iret(struct vcpu *v, uint32_t field)
{
    if (__builtin_expect(field & QUAL_NMI_UNBLOCKED_BY_IRET, 0))
        exit_restore_nmi_blocking(v);
}

/* What the run loop does after a handler. */
enum exit_action {
    EXIT_RESUME,    /* re-enter the guest */
    EXIT_RESCHED,   /* give the CPU back to the run loop (blocked, slice over, VM stopped) */
};

typedef enum exit_action (*exit_handler_fn)(struct vcpu *v);

/* One row of the exit table (vmx/exit_table.c): the reason's name, its handler, and the exit
 * information fields (enum exit_field) exit_dispatch reads before calling it. */
struct exit_entry {
    const char *name;
    exit_handler_fn handler;
    uint8_t fields;
};

/* Rows 0..EXIT_REASON_COUNT - 1 for the basic reasons, every one with a handler; the last row
 * catches any reason beyond them (a newer CPU's). */
extern const struct exit_entry exit_table[EXIT_REASON_COUNT + 1];

/* The row of a basic exit reason: a reason outside the table gets the last row, whose handler
 * stops the VM, so no value of the field reaches a missing handler. */
static inline const struct exit_entry *exit_table_row(uint32_t basic)
{
    return &exit_table[basic < EXIT_REASON_COUNT ? basic : EXIT_REASON_COUNT];
}

/* exit_dispatch (include/vmx/exit_dispatch.h) for the exits with fields beyond RIP, length and
 * qualification, reasons outside the table, and exits in the guest's NMI handler. */
enum exit_action exit_dispatch_rare(struct vcpu *v, const struct exit_entry *row);
/* Debug builds: panics if the exit interrupted event delivery (the table says it cannot). */
void exit_check_no_vectoring(struct vcpu *v);
const char *exit_reason_name(uint32_t basic_reason);
struct vm;
/* One log line: the VM's exits by reason, most frequent first ("vm x: exits: HLT 10, ..."). */
void exit_log_reasons(const struct vm *vm);

/* Stops v's VM after an exit mhv cannot serve, with a dump of the exit and the guest state. */
enum exit_action exit_stop_vm(struct vcpu *v, const char *why);

/* Opens the MSR bitmap for the MSRs guests use directly (vmx/exit_msr.c). */
void msr_setup_bitmap(struct vm *vm);

/* Handlers (the exit table's), one file per family: vmx/exit.c has the small ones. */
enum exit_action handle_unexpected(struct vcpu *v); /* stops the VM: an exit mhv does not handle */
enum exit_action handle_raise_ud(struct vcpu *v);
enum exit_action handle_skip_only(struct vcpu *v);
enum exit_action handle_exception_nmi(struct vcpu *v);
enum exit_action handle_external_interrupt(struct vcpu *v);
enum exit_action handle_triple_fault(struct vcpu *v);
enum exit_action handle_init_sipi(struct vcpu *v);
enum exit_action handle_window(struct vcpu *v);
enum exit_action handle_hlt(struct vcpu *v);
enum exit_action handle_tpr_below_threshold(struct vcpu *v);
enum exit_action handle_apic_access(struct vcpu *v);
enum exit_action handle_virtualized_eoi(struct vcpu *v);
enum exit_action handle_apic_write(struct vcpu *v);
enum exit_action handle_pause(struct vcpu *v);
enum exit_action handle_rdpmc(struct vcpu *v);
enum exit_action handle_preemption_timer(struct vcpu *v);
enum exit_action handle_entry_failure(struct vcpu *v);
enum exit_action handle_xsetbv(struct vcpu *v);
enum exit_action handle_random(struct vcpu *v);
enum exit_action handle_cpuid(struct vcpu *v);
enum exit_action handle_rdmsr(struct vcpu *v);
enum exit_action handle_wrmsr(struct vcpu *v);
enum exit_action handle_io(struct vcpu *v);
enum exit_action handle_cr_access(struct vcpu *v);
enum exit_action handle_vmcall(struct vcpu *v);
enum exit_action handle_ept_violation(struct vcpu *v);
struct mmio_handler;
/* Decodes the instruction at the guest's RIP, performs its access on device h (gpa inside
 * h's range) and retires it: the EPT-violation and APIC-access exits share it. */
enum exit_action exit_emulate_mmio(struct vcpu *v, const struct mmio_handler *h, uint64_t gpa);
enum exit_action handle_ept_misconfig(struct vcpu *v);
/* Hardware task switches of 32-bit guests (vmx/exit_task_switch.c). */
enum exit_action handle_task_switch(struct vcpu *v);
enum exit_action handle_invalid_guest_state(struct vcpu *v);

#endif
