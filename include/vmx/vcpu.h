/* Virtual CPUs: a VMCS, the guest's registers, and the load/put discipline around the per-CPU
 * current_vmcs (the pattern of KVM's vmx_vcpu_load/vmx_vcpu_put). */
#ifndef MHV_VMX_VCPU_H
#define MHV_VMX_VCPU_H

#include <stdbool.h>
#include <stdint.h>

#include "sched/sched.h"
#include "vmx/decode.h"
#include "vmx/exit.h"

struct vm;
struct vlapic;

enum vcpu_state {
    VCPU_WAIT_FOR_SIPI, /* a secondary vCPU before the guest starts it with INIT/SIPI */
    VCPU_RUNNABLE,
    VCPU_BLOCKED,       /* HLT with nothing to deliver */
    VCPU_STOPPED,
};

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
    int home_cpu;          /* CPU whose run queue holds it */
    volatile enum vcpu_state state;
    bool migrate_stress;   /* testing: move to another CPU after every slice */
    volatile bool halted_for_good; /* HLT with interrupts off: only an NMI or INIT resumes it */
    volatile int sipi_vector; /* >= 0: a STARTUP IPI arrived; the running CPU sets up real mode */
    volatile bool init_pending; /* an INIT arrived: the running CPU resets the vCPU first */

    /* Guest-visible state mhv keeps outside the VMCS. */
    uint64_t cr0, cr4;     /* as the guest wrote them (the VMCS has the values in force) */
    uint64_t xcr0;
    void *xsave_area;      /* extended state while another vCPU uses this CPU (XSAVE layout) */
    uint32_t xsave_size;   /* its size: every component the CPU supports (CPUID 0xd.0 ECX) */
    uint64_t kernel_gs_base, star, lstar, cstar, sfmask; /* passed through, switched lazily */
    uint64_t mtrr_def_type;

    /* Events to deliver (bits EVENT_*, vmx/inject.h): an exception on the next entry; an
     * external interrupt or NMI as soon as the guest can take it. */
    uint8_t pending_events;
    struct vlapic *lapic;  /* its local APIC (vm/vlapic.c) */
    int64_t tsc_offset;    /* the VMCS TSC offset, readable from any CPU */
    int64_t tsc_adjust;    /* IA32_TSC_ADJUST */
    uint32_t pending_info, pending_error;

    struct exit_info exit; /* the last VM exit */
    struct sched_entity se;
    uint64_t exits, migrations;
    uint64_t exits_by_reason[EXIT_REASON_COUNT];
};

#define VCPU_LAUNCHED_OFFSET (GPR_COUNT * 8 + 8)
#define VCPU_HOST_RSP_OFFSET (GPR_COUNT * 8 + 16)

/* Creates vCPU `id` of vm with its VMCS filled in (controls, host state, reset guest state). */
struct vcpu *vcpu_create(struct vm *vm, unsigned id);

/* Makes v's VMCS current on this CPU: VMCLEARs it on the CPU that last had it (cross-CPU
 * call), VMPTRLD unless already current_vmcs, rewrites the per-CPU host fields, flushes stale
 * EPT/VPID translations when v arrives from another CPU, and switches lazily held state. */
void vcpu_load(struct vcpu *v);
/* Leaves v's VMCS active on this CPU (another CPU's vcpu_load will VMCLEAR it here). */
void vcpu_put(struct vcpu *v);

/* VMCLEAR on this CPU, keeping current_vmcs and v->launched in step. */
void vcpu_vmclear_here(struct vcpu *v);

/* Guest register state at entry, for the loaders (vmx/vcpu.c, vmx/guest_modes.c). */
void vcpu_set_real_mode(struct vcpu *v, uint16_t cs, uint16_t ip);
/* Back to the state of a new vCPU (registers, VMCS guest state, extended state, events,
 * timer); v's VMCS must be current here (vcpu_load). Its scheduling state is the caller's. */
void vcpu_reset(struct vcpu *v);

#endif
