/* SPDX-License-Identifier: BSD-2-Clause */
// sources: vmx/paging.c
/* libFuzzer target for the guest page-table walker (vmx/paging.c), run for a bounded time by
 * make test. The input is a paging state (CR0, CR3, CR4, EFER, PDPTEs, PKRU, MAXPHYADDR,
 * 1-GByte pages, EFLAGS.AC), an access (write, fetch, user, implicit, probe), a linear address
 * and the contents of a 32 KiB guest-physical memory; all paging modes come out of it (none,
 * 32-bit with and without PSE, PAE, 4-level, 5-level). The walker must:
 *  - read only 4- or 8-byte entries, aligned, and never outside the memory (the callback
 *    says so: it answers -1 there, and the walk must then report PAGING_NOT_RAM);
 *  - read at most five entries per walk, and give up its flag updates after a bounded
 *    number of lost races (the callback loses some on purpose);
 *  - agree with the reference below, written separately from the SDM's tables (Vol. 3A
 *    5.3-5.8): the result, the guest-physical address and page size, the #PF error code,
 *    and the accessed and dirty flags it leaves in memory.
 * So that walks get deep, an entry with bit 9 set (ignored by every paging mode) has its
 * address bits above 15 cleared before the walk: it points into the memory. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "vmx/paging.h"

#define MUST(cond)                                                                          \
    do {                                                                                    \
        if (!(cond))                                                                        \
            __builtin_trap();                                                               \
    } while (0)

#define MEM_SIZE 0x8000u

/* --- The memory the walker sees ---------------------------------------------------------- */
struct fake_memory {
    uint8_t bytes[MEM_SIZE];
    unsigned reads, races_to_lose, set_calls;
};

static int fake_read(void *ctx, uint64_t gpa, unsigned size, uint64_t *entry)
{
    struct fake_memory *m = ctx;
    MUST(size == 4 || size == 8);
    MUST(gpa % size == 0);
    m->reads++;
    if (gpa >= MEM_SIZE || gpa + size > MEM_SIZE)
        return -1;
    uint64_t e = 0;
    memcpy(&e, m->bytes + gpa, size);
    *entry = e;
    return 0;
}

static int fake_set_bits(void *ctx, uint64_t gpa, unsigned size, uint64_t expected, uint64_t bits)
{
    struct fake_memory *m = ctx;
    MUST(size == 4 || size == 8);
    MUST(gpa % size == 0 && gpa + size <= MEM_SIZE);
    MUST((bits & ~0x60ull) == 0 && bits);
    m->set_calls++;
    if (m->races_to_lose) {
        m->races_to_lose--;
        return -1;
    }
    uint64_t e = 0;
    memcpy(&e, m->bytes + gpa, size);
    if (e != expected)
        return -1;
    e |= bits;
    memcpy(m->bytes + gpa, &e, size);
    return 0;
}

/* --- The reference ------------------------------------------------------------------------ */
static uint64_t field(unsigned hi, unsigned lo) /* bits hi..lo, by counting */
{
    uint64_t m = 0;
    for (unsigned b = lo; b <= hi && b < 64; b++)
        m |= 1ull << b;
    return m;
}

static uint64_t load(const uint8_t *mem, uint64_t gpa, unsigned size, bool *ok)
{
    uint64_t v = 0;
    *ok = gpa + size <= MEM_SIZE;
    if (*ok)
        for (unsigned i = 0; i < size; i++)
            v |= (uint64_t)mem[gpa + i] << (8 * i);
    return v;
}

struct ref_result {
    enum paging_result result;
    uint64_t gpa;
    uint32_t error;
    unsigned shift;
};

enum { P = 1, RW = 2, US = 4, A = 0x20, D = 0x40, PS = 0x80 };

/* Walks as SDM Vol. 3A chapter 5 describes, mode by mode, on its own copy of the memory. */
static struct ref_result reference(const struct paging_state *s, uint8_t *mem, uint64_t la, unsigned access)
{
    struct ref_result r = { PAGING_OK, 0, 0, 12 };
    bool pg = s->cr0 >> 31 & 1, pae = s->cr4 >> 5 & 1, lma = s->efer >> 10 & 1, la57 = s->cr4 >> 12 & 1;
    bool pse = s->cr4 >> 4 & 1, nxe = s->efer >> 11 & 1, wp = s->cr0 >> 16 & 1;
    bool smep = s->cr4 >> 20 & 1, smap = s->cr4 >> 21 & 1, pke = s->cr4 >> 22 & 1;
    bool write = access & PAGING_WRITE, fetch = access & PAGING_FETCH, user = access & PAGING_USER;
    unsigned m = s->maxphyaddr < 32 ? 32 : s->maxphyaddr > 52 ? 52 : s->maxphyaddr;
    if (!pg) {
        r.gpa = la & 0xffffffff;
        return r;
    }
    bool mode32 = !pae, mode_pae = pae && !lma, long_mode = pae && lma;
    bool xd_on = nxe && !mode32;
    uint32_t base_err = (write ? 2 : 0) | (user ? 4 : 0) | (fetch && (smep || xd_on) ? 16 : 0);

