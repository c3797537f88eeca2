/* SPDX-License-Identifier: BSD-2-Clause */
/* VMX pre-flight (SDM Vol. 3C 25.6 "Discovering support for VMX", 25.7 "Enabling and entering
 * VMX operation"). */
#include "vmx/preflight.h"

#include "arch/x86/cpu.h"
#include "arch/x86/msr.h"
#include "kernel/log.h"
#include "kernel/panic.h"

#define CPUID_1_ECX_VMX (1u << 5)

struct vmx_caps vmx_boot_caps;

static uint64_t read_msr(uint32_t msr)
{
    return rdmsr(msr);
}

static const char *yes_no(bool b)
{
    return b ? "yes" : "no";
}

void vmx_preflight(void)
{
    if (!(cpuid(1, 0).ecx & CPUID_1_ECX_VMX))
        fatal("VMX unavailable: CPUID.1:ECX.VMX[bit 5] is 0 (this CPU, or the hypervisor "
              "below mhv, does not offer VT-x)");

    uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL), new_fc = fc;
    switch (vmx_feature_control_plan(fc, &new_fc)) {
    case VMX_FC_LOCKED_OFF:
        fatal("VMX unavailable: IA32_FEATURE_CONTROL is 0x%lx: locked with VMXON outside SMX "
              "disabled (enable VT-x in the firmware setup)", fc);
    case VMX_FC_WRITE:
        wrmsr(MSR_IA32_FEATURE_CONTROL, new_fc);
        log_info("vmx: IA32_FEATURE_CONTROL was 0x%lx (unlocked): now 0x%lx, VMXON enabled and locked", fc,
                 new_fc);
        break;
    case VMX_FC_OK:
        log_info("vmx: IA32_FEATURE_CONTROL 0x%lx: locked, VMXON outside SMX enabled", fc);
        break;
    }

    struct vmx_caps *c = &vmx_boot_caps;
    vmx_caps_read(c, read_msr);
    log_info("vmx: IA32_VMX_BASIC 0x%016lx: VMCS revision 0x%x, %u bytes, memory type %u%s", c->basic,
             c->revision, c->vmcs_size, c->vmcs_memtype, c->true_controls ? ", TRUE controls" : "");

    log_debug("vmx: raw: basic %016lx pin %08x:%08x proc %08x:%08x proc2 %08x:%08x", c->basic,
              c->may_be_one[CTL_PIN], c->must_be_one[CTL_PIN], c->may_be_one[CTL_PROC], c->must_be_one[CTL_PROC],
              c->may_be_one[CTL_PROC2], c->must_be_one[CTL_PROC2]);
    log_debug("vmx: raw: exit %08x:%08x entry %08x:%08x ept_vpid %016lx misc %016lx", c->may_be_one[CTL_EXIT],
              c->must_be_one[CTL_EXIT], c->may_be_one[CTL_ENTRY], c->must_be_one[CTL_ENTRY], c->ept_vpid, c->misc);
    log_debug("vmx: raw: cr0 fixed %016lx/%016lx cr4 fixed %016lx/%016lx", c->cr0_fixed0, c->cr0_fixed1,
              c->cr4_fixed0, c->cr4_fixed1);

    char present[512], missing[256], optional[512];
    vmx_caps_describe(c, present, sizeof(present));
    int n_missing = vmx_caps_check(c, missing, sizeof(missing), optional, sizeof(optional));
    log_info("vmx: features: %s", present);
    if (optional[0])
        log_warn("vmx: optional features absent: %s", optional);
    uint64_t m = c->misc;
    log_info("vmx: preemption timer rate TSC/%u, activity states:%s%s%s, CR3 targets %lu", 1u << (m & 0x1f),
             m & (1 << 6) ? " hlt" : "", m & (1 << 7) ? " shutdown" : "", m & (1 << 8) ? " wait-for-sipi" : "",
             (m >> 16) & 0x1ff);

    bool preemption = vmx_ctl_allowed(c, CTL_PIN, PIN_PREEMPTION_TIMER);
    status_line("vmx: revision 0x%x, EPT %s, VPID %s, unrestricted guest %s, preemption timer %s",
                c->revision, yes_no(vmx_ctl_allowed(c, CTL_PROC2, PROC2_EPT)),
                yes_no(vmx_ctl_allowed(c, CTL_PROC2, PROC2_VPID)),
                yes_no(vmx_ctl_allowed(c, CTL_PROC2, PROC2_UNRESTRICTED_GUEST)), yes_no(preemption));
    if (n_missing)
        fatal("VMX unavailable: missing required feature%s: %s", n_missing > 1 ? "s" : "", missing);
}
