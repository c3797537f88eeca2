/* SPDX-License-Identifier: BSD-2-Clause */
// sources: kernel/log.c lib/format.c
/* What reaches the console: prefixes, the log level filter, status lines, and lines logged
 * before the console existed (kept in the ring and printed when it starts). */
#include "stubs.h"

#include <string.h>

#include "kernel/log.h"

static int setup(void **state)
{
    (void)state;
    stub_console_up = true;
    log_threshold = LOG_INFO;
    console_capture_reset();
    return 0;
}

static void test_prefixes_and_levels(void **state)
{
    (void)state;
    log_info("hello %d", 42);
    log_warn("careful");
    log_err("broken");
    log_debug("hidden at info");
    status_line("ready");
    assert_string_equal(console_capture, "[cpu0] hello 42\n"
                                         "[cpu0] warning: careful\n"
                                         "[cpu0] error: broken\n"
                                         "mhv: ready\n");
}

static void test_status_lines_ignore_the_threshold(void **state)
{
    (void)state;
    log_threshold = LOG_ERROR;
    log_warn("filtered");
    status_line("fatal: VMX unavailable: test");
    assert_string_equal(console_capture, "mhv: fatal: VMX unavailable: test\n");
}

static void test_early_lines_are_flushed_with_the_final_threshold(void **state)
{
    (void)state;
    stub_console_up = false;
    log_threshold = LOG_DEBUG; /* unknown yet at this point of boot: everything is kept */
    status_line("banner");
    log_debug("early debug");
    log_warn("early warning");
    assert_string_equal(console_capture, "");
    stub_console_up = true;
    log_threshold = LOG_WARN; /* the command line said loglevel=warn */
    log_flush_to_console();
    assert_string_equal(console_capture, "mhv: banner\n[cpu0] warning: early warning\n");
    /* A second flush prints nothing again. */
    log_flush_to_console();
    assert_string_equal(console_capture, "mhv: banner\n[cpu0] warning: early warning\n");
}

static void test_ring_overflow_keeps_whole_recent_lines(void **state)
{
    (void)state;
    stub_console_up = false;
    for (int i = 0; i < 2000; i++)
        log_info("line %04d with some padding to fill the ring quickly", i);
    stub_console_up = true;
    log_flush_to_console();
    /* The oldest lines were overwritten; what is printed starts at a line boundary. */
    assert_false(console_saw("line 0000 "));
    assert_true(console_saw("line 1999 "));
    assert_memory_equal(console_capture, "[cpu0] line ", 12);
}

static void test_long_lines_are_cut_not_overflowed(void **state)
{
    (void)state;
    char big[2000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    log_info("%s", big);
    size_t n = strlen(console_capture);
    assert_true(n < 600);
    assert_int_equal(console_capture[n - 1], '\n');
}

static void test_level_names(void **state)
{
    (void)state;
    enum log_level l;
    assert_int_equal(log_level_parse("debug", &l), 0);
    assert_int_equal(l, LOG_DEBUG);
    assert_int_equal(log_level_parse("0", &l), 0);
    assert_int_equal(l, LOG_ERROR);
    assert_int_equal(log_level_parse("4", &l), -1);
    assert_int_equal(log_level_parse("infox", &l), -1);
    assert_string_equal(log_level_name(LOG_WARN), "warn");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_prefixes_and_levels, setup),
        cmocka_unit_test_setup(test_status_lines_ignore_the_threshold, setup),
        cmocka_unit_test_setup(test_early_lines_are_flushed_with_the_final_threshold, setup),
        cmocka_unit_test_setup(test_ring_overflow_keeps_whole_recent_lines, setup),
        cmocka_unit_test_setup(test_long_lines_are_cut_not_overflowed, setup),
        cmocka_unit_test_setup(test_level_names, setup),
    };
    return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
