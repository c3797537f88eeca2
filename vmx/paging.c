/* SPDX-License-Identifier: BSD-2-Clause */
/* Guest paging-structure walks (see include/vmx/paging.h): SDM Vol. 3A 5.3 (32-bit paging),
 * 5.4 (PAE), 5.5 (4-level and 5-level), 5.6 (access rights), 5.7 (#PF), 5.8 (A/D flags). */
#include "vmx/paging.h"

#include "arch/x86/cpu.h"
#include "arch/x86/msr.h"

#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PS (1ull << 7)
#define PTE_XD (1ull << 63)
#define ADDR_BITS 0x000ffffffffff000ull /* bits 51:12 */

/* Bits hi..lo set. */
static uint64_t bits(unsigned hi, unsigned lo)
{
    return hi < lo ? 0 : (~0ull >> (63 - hi)) & ~((1ull << lo) - 1);
}

enum paging_mode paging_mode_of(const struct paging_state *s)
{
    if (!(s->cr0 & CR0_PG))
        return PAGING_NONE;
    if (!(s->cr4 & CR4_PAE))
        return PAGING_32BIT;
    if (!(s->efer & EFER_LMA))
        return PAGING_PAE;
    return s->cr4 & CR4_LA57 ? PAGING_5LEVEL : PAGING_4LEVEL;
}

static unsigned phys_bits(const struct paging_state *s)
{
    return s->maxphyaddr < 32 ? 32 : s->maxphyaddr > 52 ? 52 : s->maxphyaddr;
}

/* An entry the walk used, for the accessed/dirty update. */
struct used_entry {
    uint64_t gpa, value;
    unsigned size;
};

/* The rights a translation grants: the combination over every level (5.6). */
struct rights {
    bool user, writable, nx;
};

static void combine(struct rights *r, uint64_t e, bool nx_enabled)
{
    r->user &= (e & PTE_US) != 0;
    r->writable &= (e & PTE_RW) != 0;
    r->nx |= nx_enabled && (e & PTE_XD);
}

/* Reserved bits of PAE, 4-level and 5-level entries (tables 5-9 to 5-11 and 5-15 to 5-20),
 * worked out once per walk: those of every entry (physical-address bits from MAXPHYADDR up,
 * XD without EFER.NXE), and those of a PML5E/PML4E (PS too), of a PDPTE mapping 1 GiB (PS
 * itself where 1-GByte pages do not exist) and of a PDE mapping 2 MiB. */
struct reserved {
    uint64_t any, top, gib, mib;
};

static void reserved_bits_of(const struct paging_state *s, enum paging_mode mode, struct reserved *r)
{
    unsigned m = phys_bits(s);
    r->any = (mode == PAGING_PAE ? bits(62, m) : bits(51, m)) | (s->efer & EFER_NXE ? 0 : PTE_XD);
    r->top = r->any | PTE_PS;
    r->gib = r->any | (s->gbpages ? bits(29, 13) : PTE_PS);
    r->mib = r->any | bits(20, 13);
}

/* The PDPTE registers of PAE paging: reserved bits 2:1, 8:5 and 63:M (5.4.1). */
static uint64_t pdpte_reserved_bits(const struct paging_state *s, uint64_t e)
{
    return e & (bits(2, 1) | bits(8, 5) | bits(63, phys_bits(s)));
}

bool paging_pdpte_valid(const struct paging_state *s, uint64_t pdpte)
{
    return !(pdpte & PTE_P) || !pdpte_reserved_bits(s, pdpte);
}

static enum paging_result fault(struct paging_walk *out, uint32_t code)
{
    out->error_code = code;
    return PAGING_FAULT;
}

/* Whether the access may use a page with these rights (5.6); sets PF_PK in *pk when a
 * protection key forbids it (5.6.2), which the error code reports whatever else failed. */
