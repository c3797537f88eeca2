/* SPDX-License-Identifier: BSD-2-Clause */
/* The option table behind mhv's command line. Add an option: one parse function, one row. */
#include "kernel/options.h"

#include "kernel/cmdline.h"
#include "lib/format.h"
#include "lib/string.h"

struct mhv_options boot_options = {
    .loglevel = LOG_INFO,
    .serial_port = 0x3f8,
};

static int parse_loglevel(const char *v, char *why, size_t n)
{
    if (v && log_level_parse(v, &boot_options.loglevel) == 0)
        return 0;
    ksnprintf(why, n, "expected error, warn, info, debug or 0-3");
    return -1;
}

static int parse_serial(const char *v, char *why, size_t n)
{
    static const uint16_t com_ports[] = { 0x3f8, 0x2f8, 0x3e8, 0x2e8 };
    uint64_t port;
    if (v && !strncmp(v, "com", 3) && v[3] >= '1' && v[3] <= '4' && !v[4]) {
        boot_options.serial_port = com_ports[v[3] - '1'];
        return 0;
    }
    if (v && cmdline_parse_u64(v, &port) == 0 && port > 0 && port <= 0xfff8) {
        boot_options.serial_port = (uint16_t)port;
        return 0;
    }
    ksnprintf(why, n, "expected com1-com4 or an I/O port such as 0x3f8");
    return -1;
}

/* The diagnostic paths selftest= can trigger (kernel/selftest.c); tests use them to check
 * that mhv reports its own faults properly. */
static const char *const selftests[] = {
    "panic", "fault-ud", "fault-null", "fault-nx", "fault-wp", "stack-overflow",
    "vmentry-guest-state", "vmentry-control",
};

static int parse_selftest(const char *v, char *why, size_t n)
{
    for (size_t i = 0; v && i < sizeof(selftests) / sizeof(selftests[0]); i++) {
        if (!strcmp(v, selftests[i])) {
            memcpy(boot_options.selftest, v, strlen(v) + 1);
            return 0;
        }
    }
    ksnprintf(why, n, "expected panic, fault-ud, fault-null, fault-nx, fault-wp, stack-overflow, "
                      "vmentry-guest-state or vmentry-control");
    return -1;
}

/* A number in [lo, hi] into *out; otherwise `expected` becomes the reason. */
static int parse_number(const char *v, uint64_t lo, uint64_t hi, unsigned *out, const char *expected, char *why,
                        size_t n)
{
    uint64_t value;
    if (v && cmdline_parse_u64(v, &value) == 0 && value >= lo && value <= hi) {
        *out = (unsigned)value;
        return 0;
    }
    ksnprintf(why, n, "%s", expected);
    return -1;
}

static int parse_maxcpus(const char *v, char *why, size_t n)
{
    return parse_number(v, 1, 65536, &boot_options.maxcpus, "expected a number of CPUs, at least 1", why, n);
}

static int parse_acpidump(const char *v, char *why, size_t n)
{
    if (!v) {
        boot_options.acpidump = true;
        return 0;
    }
    ksnprintf(why, n, "takes no value");
    return -1;
}

static int parse_vms_done(const char *v, char *why, size_t n)
{
    if (v && (!strcmp(v, "poweroff") || !strcmp(v, "stay"))) {
        boot_options.vms_done_poweroff = !strcmp(v, "poweroff");
        return 0;
    }
    ksnprintf(why, n, "expected poweroff or stay");
    return -1;
}

static int parse_slice(const char *v, char *why, size_t n)
{
    return parse_number(v, 100, 1000000, &boot_options.slice_us, "expected microseconds, 100 to 1000000", why, n);
}

static int parse_config(const char *v, char *why, size_t n)
{
    if (v && *v && strlen(v) < sizeof(boot_options.config)) {
        memcpy(boot_options.config, v, strlen(v) + 1);
        return 0;
    }
    ksnprintf(why, n, "expected the name of a module");
    return -1;
}

static int parse_apicv(const char *v, char *why, size_t n)
{
    static const char *const names[] = { [APICV_ON] = "on", [APICV_REGS] = "regs", [APICV_TPR] = "tpr",
                                         [APICV_OFF] = "off" };
    for (unsigned i = 0; v && i < sizeof(names) / sizeof(names[0]); i++) {
        if (!strcmp(v, names[i])) {
            boot_options.apicv = (enum apicv_option)i;
            return 0;
        }
    }
    ksnprintf(why, n, "expected on, regs, tpr or off");
    return -1;
}

static const struct cmdline_option option_table[] = {
    { "loglevel", parse_loglevel },
    { "serial", parse_serial },
    { "selftest", parse_selftest },
    { "maxcpus", parse_maxcpus },
    { "acpidump", parse_acpidump },
    { "vms_done", parse_vms_done },
    { "slice", parse_slice },
    { "config", parse_config },
    { "apicv", parse_apicv },
};

int options_parse(const char *cmdline)
{
    return cmdline_parse(cmdline, option_table, sizeof(option_table) / sizeof(option_table[0]));
}
