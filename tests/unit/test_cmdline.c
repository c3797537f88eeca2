/* SPDX-License-Identifier: BSD-2-Clause */
// sources: kernel/cmdline.c kernel/options.c kernel/log.c lib/format.c
/* Command line tokenizing and mhv's options as an operator types them. */
#include "stubs.h"

#include <string.h>

#include "kernel/cmdline.h"
#include "kernel/log.h"
#include "kernel/options.h"

static int setup(void **state)
{
    (void)state;
    boot_options = (struct mhv_options){ .loglevel = LOG_INFO, .serial_port = 0x3f8 };
    log_threshold = LOG_DEBUG;
    console_capture_reset();
    return 0;
}

static void test_defaults_without_options(void **state)
{
    (void)state;
    assert_int_equal(options_parse(""), 0);
    assert_int_equal(boot_options.loglevel, LOG_INFO);
    assert_int_equal(boot_options.serial_port, 0x3f8);
    assert_string_equal(boot_options.selftest, "");
}

static void test_all_options(void **state)
{
    (void)state;
    assert_int_equal(options_parse("loglevel=debug serial=0x2f8 selftest=fault-nx"), 0);
    assert_int_equal(boot_options.loglevel, LOG_DEBUG);
    assert_int_equal(boot_options.serial_port, 0x2f8);
    assert_string_equal(boot_options.selftest, "fault-nx");
    assert_int_equal(options_parse("  loglevel=1\tserial=com4  "), 0);
    assert_int_equal(boot_options.loglevel, LOG_WARN);
    assert_int_equal(boot_options.serial_port, 0x2e8);
    assert_int_equal(options_parse("serial=1016"), 0);
    assert_int_equal(boot_options.serial_port, 0x3f8);
}

static void test_bad_values_keep_defaults_and_are_reported(void **state)
{
    (void)state;
    assert_int_equal(options_parse("loglevel=loud serial=com9 serial=0x10000 serial= loglevel"), 5);
    assert_int_equal(boot_options.loglevel, LOG_INFO);
    assert_int_equal(boot_options.serial_port, 0x3f8);
    assert_console_saw("cmdline: loglevel=loud: expected error, warn, info, debug or 0-3; ignored");
    assert_console_saw("cmdline: serial=com9: expected com1-com4 or an I/O port such as 0x3f8; ignored");
    assert_console_saw("cmdline: serial=0x10000:");
    assert_console_saw("cmdline: loglevel: expected error"); /* a bare key with no value */
}

static void test_unknown_options_are_reported(void **state)
{
    (void)state;
    assert_int_equal(options_parse("quiet loglevel=warn nosmp=1"), 2);
    assert_int_equal(boot_options.loglevel, LOG_WARN);
    assert_console_saw("cmdline: unknown option 'quiet'; ignored");
    assert_console_saw("cmdline: unknown option 'nosmp'; ignored");
}

static void test_kernel_path_first_word_is_skipped(void **state)
{
    (void)state;
    assert_int_equal(options_parse("/boot/mhv.elf loglevel=error"), 0);
    assert_int_equal(boot_options.loglevel, LOG_ERROR);
}

static char seen[4][CMDLINE_VALUE_MAX];
static int nseen;

static int record(const char *v, char *why, size_t n)
{
    (void)why, (void)n;
    strcpy(seen[nseen++ & 3], v ? v : "(none)");
    return 0;
}

static void test_quotes_and_long_words(void **state)
{
    (void)state;
    const struct cmdline_option opts[] = { { "a", record }, { "b", record } };
    nseen = 0;
    assert_int_equal(cmdline_parse("a=\"x y  z\" b a=\"\"", opts, 2), 0);
    assert_int_equal(nseen, 3);
    assert_string_equal(seen[0], "x y  z");
    assert_string_equal(seen[1], "(none)");
    assert_string_equal(seen[2], "");

    char longline[400];
    memset(longline, 'v', sizeof(longline));
    memcpy(longline, "a=", 2);
    longline[sizeof(longline) - 1] = '\0';
    nseen = 0;
    assert_int_equal(cmdline_parse(longline, opts, 2), 1);
    assert_int_equal(nseen, 0);
    assert_console_saw("is too long; ignored");
}

static void test_parse_u64(void **state)
{
    (void)state;
    uint64_t v;
    assert_int_equal(cmdline_parse_u64("0", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(cmdline_parse_u64("0x3F8", &v), 0);
    assert_int_equal(v, 0x3f8);
    assert_int_equal(cmdline_parse_u64("18446744073709551615", &v), 0);
    assert_int_equal(v, UINT64_MAX);
    assert_int_equal(cmdline_parse_u64("18446744073709551616", &v), -1); /* overflow */
    assert_int_equal(cmdline_parse_u64("0x", &v), -1);
    assert_int_equal(cmdline_parse_u64("", &v), -1);
    assert_int_equal(cmdline_parse_u64("12a", &v), -1);
    assert_int_equal(cmdline_parse_u64("-1", &v), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_defaults_without_options, setup),
        cmocka_unit_test_setup(test_all_options, setup),
        cmocka_unit_test_setup(test_bad_values_keep_defaults_and_are_reported, setup),
        cmocka_unit_test_setup(test_unknown_options_are_reported, setup),
        cmocka_unit_test_setup(test_kernel_path_first_word_is_skipped, setup),
        cmocka_unit_test_setup(test_quotes_and_long_words, setup),
        cmocka_unit_test_setup(test_parse_u64, setup),
    };
    return cmocka_run_group_tests_name("cmdline", tests, NULL, NULL);
}
