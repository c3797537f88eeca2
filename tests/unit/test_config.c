/* SPDX-License-Identifier: BSD-2-Clause */
// sources: vm/config.c kernel/log.c lib/format.c
/* The VM configuration parser on good files and on every kind of mistake an operator makes:
 * each is reported as file:line: problem, and only the VM it belongs to is dropped. */
#include "stubs.h"

#include <stdio.h>
#include <string.h>

#include "kernel/log.h"
#include "vm/config.h"

static struct vm_config vms[CONFIG_MAX_VMS];

static unsigned parse(const char *text)
{
    console_capture_reset();
    log_threshold = LOG_DEBUG;
    return config_parse("vms.cfg", text, strlen(text), vms, CONFIG_MAX_VMS);
}

static void test_complete_example(void **state)
{
    (void)state;
    unsigned n = parse("# two VMs\n"
                       "[vm]\n"
                       "name = \"web\"            # a comment after a value\n"
                       "type = raw64\n"
                       "kernel = \"web.bin\"\n"
                       "load = 0x100000\n"
                       "entry = 0x100040\n"
                       "memory = 64M\n"
                       "vcpus = 2\n"
                       "cpus = \"0-1,3\"\n"
                       "weight = 2\n"
                       "slice = 5000\n"
                       "on_crash = \"restart\"\n"
                       "on_poweroff = poweroff\n"
                       "on_reboot = stop\n"
                       "serial_ports = 2\n"
                       "console = true\n"
                       "testdev = true\n"
                       "\n"
                       "[vm]\n"
                       "  name = \"linux\"\n"
                       "  type = \"linux\"\n"
                       "  kernel = \"vmlinuz\"\n"
                       "  ramdisk = \"initrd\"\n"
                       "  cmdline = \"console=ttyS0 quiet \\\"x\\\" # not a comment\"\n"
                       "  memory = 512\n"
                       "  cpus = [0, 2]\n");
    assert_int_equal(n, 2);
    assert_true(vms[0].valid);
    assert_string_equal(vms[0].name, "web");
    assert_int_equal(vms[0].type, GUEST_RAW64);
    assert_int_equal(vms[0].load, 0x100000);
    assert_int_equal(vms[0].entry, 0x100040);
    assert_int_equal(vms[0].memory, 64ull << 20);
    assert_int_equal(vms[0].vcpus, 2);
    assert_int_equal(vms[0].affinity, 0xb);
    assert_int_equal(vms[0].weight, 2);
    assert_int_equal(vms[0].slice_us, 5000);
    assert_int_equal(vms[0].on_crash, ACTION_RESTART);
    assert_int_equal(vms[0].on_poweroff, ACTION_POWEROFF);
    assert_int_equal(vms[0].on_reboot, ACTION_STOP);
    assert_int_equal(vms[0].serial_ports, 2);
    assert_true(vms[0].console);
    assert_true(vms[0].testdev);
    assert_false(vms[1].testdev);
    assert_true(vms[1].valid);
    assert_int_equal(vms[1].type, GUEST_LINUX);
    assert_string_equal(vms[1].cmdline, "console=ttyS0 quiet \"x\" # not a comment");
    assert_int_equal(vms[1].memory, 512ull << 20); /* a plain number is MiB */
    assert_int_equal(vms[1].affinity, 0x5);
    assert_int_equal(vms[1].on_crash, ACTION_STOP);
    assert_int_equal(vms[1].on_reboot, ACTION_RESTART);
    assert_int_equal(vms[1].serial_ports, 1);
    assert_string_equal(console_capture, "");
}

/* Every VM has an HPET unless `hpet = false`; anything but true or false is refused. */
static void test_hpet_key(void **state)
{
    (void)state;
    unsigned n = parse("[vm]\nname = \"a\"\nkernel = \"a.bin\"\n"
                       "[vm]\nname = \"b\"\nkernel = \"b.bin\"\nhpet = false\n"
                       "[vm]\nname = \"c\"\nkernel = \"c.bin\"\nhpet = true\n"
                       "[vm]\nname = \"d\"\nkernel = \"d.bin\"\nhpet = maybe\n");
    assert_int_equal(n, 4);
    assert_true(vms[0].valid && vms[0].hpet);
    assert_true(vms[1].valid && !vms[1].hpet);
    assert_true(vms[2].valid && vms[2].hpet);
    assert_false(vms[3].valid);
    assert_console_saw("vms.cfg:15: hpet = maybe: expected true or false");
}

