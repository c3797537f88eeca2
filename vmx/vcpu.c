/* SPDX-License-Identifier: BSD-2-Clause */
/* vCPU creation, VMCS setup and the load/put discipline (SDM Vol. 3C chapter 26 "VMCS", 25.11
 * "Software Use of the VMCS and Related Structures"). */
#include "vmx/vcpu.h"

#include "arch/x86/cpu.h"
#include "arch/x86/gdt.h"
#include "arch/x86/msr.h"
#include "arch/x86/percpu.h"
#include "arch/x86/trap.h"
#include "arch/x86/xcall.h"
#include "kernel/heap.h"
#include "kernel/log.h"
#include "kernel/options.h"
#include "kernel/page_alloc.h"
#include "kernel/panic.h"
#include "lib/format.h"
#include "lib/string.h"
#include "vm/platform.h"
#include "devices/vlapic.h"
#include "vm/vm.h"
#include "vmx/caps.h"
#include "vmx/ept.h"
#include "vmx/preflight.h"
#include "vmx/run.h"
#include "vmx/vmcs.h"
#include "vmx/vm_error.h"
#include "vmx/vmx_cpu.h"

_Static_assert(__builtin_offsetof(struct vcpu, launched) == VCPU_LAUNCHED_OFFSET, "entry.asm offsets");
_Static_assert(__builtin_offsetof(struct vcpu, host_rsp) == VCPU_HOST_RSP_OFFSET, "entry.asm offsets");


/* Controls mhv asks for beyond the required ones (vmx/caps.c checked those at boot). */
#define PROC_USE_TSC_OFFSETTING (1u << 3)
#define PROC_CR8_LOAD_EXITING (1u << 19)
#define PROC_CR8_STORE_EXITING (1u << 20)
#define PROC_MWAIT_EXITING (1u << 10)
#define PROC_RDPMC_EXITING (1u << 11)
#define PROC_MONITOR_EXITING (1u << 29)
#define PROC2_WBINVD_EXITING (1u << 6)
#define APIC_ASSIST_PROC2 (PROC2_VIRTUALIZE_APIC | PROC2_APIC_REGISTER_VIRT)
#define EXIT_SAVE_DEBUG (1u << 2)
#define EXIT_SAVE_PAT (1u << 18)
#define EXIT_LOAD_PAT (1u << 19)
#define EXIT_SAVE_PREEMPTION_TIMER (1u << 22)
#define ENTRY_LOAD_DEBUG (1u << 2)
#define ENTRY_LOAD_PAT (1u << 14)

extern void vmx_exit_entry(void); /* vmx/entry.asm: HOST_RIP */

static uint16_t next_vpid = 1;

/* (wanted | must-be-one) & may-be-one (SDM Vol. 3D A.3-A.5). */
static uint32_t control(enum vmx_ctl ctl, uint32_t wanted)
{
    return (wanted | vmx_boot_caps.must_be_one[ctl]) & vmx_boot_caps.may_be_one[ctl];
}

static bool allowed(enum vmx_ctl ctl, uint32_t bits)
{
    return vmx_ctl_allowed(&vmx_boot_caps, ctl, bits);
}

static bool host_xsave;
static uint64_t xcr0_all; /* every state component the CPU supports (CPUID 0xd.0 EDX:EAX) */

/* RDTSCP for guests where the CPU has it and VMX lets them run it (SDM Vol. 3C 26.6.2); RDPID
 * needs the same control. TSC_AUX then belongs to the guest, switched with the lazy state. */
bool vcpu_rdtscp(void)
{
    static int enabled = -1;
    if (enabled < 0)
        enabled = (cpuid(0x80000001, 0).edx & (1u << 27)) && allowed(CTL_PROC2, PROC2_RDTSCP);
    return enabled;
}

static void xsetbv0(uint64_t value)
{
    __asm__ volatile("xsetbv" : : "c"(0), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)));
}

/* Saves the guest state that lives in this CPU's registers rather than the VMCS: what VM
 * entry and exit do not switch (SDM Vol. 3C 28.3, 29.5) and mhv itself never uses, so it
 * stays in the registers until another vCPU needs them: CR2, the debug registers DR0-DR3 and
 * DR6 (DR7 and IA32_DEBUGCTL are in the VMCS), IA32_KERNEL_GS_BASE (SWAPGS changes it without
 * an exit), XCR0 and the extended state. The other syscall MSRs and TSC_AUX need no saving:
 * the guest's writes to them exit (vmx/exit_msr.c), so v->star etc. always hold what the
 * registers hold. XSAVE only saves the components enabled in XCR0 (SDM Vol. 1 13.8), and a
 * guest may use SSE with XCR0 = x87 alone (legacy FXSR): so XCR0 is widened to everything
 * first, and the guest's value is put back only after the matching XRSTOR. */
