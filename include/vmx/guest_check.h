/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mhv's own check of a guest-state area against SDM Vol. 3C 28.3.1 "Checks on the Guest
 * State Area" (26.3.1 in older editions). A VM exit with basic reason 33 ("VM-entry failure
 * due to invalid guest state") only says that some rule failed; running these checks on the
 * values mhv wrote names the field. The check is pure (values in, verdict out), so host tests
 * can feed it states.
 */
#ifndef MHV_VMX_GUEST_CHECK_H
#define MHV_VMX_GUEST_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vmx_segment {
    uint16_t selector;
    uint64_t base;
    uint32_t limit;
    uint32_t access;   /* VMCS access-rights format: type 3:0, S 4, DPL 6:5, P 7, AVL 12, L 13, D/B 14, G 15, unusable 16 */
};

enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR, SEG_COUNT };

struct vmx_guest_state {
    uint64_t cr0, cr3, cr4, dr7;
    uint64_t rsp, rip, rflags;
    uint64_t debugctl, pat, efer;
    uint64_t sysenter_esp, sysenter_eip;
    struct vmx_segment seg[SEG_COUNT];
    uint64_t gdtr_base, idtr_base;
    uint32_t gdtr_limit, idtr_limit;
    uint32_t activity_state;      /* 0 active, 1 HLT, 2 shutdown, 3 wait-for-SIPI */
    uint32_t interruptibility;    /* bit 0 STI blocking, 1 MOV-SS, 2 SMI, 3 NMI */
    uint64_t pending_debug;
    uint64_t vmcs_link_pointer;
    uint32_t entry_interruption_info; /* VM-entry interruption-information field */
};

/* What the checks need to know about the controls and the CPU. */
struct vmx_check_context {
    uint32_t entry_controls;      /* bit 9 IA-32e mode guest, bit 14 load IA32_PAT, bit 15 load IA32_EFER, bit 2 load debug controls */
    uint32_t secondary_controls;  /* bit 7 unrestricted guest */
    bool secondary_active;        /* primary control bit 31 */
    uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1; /* IA32_VMX_CR0/CR4_FIXED0/1 */
    unsigned physical_address_bits; /* MAXPHYADDR, e.g. 39..52 */
};

/* Checks the guest-state area against SDM Vol. 3C 28.3.1 (26.3.1 in older editions). Returns
 * NULL when every implemented rule holds; otherwise a short name of the first failing rule's
 * field (e.g. "guest CR0", "guest CS access rights", "guest RFLAGS", "guest activity state"),
 * with a sentence saying what is wrong written into why (e.g. "CR0.PG is 1 but CR0.PE is 0").
 * why may be NULL or why_size 0 when only the field is wanted. */
const char *vmx_check_guest_state(const struct vmx_guest_state *gs, const struct vmx_check_context *ctx,
                                  char *why, size_t why_size);

#endif