    uint64_t entry_gpa[5], entry_val[5];
    unsigned entry_size = mode32 ? 4 : 8, used = 0;
    bool user_ok = true, write_ok = true, xd = false;
    uint64_t leaf = 0, frame = 0;
    unsigned page_shift = 12;
    bool ok;

#define NOT_PRESENT() do { r.result = PAGING_FAULT; r.error = base_err; return r; } while (0)
#define RESERVED() do { r.result = PAGING_FAULT; r.error = base_err | 1 | 8; return r; } while (0)
#define USE(g, e) do { entry_gpa[used] = (g); entry_val[used] = (e); used++; \
    user_ok = user_ok && ((e) & US); write_ok = write_ok && ((e) & RW); \
    xd = xd || (xd_on && ((e) >> 63)); } while (0)

    if (mode32) {
        la &= 0xffffffff;
        uint64_t g = (s->cr3 & 0xfffff000) + ((la >> 22) << 2);
        uint64_t pde = load(mem, g, 4, &ok);
        if (!ok) { r.result = PAGING_NOT_RAM; return r; }
        if (!(pde & P)) NOT_PRESENT();
        if (pse && (pde & PS)) {
            unsigned mm = m > 40 ? 40 : m;
            uint64_t rsvd = field(21, 21) | field(20, 13 + (mm - 32));
            if (mm == 32)
                rsvd = field(21, 13);
            if (pde & rsvd) RESERVED();
            USE(g, pde);
            frame = (pde & 0xffc00000) | (((pde >> 13) & 0xff) << 32);
            page_shift = 22;
        } else {
            USE(g, pde);
            uint64_t g2 = (pde & 0xfffff000) + (((la >> 12) & 0x3ff) << 2);
            uint64_t pte = load(mem, g2, 4, &ok);
            if (!ok) { r.result = PAGING_NOT_RAM; return r; }
            if (!(pte & P)) NOT_PRESENT();
            USE(g2, pte);
            frame = pte & 0xfffff000;
        }
        leaf = entry_val[used - 1];
    } else {
        uint64_t table;
        int level;
        uint64_t phys_rsvd = mode_pae ? field(62, m) : field(51, m);
        uint64_t xd_rsvd = nxe ? 0 : field(63, 63);
        if (mode_pae) {
            la &= 0xffffffff;
            uint64_t pdpte = s->pdpte[la >> 30];
            if (!(pdpte & P)) NOT_PRESENT();
            if (pdpte & (field(2, 1) | field(8, 5) | field(63, m))) RESERVED();
            table = pdpte & field(51, 12);
            level = 2;
        } else {
            level = la57 ? 5 : 4;
            table = s->cr3 & field(51, 12) & field(m - 1, 0);
        }
        for (;; level--) {
            unsigned shift = 12 + 9 * (level - 1);
            uint64_t g = table + ((la >> shift) & 0x1ff) * 8;
            uint64_t e = load(mem, g, 8, &ok);
            if (!ok) { r.result = PAGING_NOT_RAM; return r; }
            if (!(e & P)) NOT_PRESENT();
            uint64_t rsvd = phys_rsvd | xd_rsvd;
            bool page = false;
            if (level >= 4) {
                rsvd |= PS;                         /* PML5E, PML4E */
            } else if (level == 3 && (e & PS)) {
                if (!s->gbpages)
                    RESERVED();
                rsvd |= field(29, 13);
                page = true;
            } else if (level == 2 && (e & PS)) {
                rsvd |= field(20, 13);
                page = true;
            } else if (level == 1) {
                page = true;
            }
            if (e & rsvd) RESERVED();
            USE(g, e);
            if (page) {
                page_shift = shift;
                frame = e & field(51, shift);
                leaf = e;
                break;
            }
            table = e & field(51, 12);
        }
    }

    /* Rights (5.6). */
    bool allowed;
    if (fetch)
        allowed = user ? (user_ok && !xd) : (!xd && !(smep && user_ok));
    else if (user)
        allowed = user_ok && (!write || write_ok);
    else
        allowed = !(smap && user_ok && ((access & PAGING_IMPLICIT) || !s->rflags_ac)) && (!write || write_ok || !wp);
    bool pk_fault = false;
    if (long_mode && pke && user_ok && !fetch) {
        unsigned key = (leaf >> 59) & 0xf;
        bool ad = s->pkru & (1u << (2 * key)), wd = s->pkru & (2u << (2 * key));
        pk_fault = ad || (write && wd && (user || wp));
    }
    if (!allowed || pk_fault) {
        r.result = PAGING_FAULT;
        r.error = base_err | 1 | (pk_fault ? 32 : 0);
        return r;
    }
    if (!(access & PAGING_PROBE)) {
        for (unsigned i = 0; i < used; i++) {
            uint64_t add = A | (i == used - 1 && write ? D : 0);
            uint64_t v = entry_val[i] | add;
            memcpy(mem + entry_gpa[i], &v, entry_size);
        }
    }
    r.gpa = frame | (la & field(page_shift - 1, 0));
    r.shift = page_shift;
    return r;
}

