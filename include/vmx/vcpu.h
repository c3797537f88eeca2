/* SPDX-License-Identifier: BSD-2-Clause */
/* Virtual CPUs: a VMCS, the guest's registers, and the load/put discipline around the per-CPU
 * current_vmcs (the pattern of KVM's vmx_vcpu_load/vmx_vcpu_put). */
#ifndef MHV_VMX_VCPU_H
#define MHV_VMX_VCPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sched/sched.h"
#include "vmx/decode.h"
#include "vmx/exit.h"

struct vm;
struct vlapic;

/* A vCPU is a scheduling entity (sched/sched.h, v->se); its states are the entity's, named
 * for what they mean to a vCPU. */
#define VCPU_WAIT_FOR_SIPI ENTITY_PARKED /* a secondary vCPU before the guest starts it with INIT/SIPI */
#define VCPU_RUNNABLE ENTITY_RUNNABLE
#define VCPU_BLOCKED ENTITY_BLOCKED      /* HLT with nothing to deliver */
#define VCPU_STOPPED ENTITY_STOPPED

/* Saved guest registers. gpr[] is in x86 encoding order (enum gpr); gpr[GPR_RSP] is only a
 * copy of the VMCS field, refreshed when an exit handler needs it. cr2 is saved only when the
 * vCPU leaves its CPU (the register keeps it in between). */
struct vcpu_regs {
    uint64_t gpr[GPR_COUNT];
    uint64_t cr2;
};

struct vcpu {
    struct vcpu_regs regs; /* must stay first: vmx/entry.asm addresses it */
    uint8_t launched;      /* offset VCPU_LAUNCHED_OFFSET: VMRESUME, not VMLAUNCH */
    uint64_t host_rsp;     /* offset VCPU_HOST_RSP_OFFSET: HOST_RSP last written to the VMCS */

    struct vm *vm;
    unsigned id;
    uint16_t vpid;
    uint64_t vmcs;         /* physical address of this vCPU's VMCS region */
    int last_cpu;          /* CPU on which the VMCS is active, -1 after VMCLEAR */
    volatile bool halted_for_good; /* HLT with interrupts off: only an NMI or INIT resumes it */
    volatile bool halted_in_nmi;   /* that HLT ran in its NMI handler: an NMI does not end it */
    bool in_nmi_handler;   /* virtual-NMI blocking, as mhv knows it (vmx/inject.c, inject_note_nmi_blocking) */
    volatile uint32_t init_requests; /* INITs sent to it (any CPU adds one) ... */
    uint32_t init_handled;           /* ... and those its CPU has taken: more sent means pending */
    /* A STARTUP IPI that arrived while the vCPU waited for one (or had an INIT pending), kept
     * for the CPU that runs it (vmx/run.c): STARTUP_KEPT | vector, and in bits 63:32 the count
     * of INITs sent before it, which says the INIT it belongs to; 0 when none. */
    volatile uint64_t startup;
    bool awaiting_startup; /* an AP after its INIT, until a STARTUP starts it (its CPU's only) */

    /* Guest-visible state mhv keeps outside the VMCS. */
    uint64_t cr0, cr4;     /* as the guest wrote them (the VMCS has the values in force) */
    uint64_t xcr0;
    void *xsave_area;      /* extended state while another vCPU uses this CPU (XSAVE layout) */
    uint32_t xsave_size;   /* its size: every component the CPU supports (CPUID 0xd.0 ECX) */
    uint64_t kernel_gs_base, star, lstar, cstar, sfmask; /* passed through, switched lazily */
    uint64_t tsc_aux;      /* passed through with RDTSCP (vcpu_rdtscp()), switched lazily */
    uint64_t dr[4], dr6;   /* DR0-DR3 and DR6, guest-owned (no MOV-DR exits), switched lazily */
    uint64_t mtrr_def_type;
    uint64_t misc_enable;  /* IA32_MISC_ENABLE (vmx/exit_msr.c) */
    uint32_t cpuid_filtered; /* basic leaves 0-31 vmx/exit_cpuid.c filters for this vCPU (a bit each) */

    /* Events to deliver (bits EVENT_*, vmx/inject.h): an exception on the next entry; an
     * external interrupt or NMI as soon as the guest can take it. */
    uint8_t pending_events;
    uint8_t nmi_pending;          /* NMIs to deliver, at most 2 (one in service, one latched) */
    uint8_t debug_hits;           /* B0-B3: breakpoints accesses mhv performed hit (vmx/debug_break.c) */
    volatile uint32_t nmi_queued; /* NMIs other CPUs sent since the entry path last looked */
    volatile bool extint_pending; /* an ExtINT message waits for the 8259's acknowledge (vlapic_extint) */
    struct vlapic *lapic;  /* its local APIC (devices/vlapic.c) */
    int64_t tsc_offset;    /* the VMCS TSC offset, readable from any CPU */
    int64_t tsc_adjust;    /* IA32_TSC_ADJUST */
    uint32_t pending_info, pending_error;

    struct exit_info exit; /* the last VM exit */
    uint64_t slice_end;    /* TSC at which the running slice ends in real time (vmx/run.c) */
    struct sched_entity se; /* its scheduling: state, queue, weight, slice, affinity, timers */
    struct vtimer hypercall_timer; /* the TIMER hypercall's one-shot (vmx/hypercall.c) */
    uint8_t timer_vector;          /* ...and the vector it raises */
    uint64_t exits, migrations;
    uint64_t exits_by_reason[EXIT_REASON_COUNT];
};