static bool allowed(const struct paging_state *s, enum paging_mode mode, const struct rights *r, uint64_t leaf,
                    unsigned access, bool *pk)
{
    bool write = access & PAGING_WRITE, fetch = access & PAGING_FETCH, user = access & PAGING_USER;
    bool wp = s->cr0 & CR0_WP;
    bool ok;
    if (user)
        ok = r->user && (!write || r->writable) && (!fetch || !r->nx);
    else if (fetch)
        ok = !r->nx && !((s->cr4 & CR4_SMEP) && r->user);
    else
        ok = !((s->cr4 & CR4_SMAP) && r->user && ((access & PAGING_IMPLICIT) || !s->rflags_ac)) &&
             (!write || r->writable || !wp);
    *pk = false;
    if ((mode == PAGING_4LEVEL || mode == PAGING_5LEVEL) && (s->cr4 & CR4_PKE) && r->user && !fetch) {
        unsigned key = (unsigned)(leaf >> 59) & 15;
        bool ad = (s->pkru >> (2 * key)) & 1, wd = (s->pkru >> (2 * key + 1)) & 1;
        *pk = ad || (write && wd && (user || wp));
    }
    return ok && !*pk;
}

/* One walk; -1 when an accessed/dirty update lost a race (the caller walks again). */
static int walk_once(const struct paging_state *s, const struct paging_memory *m, uint64_t linear, unsigned access,
                     struct paging_walk *out, enum paging_result *result)
{
    enum paging_mode mode = paging_mode_of(s);
    bool nx_enabled = mode != PAGING_32BIT && (s->efer & EFER_NXE);
    uint32_t code = (access & PAGING_WRITE ? PF_WRITE : 0) | (access & PAGING_USER ? PF_USER : 0);
    if ((access & PAGING_FETCH) && ((s->cr4 & CR4_SMEP) || nx_enabled))
        code |= PF_FETCH;
    struct used_entry used[5];
    unsigned n = 0;
    uint64_t flags_held = PTE_A | PTE_D; /* A (and D) in every entry used so far */
    struct rights r = { true, true, false };
    uint64_t e = 0, gpa, at = 0;
    unsigned shift;
    out->levels = 0;