static void save_lazy_state(struct vcpu *old)
{
    old->regs.cr2 = read_cr2();
    old->dr[0] = read_dr0();
    old->dr[1] = read_dr1();
    old->dr[2] = read_dr2();
    old->dr[3] = read_dr3();
    old->dr6 = read_dr6();
    old->kernel_gs_base = rdmsr(MSR_KERNEL_GS_BASE);
    if (host_xsave) {
        xsetbv0(xcr0_all);
        __asm__ volatile("xsave64 (%0)" : : "r"(old->xsave_area), "a"((uint32_t)xcr0_all),
                         "d"((uint32_t)(xcr0_all >> 32)) : "memory");
    }
}

void vcpu_vmclear_here(struct vcpu *v)
{
    struct vmx_cpu *p = this_vmx_cpu();
    if (vmx_vmclear(v->vmcs) < 0)
        panic("VMCLEAR of vCPU %s/%u failed", v->vm->name, v->id);
    if (p->current_vmcs == v->vmcs)
        p->current_vmcs = 0;
    if (p->loaded_vcpu == v) {
        /* v leaves this CPU: what only its registers hold goes to memory for the next CPU. */
        save_lazy_state(v);
        p->loaded_vcpu = NULL;
    }
    v->launched = 0; /* after VMCLEAR the launch state is "clear": VMLAUNCH next */
    /* Last: the CPU waiting to load v may go on once it sees this (with the lazy state saved). */
    __atomic_store_n(&v->last_cpu, -1, __ATOMIC_RELEASE);
}

static void vmclear_remote(void *arg)
{
    vcpu_vmclear_here(arg);
}

/* Host-state fields that differ between CPUs (SDM Vol. 3C 26.5). */
static void write_per_cpu_host_state(struct vcpu *v)
{
    struct percpu *p = this_cpu();
    vmcs_writenat(v, VMCS_HOST_GS_BASE, (uint64_t)(uintptr_t)p);
    vmcs_writenat(v, VMCS_HOST_TR_BASE, (uint64_t)(uintptr_t)&p->descriptors.tss);
    vmcs_writenat(v, VMCS_HOST_GDTR_BASE, (uint64_t)(uintptr_t)p->descriptors.gdt);
}

/* WRMSR costs far more than a compare on real CPUs (it serializes), and two vCPUs of one
 * guest kernel mostly hold the same syscall MSRs: only a value that differs is written. */
static inline void wrmsr_changed(uint32_t msr, uint64_t value, uint64_t held)
{
    if (value != held)
        wrmsr(msr, value);
}

/* Puts v's lazily switched state (CR2, the debug registers, the MSRs, XCR0 and the extended
 * state) into this CPU's registers. `held` is the vCPU whose MSR values the registers hold
 * now (the one just saved, which leaves the syscall MSRs, TSC_AUX and KERNEL_GS_BASE there),
 * or NULL when that is not known: then every MSR is written. `xcr0_widened`: save_lazy_state
 * has just set XCR0 to every component, as XRSTOR needs it. */
static void load_lazy_state(struct vcpu *v, const struct vcpu *held, bool xcr0_widened)
{
    write_cr2(v->regs.cr2);
    write_dr0(v->dr[0]);
    write_dr1(v->dr[1]);
    write_dr2(v->dr[2]);
    write_dr3(v->dr[3]);
    write_dr6(v->dr6);
    if (held) {
        /* Without RDTSCP for guests both TSC_AUX values stay 0 (their writes raise #GP). */
        wrmsr_changed(MSR_TSC_AUX, v->tsc_aux, held->tsc_aux);
        wrmsr_changed(MSR_KERNEL_GS_BASE, v->kernel_gs_base, held->kernel_gs_base);
        wrmsr_changed(MSR_STAR, v->star, held->star);
        wrmsr_changed(MSR_LSTAR, v->lstar, held->lstar);
        wrmsr_changed(MSR_CSTAR, v->cstar, held->cstar);
        wrmsr_changed(MSR_SFMASK, v->sfmask, held->sfmask);
    } else {
        if (vcpu_rdtscp())
            wrmsr(MSR_TSC_AUX, v->tsc_aux);
        wrmsr(MSR_KERNEL_GS_BASE, v->kernel_gs_base);
        wrmsr(MSR_STAR, v->star);
        wrmsr(MSR_LSTAR, v->lstar);
        wrmsr(MSR_CSTAR, v->cstar);
        wrmsr(MSR_SFMASK, v->sfmask);
    }
    if (host_xsave) {
        if (!xcr0_widened)
            xsetbv0(xcr0_all);
        __asm__ volatile("xrstor64 (%0)" : : "r"(v->xsave_area), "a"((uint32_t)xcr0_all),
                         "d"((uint32_t)(xcr0_all >> 32)) : "memory");
        xsetbv0(v->xcr0);
    }
}

