/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The guest's descriptor tables (SDM Vol. 3A 3.5.1): looking a selector up in the GDT or the
 * LDT, and the locked updates the CPU makes to a descriptor's type byte (busy and accessed
 * flags). The accesses are implicit supervisor accesses through the guest's paging, so they
 * fault (#PF) as the CPU's would.
 */
#ifndef MHV_VMX_GUEST_DESCRIPTOR_H
#define MHV_VMX_GUEST_DESCRIPTOR_H

#include <stdint.h>

#include "vmx/guest_walk.h"

struct vcpu;

/* The tables a lookup uses: GDTR, and the LDT as LDTR caches it (unusable: no LDT). */
struct descriptor_tables {
    uint64_t gdt_base;
    uint32_t gdt_limit;
    struct vmx_segment ldt;
};

#define SELECTOR_TI 4u
#define SELECTOR_RPL(s) ((s) & 3u)

/* The vCPU's GDTR and LDTR now. */
void descriptor_tables_of(struct vcpu *v, struct descriptor_tables *t);

enum descriptor_lookup {
    DESCRIPTOR_FOUND,
    DESCRIPTOR_BEYOND_LIMIT,   /* the selector's index is outside its table (or there is no LDT) */
    DESCRIPTOR_ACCESS_FAILED,  /* reading it faulted (*f, GUEST_FAULT) or left RAM (GUEST_NOT_RAM) */
};

/* Reads the 8-byte descriptor selector names; *linear receives its address. On
 * DESCRIPTOR_ACCESS_FAILED, *result says which. */
enum descriptor_lookup descriptor_read(struct vcpu *v, const struct descriptor_tables *t, uint16_t selector,
                                       uint64_t *descriptor, uint64_t *linear, enum guest_access_result *result,
                                       struct guest_fault *f);

/* ORs set into and clears clear from the type byte (byte 5) of the descriptor at linear, with a
 * locked update of guest memory. */
enum guest_access_result descriptor_update_type(struct vcpu *v, uint64_t linear, uint8_t set, uint8_t clear,
                                                struct guest_fault *f);

#endif