    if (mode == PAGING_NONE) {
        out->gpa = linear & 0xffffffffull;
        out->page_shift = 12;
        *result = PAGING_OK;
        return 0;
    }
    if (mode == PAGING_32BIT) {
        /* Two levels of 4-byte entries; a PDE with PS=1 maps 4 MiB when CR4.PSE=1, its bits
         * 20:13 holding physical-address bits 39:32 up to MAXPHYADDR (PSE-36), bit 21 reserved. */
        linear &= 0xffffffffull;
        at = (s->cr3 & 0xfffff000ull) + ((linear >> 22) & 1023) * 4;
        if (m->read_entry(m->ctx, at, 4, &e) < 0)
            goto not_ram;
        out->levels = 1;
        if (!(e & PTE_P))
            return *result = fault(out, code), 0;
        used[n++] = (struct used_entry){ at, e, 4 };
        flags_held &= e;
        combine(&r, e, false);
        if ((e & PTE_PS) && (s->cr4 & CR4_PSE)) {
            unsigned m36 = phys_bits(s) > 40 ? 40 : phys_bits(s);
            if (e & (bits(21, 21) | bits(20, 13 + (m36 - 32))))
                return *result = fault(out, code | PF_PRESENT | PF_RSVD), 0;
            gpa = (e & 0xffc00000ull) | (((e >> 13) & 0xff) << 32);
            shift = 22;
        } else {
            at = (e & 0xfffff000ull) + ((linear >> 12) & 1023) * 4;
            if (m->read_entry(m->ctx, at, 4, &e) < 0)
                goto not_ram;
            out->levels = 2;
            if (!(e & PTE_P))
                return *result = fault(out, code), 0;
            used[n++] = (struct used_entry){ at, e, 4 };
            flags_held &= e;
        flags_held &= e;
            combine(&r, e, false);
            gpa = e & 0xfffff000ull;
            shift = 12;
        }
    } else {
        unsigned level;
        uint64_t table;
        struct reserved rsvd;
        reserved_bits_of(s, mode, &rsvd);
        if (mode == PAGING_PAE) {
            /* The PDPTE comes from the registers CR3 loaded, not from memory (5.4.1). */
            linear &= 0xffffffffull;
            e = s->pdpte[(linear >> 30) & 3];
            if (!(e & PTE_P))
                return *result = fault(out, code), 0;
            if (pdpte_reserved_bits(s, e))
                return *result = fault(out, code | PF_PRESENT | PF_RSVD), 0;
            level = 2;
            table = e & ADDR_BITS;
        } else {
            level = mode == PAGING_5LEVEL ? 5 : 4;
            table = s->cr3 & ADDR_BITS & ~rsvd.any; /* MAXPHYADDR bounds CR3 too */
        }
        for (;; level--) {
            shift = 12 + 9 * (level - 1);
            at = table + ((linear >> shift) & 511) * 8;
            if (m->read_entry(m->ctx, at, 8, &e) < 0)
                goto not_ram;
            out->levels++;
            if (!(e & PTE_P))
                return *result = fault(out, code), 0;
            uint64_t reserved = level >= 4 ? rsvd.top
                              : !(e & PTE_PS) || level == 1 ? rsvd.any
                              : level == 3 ? rsvd.gib : rsvd.mib;
            if (e & reserved)
                return *result = fault(out, code | PF_PRESENT | PF_RSVD), 0;
            used[n++] = (struct used_entry){ at, e, 8 };
            flags_held &= e;
            combine(&r, e, nx_enabled);
            if (level == 1 || ((level == 2 || level == 3) && (e & PTE_PS)))
                break;
            table = e & ADDR_BITS;
        }
        gpa = e & ADDR_BITS & ~bits(shift - 1, 0);
    }

    bool pk;
    if (!allowed(s, mode, &r, e, access, &pk))
        return *result = fault(out, code | PF_PRESENT | (pk ? PF_PK : 0)), 0;

    /* Accessed flags in every entry used, the dirty flag in the one mapping the page on a
     * write (5.8), each by a locked update that fails if the guest changed the entry. */
    bool flags_set = (flags_held & PTE_A) && (!(access & PAGING_WRITE) || (e & PTE_D));
    if (!(access & PAGING_PROBE) && !flags_set) {
        for (unsigned i = 0; i < n; i++) {
            uint64_t want = PTE_A | (i == n - 1 && (access & PAGING_WRITE) ? PTE_D : 0);
            if ((used[i].value & want) == want)
                continue;
            if (m->set_bits(m->ctx, used[i].gpa, used[i].size, used[i].value, want) < 0)
                return -1;
            /* A table that maps itself is the same entry at two levels: it now holds the flags. */
            for (unsigned j = i + 1; j < n; j++)
                if (used[j].gpa == used[i].gpa)
                    used[j].value |= want;
        }
    }
    out->gpa = gpa | (linear & bits(shift - 1, 0));
    out->page_shift = shift;
    *result = PAGING_OK;
    return 0;

not_ram:
    out->bad_gpa = at;
    *result = PAGING_NOT_RAM;
    return 0;
}

enum paging_result paging_translate(const struct paging_state *s, const struct paging_memory *m, uint64_t linear,
                                    unsigned access, struct paging_walk *out)
{
    enum paging_result result = PAGING_NOT_RAM;
    *out = (struct paging_walk){ 0 };
    /* A guest rewriting an entry during every walk could keep this going: after a few lost
     * races the translation stands without its flag updates. */
    for (unsigned attempt = 0; attempt < 4; attempt++)
        if (walk_once(s, m, linear, access | (attempt == 3 ? PAGING_PROBE : 0), out, &result) == 0)
            break;
    return result;
}