/* --- The target --------------------------------------------------------------------------- */
static uint64_t take(const uint8_t **p, size_t *left, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n && *left; i++, (*p)++, (*left)--)
        v |= (uint64_t)**p << (8 * i);
    return v;
}

/* An entry with bit 9 set points into the memory (see the top of the file). */
static uint64_t normalize(uint64_t e, unsigned size)
{
    if (!(e & 0x200))
        return e;
    return size == 4 ? e & 0xffff : e & ~0x000fffffffff0000ull; /* bits 51:16 */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fake_memory walker_mem;
    static uint8_t reference_mem[MEM_SIZE], original[MEM_SIZE];
    const uint8_t *p = data;
    size_t left = size;

    unsigned modes = (unsigned)take(&p, &left, 1), more = (unsigned)take(&p, &left, 1);
    struct paging_state s = { 0 };
    s.cr0 = 1 | (modes & 1 ? 1ull << 31 : 0) | (modes & 2 ? 1ull << 16 : 0);
    s.cr4 = (modes & 4 ? 1ull << 5 : 0) | (modes & 8 ? 1ull << 4 : 0) | (modes & 16 ? 1ull << 12 : 0) |
            (modes & 32 ? 1ull << 20 : 0) | (modes & 64 ? 1ull << 21 : 0) | (modes & 128 ? 1ull << 22 : 0);
    s.efer = (more & 1 ? 1ull << 11 : 0);
    if ((s.cr4 >> 5 & 1) && (more & 2))
        s.efer |= 1ull << 10 | 1ull << 8; /* long mode needs PAE */
    s.gbpages = more & 4;
    s.rflags_ac = more & 8;
    s.maxphyaddr = (unsigned)take(&p, &left, 1) % 24 + 30;
    walker_mem.races_to_lose = (unsigned)take(&p, &left, 1) % 8;
    s.pkru = (uint32_t)take(&p, &left, 4);
    uint64_t linear = take(&p, &left, 8);
    bool mode32 = !(s.cr4 >> 5 & 1);
    uint64_t cr3 = take(&p, &left, 8);
    s.cr3 = cr3 & 0x8000000000000000ull ? cr3 & ~(1ull << 63) : cr3 & 0xffff;
    for (unsigned i = 0; i < 4; i++)
        s.pdpte[i] = normalize(take(&p, &left, 8), 8);
    unsigned access = (unsigned)take(&p, &left, 1) &
                      (PAGING_WRITE | PAGING_FETCH | PAGING_USER | PAGING_IMPLICIT | PAGING_PROBE);
    if (access & PAGING_USER)
        access &= ~PAGING_IMPLICIT;
    if (access & PAGING_FETCH)
        access &= ~(PAGING_WRITE | PAGING_IMPLICIT);

    memset(walker_mem.bytes, 0, MEM_SIZE);
    memcpy(walker_mem.bytes, p, left < MEM_SIZE ? left : MEM_SIZE);
    unsigned esize = mode32 ? 4 : 8;
    for (unsigned off = 0; off < MEM_SIZE; off += esize) {
        uint64_t e = 0;
        memcpy(&e, walker_mem.bytes + off, esize);
        e = normalize(e, esize);
        memcpy(walker_mem.bytes + off, &e, esize);
    }
    memcpy(reference_mem, walker_mem.bytes, MEM_SIZE);
    memcpy(original, walker_mem.bytes, MEM_SIZE);
    walker_mem.reads = walker_mem.set_calls = 0;
    unsigned races = walker_mem.races_to_lose;

    struct paging_memory m = { fake_read, fake_set_bits, &walker_mem };
    struct paging_walk w;
    enum paging_result got = paging_translate(&s, &m, linear, access, &w);
    struct ref_result want = reference(&s, reference_mem, linear, access);

    MUST(walker_mem.reads <= 4 * 5);
    MUST(walker_mem.set_calls <= 4 * 5);
    MUST(got == want.result);
    if (got == PAGING_OK) {
        MUST(w.gpa == want.gpa);
        MUST(w.page_shift == want.shift);
    } else if (got == PAGING_FAULT) {
        MUST(w.error_code == want.error);
    } else {
        MUST(w.bad_gpa >= MEM_SIZE || w.bad_gpa + 8 > MEM_SIZE);
    }
    /* The flags: the reference's when a walk got through its updates (at most two lost races
     * before the last try); after three, the final try only checks, and memory is as it was. */
    if (races <= 2)
        MUST(memcmp(walker_mem.bytes, reference_mem, MEM_SIZE) == 0);
    else
        MUST(memcmp(walker_mem.bytes, original, MEM_SIZE) == 0 ||
             memcmp(walker_mem.bytes, reference_mem, MEM_SIZE) == 0);
    return 0;
}