/* MSRs the guest uses directly (not in the VMCS) are switched only when another vCPU has been
 * using this CPU; mhv itself never uses them. The extended state likewise. */
static inline void switch_lazy_state(struct vmx_cpu *p, struct vcpu *v)
{
    struct vcpu *old = p->loaded_vcpu;
    if (old == v)
        return;
    if (old)
        save_lazy_state(old);
    load_lazy_state(v, old, old != NULL);
    p->loaded_vcpu = v;
}

void vcpu_write_lazy_msr(struct vcpu *v, uint32_t msr, uint64_t value)
{
    switch (msr) {
    case MSR_STAR: v->star = value; break;
    case MSR_LSTAR: v->lstar = value; break;
    case MSR_CSTAR: v->cstar = value; break;
    case MSR_SFMASK: v->sfmask = value; break;
    case MSR_TSC_AUX: v->tsc_aux = value; break;
    default: ASSERT(!"an MSR vcpu_load does not switch"); return;
    }
    /* Called from v's exit handler, so v's state is in this CPU's registers: they take the
     * value at once (were v not loaded here, its next vcpu_load would write it). */
    if (this_vmx_cpu()->loaded_vcpu == v)
        wrmsr(msr, value);
}

/* INVEPT/INVVPID (SDM Vol. 3C 31.3): drop translations this CPU may hold for v from an earlier
 * stay, made stale by guest or EPT changes since. Single-context where the CPU offers it
 * (IA32_VMX_EPT_VPID_CAP), else all-context. */
void vcpu_flush_guest_tlb(struct vcpu *v)
{
    if (!v->vpid || !vmx_ept_cap(&vmx_boot_caps, VPID_CAP_INVVPID))
        return; /* without a VPID every VM entry and exit flushes them anyway (29.4.3.1) */
    struct { uint64_t vpid, addr; } vpid_desc = { v->vpid, 0 };
    uint64_t vpid_type = vmx_ept_cap(&vmx_boot_caps, VPID_CAP_INVVPID_SINGLE) ? 1 : 2;
    __asm__ volatile("invvpid %0, %1" : : "m"(vpid_desc), "r"(vpid_type) : "cc", "memory");
}

static void flush_translations(struct vcpu *v)
{
    struct { uint64_t eptp, zero; } ept_desc = { v->vm->eptp, 0 };
    uint64_t ept_type = vmx_ept_cap(&vmx_boot_caps, EPT_CAP_INVEPT_SINGLE) ? 1 : 2;
    __asm__ volatile("invept %0, %1" : : "m"(ept_desc), "r"(ept_type) : "cc", "memory");
    vcpu_flush_guest_tlb(v);
}

/* How long vcpu_load waits for the CPU holding a vCPU's VMCS to take the remote VMCLEAR: that
 * CPU answers within microseconds unless it is busy with interrupts off (printing a long
 * console line, rebuilding a VM); then the vCPU simply stays where it was for now. */
#define REMOTE_VMCLEAR_TIMEOUT_US 10000

/* VMPTRLD unless v's VMCS is the current one here already (SDM Vol. 3C 25.11.1). */
static inline void make_current(struct vmx_cpu *p, struct vcpu *v)
{
    if (p->current_vmcs == v->vmcs)
        return;
    if (vmx_vmptrld(v->vmcs) < 0)
        panic("VMPTRLD of vCPU %s/%u failed", v->vm->name, v->id);
    p->current_vmcs = v->vmcs;
}

/* vcpu_load of a vCPU whose VMCS is not active here: active on another CPU (a migration), or
 * on none (new, or VMCLEARed when it left this CPU or another). */
