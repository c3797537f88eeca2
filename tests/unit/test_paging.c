/* SPDX-License-Identifier: BSD-2-Clause */
// sources: vmx/paging.c vmx/segment.c
/* The guest page-table walker and the segment checks, on hand-built tables whose answers
 * were worked out from the SDM (Vol. 3A 5.6 access rights, 5.7 #PF error codes, 5.8 A/D
 * flags; 3.4.5 and 5.3 limits and types). fuzz_paging compares the walker with a reference
 * on random tables; these pin the cases by name. */
#include "stubs.h"

#include <string.h>

#include "vmx/paging.h"
#include "vmx/segment.h"

static uint8_t mem[0x10000];

static int read_entry(void *ctx, uint64_t gpa, unsigned size, uint64_t *e)
{
    (void)ctx;
    if (gpa + size > sizeof(mem))
        return -1;
    *e = 0;
    memcpy(e, mem + gpa, size);
    return 0;
}

static int set_bits(void *ctx, uint64_t gpa, unsigned size, uint64_t expected, uint64_t bits)
{
    (void)ctx, (void)expected;
    uint64_t e = 0;
    memcpy(&e, mem + gpa, size);
    e |= bits;
    memcpy(mem + gpa, &e, size);
    return 0;
}

static const struct paging_memory memory = { read_entry, set_bits, NULL };

static void put64(uint64_t gpa, uint64_t e) { memcpy(mem + gpa, &e, 8); }
static uint64_t get64(uint64_t gpa) { uint64_t e; memcpy(&e, mem + gpa, 8); return e; }

#define CR0_PG (1ull << 31)
#define CR0_WP (1ull << 16)
#define CR4_PAE (1ull << 5)
#define CR4_PSE (1ull << 4)
#define CR4_SMEP (1ull << 20)
#define CR4_SMAP (1ull << 21)
#define CR4_PKE (1ull << 22)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

/* 4-level: linear 0x0000004080604123 (indexes 0, 2, 3, 4) through tables at 0x1000-0x4000 to
 * the page 0x5000, every level with the flags `flags` (the PTE with leaf_extra as well). */
static struct paging_state four_level(uint64_t flags, uint64_t leaf_extra)
{
    memset(mem, 0, sizeof(mem));
    put64(0x1000, 0x2000 | flags);
    put64(0x2000 + 2 * 8, 0x3000 | flags);
    put64(0x3000 + 3 * 8, 0x4000 | flags);
    put64(0x4000 + 4 * 8, 0x5000 | flags | leaf_extra);
    return (struct paging_state){ .cr0 = CR0_PG | 1, .cr3 = 0x1000, .cr4 = CR4_PAE, .efer = EFER_LMA | EFER_NXE,
                                  .maxphyaddr = 40, .gbpages = true };
}

#define LA ((2ull << 30) | (3ull << 21) | (4ull << 12) | 0x123)

static uint32_t fault_code(const struct paging_state *s, unsigned access)
{
    struct paging_walk w;
    assert_int_equal(paging_translate(s, &memory, LA, access, &w), PAGING_FAULT);
    return w.error_code;
}

static void allowed(const struct paging_state *s, unsigned access)
{
    struct paging_walk w;
    assert_int_equal(paging_translate(s, &memory, LA, access, &w), PAGING_OK);
    assert_int_equal(w.gpa, 0x5123);
    assert_int_equal(w.page_shift, 12);
}

static void test_present_and_flags(void **state)
{
    (void)state;
    struct paging_state s = four_level(7, 0);
    allowed(&s, PAGING_WRITE | PAGING_USER);
    for (uint64_t at = 0x1000; at <= 0x4000; at += 0x1000) {
        uint64_t e = at == 0x1000 ? get64(at) : get64(at + (at == 0x2000 ? 16 : at == 0x3000 ? 24 : 32));
        assert_true(e & 0x20); /* accessed everywhere */
    }
    assert_true(get64(0x4000 + 32) & 0x40); /* dirty in the PTE */
    assert_false(get64(0x3000 + 24) & 0x40); /* not above it */

    s = four_level(7, 0);
    allowed(&s, PAGING_PROBE);
    assert_false(get64(0x4000 + 32) & 0x20); /* a probe sets nothing */

    s = four_level(7, 0);
    put64(0x3000 + 3 * 8, 0);
    assert_int_equal(fault_code(&s, PAGING_WRITE | PAGING_USER), PF_WRITE | PF_USER);
    assert_int_equal(fault_code(&s, PAGING_FETCH), PF_FETCH); /* NXE: I/D reported */
}

