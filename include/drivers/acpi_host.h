/* SPDX-License-Identifier: BSD-2-Clause */
/* The machine's own ACPI tables, parsed once at boot. */
#ifndef MHV_DRIVERS_ACPI_HOST_H
#define MHV_DRIVERS_ACPI_HOST_H

#include "drivers/acpi.h"
#include "kernel/boot_info.h"

extern struct acpi_info host_acpi;

/* Parses the tables (RSDP from the boot loader first), prints a summary, and with acpidump on
 * the command line a hex dump of every table. Returns 0, or -1 when there are no usable tables. */
int acpi_host_init(const struct boot_info *bi, bool dump);

#endif
