/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A vCPU's memory accesses as its CPU would make them: segmentation (include/vmx/segment.h)
 * and paging (include/vmx/paging.h) on the guest state in the VMCS, with the fault the CPU
 * would raise when an access is not allowed (#PF with CR2 and its error code, #GP(0) or
 * #SS(0)), so exit handlers that emulate an instruction give the guest that fault instead of
 * stopping the VM. Only an access that leaves guest RAM (a page table or the data itself in
 * MMIO or nowhere) is mhv's limit: the caller stops the VM then.
 */
#ifndef MHV_VMX_GUEST_WALK_H
#define MHV_VMX_GUEST_WALK_H

#include <stdbool.h>
#include <stdint.h>

#include "vmx/paging.h"
#include "vmx/segment.h"

struct vcpu;

enum guest_access_result {
    GUEST_OK,
    GUEST_FAULT,     /* the CPU raises fault.vector: guest_inject_fault delivers it */
    GUEST_NOT_RAM,   /* guest-physical fault.gpa is not RAM: mhv cannot perform the access */
};

struct guest_fault {
    uint8_t vector;       /* VEC_PF, VEC_GP or VEC_SS */
    uint32_t error_code;
    uint64_t cr2;         /* #PF: the linear address */
    uint64_t gpa;         /* GUEST_NOT_RAM: the guest-physical address outside RAM */
};

/* The paging state the vCPU's translations use now (CR0, CR3, CR4, EFER, PDPTEs, PKRU, ...). */
void guest_paging_state(struct vcpu *v, struct paging_state *s);

/* Translates a linear address for an access (enum paging_access bits; PAGING_USER only where
 * the CPU would make a user-mode access: see guest_user_access). Sets the accessed and dirty
 * flags as the CPU would. */
enum guest_access_result guest_translate(struct vcpu *v, uint64_t linear, unsigned access, uint64_t *gpa,
                                         struct guest_fault *f);
/* The same with a paging state read once (guest_paging_state) for many translations. */
enum guest_access_result guest_translate_in(struct vcpu *v, const struct paging_state *s, uint64_t linear,
                                           unsigned access, uint64_t *gpa, struct guest_fault *f);

/* Reads or writes len (at most 4096) bytes at a linear address as one access: every page it
 * touches is translated and checked before any byte moves. In modes without 64-bit linear
 * addresses the address wraps at 4 GiB, as the CPU's does. */
enum guest_access_result guest_read(struct vcpu *v, uint64_t linear, void *dst, unsigned len, unsigned access,
                                    struct guest_fault *f);
enum guest_access_result guest_write(struct vcpu *v, uint64_t linear, const void *src, unsigned len,
                                     unsigned access, struct guest_fault *f);

/* Delivers the fault on the next entry: #PF with CR2 set, #GP(0), #SS(0), ... */
void guest_inject_fault(struct vcpu *v, const struct guest_fault *f);

/* PAGING_USER when an explicit data access or fetch now is a user-mode access: at CPL 3, which
 * is SS.DPL (SDM Vol. 3C 25.4.1). Else 0. */
unsigned guest_user_access(struct vcpu *v);

/* A segment register as the VMCS caches it (SEG_ES..SEG_TR). */
void guest_segment(struct vcpu *v, unsigned seg, struct vmx_segment *s);
void guest_set_segment(struct vcpu *v, unsigned seg, const struct vmx_segment *s);
/* How the vCPU forms addresses now (real, protected, 64-bit) and its canonical width. */
enum seg_addressing guest_addressing(struct vcpu *v);
unsigned guest_va_bits(struct vcpu *v);

/* 16, 32 or 64: the code segment's default size (what instruction decoding needs). */
unsigned guest_cpu_mode(struct vcpu *v);

#endif