static void test_read_write_and_wp(void **state)
{
    (void)state;
    struct paging_state s = four_level(7, 0);
    put64(0x4000 + 4 * 8, 0x5000 | 5); /* read-only PTE */
    allowed(&s, PAGING_WRITE);          /* supervisor, WP=0 */
    assert_int_equal(fault_code(&s, PAGING_WRITE | PAGING_USER), PF_PRESENT | PF_WRITE | PF_USER);
    s.cr0 |= CR0_WP;
    assert_int_equal(fault_code(&s, PAGING_WRITE), PF_PRESENT | PF_WRITE);
    allowed(&s, 0);
}

static void test_user_supervisor_smep_smap(void **state)
{
    (void)state;
    struct paging_state s = four_level(3, 0); /* supervisor pages */
    assert_int_equal(fault_code(&s, PAGING_USER), PF_PRESENT | PF_USER);
    s = four_level(7, 0);                     /* user pages */
    s.cr4 |= CR4_SMEP;
    assert_int_equal(fault_code(&s, PAGING_FETCH), PF_PRESENT | PF_FETCH);
    allowed(&s, PAGING_FETCH | PAGING_USER);
    s.cr4 = CR4_PAE | CR4_SMAP;
    assert_int_equal(fault_code(&s, 0), PF_PRESENT);
    s.rflags_ac = true;
    allowed(&s, PAGING_WRITE);
    assert_int_equal(fault_code(&s, PAGING_IMPLICIT), PF_PRESENT); /* AC does not cover implicit accesses */
    allowed(&s, PAGING_FETCH);                                     /* SMAP is about data */
}

static void test_execute_disable(void **state)
{
    (void)state;
    struct paging_state s = four_level(7, 1ull << 63);
    allowed(&s, PAGING_WRITE);
    assert_int_equal(fault_code(&s, PAGING_FETCH), PF_PRESENT | PF_FETCH);
    s.efer &= ~EFER_NXE; /* then bit 63 is reserved, and I/D not reported */
    assert_int_equal(fault_code(&s, PAGING_FETCH), PF_PRESENT | PF_RSVD);
}

static void test_protection_keys(void **state)
{
    (void)state;
    struct paging_state s = four_level(7, 3ull << 59); /* key 3 */
    s.cr4 |= CR4_PKE;
    s.pkru = 1u << 6;                                   /* AD3 */
    assert_int_equal(fault_code(&s, PAGING_USER), PF_PRESENT | PF_USER | PF_PK);
    allowed(&s, PAGING_FETCH | PAGING_USER);            /* keys do not govern fetches */
    s.pkru = 2u << 6;                                   /* WD3 */
    allowed(&s, PAGING_USER);
    assert_int_equal(fault_code(&s, PAGING_WRITE | PAGING_USER), PF_PRESENT | PF_WRITE | PF_USER | PF_PK);
    allowed(&s, PAGING_WRITE);                          /* supervisor write, WP=0 */
    s.cr0 |= CR0_WP;
    assert_int_equal(fault_code(&s, PAGING_WRITE), PF_PRESENT | PF_WRITE | PF_PK);
}

