/* SPDX-License-Identifier: BSD-2-Clause */
/* The VM-exit table (SDM Vol. 3D appendix C; the pattern of KVM's kvm_vmx_exit_handlers[]):
 * every basic reason 0..69 has a name, a handler and the exit information fields its handler
 * reads (include/vmx/exit.h). Reasons mhv never enables, or that cannot happen here, go to
 * handle_unexpected, which stops the VM with a dump; one row past the reasons catches any
 * reason a newer CPU may report. tests/unit/test_exit.c checks that no row lacks a handler. */
#include "vmx/exit.h"

/* The fields by kind of exit. An instruction that exits and is performed by mhv needs RIP and
 * its length (SDM Vol. 3C 29.2.5); the rest say what else they read. */
#define INSTRUCTION (EXIT_RIP | EXIT_LENGTH)
/* Exits that can interrupt event delivery (SDM Vol. 3C 29.2.4): the event is delivered again
 * at the next entry unless the handler delivers it itself. */
#define DURING_EVENT (EXIT_RIP | EXIT_VECTORING)

const struct exit_entry exit_table[EXIT_REASON_COUNT + 1] = {
    [EXIT_EXCEPTION_NMI] = { "exception or NMI", handle_exception_nmi, DURING_EVENT | EXIT_INTERRUPTION },
    [EXIT_EXTERNAL_INTERRUPT] = { "external interrupt", handle_external_interrupt, 0 },
    [EXIT_TRIPLE_FAULT] = { "triple fault", handle_triple_fault, EXIT_RIP },
    [EXIT_INIT] = { "INIT signal", handle_init_sipi, 0 },
    [EXIT_SIPI] = { "start-up IPI", handle_init_sipi, 0 },
    [EXIT_IO_SMI] = { "I/O SMI", handle_unexpected, 0 },
    [EXIT_OTHER_SMI] = { "other SMI", handle_unexpected, 0 },
    [EXIT_INTERRUPT_WINDOW] = { "interrupt window", handle_window, 0 },
    [EXIT_NMI_WINDOW] = { "NMI window", handle_window, 0 },
    [EXIT_TASK_SWITCH] = { "task switch", handle_task_switch, DURING_EVENT | EXIT_LENGTH | EXIT_QUALIFICATION },
    [EXIT_CPUID] = { "CPUID", handle_cpuid, INSTRUCTION },
    [EXIT_GETSEC] = { "GETSEC", handle_raise_ud, EXIT_RIP },
    [EXIT_HLT] = { "HLT", handle_hlt, INSTRUCTION },
    [EXIT_INVD] = { "INVD", handle_skip_only, INSTRUCTION },
    [EXIT_INVLPG] = { "INVLPG", handle_unexpected, 0 },
    [EXIT_RDPMC] = { "RDPMC", handle_rdpmc, EXIT_RIP },
    [EXIT_RDTSC] = { "RDTSC", handle_unexpected, 0 },
    [EXIT_RSM] = { "RSM", handle_raise_ud, EXIT_RIP },
    [EXIT_VMCALL] = { "VMCALL", handle_vmcall, INSTRUCTION },
    [EXIT_VMCLEAR] = { "VMCLEAR", handle_raise_ud, EXIT_RIP },
    [EXIT_VMLAUNCH] = { "VMLAUNCH", handle_raise_ud, EXIT_RIP },
    [EXIT_VMPTRLD] = { "VMPTRLD", handle_raise_ud, EXIT_RIP },
    [EXIT_VMPTRST] = { "VMPTRST", handle_raise_ud, EXIT_RIP },
    [EXIT_VMREAD] = { "VMREAD", handle_raise_ud, EXIT_RIP },
    [EXIT_VMRESUME] = { "VMRESUME", handle_raise_ud, EXIT_RIP },
    [EXIT_VMWRITE] = { "VMWRITE", handle_raise_ud, EXIT_RIP },
    [EXIT_VMXOFF] = { "VMXOFF", handle_raise_ud, EXIT_RIP },
    [EXIT_VMXON] = { "VMXON", handle_raise_ud, EXIT_RIP },
    [EXIT_CR_ACCESS] = { "control-register access", handle_cr_access, INSTRUCTION | EXIT_QUALIFICATION },
    [EXIT_DR_ACCESS] = { "MOV DR", handle_unexpected, 0 },
    [EXIT_IO] = { "I/O instruction", handle_io, INSTRUCTION | EXIT_QUALIFICATION }, /* INS/OUTS read the info */
    [EXIT_RDMSR] = { "RDMSR", handle_rdmsr, INSTRUCTION },
    [EXIT_WRMSR] = { "WRMSR", handle_wrmsr, INSTRUCTION },
    [EXIT_INVALID_GUEST_STATE] = { "VM-entry failure: invalid guest state", handle_invalid_guest_state,
                                   EXIT_RIP | EXIT_QUALIFICATION },
    [EXIT_MSR_LOADING] = { "VM-entry failure: MSR loading", handle_entry_failure, EXIT_RIP },
    [35] = { "reserved (35)", handle_unexpected, 0 },
    [EXIT_MWAIT] = { "MWAIT", handle_raise_ud, EXIT_RIP },
    [EXIT_MONITOR_TRAP] = { "monitor trap flag", handle_unexpected, 0 },
    [38] = { "reserved (38)", handle_unexpected, 0 },
    [EXIT_MONITOR] = { "MONITOR", handle_raise_ud, EXIT_RIP },
    [EXIT_PAUSE] = { "PAUSE", handle_pause, INSTRUCTION },
    [EXIT_MACHINE_CHECK] = { "VM-entry failure: machine-check event", handle_entry_failure, EXIT_RIP },
    [42] = { "reserved (42)", handle_unexpected, 0 },
    [EXIT_TPR_BELOW_THRESHOLD] = { "TPR below threshold", handle_tpr_below_threshold, 0 },
    [EXIT_APIC_ACCESS] = { "APIC access", handle_apic_access, DURING_EVENT | EXIT_QUALIFICATION },
    [EXIT_VIRTUALIZED_EOI] = { "virtualized EOI", handle_virtualized_eoi, EXIT_QUALIFICATION },
    [EXIT_GDTR_IDTR] = { "access to GDTR or IDTR", handle_unexpected, 0 },
    [EXIT_LDTR_TR] = { "access to LDTR or TR", handle_unexpected, 0 },
    [EXIT_EPT_VIOLATION] = { "EPT violation", handle_ept_violation, EXIT_EPT_VIOLATION_FIELDS },
    [EXIT_EPT_MISCONFIG] = { "EPT misconfiguration", handle_ept_misconfig, DURING_EVENT | EXIT_PHYSICAL },
    [EXIT_INVEPT] = { "INVEPT", handle_raise_ud, EXIT_RIP },
    [EXIT_RDTSCP] = { "RDTSCP", handle_unexpected, 0 },
    [EXIT_PREEMPTION_TIMER] = { "VMX-preemption timer expired", handle_preemption_timer, 0 },
    [EXIT_INVVPID] = { "INVVPID", handle_raise_ud, EXIT_RIP },
    [EXIT_WBINVD] = { "WBINVD", handle_skip_only, INSTRUCTION },
    [EXIT_XSETBV] = { "XSETBV", handle_xsetbv, INSTRUCTION },
    [EXIT_APIC_WRITE] = { "APIC write", handle_apic_write, EXIT_QUALIFICATION },
    [EXIT_RDRAND] = { "RDRAND", handle_random, INSTRUCTION | EXIT_INSTRUCTION_INFO },
    [EXIT_INVPCID] = { "INVPCID", handle_unexpected, 0 },
    [EXIT_VMFUNC] = { "VMFUNC", handle_raise_ud, EXIT_RIP },
    [EXIT_ENCLS] = { "ENCLS", handle_raise_ud, EXIT_RIP },
    [EXIT_RDSEED] = { "RDSEED", handle_random, INSTRUCTION | EXIT_INSTRUCTION_INFO },
    [EXIT_PML_FULL] = { "page-modification log full", handle_unexpected, DURING_EVENT },
    [EXIT_XSAVES] = { "XSAVES", handle_unexpected, 0 },
    [EXIT_XRSTORS] = { "XRSTORS", handle_unexpected, 0 },
    [EXIT_PCONFIG] = { "PCONFIG", handle_raise_ud, EXIT_RIP },
    [EXIT_SPP] = { "SPP-related event", handle_unexpected, DURING_EVENT },
    [EXIT_UMWAIT] = { "UMWAIT", handle_raise_ud, EXIT_RIP },
    [EXIT_TPAUSE] = { "TPAUSE", handle_raise_ud, EXIT_RIP },
    [EXIT_LOADIWKEY] = { "LOADIWKEY", handle_raise_ud, EXIT_RIP },
    [EXIT_REASON_COUNT] = { "unknown", handle_unexpected, EXIT_ALL_FIELDS }, /* for the dump */
};

const char *exit_reason_name(uint32_t basic)
{
    return exit_table_row(basic)->name;
}
