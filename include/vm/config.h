/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * VM configuration files (README.md "VM configuration"): INI-style sections, one "[vm]" per VM,
 * then "key = value" lines; "#" starts a comment; values are numbers (with K/M/G for sizes),
 * "strings", true/false, and lists [a, b]. Parsing is pure (no hardware, no allocation), so
 * host tests and the fuzzer run the same code. Every problem is reported as
 * "<file>:<line>: <problem>" and makes only the VM it belongs to invalid.
 */
#ifndef MHV_VM_CONFIG_H
#define MHV_VM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_MAX_VMS 64
#define CONFIG_NAME_MAX 20
#define CONFIG_MODULE_MAX 64
/* A VM's command line, as long as Linux takes (COMMAND_LINE_SIZE 2048 with the NUL). */
#define CONFIG_CMDLINE_MAX 2047
#define CONFIG_MAX_VCPUS 8

enum guest_type { GUEST_MHV, GUEST_RAW16, GUEST_RAW32, GUEST_RAW64, GUEST_MULTIBOOT, GUEST_LINUX };
enum vm_action { ACTION_STOP, ACTION_RESTART, ACTION_POWEROFF };

struct vm_config {
    unsigned line;                 /* where its [vm] section starts */
    bool valid;                    /* false: reported, not to be started */
    char name[CONFIG_NAME_MAX + 1];
    enum guest_type type;
    char kernel[CONFIG_MODULE_MAX + 1];  /* multiboot2 module name */
    char ramdisk[CONFIG_MODULE_MAX + 1];
    char cmdline[CONFIG_CMDLINE_MAX + 1];
    uint64_t memory;               /* bytes */
    unsigned vcpus;
    uint64_t affinity;             /* CPUs bit mask; all ones when not given */
    unsigned weight;
    unsigned slice_us;             /* 0: the default */
    uint64_t load, entry;          /* raw images */
    bool has_entry, has_load;
    enum vm_action on_poweroff, on_crash, on_reboot;
    bool console;                  /* gets the serial input first */
    unsigned serial_ports;         /* 16550As: COM1 (the console) up to COM4 */
    bool testdev;                  /* QEMU's pc-testdev (devices/testdev.c), for kvm-unit-tests */
    bool hpet;                     /* the HPET and its ACPI table (devices/hpet.c); true unless `hpet = false` */
    bool unclaimed_stop;           /* `unclaimed = stop`: an access to unclaimed memory stops the VM */
};

/* Parses `text` (len bytes, need not be NUL-terminated) from file `file` into out[0..max).
 * Returns the number of VM sections found (valid or not); problems are logged. */
unsigned config_parse(const char *file, const char *text, size_t len, struct vm_config *out, unsigned max);

const char *guest_type_name(enum guest_type type);

#endif