static void test_large_pages_and_reserved_bits(void **state)
{
    (void)state;
    struct paging_state s = four_level(7, 0);
    struct paging_walk w;
    put64(0x3000 + 3 * 8, 0x200000 | 0x87); /* 2 MiB page */
    assert_int_equal(paging_translate(&s, &memory, LA, 0, &w), PAGING_OK);
    assert_int_equal(w.gpa, 0x200000 | (LA & 0x1fffff));
    assert_int_equal(w.page_shift, 21);
    put64(0x3000 + 3 * 8, 0x200000 | 0x87 | (1ull << 13)); /* bit 13 of a 2 MiB PDE is reserved */
    assert_int_equal(fault_code(&s, PAGING_WRITE), PF_PRESENT | PF_RSVD | PF_WRITE);
    put64(0x3000 + 3 * 8, 0x4000 | 7 | (1ull << 45)); /* above MAXPHYADDR 40 */
    assert_int_equal(fault_code(&s, 0), PF_PRESENT | PF_RSVD);
    s.maxphyaddr = 46; /* then it is an address bit, of a table outside this memory */
    assert_int_equal(paging_translate(&s, &memory, LA, 0, &w), PAGING_NOT_RAM);
    put64(0x2000 + 2 * 8, 0x40000000 | 0x87); /* 1 GiB page */
    assert_int_equal(paging_translate(&s, &memory, LA, 0, &w), PAGING_OK);
    assert_int_equal(w.gpa, 0x40000000 | (LA & 0x3fffffff));
    s.gbpages = false;
    assert_int_equal(fault_code(&s, 0), PF_PRESENT | PF_RSVD);
    put64(0x1000, 0x2000 | 0x87); /* PS in a PML4E */
    assert_int_equal(fault_code(&s, 0), PF_PRESENT | PF_RSVD);
}

static void test_pae_and_32bit(void **state)
{
    (void)state;
    memset(mem, 0, sizeof(mem));
    struct paging_state s = { .cr0 = CR0_PG | 1, .cr4 = CR4_PAE, .maxphyaddr = 36 };
    s.pdpte[2] = 0x3000 | 1;
    put64(0x3000 + 3 * 8, 0x4000 | 7);
    put64(0x4000 + 4 * 8, 0x5000 | 7);
    allowed(&s, PAGING_WRITE | PAGING_USER);
    s.pdpte[2] |= 2; /* bit 1 of a PDPTE register is reserved */
    assert_int_equal(fault_code(&s, 0), PF_PRESENT | PF_RSVD);

    memset(mem, 0, sizeof(mem));
    struct paging_state t = { .cr0 = CR0_PG | 1, .cr3 = 0x1000, .cr4 = CR4_PSE, .maxphyaddr = 40 };
    uint32_t pde = 0x00c00000 | (0x12 << 13) | 0x87; /* 4 MiB page at 0x12_00c00000 (PSE-36) */
    memcpy(mem + 0x1000 + (0x80604123u >> 22) * 4, &pde, 4);
    struct paging_walk w;
    assert_int_equal(paging_translate(&t, &memory, 0x80604123, 0, &w), PAGING_OK);
    assert_int_equal(w.gpa, 0x1200c00000ull | (0x80604123 & 0x3fffff));
    pde |= 1u << 21;
    memcpy(mem + 0x1000 + (0x80604123u >> 22) * 4, &pde, 4);
    assert_int_equal(paging_translate(&t, &memory, 0x80604123, PAGING_WRITE, &w), PAGING_FAULT);
    assert_int_equal(w.error_code, PF_PRESENT | PF_RSVD | PF_WRITE);
    t.cr4 = 0; /* without PSE, PS is ignored: a page table at 0x00c00000, outside this memory */
    assert_int_equal(paging_translate(&t, &memory, 0x80604123, 0, &w), PAGING_NOT_RAM);
}