static __attribute__((noinline)) int load_arriving(struct vcpu *v, struct vmx_cpu *p, int me, int last)
{
    uint64_t start = rdtsc();
    bool migrating = last >= 0;
    if (migrating) {
        /* Active on another CPU: only that CPU can flush it to memory (SDM 25.11.1). */
        if (xcall_run_within((unsigned)last, vmclear_remote, v, true, REMOTE_VMCLEAR_TIMEOUT_US) < 0) {
            p->vmclear_timeouts++;
            return -1;
        }
        v->migrations++;
    }
    make_current(p, v);
    v->last_cpu = me;
    write_per_cpu_host_state(v);
    flush_translations(v);
    switch_lazy_state(p, v);
    if (migrating) {
        p->migrations_in++;
        p->migrate_ticks += rdtsc() - start;
    }
    return 0;
}

int vcpu_load(struct vcpu *v)
{
    struct percpu *cpu = this_cpu();
    struct vmx_cpu *p = cpu->vmx;
    int me = (int)cpu->index;
    int last = __atomic_load_n(&v->last_cpu, __ATOMIC_ACQUIRE);
    if (__builtin_expect(last != me, 0))
        return load_arriving(v, p, me, last);
    /* Active here since its last run (the common case, a switch between vCPUs of this CPU):
     * its host fields are this CPU's and its translations here are current. */
    make_current(p, v);
    switch_lazy_state(p, v);
    return 0;
}

/* The APIC-access page (SDM Vol. 3C 31.4): EPT maps every VM's 0xfee00000 to it, and with
 * "virtualize APIC accesses" the CPU turns accesses to it into accesses to the vCPU's own
 * virtual-APIC page (or exits). Its contents are never used, so all VMs share one. */
static uint64_t apic_access_page;

/* Which APIC virtualisation features the vLAPICs use (include/devices/vlapic.h): what apicv= asks
 * for and the CPU offers, each falling back to emulation on its own. Decided, and said, once. */
static void choose_apic_assist(void)
{
    static bool chosen;
    if (chosen)
        return;
    chosen = true;
    enum apicv_option want = boot_options.apicv;
    struct vlapic_assist a = { 0 };
    bool offered_tpr = allowed(CTL_PROC, PROC_TPR_SHADOW);
    bool offered_regs = offered_tpr && allowed(CTL_PROC2, APIC_ASSIST_PROC2);
    /* Virtual-interrupt delivery needs external-interrupt exiting (28.2.1.1), which mhv uses anyway. */
    bool offered_vid = offered_tpr && allowed(CTL_PROC2, PROC2_VIRTUAL_INTR_DELIVERY) &&
                       allowed(CTL_PIN, PIN_EXTERNAL_INTERRUPT_EXITING);
    a.tpr_shadow = offered_tpr && want != APICV_OFF;
    a.apic_regs = offered_regs && (want == APICV_ON || want == APICV_REGS);
    if (a.apic_regs && !apic_access_page) {
        apic_access_page = pages_alloc(1);
        if (apic_access_page)
            memset(phys_to_virt(apic_access_page), 0, PAGE_SIZE);
        a.apic_regs = apic_access_page != 0;
    }
    a.vid = offered_vid && want == APICV_ON;
    vlapic_assist = a;

    static const char *const option_names[] = { "on", "regs", "tpr", "off" };
    char used[96] = "", emulated[96] = "";
    struct { bool on, offered; const char *used, *emulated; } parts[] = {
        { a.tpr_shadow, offered_tpr, "TPR shadow", "TPR" },
        { a.apic_regs, offered_regs, "APIC-register virtualisation", "register accesses" },
        { a.vid, offered_vid, "virtual-interrupt delivery", "interrupt delivery" },
    };
    bool limited_by_option = false;
    for (unsigned i = 0; i < 3; i++) {
        char *dst = parts[i].on ? used : emulated;
        size_t len = strlen(dst);
        ksnprintf(dst + len, 96 - len, "%s%s", len ? ", " : "", parts[i].on ? parts[i].used : parts[i].emulated);
        limited_by_option |= !parts[i].on && parts[i].offered;
    }
    if (!a.tpr_shadow)
        log_info("vlapic: fully emulated (%s)", limited_by_option ? "apicv=off" : "the CPU has no TPR shadow");
    else if (!emulated[0])
        log_info("vlapic: %s", used);
    else if (limited_by_option)
        log_info("vlapic: %s; emulated: %s (apicv=%s)", used, emulated, option_names[want]);
    else
        log_info("vlapic: %s; emulated: %s (not offered by the CPU)", used, emulated);
}

