/* SPDX-License-Identifier: BSD-2-Clause */
// sources: kernel/page_alloc.c kernel/log.c lib/format.c
/* The physical page allocator and the placement of its own bitmap. */
#include "stubs.h"

#include <stdlib.h>
#include <string.h>

#include "kernel/page_alloc.h"

#define MiB (1ull << 20)

static struct page_alloc pa;
static uint64_t *bitmap;

/* A 64 MiB machine: usable [0, 640K) and [1M, 64M); the allocator is told what is free. */
static int setup(void **state)
{
    (void)state;
    uint64_t npages = 64 * MiB / PAGE_SIZE;
    bitmap = calloc((npages + 63) / 64, 8);
    page_alloc_init(&pa, bitmap, npages);
    page_alloc_add_free(&pa, 0, 640 * 1024);
    page_alloc_add_free(&pa, 1 * MiB, 63 * MiB);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(bitmap);
    return 0;
}

static void test_counts_and_page_zero(void **state)
{
    (void)state;
    /* Page 0 is never free: address 0 is the failure value. */
    assert_int_equal(pa.free_pages, 159 + 63 * 256);
    uint64_t p = page_alloc_take(&pa, 1, 1);
    assert_int_equal(p, PAGE_SIZE);
}

static void test_reserve_is_respected(void **state)
{
    (void)state;
    page_alloc_reserve(&pa, 0, 1 * MiB);
    page_alloc_reserve(&pa, 2 * MiB + 100, 10); /* touches one page: that page goes */
    uint64_t free_before = pa.free_pages;
    for (uint64_t i = 0; i < free_before; i++) {
        uint64_t p = page_alloc_take(&pa, 1, 1);
        assert_true(p >= 1 * MiB);
        assert_true(p != 2 * MiB);
    }
    assert_int_equal(page_alloc_take(&pa, 1, 1), 0); /* exhausted: 0, not garbage */
}

static void test_aligned_runs(void **state)
{
    (void)state;
    page_alloc_reserve(&pa, 0, 1 * MiB);
    uint64_t a = page_alloc_take(&pa, 3, 1);
    uint64_t b = page_alloc_take(&pa, 512, 512); /* a 2 MiB-aligned 2 MiB run */
    assert_int_equal(a, 1 * MiB);
    assert_int_equal(b % (2 * MiB), 0);
    assert_true(b >= a + 3 * PAGE_SIZE);
    /* The gap before the aligned run is still usable. */
    uint64_t c = page_alloc_take(&pa, 1, 1);
    assert_int_equal(c, a + 3 * PAGE_SIZE);
}

static void test_give_back_and_double_free(void **state)
{
    (void)state;
    uint64_t before = pa.free_pages;
    uint64_t p = page_alloc_take(&pa, 4, 1);
    assert_int_equal(pa.free_pages, before - 4);
    assert_int_equal(page_alloc_give(&pa, p, 4), 0);
    assert_int_equal(pa.free_pages, before);
    assert_int_equal(page_alloc_give(&pa, p, 4), -1);       /* double free refused */
    assert_int_equal(page_alloc_give(&pa, p + 1, 1), -1);   /* unaligned refused */
    assert_int_equal(page_alloc_give(&pa, 0, 1), -1);       /* page 0 refused */
    assert_int_equal(page_alloc_give(&pa, 64 * MiB, 1), -1); /* beyond the map refused */
    assert_int_equal(pa.free_pages, before);
    /* Freed pages are found again. */
    assert_int_equal(page_alloc_take(&pa, 4, 1), p);
}

static void test_bad_requests(void **state)
{
    (void)state;
    assert_int_equal(page_alloc_take(&pa, 0, 1), 0);
    assert_int_equal(page_alloc_take(&pa, 1, 3), 0); /* alignment not a power of two */
    assert_int_equal(page_alloc_take(&pa, pa.free_pages + 1, 1), 0);
    assert_int_equal(page_alloc_take(&pa, 64 * 256, 1), 0); /* larger than any hole */
}

static void test_find_free_span_avoids_reserved(void **state)
{
    (void)state;
    const struct mem_range map[] = {
        { 0, 0x9fc00, MEM_USABLE },
        { 0xf0000, 0x10000, MEM_RESERVED },
        { 1 * MiB, 63 * MiB, MEM_USABLE },
    };
    const struct mem_range reserved[] = {
        { 0, 1 * MiB, MEM_RESERVED },              /* low memory */
        { 2 * MiB, 1 * MiB, MEM_RESERVED },        /* the image */
        { 1 * MiB, 0x20000, MEM_RESERVED },        /* boot information */
        { 0x120000, 0xe0000, MEM_RESERVED },       /* a module filling up to the image */
    };
    /* 8 KiB fits right after the image; nothing earlier is free. */
    assert_int_equal(find_free_span(map, 3, reserved, 4, 0x2000, 64 * MiB), 3 * MiB);
    /* Too big for the machine: 0. */
    assert_int_equal(find_free_span(map, 3, reserved, 4, 64 * MiB, 64 * MiB), 0);
    /* A limit below the only free space: 0. */
    assert_int_equal(find_free_span(map, 3, reserved, 4, 0x2000, 3 * MiB), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_counts_and_page_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reserve_is_respected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aligned_runs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_give_back_and_double_free, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
        cmocka_unit_test(test_find_free_span_avoids_reserved),
    };
    return cmocka_run_group_tests_name("page_alloc", tests, NULL, NULL);
}
