/* SPDX-License-Identifier: BSD-2-Clause */
/* Decoding and checking of the VMX capability MSRs (see include/vmx/caps.h). */
#include "vmx/caps.h"

#include "arch/x86/msr.h"
#include "lib/format.h"
#include "lib/string.h"

#define FC_LOCK (1ull << 0)
#define FC_VMX_OUTSIDE_SMX (1ull << 2)

static void split(struct vmx_caps *c, enum vmx_ctl ctl, uint64_t v)
{
    c->must_be_one[ctl] = (uint32_t)v;
    c->may_be_one[ctl] = (uint32_t)(v >> 32);
}

void vmx_caps_read(struct vmx_caps *c, msr_read_fn read)
{
    memset(c, 0, sizeof(*c));
    c->basic = read(MSR_IA32_VMX_BASIC);
    c->revision = c->basic & 0x7fffffff;
    c->vmcs_size = (c->basic >> 32) & 0x1fff;
    c->phys_addr_32bit = c->basic >> 48 & 1;
    c->vmcs_memtype = (c->basic >> 50) & 0xf;
    c->true_controls = c->basic >> 55 & 1;

    /* With bit 55 set, the TRUE MSRs report which default-1 controls may in fact be 0
     * (SDM Vol. 3D A.2); they are the ones to compute control words from. */
    bool t = c->true_controls;
    split(c, CTL_PIN, read(t ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS));
    split(c, CTL_PROC, read(t ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS));
    split(c, CTL_EXIT, read(t ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS));
    split(c, CTL_ENTRY, read(t ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS));
    /* IA32_VMX_PROCBASED_CTLS2 and IA32_VMX_EPT_VPID_CAP exist only when the secondary
     * controls can be activated (SDM Vol. 3D A.3.3, A.10). */
    if (vmx_ctl_allowed(c, CTL_PROC, PROC_SECONDARY_CONTROLS)) {
        split(c, CTL_PROC2, read(MSR_IA32_VMX_PROCBASED_CTLS2));
        if (vmx_ctl_allowed(c, CTL_PROC2, PROC2_EPT) || vmx_ctl_allowed(c, CTL_PROC2, PROC2_VPID))
            c->ept_vpid = read(MSR_IA32_VMX_EPT_VPID_CAP);
    }
    c->misc = read(MSR_IA32_VMX_MISC);
    c->cr0_fixed0 = read(MSR_IA32_VMX_CR0_FIXED0);
    c->cr0_fixed1 = read(MSR_IA32_VMX_CR0_FIXED1);
    c->cr4_fixed0 = read(MSR_IA32_VMX_CR4_FIXED0);
    c->cr4_fixed1 = read(MSR_IA32_VMX_CR4_FIXED1);
}

struct feature {
    const char *name;
    enum vmx_ctl ctl; /* CTL_EPT_VPID: bits of ept_vpid */
    uint64_t bits;
    bool required;
};

/* What mhv's VM design relies on. Required: guests own their memory through EPT and may start
 * in real mode (unrestricted guest); exits for I/O, MSRs, HLT, interrupts and NMIs; 64-bit host
 * and guest with EFER switched by the CPU. Optional ones have a fallback. */
