/* SPDX-License-Identifier: BSD-2-Clause */
/* VM exits: the information read once per exit, and the dispatch table (vmx/exit.c). */
#ifndef MHV_VMX_EXIT_H
#define MHV_VMX_EXIT_H

#include <stdint.h>

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

/* The exit information (SDM Vol. 3C 29.2), each field read with VMREAD at most once per exit:
 * the ones every exit needs by exit_dispatch, the others by exit_info_read_details() when a
 * handler first needs them (string I/O, EPT violations, exceptions, ...). */
struct exit_info {
    uint32_t reason;           /* full field; basic reason in bits 15:0 */
    uint64_t qualification;
    uint32_t instruction_length;
    uint32_t idt_vectoring_info, idt_vectoring_error;
    uint64_t rip;
    /* details, valid once details_read is set */
    int details_read;
    uint32_t instruction_info;
    uint64_t guest_linear;
    uint64_t guest_physical;
    uint32_t interruption_info, interruption_error;
};

void exit_info_read_details(struct vcpu *v);

/* Puts back the virtual-NMI blocking an IRET lifted when the exit interrupted it (bit 12 of
 * `field`, the exit qualification or interruption information: vmx/exit.c). The test is
 * inline: EPT violations (every MMIO access) pass here, and bit 12 is almost never set. */
void exit_restore_nmi_blocking(struct vcpu *v);
static inline void exit_keep_nmi_blocked_in_iret(struct vcpu *v, uint32_t field)
{
    if (__builtin_expect(field & (1u << 12), 0))
        exit_restore_nmi_blocking(v);
}

/* What the run loop does after a handler. */
enum exit_action {
    EXIT_RESUME,    /* re-enter the guest */
    EXIT_RESCHED,   /* give the CPU back to the run loop (blocked, slice over, VM stopped) */
};

typedef enum exit_action (*exit_handler_fn)(struct vcpu *v);

/* Reads the exit information into v->exit and runs the handler for its reason. */
enum exit_action exit_dispatch(struct vcpu *v);
const char *exit_reason_name(uint32_t basic_reason);
struct vm;
/* One log line: the VM's exits by reason, most frequent first ("vm x: exits: HLT 10, ..."). */
void exit_log_reasons(const struct vm *vm);

/* Stops v's VM after an exit mhv cannot serve, with a dump of the exit and the guest state. */
enum exit_action exit_stop_vm(struct vcpu *v, const char *why);

struct vm;
/* Opens the MSR bitmap for the MSRs guests use directly (vmx/exit_msr.c). */
void msr_setup_bitmap(struct vm *vm);

/* Handlers, one file per family (vmx/exit_*.c). */
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
