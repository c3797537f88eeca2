/* SPDX-License-Identifier: BSD-2-Clause */
// sources: kernel/heap.c
/* The kernel heap, on pages from a host stand-in for the page allocator. */
#include "stubs.h"

#include <stdlib.h>
#include <string.h>

#include "kernel/heap.h"
#include "kernel/page_alloc.h"

static unsigned pages_out; /* pages currently handed to the heap */

uint64_t pages_alloc(uint64_t count)
{
    void *p = aligned_alloc(PAGE_SIZE, count * PAGE_SIZE);
    pages_out += count;
    return (uint64_t)(uintptr_t)p;
}

void pages_free(uint64_t addr, uint64_t count)
{
    pages_out -= count;
    free((void *)(uintptr_t)addr);
}

static void test_objects_are_distinct_and_aligned(void **state)
{
    (void)state;
    enum { N = 300 };
    static const size_t sizes[] = { 1, 16, 17, 32, 100, 255, 1000, 2048 };
    unsigned char *objs[N];
    size_t lens[N];
    for (int i = 0; i < N; i++) {
        lens[i] = sizes[i % 8];
        objs[i] = kmalloc(lens[i]);
        assert_non_null(objs[i]);
        assert_int_equal((uintptr_t)objs[i] % 16, 0);
        memset(objs[i], i & 0xff, lens[i]);
    }
    /* No object overlaps another: every byte still holds its owner's pattern. */
    for (int i = 0; i < N; i++)
        for (size_t j = 0; j < lens[i]; j++)
            assert_int_equal(objs[i][j], i & 0xff);
    for (int i = 0; i < N; i++)
        kfree(objs[i]);
}

static void test_freed_objects_are_reused(void **state)
{
    (void)state;
    void *a = kmalloc(64);
    kfree(a);
    void *b = kmalloc(64);
    assert_ptr_equal(a, b);
    kfree(b);
}

static void test_large_objects_use_whole_pages(void **state)
{
    (void)state;
    unsigned before = pages_out;
    unsigned char *p = kzalloc(10000);
    assert_non_null(p);
    assert_int_equal(pages_out - before, 3); /* 10000 bytes + header -> 3 pages */
    for (int i = 0; i < 10000; i++)
        assert_int_equal(p[i], 0);
    kfree(p);
    assert_int_equal(pages_out, before);
}

static void test_double_free_panics(void **state)
{
    (void)state;
    void *p = kmalloc(48);
    kfree(p);
    expect_assert_failure(kfree(p));
}

static void test_foreign_pointer_panics(void **state)
{
    (void)state;
    unsigned char *p = kmalloc(128);
    expect_assert_failure(kfree(p + 8)); /* not the start of an object */
    static char not_heap[64] __attribute__((aligned(4096)));
    expect_assert_failure(kfree(not_heap + 64));
    kfree(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_objects_are_distinct_and_aligned),
        cmocka_unit_test(test_freed_objects_are_reused),
        cmocka_unit_test(test_large_objects_use_whole_pages),
        cmocka_unit_test(test_double_free_panics),
        cmocka_unit_test(test_foreign_pointer_panics),
    };
    return cmocka_run_group_tests_name("heap", tests, NULL, NULL);
}
