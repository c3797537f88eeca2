/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * VMX capabilities, decoded from the VMX capability MSRs (SDM Vol. 3D appendix A). Decoding
 * is pure (the MSR values are read through a function), so host tests can feed values.
 */
#ifndef MHV_VMX_CAPS_H
#define MHV_VMX_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The five VMX control words, for the requirement table. */
enum vmx_ctl { CTL_PIN, CTL_PROC, CTL_PROC2, CTL_EXIT, CTL_ENTRY, CTL_EPT_VPID, CTL_COUNT };

struct vmx_caps {
    uint64_t basic;             /* IA32_VMX_BASIC */
    uint32_t revision;          /* VMCS revision identifier, bits 30:0 */
    uint32_t vmcs_size;         /* bytes, bits 44:32 */
    uint8_t vmcs_memtype;       /* bits 53:50, 6 = write-back */
    bool true_controls;         /* bit 55: the TRUE_*_CTLS MSRs exist */
    bool phys_addr_32bit;       /* bit 48: VMX structures must sit below 4 GiB */
    /* allowed-0 settings (bits that must be 1) and allowed-1 settings (bits that may be 1),
     * SDM Vol. 3D A.3-A.5; from the TRUE MSRs when they exist. */
    uint32_t must_be_one[CTL_COUNT];
    uint32_t may_be_one[CTL_COUNT];
    uint64_t ept_vpid;          /* IA32_VMX_EPT_VPID_CAP, 0 without secondary controls */
    uint64_t misc;              /* IA32_VMX_MISC */
    uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
};

/* Bits mhv refers to by name. Primary processor-based controls (SDM Vol. 3C 26.6.2). */
#define PIN_EXTERNAL_INTERRUPT_EXITING (1u << 0)
#define PIN_NMI_EXITING (1u << 3)
#define PIN_VIRTUAL_NMIS (1u << 5)
#define PIN_PREEMPTION_TIMER (1u << 6)
#define PIN_POSTED_INTERRUPTS (1u << 7)
#define PROC_HLT_EXITING (1u << 7)
#define PROC_TPR_SHADOW (1u << 21)
#define PROC_USE_IO_BITMAPS (1u << 25)
#define PROC_USE_MSR_BITMAPS (1u << 28)
#define PROC_PAUSE_EXITING (1u << 30)
#define PROC_SECONDARY_CONTROLS (1u << 31)
#define PROC2_VIRTUALIZE_APIC (1u << 0)
#define PROC2_EPT (1u << 1)
#define PROC2_RDTSCP (1u << 3)
#define PROC2_VIRTUALIZE_X2APIC (1u << 4)
#define PROC2_VPID (1u << 5)
#define PROC2_UNRESTRICTED_GUEST (1u << 7)
#define PROC2_APIC_REGISTER_VIRT (1u << 8)
#define PROC2_VIRTUAL_INTR_DELIVERY (1u << 9)
#define PROC2_PAUSE_LOOP_EXITING (1u << 10)
#define PROC2_INVPCID (1u << 12)
#define PROC2_VMCS_SHADOWING (1u << 14)
#define PROC2_PML (1u << 17)
#define PROC2_XSAVES (1u << 20)
#define PROC2_TSC_SCALING (1u << 25)
#define EXIT_HOST_64BIT (1u << 9)
#define EXIT_ACK_INTERRUPT (1u << 15)
#define EXIT_SAVE_EFER (1u << 20)
#define EXIT_LOAD_EFER (1u << 21)
#define ENTRY_GUEST_64BIT (1u << 9)
#define ENTRY_LOAD_EFER (1u << 15)
/* IA32_VMX_EPT_VPID_CAP bits (SDM Vol. 3D A.10); the VPID half is bits 63:32. */
#define EPT_CAP_WALK_4 (1ull << 6)
#define EPT_CAP_WB (1ull << 14)
#define EPT_CAP_2M (1ull << 16)
#define EPT_CAP_1G (1ull << 17)
#define EPT_CAP_INVEPT (1ull << 20)
#define EPT_CAP_AD (1ull << 21)
#define EPT_CAP_INVEPT_SINGLE (1ull << 25)
#define EPT_CAP_INVEPT_ALL (1ull << 26)
#define VPID_CAP_INVVPID (1ull << 32)
#define VPID_CAP_INVVPID_SINGLE (1ull << 41)
#define VPID_CAP_INVVPID_ALL (1ull << 42)

typedef uint64_t (*msr_read_fn)(uint32_t msr);

/* Reads and decodes every VMX capability MSR. Call only when CPUID.1:ECX.VMX is set. */
void vmx_caps_read(struct vmx_caps *caps, msr_read_fn read);

static inline bool vmx_ctl_allowed(const struct vmx_caps *c, enum vmx_ctl ctl, uint32_t bits)
{
    return (c->may_be_one[ctl] & bits) == bits;
}
static inline bool vmx_ept_cap(const struct vmx_caps *c, uint64_t bits)
{
    return (c->ept_vpid & bits) == bits;
}

/*
 * Checks the features mhv cannot run without. Returns how many are missing and writes their
 * names, space separated, into `missing`. Optional features that are absent are written to
 * `absent_optional` (either buffer may be NULL).
 */
int vmx_caps_check(const struct vmx_caps *c, char *missing, size_t missing_size, char *absent_optional,
                   size_t optional_size);

/* Writes the names of the VMX features present, space separated (for the boot report). */
void vmx_caps_describe(const struct vmx_caps *c, char *out, size_t size);

/*
 * IA32_FEATURE_CONTROL (SDM Vol. 3C 25.7): bit 0 lock, bit 2 VMXON outside SMX. Decides what
 * to do with the current value: VMX_FC_OK (usable as is), VMX_FC_WRITE (unlocked: write
 * *new_value, which enables VMXON outside SMX and locks), VMX_FC_LOCKED_OFF (the firmware
 * locked VMX off; only its setup screen can change that).
 */
enum vmx_fc_plan { VMX_FC_OK, VMX_FC_WRITE, VMX_FC_LOCKED_OFF };
enum vmx_fc_plan vmx_feature_control_plan(uint64_t current, uint64_t *new_value);

#endif