static void test_bad_unit_names_file_and_line(void **state)
{
    (void)state;
    parse("[vm]\nname = \"a\"\nkernel = \"a.bin\"\nmemory = 12Q\n");
    assert_console_saw("vms.cfg:4: memory = 12Q: unknown unit (use K, M or G)");
    assert_false(vms[0].valid);
}

static void test_one_bad_vm_leaves_the_others(void **state)
{
    (void)state;
    unsigned n = parse("[vm]\nname = \"a\"\nkernel = \"a.bin\"\n"
                       "[vm]\nname = \"b\"\nkernel = \"b.bin\"\nvcpus = 99\n"
                       "[vm]\nname = \"c\"\nkernel = \"c.bin\"\n");
    assert_int_equal(n, 3);
    assert_true(vms[0].valid);
    assert_false(vms[1].valid);
    assert_true(vms[2].valid);
    assert_console_saw("vms.cfg:7: vcpus = 99: vcpus must be 1 to 64");
}

static void test_mistakes_are_reported(void **state)
{
    (void)state;
    parse("memory = 1G\n"                 /* 1: before any [vm] */
          "[machine]\n"                   /* 2: unknown section */
          "[vm]\n"                        /* 3 */
          "colour = \"blue\"\n"           /* 4: unknown key */
          "name = \"bad name\"\n"         /* 5: a space in the name */
          "kernel = \"x.bin\n"            /* 6: unterminated string */
          "weight\n"                      /* 7: no '=' */
          "slice = \n"                    /* 8: no value */
          "cpus = \"5-2\"\n"              /* 9: backwards range */
          "type = windows\n"              /* 10: unknown type */
          "on_crash = explode\n"          /* 11 */
          "console = maybe\n"             /* 12 */
          "memory = 99999999999999999999\n" /* 13: overflow */
          "[vm]\n"                        /* 14: no name, no kernel */
          "type = raw32\n"                /* 15: raw without load/entry */
          "[vm]\n"                        /* 16 */
          "name = \"m\"\nkernel = \"m\"\nentry = 0x1000\n"); /* 19: entry on a non-raw VM */
    assert_console_saw("vms.cfg:1: 'memory = 1G' before the first [vm] section");
    assert_console_saw("vms.cfg:2: unknown section [machine] (only [vm])");
    assert_console_saw("vms.cfg:4: unknown key 'colour'");
    assert_console_saw("vms.cfg:5: name = \"bad name\": names use letters, digits");
    assert_console_saw("vms.cfg:6: kernel = \"x.bin: unterminated string");
    assert_console_saw("vms.cfg:7: expected key = value");
    assert_console_saw("vms.cfg:8: slice has no value");
    assert_console_saw("vms.cfg:9: cpus = \"5-2\": CPUs must be numbers or ranges from 0 to 63");
    assert_console_saw("vms.cfg:10: type = windows: unknown type");
    assert_console_saw("vms.cfg:11: on_crash = explode: expected stop, restart or poweroff");
    assert_console_saw("vms.cfg:12: console = maybe: expected true or false");
    assert_console_saw("vms.cfg:13: memory = 99999999999999999999: number too large");
    assert_console_saw("vms.cfg:14: this VM has no name");
    assert_console_saw("vms.cfg:14: VM '' has no kernel");
    assert_console_saw("vms.cfg:14: VM '': a raw32 image needs load and entry");
    assert_console_saw("vms.cfg:16: VM 'm': load and entry are for raw images only");
    assert_false(vms[0].valid);
    assert_false(vms[1].valid);
    assert_false(vms[2].valid);
}