/* Changes v's state from `from` to `to` if it is still `from`: states that other CPUs change
 * too (waking a blocked vCPU, INIT/SIPI, a VM stop) move only by such swaps, so no change is
 * lost to another made at the same time. */
static inline bool vcpu_state_swap(struct vcpu *v, enum entity_state from, enum entity_state to)
{
    return sched_state_swap(&v->se, from, to);
}

static inline struct vcpu *vcpu_of(struct sched_entity *e)
{
    return (struct vcpu *)((char *)e - offsetof(struct vcpu, se));
}

#define STARTUP_KEPT (1u << 8)

/* An INIT was sent that the CPU running v has not taken yet (vmx/run.c). */
static inline bool vcpu_init_pending(const struct vcpu *v)
{
    return __atomic_load_n(&v->init_requests, __ATOMIC_SEQ_CST) != v->init_handled;
}

#define VCPU_LAUNCHED_OFFSET (GPR_COUNT * 8 + 8)
#define VCPU_HOST_RSP_OFFSET (GPR_COUNT * 8 + 16)

#define MISC_ENABLE_RESET ((1ull << 0) | (1ull << 11) | (1ull << 12)) /* fast strings; no BTS, no PEBS */
#define MISC_ENABLE_WRITABLE ((1ull << 0) | (1ull << 3) | (1ull << 16) | (1ull << 18) | (1ull << 22) | \
                              (1ull << 23) | (1ull << 34))
#define MISC_ENABLE_LIMIT_CPUID (1ull << 22)
#define MISC_ENABLE_XD_DISABLE (1ull << 34)

/* Whether guests have RDTSCP/RDPID and their own IA32_TSC_AUX. */
bool vcpu_rdtscp(void);

/* A guest's WRMSR to IA32_STAR, LSTAR, CSTAR, FMASK or TSC_AUX, checked by vmx/exit_msr.c: the
 * writes exit, so the vCPU always knows these values and vcpu_load needs no RDMSR to save them
 * when another vCPU takes the CPU. */
void vcpu_write_lazy_msr(struct vcpu *v, uint32_t msr, uint64_t value);

/* Something that changes what CPUID shows this vCPU (IA32_MISC_ENABLE) changed: recompute which
 * leaves need filtering (vmx/exit_cpuid.c). */
void vcpu_cpuid_view_changed(struct vcpu *v);

/* Creates vCPU `id` of vm with its VMCS filled in (controls, host state, reset guest state). */
struct vcpu *vcpu_create(struct vm *vm, unsigned id);

/* Makes v's VMCS current on this CPU: VMCLEARs it on the CPU that last had it (cross-CPU
 * call), VMPTRLD unless already current_vmcs, rewrites the per-CPU host fields, flushes stale
 * EPT/VPID translations when v arrives from another CPU, and switches lazily held state.
 * Returns 0, or -1 when the CPU holding v's VMCS did not take the VMCLEAR within a bounded
 * time (it is busy): v is then untouched and still active there; try again later or run it
 * there. A vCPU never active elsewhere always loads. */
int vcpu_load(struct vcpu *v);
/* Leaves v's VMCS active on this CPU (another CPU's vcpu_load will VMCLEAR it here). Nothing
 * to flush: the lazily switched state is saved when another vCPU needs the CPU. */
static inline void vcpu_put(struct vcpu *v)
{
    (void)v;
}

/* The vCPU's local APIC changed mode (enabled, disabled, x2APIC, moved): the VMCS uses the
 * APIC virtualisation mhv chose (vlapic_assist) while it is an xAPIC at the default base and
 * none of it otherwise; "virtualize APIC accesses" stays on, so that without a TPR shadow
 * every access to the APIC-access page, which all VMs share, exits (SDM Vol. 3C 31.4.1).
 * Called with v's VMCS current (its own exit handler, reset). */
void vcpu_apic_mode_changed(struct vcpu *v);

/* INVVPID for v's linear translations (SDM Vol. 3C 31.3), after mhv changed its paging (a task
 * switch's CR3). */
void vcpu_flush_guest_tlb(struct vcpu *v);

/* VMCLEAR on this CPU, keeping current_vmcs and v->launched in step. */
void vcpu_vmclear_here(struct vcpu *v);

/* Real-address mode at cs:ip (start_state_real_mode, applied: vmx/vcpu_start.c), for RESET,
 * INIT and STARTUP; v's VMCS must be current here. */
void vcpu_set_real_mode(struct vcpu *v, uint16_t cs, uint16_t ip);
/* Back to the state of a new vCPU (registers, VMCS guest state, extended state, events,
 * timer, its local APIC as firmware leaves it); v's VMCS must be current here (vcpu_load).
 * Its scheduling state is the caller's. */
void vcpu_reset(struct vcpu *v);
/* An INIT signal (SDM Vol. 3A 9.1): the same, but the local APIC only returns to its power-up
 * registers (ID, base and mode stay); the bootstrap vCPU then starts at the reset vector as
 * F000:FFF0 (CS base 0xF0000, where the VM's firmware stub is; vm/firmware.c), the others wait
 * for a STARTUP IPI. v's VMCS must be current here. */
void vcpu_init_signal(struct vcpu *v);

#endif
