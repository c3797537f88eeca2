/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ACPI tables from the firmware (ACPI 6.5 chapter 5): RSDP, RSDT/XSDT, MADT (CPUs, I/O APICs,
 * interrupt overrides), FADT (PM timer, reset register) and HPET. The parser reads memory
 * only through an acpi_map_fn, so host tests can feed captured tables. Nothing is used before
 * its length and checksum are checked; malformed tables are reported and skipped.
 */
#ifndef MHV_DRIVERS_ACPI_H
#define MHV_DRIVERS_ACPI_H

#include <stdbool.h>
#include <stdint.h>

#define ACPI_MAX_CPU_ENTRIES 512
#define ACPI_MAX_IOAPICS 16
#define ACPI_MAX_OVERRIDES 32
#define ACPI_MAX_TABLES 64

/* Returns a pointer through which len bytes at physical address addr can be read, or NULL
 * when that range is not memory mhv can read. */
typedef const void *(*acpi_map_fn)(uint64_t addr, uint64_t len);

struct acpi_cpu {
    uint32_t apic_id;
    uint32_t acpi_uid;
    bool enabled;        /* usable now (MADT flags bit 0) */
    bool online_capable; /* may be enabled later (hot-plug, MADT flags bit 1) */
    bool from_x2apic_entry;
};

struct acpi_ioapic {
    uint8_t id;
    uint32_t address;
    uint32_t gsi_base;
};

struct acpi_override { /* MADT interrupt source override: ISA IRQ -> GSI */
    uint8_t bus, source;
    uint32_t gsi;
    uint16_t flags;
};

struct acpi_gas { /* generic address structure (ACPI 6.5 5.2.3.2) */
    uint8_t space; /* 0 memory, 1 system I/O */
    uint8_t bit_width, bit_offset, access_size;
    uint64_t address;
};

struct acpi_table_ref {
    char signature[5];
    uint64_t address;
    uint32_t length;
};

struct acpi_info {
    uint64_t rsdp_address;
    unsigned rsdp_revision;
    char oem_id[7];
    const char *root_name; /* "XSDT" or "RSDT" */
    uint64_t root_address;
    uint32_t root_length;

    struct acpi_table_ref tables[ACPI_MAX_TABLES]; /* every table whose checksum held */
    unsigned table_count;

    bool has_madt;
    uint64_t lapic_address; /* after any MADT override */
    bool pcat_compat;       /* dual 8259 PICs present (MADT flags bit 0) */
    struct acpi_cpu cpus[ACPI_MAX_CPU_ENTRIES];
    unsigned cpu_entries;
    struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
    unsigned ioapic_count;
    struct acpi_override overrides[ACPI_MAX_OVERRIDES];
    unsigned override_count;

    bool has_fadt;
    uint32_t pm_timer_port; /* 0: none */
    bool pm_timer_32bit;
    bool reset_supported;
    struct acpi_gas reset_register;
    uint8_t reset_value;
    uint32_t pm1a_control_port;
    uint16_t boot_arch_flags; /* IA-PC boot architecture flags */

    uint64_t hpet_address; /* 0: none */

    unsigned problems; /* reported and worked around */
};

/*
 * Parses the tables. rsdp is the address of an RSDP to try first (the copy GRUB passed), or 0;
 * when it is absent or invalid, the BIOS areas are searched. Returns 0, or -1 when no valid
 * RSDP or root table exists (out then says so; mhv can still run on the boot CPU alone).
 */
int acpi_parse(uint64_t rsdp, acpi_map_fn map, struct acpi_info *out);

/* Searches the EBDA's first KiB and 0xE0000-0xFFFFF for a valid RSDP (ACPI 6.5 5.2.5.1). */
uint64_t acpi_find_rsdp_in_bios_areas(acpi_map_fn map);

#endif
