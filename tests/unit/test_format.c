/* SPDX-License-Identifier: BSD-2-Clause */
// sources: lib/format.c
/* kvsnprintf against the host C library's snprintf as the oracle, plus the edge cases of
 * truncation that the console and log rely on. */
#include "stubs.h"

#include <stdio.h>
#include <string.h>

#include "lib/format.h"

/* Some cases below are legal but unusual on purpose (0 with -, 0 with a precision). */
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-overflow"

#define CHECK(...)                                                                          \
    do {                                                                                    \
        char want[256], got[256];                                                           \
        int wn = snprintf(want, sizeof(want), __VA_ARGS__);                                 \
        int gn = ksnprintf(got, sizeof(got), __VA_ARGS__);                                  \
        assert_string_equal(got, want);                                                     \
        assert_int_equal(gn, wn);                                                           \
    } while (0)

static void test_integers(void **state)
{
    (void)state;
    CHECK("%d %i %u", 0, -1, 4000000000u);
    CHECK("%d", -2147483647 - 1);
    CHECK("%ld %lu", -9223372036854775807L - 1, 18446744073709551615UL);
    CHECK("%lld %llx", 123456789012345LL, 0xdeadbeefcafebabeULL);
    CHECK("%zu %zx", (size_t)42, (size_t)0xabc);
    CHECK("%hd %hu %hhd %hhu", (short)-5, (unsigned short)65535, (signed char)-7, (unsigned char)255);
    CHECK("%x %X %o", 0xabcdefu, 0xabcdefu, 0755u);
}

static void test_flags_width_precision(void **state)
{
    (void)state;
    CHECK("[%5d] [%-5d] [%05d] [%+d] [% d]", 42, 42, 42, 42, 42);
    CHECK("[%05d] [%-05d] [%+05d]", -42, -42, 42);
    CHECK("[%#x] [%#X] [%#o] [%#x]", 255u, 255u, 8u, 0u);
    CHECK("[%.3d] [%8.3d] [%-8.3d] [%08.3d]", 7, 7, 7, 7);
    CHECK("[%.0d] [%.0x] [%5.0d]", 0, 0u, 0);
    CHECK("[%016lx] [%*d] [%-*d] [%.*d]", 0x1234UL, 6, 9, 6, 9, 4, 9);
    CHECK("[%*d]", -6, 9);
}

static void test_strings_and_chars(void **state)
{
    (void)state;
    CHECK("[%s] [%10s] [%-10s] [%.2s] [%5.1s]", "abc", "abc", "abc", "abc", "abc");
    CHECK("[%c] [%3c] [%-3c] [%%]", 'x', 'y', 'z');
    char got[32];
    ksnprintf(got, sizeof(got), "%s", (const char *)NULL);
    assert_string_equal(got, "(null)");
}

static void test_pointer(void **state)
{
    (void)state;
    char got[64];
    ksnprintf(got, sizeof(got), "%p|%p", (void *)0x1234, (void *)0);
    assert_string_equal(got, "0x0000000000001234|0x0000000000000000");
}

static void test_truncation(void **state)
{
    (void)state;
    char buf[8];
    memset(buf, 'Z', sizeof(buf));
    assert_int_equal(ksnprintf(buf, sizeof(buf), "hello, %s", "world"), 12);
    assert_string_equal(buf, "hello, ");
    assert_int_equal(ksnprintf(buf, 1, "abc"), 3);
    assert_string_equal(buf, "");
    assert_int_equal(ksnprintf(NULL, 0, "%d", 12345), 5);
}

static void test_unknown_conversion_is_visible(void **state)
{
    (void)state;
    char buf[16];
    /* An unsupported conversion is printed, not silently swallowed. */
    ksnprintf(buf, sizeof(buf), "a%qb");
    assert_string_equal(buf, "a%qb");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_flags_width_precision),
        cmocka_unit_test(test_strings_and_chars),
        cmocka_unit_test(test_pointer),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_unknown_conversion_is_visible),
    };
    return cmocka_run_group_tests_name("format", tests, NULL, NULL);
}
