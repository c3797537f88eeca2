/* SPDX-License-Identifier: BSD-2-Clause */
/* What mhv learned from its boot loader, in a form independent of multiboot2. */
#ifndef MHV_KERNEL_BOOT_INFO_H
#define MHV_KERNEL_BOOT_INFO_H

#include <stdbool.h>
#include <stdint.h>

#define BOOT_MAX_MEM_RANGES 128
#define BOOT_MAX_MODULES 32

enum mem_type {
    MEM_USABLE = 1,
    MEM_RESERVED = 2,
    MEM_ACPI_RECLAIMABLE = 3,
    MEM_ACPI_NVS = 4,
    MEM_BAD = 5,
};

struct mem_range {
    uint64_t base;
    uint64_t length;
    enum mem_type type;
};

struct boot_module {
    uint64_t start, end; /* physical, [start, end) */
    const char *name;    /* the string GRUB passed after the file name ("" if none) */
};

struct boot_info {
    uint64_t info_start, info_end; /* where the multiboot2 information itself lies */
    const char *cmdline;           /* never NULL after parsing */
    const char *loader_name;       /* never NULL after parsing */

    struct mem_range mem[BOOT_MAX_MEM_RANGES]; /* sorted by base */
    unsigned mem_count;
    const char *mem_source; /* which tag the map came from */

    struct boot_module modules[BOOT_MAX_MODULES];
    unsigned module_count;

    uint64_t rsdp;      /* address of the RSDP copy inside the information, 0 if none */
    unsigned rsdp_size; /* bytes of that copy */
    int acpi_revision;  /* 1: ACPI 1.0 tag (RSDT), 2: ACPI 2.0+ tag (XSDT); 0: none */

    uint64_t efi_system_table;     /* 0 unless booted from 64-bit UEFI */
    bool efi_boot_services_active; /* tag 18: boot services were not exited */
    uint32_t mem_lower_kib, mem_upper_kib; /* basic meminfo tag, 0 if absent */

    unsigned problems; /* count of problems reported and worked around */
};

const char *mem_type_name(enum mem_type type);

#endif