static int setup_controls(struct vcpu *v)
{
    struct vm *vm = v->vm;
    uint32_t pin = PIN_EXTERNAL_INTERRUPT_EXITING | PIN_NMI_EXITING | PIN_VIRTUAL_NMIS | PIN_PREEMPTION_TIMER;
    /* TSC offsetting: a guest's RDTSC/RDTSCP read the host TSC plus the vCPU's offset, which
     * its writes to IA32_TSC and IA32_TSC_ADJUST move (vmx/exit_msr.c; SDM Vol. 3C 26.6.5). */
    uint32_t proc = PROC_HLT_EXITING | PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING | PROC_USE_IO_BITMAPS |
                    PROC_USE_MSR_BITMAPS | PROC_MWAIT_EXITING | PROC_MONITOR_EXITING | PROC_RDPMC_EXITING |
                    PROC_USE_TSC_OFFSETTING | PROC_SECONDARY_CONTROLS;
    uint32_t proc2 = PROC2_EPT | PROC2_UNRESTRICTED_GUEST | PROC2_WBINVD_EXITING |
                     (allowed(CTL_PROC2, PROC2_VPID) ? PROC2_VPID : 0) | PROC2_PAUSE_LOOP_EXITING |
                     (vcpu_rdtscp() ? PROC2_RDTSCP : 0);
    /* Saving the preemption timer value makes a slice count guest time across exits. */
    uint32_t exit = EXIT_HOST_64BIT | EXIT_SAVE_EFER | EXIT_LOAD_EFER | EXIT_SAVE_PAT | EXIT_LOAD_PAT |
                    EXIT_SAVE_DEBUG | EXIT_SAVE_PREEMPTION_TIMER;
    uint32_t entry = ENTRY_LOAD_EFER | ENTRY_LOAD_PAT | ENTRY_LOAD_DEBUG;

    /* The CPU's APIC virtualisation (SDM Vol. 3C chapter 31; controls 26.6.2, 26.6.8): the
     * mode-dependent controls are set by vcpu_apic_mode_changed below; "virtualize APIC
     * accesses" stays on for good where it is used at all. */
    choose_apic_assist();
    if (vlapic_assist.apic_regs)
        proc2 |= PROC2_VIRTUALIZE_APIC;

    /* CR3 accesses need no exits with EPT: clear them where the TRUE MSRs allow it. */
    vmcs_write32(v, VMCS_PIN_CONTROLS, control(CTL_PIN, pin));
    vmcs_write32(v, VMCS_PROC_CONTROLS, control(CTL_PROC, proc));
    vmcs_write32(v, VMCS_PROC2_CONTROLS, control(CTL_PROC2, proc2));
    vmcs_write32(v, VMCS_EXIT_CONTROLS, control(CTL_EXIT, exit));
    vmcs_write32(v, VMCS_ENTRY_CONTROLS, control(CTL_ENTRY, entry));
    vmcs_write32(v, VMCS_EXCEPTION_BITMAP, 0);
    vmcs_write32(v, VMCS_PF_ERROR_MASK, 0);
    vmcs_write32(v, VMCS_PF_ERROR_MATCH, 0);
    vmcs_write32(v, VMCS_CR3_TARGET_COUNT, 0);
    vmcs_write32(v, VMCS_EXIT_MSR_STORE_COUNT, 0);
    vmcs_write32(v, VMCS_EXIT_MSR_LOAD_COUNT, 0);
    vmcs_write32(v, VMCS_ENTRY_MSR_LOAD_COUNT, 0);
    vmcs_write32(v, VMCS_ENTRY_INTERRUPTION_INFO, 0);
    vmcs_write64(v, VMCS_IO_BITMAP_A, vm->io_bitmaps);
    vmcs_write64(v, VMCS_IO_BITMAP_B, vm->io_bitmaps + PAGE_SIZE);
    vmcs_write64(v, VMCS_MSR_BITMAP, vm->msr_bitmap);
    vmcs_write64(v, VMCS_EPT_POINTER, vm->eptp);
    vmcs_write64(v, VMCS_VMCS_LINK_POINTER, ~0ull);
    vmcs_write64(v, VMCS_TSC_OFFSET, 0);
    if (control(CTL_PROC2, proc2) & PROC2_VPID)
        vmcs_write16(v, VMCS_VPID, v->vpid);
    /* PAUSE-loop exiting (SDM Vol. 3C 26.6.13): a guest spinning on a lock for more than the
     * window yields its CPU instead (KVM's default gap and window). */
    if (control(CTL_PROC2, proc2) & PROC2_PAUSE_LOOP_EXITING) {
        vmcs_write32(v, VMCS_PLE_GAP, 128);
        vmcs_write32(v, VMCS_PLE_WINDOW, 4096);
    }
    /* The vLAPIC's registers are its virtual-APIC page whatever the mode (devices/vlapic.c); the
     * entry path keeps the TPR threshold, RVI/SVI and the EOI-exit bitmap (vmx/inject.c). */
    if (vlapic_assist.tpr_shadow)
        vmcs_write64(v, VMCS_VIRTUAL_APIC_ADDRESS, v->lapic->page);
    /* 0xfee00000 becomes the APIC-access page in this VM's EPT (31.4): its xAPIC accesses are
     * virtualized or exit as APIC accesses instead of EPT violations (devices/standard.c's MMIO
     * handler then serves only the emulated modes). Mapping it again for each vCPU is harmless. */
    if (vlapic_assist.apic_regs) {
        vmcs_write64(v, VMCS_APIC_ACCESS_ADDRESS, apic_access_page);
        if (ept_map(vm, PLATFORM_LAPIC_BASE, apic_access_page, PAGE_SIZE) < 0)
            return -1;
    }
    if (vlapic_assist.vid) {
        vmcs_write16(v, VMCS_GUEST_INTERRUPT_STATUS, 0);
        vmcs_write64(v, VMCS_EOI_EXIT_BITMAP0, 0);
        vmcs_write64(v, VMCS_EOI_EXIT_BITMAP1, 0);
        vmcs_write64(v, VMCS_EOI_EXIT_BITMAP2, 0);
        vmcs_write64(v, VMCS_EOI_EXIT_BITMAP3, 0);
    }
    /* The guest owns CR0.TS/MP/EM/WP/AM; mhv owns the rest (PE and PG for EFER.LMA, NE, CD, NW
     * and reserved bits), CR4 entirely: writes to owned bits exit (SDM Vol. 3C 26.6.6). */
    vmcs_writenat(v, VMCS_CR0_GUEST_HOST_MASK, ~(uint64_t)(CR0_TS | CR0_MP | CR0_EM | CR0_WP | CR0_AM));
    vmcs_writenat(v, VMCS_CR4_GUEST_HOST_MASK, ~0ull);
    v->lapic->assist = (struct vlapic_assist){ 0 };
    vcpu_apic_mode_changed(v);
    return 0;
}

