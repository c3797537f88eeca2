/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Guest linear -> guest-physical translation as the CPU does it (SDM Vol. 3A chapter 5): the
 * walk of 32-bit, PAE, 4-level and 5-level paging structures with their reserved-bit checks,
 * the access rights (U/S, R/W with CR0.WP, XD with EFER.NXE, SMEP, SMAP with EFLAGS.AC,
 * protection keys with PKRU), the #PF error code when it fails, and the accessed and dirty
 * flags when it succeeds. Pure: the paging state and the guest-physical memory are inputs, so
 * host tests and fuzzers run this very code; vmx/guest_walk.c feeds it a vCPU's state.
 */
#ifndef MHV_VMX_PAGING_H
#define MHV_VMX_PAGING_H

#include <stdbool.h>
#include <stdint.h>

/* What the walk needs of the CPU's state. */
struct paging_state {
    uint64_t cr0, cr3, cr4, efer;
    uint64_t pdpte[4];    /* PAE paging: the PDPTE registers, loaded with CR3 (SDM Vol. 3A 5.4.1) */
    uint32_t pkru;        /* protection keys for user-mode pages, with CR4.PKE (5.6.2) */
    unsigned maxphyaddr;  /* CPUID 0x80000008 EAX[7:0]: physical-address bits, 32..52 */
    bool gbpages;         /* CPUID 0x80000001 EDX[26]: 1-GByte pages exist */
    bool rflags_ac;       /* EFLAGS.AC: lets explicit supervisor accesses reach user pages under SMAP */
};

/* What an access is (bits). A supervisor-mode access is any access at CPL < 3 and every
 * implicit access to a system structure (GDT, LDT, IDT, TSS), even at CPL 3 (5.6). */
enum paging_access {
    PAGING_WRITE = 1u << 0,
    PAGING_FETCH = 1u << 1,
    PAGING_USER = 1u << 2,      /* a user-mode access: CPL 3 and not implicit */
    PAGING_IMPLICIT = 1u << 3,  /* implicit supervisor access: SMAP applies whatever EFLAGS.AC */
    PAGING_PROBE = 1u << 4,     /* check only: set no accessed or dirty flag */
};

/* The #PF error code (SDM Vol. 3A 5.7, figure 5-12). */
enum {
    PF_PRESENT = 1u << 0,  /* 0: a non-present entry; 1: a protection or reserved-bit violation */
    PF_WRITE = 1u << 1,
    PF_USER = 1u << 2,
    PF_RSVD = 1u << 3,
    PF_FETCH = 1u << 4,    /* only with SMEP, or with NXE under PAE/4-level/5-level paging */
    PF_PK = 1u << 5,
};

/* Guest-physical memory as the walker sees it. read_entry reads the 4- or 8-byte entry at gpa
 * into *entry (zero-extended); it returns -1 when gpa is not guest RAM (the CPU would have
 * left the VM with an EPT violation there). set_bits ORs bits into that entry if it still
 * holds expected (an atomic compare-exchange, as the CPU's locked update is); it returns 0, or
 * -1 when the entry changed meanwhile (the walk then starts again). */
struct paging_memory {
    int (*read_entry)(void *ctx, uint64_t gpa, unsigned size, uint64_t *entry);
    int (*set_bits)(void *ctx, uint64_t gpa, unsigned size, uint64_t expected, uint64_t bits);
    void *ctx;
};

enum paging_result {
    PAGING_OK,         /* gpa is valid */
    PAGING_FAULT,      /* the CPU raises #PF with error_code (CR2 = the linear address) */
    PAGING_NOT_RAM,    /* a paging-structure entry lies outside guest RAM (at bad_gpa) */
};

struct paging_walk {
    uint64_t gpa;
    uint32_t error_code;
    uint64_t bad_gpa;
    unsigned page_shift;   /* PAGING_OK: 12, 21, 22 or 30; the translation holds for that page */
    unsigned levels;       /* entries read (for tests) */
};

/* Which paging mode the state selects (5.1.1). */
enum paging_mode { PAGING_NONE, PAGING_32BIT, PAGING_PAE, PAGING_4LEVEL, PAGING_5LEVEL };
enum paging_mode paging_mode_of(const struct paging_state *s);

/* Whether a PDPTE may be loaded into the PDPTE registers (not present, or no reserved bit
 * set): loading CR3 under PAE paging raises #GP(0) otherwise (5.4.1). */
bool paging_pdpte_valid(const struct paging_state *s, uint64_t pdpte);

/* Translates a linear address for an access (enum paging_access bits). In modes other than
 * 4-/5-level paging only bits 31:0 of linear count; in those, canonical form is the caller's
 * check (a #GP, not a #PF). Never reads anything but the entries of the walk (at most five). */
enum paging_result paging_translate(const struct paging_state *s, const struct paging_memory *m, uint64_t linear,
                                    unsigned access, struct paging_walk *out);

#endif