static void test_segments(void **state)
{
    (void)state;
    uint64_t lin;
    struct vmx_segment flat, small, down, ro, code_xo, unusable = { .access = SEG_AR_UNUSABLE };
    segment_from_descriptor(0x00cf93000000ffffull, 0x10, &flat);
    assert_int_equal(flat.limit, 0xffffffff);
    assert_int_equal(flat.access, 0xc093);
    segment_from_descriptor(0x0040930000000fffull, 0x30, &small);
    segment_from_descriptor(0x0040970000000fffull, 0x38, &down);
    segment_from_descriptor(0x00cf91000000ffffull, 0x40, &ro);
    segment_from_descriptor(0x12cf99345678ffffull, 0x48, &code_xo);
    assert_int_equal(code_xo.base, 0x12345678);

    assert_int_equal(segment_linear(&flat, SEG_DS, SEG_ADDR_PROTECTED, 48, 0xfffffffc, 4, SEG_WRITE, &lin), 0);
    assert_int_equal(segment_linear(&flat, SEG_DS, SEG_ADDR_PROTECTED, 48, 0xfffffffd, 4, SEG_WRITE, &lin), 13);
    assert_int_equal(segment_linear(&small, SEG_DS, SEG_ADDR_PROTECTED, 48, 0xfff, 1, SEG_READ, &lin), 0);
    assert_int_equal(segment_linear(&small, SEG_SS, SEG_ADDR_PROTECTED, 48, 0xfff, 2, SEG_READ, &lin), 12);
    assert_int_equal(segment_linear(&down, SEG_DS, SEG_ADDR_PROTECTED, 48, 0xfff, 1, SEG_READ, &lin), 13);
    assert_int_equal(segment_linear(&down, SEG_DS, SEG_ADDR_PROTECTED, 48, 0x1000, 4, SEG_READ, &lin), 0);
    assert_int_equal(segment_linear(&down, SEG_DS, SEG_ADDR_PROTECTED, 48, 0xfffffffe, 4, SEG_READ, &lin), 13);
    assert_int_equal(segment_linear(&ro, SEG_ES, SEG_ADDR_PROTECTED, 48, 0, 1, SEG_WRITE, &lin), 13);
    assert_int_equal(segment_linear(&ro, SEG_ES, SEG_ADDR_REAL, 48, 0, 1, SEG_WRITE, &lin), 0);
    assert_int_equal(segment_linear(&code_xo, SEG_CS, SEG_ADDR_PROTECTED, 48, 0, 1, SEG_READ, &lin), 13);
    assert_int_equal(segment_linear(&code_xo, SEG_CS, SEG_ADDR_PROTECTED, 48, 0xf0000000, 1, SEG_FETCH, &lin), 0);
    assert_int_equal(lin, 0x02345678); /* base + offset wraps at 4 GiB */
    assert_int_equal(segment_linear(&unusable, SEG_ES, SEG_ADDR_PROTECTED, 48, 0, 1, SEG_READ, &lin), 13);
    assert_int_equal(segment_linear(&unusable, SEG_ES, SEG_ADDR_64, 48, 0x10, 1, SEG_READ, &lin), 0);
    assert_int_equal(segment_linear(&flat, SEG_DS, SEG_ADDR_64, 48, 0x00007ffffffffffeull, 2, SEG_READ, &lin), 0);
    assert_int_equal(segment_linear(&flat, SEG_DS, SEG_ADDR_64, 48, 0x00007fffffffffffull, 2, SEG_READ, &lin), 13);
    assert_int_equal(segment_linear(&flat, SEG_SS, SEG_ADDR_64, 48, 0x0000800000000000ull, 1, SEG_READ, &lin), 12);
    assert_int_equal(segment_linear(&flat, SEG_DS, SEG_ADDR_64, 57, 0x0000800000000000ull, 1, SEG_READ, &lin), 0);
    struct vmx_segment fs = { .base = 0x1000 };
    assert_int_equal(segment_linear(&fs, SEG_FS, SEG_ADDR_64, 48, 0x10, 1, SEG_READ, &lin), 0);
    assert_int_equal(lin, 0x1010);
    assert_int_equal(segment_linear(&code_xo, SEG_DS, SEG_ADDR_64, 48, 0x10, 1, SEG_READ, &lin), 0);
    assert_int_equal(lin, 0x10); /* DS's base counts for nothing in 64-bit mode */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_present_and_flags),
        cmocka_unit_test(test_read_write_and_wp),
        cmocka_unit_test(test_user_supervisor_smep_smap),
        cmocka_unit_test(test_execute_disable),
        cmocka_unit_test(test_protection_keys),
        cmocka_unit_test(test_large_pages_and_reserved_bits),
        cmocka_unit_test(test_pae_and_32bit),
        cmocka_unit_test(test_segments),
    };
    return cmocka_run_group_tests_name("paging", tests, NULL, NULL);
}