void vcpu_apic_mode_changed(struct vcpu *v)
{
    struct vlapic *l = v->lapic;
    struct vlapic_assist a = vlapic_assist_for_mode(l);
    if (a.tpr_shadow == l->assist.tpr_shadow && a.apic_regs == l->assist.apic_regs && a.vid == l->assist.vid)
        return; /* the controls already say so (setup_controls starts from "none": CR8 exits) */
    l->assist = a;
    uint32_t proc = vmcs_read32(v, VMCS_PROC_CONTROLS) & ~(PROC_TPR_SHADOW | PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING);
    proc |= a.tpr_shadow ? PROC_TPR_SHADOW : PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING;
    uint32_t proc2 = vmcs_read32(v, VMCS_PROC2_CONTROLS) & ~(PROC2_APIC_REGISTER_VIRT | PROC2_VIRTUAL_INTR_DELIVERY);
    proc2 |= (a.apic_regs ? PROC2_APIC_REGISTER_VIRT : 0) | (a.vid ? PROC2_VIRTUAL_INTR_DELIVERY : 0);
    vmcs_write32(v, VMCS_PROC_CONTROLS, control(CTL_PROC, proc));
    vmcs_write32(v, VMCS_PROC2_CONTROLS, control(CTL_PROC2, proc2));
    if (a.tpr_shadow)
        vmcs_write32(v, VMCS_TPR_THRESHOLD, 0); /* the entry path computes the real one */
    /* The entry path writes what the new controls read: RVI/SVI and the EOI-exit bitmap. */
    l->eoi_exit_changed = true;
    l->entry_work = true;
}