static const struct feature features[] = {
    { "ept", CTL_PROC2, PROC2_EPT, true },
    { "ept-4-level", CTL_EPT_VPID, EPT_CAP_WALK_4, true },
    { "ept-wb", CTL_EPT_VPID, EPT_CAP_WB, true },
    { "invept", CTL_EPT_VPID, EPT_CAP_INVEPT, true },
    { "unrestricted-guest", CTL_PROC2, PROC2_UNRESTRICTED_GUEST, true },
    { "secondary-controls", CTL_PROC, PROC_SECONDARY_CONTROLS, true },
    { "io-bitmaps", CTL_PROC, PROC_USE_IO_BITMAPS, true },
    { "msr-bitmaps", CTL_PROC, PROC_USE_MSR_BITMAPS, true },
    { "hlt-exiting", CTL_PROC, PROC_HLT_EXITING, true },
    { "external-interrupt-exiting", CTL_PIN, PIN_EXTERNAL_INTERRUPT_EXITING, true },
    { "nmi-exiting", CTL_PIN, PIN_NMI_EXITING, true },
    { "host-64bit", CTL_EXIT, EXIT_HOST_64BIT, true },
    { "exit-load-efer", CTL_EXIT, EXIT_LOAD_EFER, true },
    { "entry-guest-64bit", CTL_ENTRY, ENTRY_GUEST_64BIT, true },
    { "entry-load-efer", CTL_ENTRY, ENTRY_LOAD_EFER, true },
    { "vpid", CTL_PROC2, PROC2_VPID, false },
    { "invvpid", CTL_EPT_VPID, VPID_CAP_INVVPID, false },
    { "preemption-timer", CTL_PIN, PIN_PREEMPTION_TIMER, false },
    { "virtual-nmis", CTL_PIN, PIN_VIRTUAL_NMIS, false },
    { "ept-2m", CTL_EPT_VPID, EPT_CAP_2M, false },
    { "ept-1g", CTL_EPT_VPID, EPT_CAP_1G, false },
    { "ept-ad", CTL_EPT_VPID, EPT_CAP_AD, false },
    { "tpr-shadow", CTL_PROC, PROC_TPR_SHADOW, false },
    { "apic-virt", CTL_PROC2, PROC2_VIRTUALIZE_APIC, false },
    { "apic-register-virt", CTL_PROC2, PROC2_APIC_REGISTER_VIRT, false },
    { "virtual-interrupt-delivery", CTL_PROC2, PROC2_VIRTUAL_INTR_DELIVERY, false },
    { "posted-interrupts", CTL_PIN, PIN_POSTED_INTERRUPTS, false },
    { "pause-loop-exiting", CTL_PROC2, PROC2_PAUSE_LOOP_EXITING, false },
    { "vmcs-shadowing", CTL_PROC2, PROC2_VMCS_SHADOWING, false },
    { "pml", CTL_PROC2, PROC2_PML, false },
    { "rdtscp", CTL_PROC2, PROC2_RDTSCP, false },
    { "invpcid", CTL_PROC2, PROC2_INVPCID, false },
    { "xsaves", CTL_PROC2, PROC2_XSAVES, false },
    { "tsc-scaling", CTL_PROC2, PROC2_TSC_SCALING, false },
};

static bool has_feature(const struct vmx_caps *c, const struct feature *f)
{
    if (f->ctl == CTL_EPT_VPID)
        return vmx_ept_cap(c, f->bits);
    return vmx_ctl_allowed(c, f->ctl, (uint32_t)f->bits);
}

/* Appends " name" (or "name" at the start) if it fits. */
static void append(char *out, size_t size, const char *name)
{
    if (!out || !size)
        return;
    size_t len = strlen(out);
    ksnprintf(out + len, size - len, "%s%s", len ? " " : "", name);
}

int vmx_caps_check(const struct vmx_caps *c, char *missing, size_t missing_size, char *absent_optional,
                   size_t optional_size)
{
    int n = 0;
    if (missing && missing_size)
        missing[0] = '\0';
    if (absent_optional && optional_size)
        absent_optional[0] = '\0';
    for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++) {
        if (has_feature(c, &features[i]))
            continue;
        if (features[i].required) {
            append(missing, missing_size, features[i].name);
            n++;
        } else {
            append(absent_optional, optional_size, features[i].name);
        }
    }
    /* VMCS regions are ordinary write-back memory (SDM Vol. 3D A.1); and mhv puts VMX
     * structures anywhere in RAM, which a 32-bit physical-address limit would forbid. */
    if (c->vmcs_memtype != 6) {
        append(missing, missing_size, "vmcs-write-back");
        n++;
    }
    if (c->phys_addr_32bit) {
        append(missing, missing_size, "64-bit-vmx-addresses");
        n++;
    }
    return n;
}

void vmx_caps_describe(const struct vmx_caps *c, char *out, size_t size)
{
    if (!size)
        return;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++)
        if (has_feature(c, &features[i]))
            append(out, size, features[i].name);
}

enum vmx_fc_plan vmx_feature_control_plan(uint64_t current, uint64_t *new_value)
{
    if (current & FC_LOCK)
        return current & FC_VMX_OUTSIDE_SMX ? VMX_FC_OK : VMX_FC_LOCKED_OFF;
    *new_value = current | FC_VMX_OUTSIDE_SMX | FC_LOCK;
    return VMX_FC_WRITE;
}
