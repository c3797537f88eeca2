/* SPDX-License-Identifier: BSD-2-Clause */
/* mhv's command line options (documented in README.md, "Command line"). */
#ifndef MHV_KERNEL_OPTIONS_H
#define MHV_KERNEL_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/log.h"

/* apicv=: how much of the CPU's APIC virtualisation the vLAPICs use (vmx/vcpu.c), each level
 * also limited to what the CPU offers. */
enum apicv_option {
    APICV_ON,   /* everything offered: TPR shadow, APIC-register virtualisation, virtual-interrupt delivery */
    APICV_REGS, /* TPR shadow and APIC-register virtualisation; interrupts injected by mhv */
    APICV_TPR,  /* the TPR shadow alone */
    APICV_OFF,  /* fully emulated */
};

struct mhv_options {
    enum log_level loglevel; /* loglevel=error|warn|info|debug (or 0..3) */
    uint16_t serial_port;    /* serial=com1..com4 or an I/O port number */
    char selftest[24];       /* selftest=NAME: deliberately trigger a diagnostic path */
    unsigned maxcpus;        /* maxcpus=N: start at most N CPUs (0: all) */
    bool acpidump;           /* acpidump: hex-dump the firmware's ACPI tables at boot */
    bool vms_done_poweroff;  /* vms_done=poweroff|stay: what to do once every VM has stopped */
    unsigned slice_us;       /* slice=N: default time slice in microseconds (0: 10000) */
    char config[64];         /* config=MODULE: the VM configuration (default: a module named *.cfg) */
    enum apicv_option apicv; /* apicv=on|regs|tpr|off (default on) */
};

extern struct mhv_options boot_options;

/* Parses the command line into boot_options; returns the number of rejected words. */
int options_parse(const char *cmdline);

#endif