static void setup_host_state(struct vcpu *v)
{
    vmcs_writenat(v, VMCS_HOST_CR0, read_cr0());
    vmcs_writenat(v, VMCS_HOST_CR3, read_cr3());
    vmcs_writenat(v, VMCS_HOST_CR4, read_cr4());
    vmcs_write16(v, VMCS_HOST_CS_SELECTOR, GDT_KERNEL_CS);
    vmcs_write16(v, VMCS_HOST_SS_SELECTOR, GDT_KERNEL_DS);
    vmcs_write16(v, VMCS_HOST_DS_SELECTOR, GDT_KERNEL_DS);
    vmcs_write16(v, VMCS_HOST_ES_SELECTOR, GDT_KERNEL_DS);
    vmcs_write16(v, VMCS_HOST_FS_SELECTOR, 0);
    vmcs_write16(v, VMCS_HOST_GS_SELECTOR, 0);
    vmcs_write16(v, VMCS_HOST_TR_SELECTOR, GDT_TSS);
    vmcs_writenat(v, VMCS_HOST_FS_BASE, 0);
    vmcs_writenat(v, VMCS_HOST_IDTR_BASE, idt_base());
    vmcs_write32(v, VMCS_HOST_SYSENTER_CS, 0);
    vmcs_writenat(v, VMCS_HOST_SYSENTER_ESP, 0);
    vmcs_writenat(v, VMCS_HOST_SYSENTER_EIP, 0);
    vmcs_write64(v, VMCS_HOST_EFER, rdmsr(MSR_IA32_EFER));
    vmcs_write64(v, VMCS_HOST_PAT, rdmsr(MSR_IA32_PAT));
    vmcs_writenat(v, VMCS_HOST_RIP, (uint64_t)(uintptr_t)vmx_exit_entry);
    write_per_cpu_host_state(v);
}

struct vcpu *vcpu_create(struct vm *vm, unsigned id)
{
    host_xsave = read_cr4() & CR4_OSXSAVE; /* set on every CPU by vmx/vmxon.c when XSAVE exists */
    if (host_xsave) {
        struct cpuid_regs d = cpuid(0xd, 0);
        xcr0_all = ((uint64_t)d.edx << 32) | d.eax;
    }
    struct vcpu *v = kzalloc(sizeof(*v));
    uint32_t xsave_size = cpuid(0xd, 0).ecx; /* enough for every feature XCR0 may enable */
    uint64_t vmcs = pages_alloc(1);
    uint64_t xsave_pages = xsave_size ? (xsave_size + PAGE_SIZE - 1) / PAGE_SIZE : 1;
    uint64_t xsave = pages_alloc(xsave_pages);
    if (!v || !vmcs || !xsave)
        return NULL;
    memset(phys_to_virt(vmcs), 0, PAGE_SIZE);
    *(uint32_t *)phys_to_virt(vmcs) = vmx_boot_caps.revision; /* SDM 25.2 */
    v->vm = vm;
    v->id = id;
    v->vmcs = vmcs;
    v->xsave_area = phys_to_virt(xsave);
    v->xsave_size = (uint32_t)(xsave_pages * PAGE_SIZE);
    memset(v->xsave_area, 0, v->xsave_size); /* vcpu_load below XRSTORs it: XSTATE_BV 0, init state */
    v->xcr0 = 1; /* x87 only, the reset value */
    v->last_cpu = -1;
    v->se.home_cpu = -1; /* in no run queue: its timers arm without telling any CPU */
    v->mtrr_def_type = 0xc06; /* MTRRs on, default write-back */
    v->vpid = allowed(CTL_PROC2, PROC2_VPID) ? next_vpid++ : 0;

    v->lapic = vlapic_create(v); /* before the controls: the VMCS points to its page */
    if (!v->lapic || vmx_vmclear(vmcs) < 0 || vcpu_load(v) < 0) /* new: never active elsewhere */
        return NULL;
    if (setup_controls(v) < 0)
        return NULL;
    setup_host_state(v);
    vcpu_reset(v);
    /* Complete: the scheduler may place it (the VM's configuration may change its weight,
     * slice and affinity until sched_start). */
    sched_entity_init(&v->se, &vcpu_entity_ops, id == 0 ? VCPU_RUNNABLE : VCPU_WAIT_FOR_SIPI, 1,
                      SCHED_DEFAULT_SLICE_US, ~0ull);
    vm->vcpus[vm->vcpu_count++] = v;
    return v;
}

/* Everything but the local APIC back to the power-up state (SDM Vol. 3A table 9-1), or to the
 * state after INIT, which leaves the TSC, the MTRRs, PAT and the x87/SSE/AVX registers as they
 * were (the same table, its INIT column). */
