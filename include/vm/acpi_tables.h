/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The ACPI tables a VM finds in its memory (vm/acpi_tables.c): RSDP, XSDT, RSDT, FADT, FACS,
 * DSDT, MADT and, where the VM has an HPET, the HPET table, describing exactly the virtual
 * platform of include/vm/platform.h. The builder is pure (a buffer in, bytes out) so host
 * tests can parse what it makes.
 */
#ifndef MHV_VM_ACPI_TABLES_H
#define MHV_VM_ACPI_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The SLP_TYP value of the DSDT's \_S5 object: PM1a_CNT.SLP_TYP = this with SLP_EN set is the
 * guest's "power off" (devices/pm.c acts on it). */
#define ACPI_S5_SLP_TYP 5

/* What varies from VM to VM. */
struct acpi_vm_layout {
    unsigned vcpus; /* processors, APIC IDs and ACPI UIDs 0 .. vcpus - 1; 1 to 254 */
    bool hpet;      /* an HPET table for the HPET at PLATFORM_HPET_BASE (devices/hpet.c) */
};

/* Builds the tables into buf as they will lie at guest-physical `base` (16-byte aligned; the
 * RSDP comes first, so a scan of 0xE0000-0xFFFFF finds it at base). Returns the bytes used,
 * or 0 when they do not fit in `size` or the layout is impossible. */
size_t acpi_build(uint8_t *buf, size_t size, uint64_t base, const struct acpi_vm_layout *l);

struct vm;
/* Builds the VM's tables and copies them to PLATFORM_ACPI_BASE: 0, or -1 (reported). */
int acpi_tables_write(struct vm *vm);

#endif