static void test_duplicate_names_and_too_many_vms(void **state)
{
    (void)state;
    char text[4096] = "";
    for (int i = 0; i < CONFIG_MAX_VMS + 1; i++) {
        char vm[64];
        snprintf(vm, sizeof(vm), "[vm]\nname = \"v%d\"\nkernel = \"k\"\n", i == 3 ? 1 : i);
        strcat(text, vm);
    }
    unsigned n = parse(text);
    assert_int_equal(n, CONFIG_MAX_VMS);
    assert_false(vms[3].valid);
    assert_true(vms[2].valid);
    assert_console_saw("vms.cfg:10: a VM named 'v1' already exists (line 4)");
    char want[64]; /* three lines a VM: the one too many starts on line 3 * CONFIG_MAX_VMS + 1 */
    snprintf(want, sizeof(want), "vms.cfg:%d: more than %d VMs; this one is ignored", 3 * CONFIG_MAX_VMS + 1,
             CONFIG_MAX_VMS);
    assert_console_saw(want);
}

static void test_long_lines_and_nul_bytes(void **state)
{
    (void)state;
    char text[5000];
    memset(text, 'x', sizeof(text));
    memcpy(text, "[vm]\ncmdline = \"", 16);
    text[sizeof(text) - 1] = '\0';
    parse(text);
    assert_console_saw("vms.cfg:2: line longer than 4095 characters");
    const char with_nul[] = "[vm]\nname = \"a\0b\"\n";
    console_capture_reset();
    config_parse("vms.cfg", with_nul, sizeof(with_nul) - 1, vms, CONFIG_MAX_VMS);
    assert_console_saw("vms.cfg:2: NUL byte in the file");
}

/* "[vm]\nname = ...\ncmdline = \"<length x's>\"\n" */
static unsigned parse_cmdline_of(size_t length)
{
    static char text[4096];
    int n = snprintf(text, sizeof(text), "[vm]\nname = \"k\"\nkernel = \"k.flat\"\ntype = multiboot\ncmdline = \"");
    memset(text + n, 'x', length);
    snprintf(text + n + length, sizeof(text) - n - length, "\"\n");
    return parse(text);
}

/* As long as Linux takes (2047 characters and the NUL); one more is refused by name. */
static void test_command_line_length(void **state)
{
    (void)state;
    assert_int_equal(parse_cmdline_of(CONFIG_CMDLINE_MAX), 1);
    assert_true(vms[0].valid);
    assert_int_equal(strlen(vms[0].cmdline), 2047);
    assert_int_equal(vms[0].cmdline[2046], 'x');
    assert_int_equal(parse_cmdline_of(CONFIG_CMDLINE_MAX + 1), 1);
    assert_false(vms[0].valid);
    assert_console_saw("vms.cfg:5: cmdline = \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...: longer than 2047 characters, "
                       "the most Linux takes");
}

static void test_unclaimed(void **state)
{
    (void)state;
    unsigned n = parse("[vm]\nname = \"a\"\nkernel = \"a.bin\"\nunclaimed = stop\n"
                       "[vm]\nname = \"b\"\nkernel = \"b.bin\"\nunclaimed = \"ignore\"\n"
                       "[vm]\nname = \"c\"\nkernel = \"c.bin\"\n"
                       "[vm]\nname = \"d\"\nkernel = \"d.bin\"\nunclaimed = all-ones\n");
    assert_int_equal(n, 4);
    assert_true(vms[0].valid);
    assert_true(vms[0].unclaimed_stop);
    assert_true(vms[1].valid);
    assert_false(vms[1].unclaimed_stop);
    assert_true(vms[2].valid);
    assert_false(vms[2].unclaimed_stop); /* the default: as on a PC */
    assert_false(vms[3].valid);
    assert_console_saw("vms.cfg:15: unclaimed = all-ones: expected ignore or stop");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_complete_example),
        cmocka_unit_test(test_hpet_key),
        cmocka_unit_test(test_unclaimed),
        cmocka_unit_test(test_bad_unit_names_file_and_line),
        cmocka_unit_test(test_one_bad_vm_leaves_the_others),
        cmocka_unit_test(test_mistakes_are_reported),
        cmocka_unit_test(test_duplicate_names_and_too_many_vms),
        cmocka_unit_test(test_long_lines_and_nul_bytes),
        cmocka_unit_test(test_command_line_length),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