static void reset_cpu_state(struct vcpu *v, bool init)
{
    struct vmx_cpu *p = this_vmx_cpu();
    if (init && p->loaded_vcpu == v)
        save_lazy_state(v); /* the extended state stays: first take what the registers hold */
    memset(&v->regs, 0, sizeof(v->regs));
    v->xcr0 = 1;
    v->kernel_gs_base = v->star = v->lstar = v->cstar = v->sfmask = 0;
    v->dr[0] = v->dr[1] = v->dr[2] = v->dr[3] = 0;
    v->dr6 = DR6_RESET;
    v->tsc_aux = 0;
    if (!init) {
        v->mtrr_def_type = 0xc06;
        v->misc_enable = MISC_ENABLE_RESET;
        vcpu_cpuid_view_changed(v);
    }
    v->pending_events = 0;
    v->debug_hits = 0;
    v->nmi_pending = 0;
    v->nmi_queued = 0;
    v->extint_pending = false; /* held by the local APIC, which INIT and RESET clear */
    v->in_nmi_handler = false;
    v->exit.idt_vectoring_info = 0;
    for (unsigned i = 0; i < v->se.timer_count; i++)
        vtimer_cancel(v->se.timers[i]);
    v->halted_for_good = false;
    if (!init) {
        v->tsc_offset = v->tsc_adjust = 0;
        /* XSTATE_BV 0: XRSTOR puts every component in its init state, except MXCSR, which the
         * standard form loads from the legacy area whenever RFBM[1] or RFBM[2] is set,
         * whatever XSTATE_BV says (SDM Vol. 1 13.8.1): it gets its power-up value 0x1f80 (SDM
         * Vol. 3A table 10-1), all SIMD exceptions masked, rather than 0, all unmasked. */
        memset(v->xsave_area, 0, v->xsave_size);
        *(uint32_t *)((uint8_t *)v->xsave_area + 24) = 0x1f80; /* MXCSR, legacy area offset 24 */
    }
    /* vcpu_load made v's state live in this CPU's registers (p->loaded_vcpu == v), and the
     * guest runs on with them after this reset (an INIT in vcpu_run, a restart): they must
     * take the reset values now. Merely forgetting that v is loaded here would let the guest
     * run on the stale registers while mhv believes none is loaded: what it then wrote to
     * the passed-through MSRs (an AP's STAR, LSTAR, SFMASK, KERNEL_GS_BASE, set up right
     * after the STARTUP IPI) and its extended state would never be saved, and the next
     * vcpu_load would overwrite them with the reset values (a SYSCALL then jumps to
     * LSTAR = 0 with CS = STAR[47:32] = 0). */
    if (p->loaded_vcpu == v)
        load_lazy_state(v, NULL, false);
    vmcs_write32(v, VMCS_ENTRY_INTERRUPTION_INFO, 0);
    vmcs_write32(v, VMCS_PROC_CONTROLS, vmcs_read32(v, VMCS_PROC_CONTROLS) & ~((1u << 2) | (1u << 22)));
    vmcs_write64(v, VMCS_TSC_OFFSET, (uint64_t)v->tsc_offset);
    vmcs_writenat(v, VMCS_GUEST_DR7, 0x400);
    vmcs_write64(v, VMCS_GUEST_DEBUGCTL, 0);
    if (!init)
        vmcs_write64(v, VMCS_GUEST_PAT, 0x0007040600070406ull); /* the power-on PAT */
    vmcs_write32(v, VMCS_GUEST_SYSENTER_CS, 0);
    vmcs_writenat(v, VMCS_GUEST_SYSENTER_ESP, 0);
    vmcs_writenat(v, VMCS_GUEST_SYSENTER_EIP, 0);
    vmcs_write32(v, VMCS_GUEST_INTERRUPTIBILITY, 0);
    vmcs_write32(v, VMCS_GUEST_ACTIVITY_STATE, 0);
    vmcs_writenat(v, VMCS_GUEST_PENDING_DEBUG, 0);
    vcpu_set_real_mode(v, 0, 0);
}

void vcpu_reset(struct vcpu *v)
{
    v->startup = 0;
    v->awaiting_startup = v->id != 0; /* the state the callers give it: APs wait for a STARTUP */
    v->init_handled = __atomic_load_n(&v->init_requests, __ATOMIC_SEQ_CST); /* none pending */
    reset_cpu_state(v, false);
    vlapic_reset(v->lapic);
    vcpu_apic_mode_changed(v);
}

void vcpu_init_signal(struct vcpu *v)
{
    reset_cpu_state(v, true);
    vlapic_init_signal(v->lapic);
    vcpu_apic_mode_changed(v);
    if (vlapic_is_bsp(v->lapic))
        vcpu_set_real_mode(v, 0xf000, 0xfff0);
}
