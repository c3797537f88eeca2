/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Linux x86 boot protocol's data, by name: the setup header, which a bzImage carries at
 * offset 0x1f1 and a boot loader copies into the zero page at the same offset, and the zero
 * page ("struct boot_params") the kernel finds through RSI at its 32- or 64-bit entry.
 * Offsets are those of Documentation/arch/x86/boot.rst ("The real-mode kernel header") and
 * zero-page.rst in the kernel tree; only the fields mhv reads or writes have names, the rest
 * are spans of bytes, and the asserts below pin every named one.
 */
#ifndef MHV_VM_LINUX_BOOT_PARAMS_H
#define MHV_VM_LINUX_BOOT_PARAMS_H

#include <stddef.h>
#include <stdint.h>

/* The setup header up to init_size and handover_offset (protocol 2.11), the last field mhv
 * needs; newer fields follow it in the image (boot.rst). */
struct __attribute__((packed)) linux_setup_header {
    uint8_t setup_sects;          /* 0x1f1: 512-byte sectors of setup code after the boot sector; 0 means 4 */
    uint16_t root_flags;          /* 0x1f2 */
    uint32_t syssize;             /* 0x1f4 */
    uint16_t ram_size;            /* 0x1f8 */
    uint16_t vid_mode;            /* 0x1fa */
    uint16_t root_dev;            /* 0x1fc */
    uint16_t boot_flag;           /* 0x1fe: 0xaa55, the boot sector signature */
    uint8_t jump;                 /* 0x200: a short JMP over the header ... */
    uint8_t header_length;        /* 0x201: ... whose offset is the header's length past 0x202 */
    uint32_t header;              /* 0x202: "HdrS" */
    uint16_t version;             /* 0x206: boot protocol, major << 8 | minor */
    uint32_t realmode_swtch;      /* 0x208 */
    uint16_t start_sys_seg;       /* 0x20c */
    uint16_t kernel_version;      /* 0x20e */
    uint8_t type_of_loader;       /* 0x210 */
    uint8_t loadflags;            /* 0x211: bit 0 LOADED_HIGH */
    uint16_t setup_move_size;     /* 0x212 */
    uint32_t code32_start;        /* 0x214 */
    uint32_t ramdisk_image;       /* 0x218 */
    uint32_t ramdisk_size;        /* 0x21c */
    uint32_t bootsect_kludge;     /* 0x220 */
    uint16_t heap_end_ptr;        /* 0x224 */
    uint8_t ext_loader_ver;       /* 0x226 */
    uint8_t ext_loader_type;      /* 0x227 */
    uint32_t cmd_line_ptr;        /* 0x228 */
    uint32_t initrd_addr_max;     /* 0x22c */
    uint32_t kernel_alignment;    /* 0x230 */
    uint8_t relocatable_kernel;   /* 0x234 */
    uint8_t min_alignment;        /* 0x235 */
    uint16_t xloadflags;          /* 0x236: bit 0 XLF_KERNEL_64 */
    uint32_t cmdline_size;        /* 0x238 */
    uint32_t hardware_subarch;    /* 0x23c */
    uint64_t hardware_subarch_data; /* 0x240 */
    uint32_t payload_offset;      /* 0x248 */
    uint32_t payload_length;      /* 0x24c */
    uint64_t setup_data;          /* 0x250 */
    uint64_t pref_address;        /* 0x258 */
    uint32_t init_size;           /* 0x260 */
    uint32_t handover_offset;     /* 0x264 */
};

struct __attribute__((packed)) linux_e820_entry {
    uint64_t addr, size;
    uint32_t type;                /* 1 usable RAM, 2 reserved */
};

#define LINUX_E820_MAX_ZERO_PAGE 128

struct __attribute__((packed)) linux_boot_params {
    uint8_t firmware_info[0x70];  /* 0x000: screen_info, apm_bios_info, tboot_addr, ist_info */
    uint64_t acpi_rsdp_addr;      /* 0x070 */
    uint8_t legacy_info[0x1e8 - 0x78]; /* 0x078: disk parameters, ext_* high halves, EDID, EFI, alt_mem_k */
    uint8_t e820_entries;         /* 0x1e8 */
    uint8_t more_counts[0x1f1 - 0x1e9]; /* 0x1e9: eddbuf_entries, kbd_status, secure_boot, sentinel */
    struct linux_setup_header hdr; /* 0x1f1 */
    uint8_t hdr_newer[0x290 - 0x268]; /* 0x268: the setup header's later fields; it may run to here */
    uint8_t edd_mbr_sig_buffer[0x40]; /* 0x290 */
    struct linux_e820_entry e820_table[LINUX_E820_MAX_ZERO_PAGE]; /* 0x2d0 */
    uint8_t edd_info[0x1000 - 0xcd0]; /* 0xcd0 */
};

#define LINUX_BOOT_PARAMS_AT(field) offsetof(struct linux_boot_params, field)
_Static_assert(LINUX_BOOT_PARAMS_AT(acpi_rsdp_addr) == 0x070, "zero page: acpi_rsdp_addr");
_Static_assert(LINUX_BOOT_PARAMS_AT(e820_entries) == 0x1e8, "zero page: e820_entries");
_Static_assert(LINUX_BOOT_PARAMS_AT(hdr) == 0x1f1, "zero page: setup header");
_Static_assert(LINUX_BOOT_PARAMS_AT(hdr.boot_flag) == 0x1fe, "setup header: boot_flag");
_Static_assert(LINUX_BOOT_PARAMS_AT(hdr.header_length) == 0x201, "setup header: length byte");
_Static_assert(LINUX_BOOT_PARAMS_AT(hdr.header) == 0x202, "setup header: HdrS");
_Static_assert(LINUX_BOOT_PARAMS_AT(hdr.version) == 0x206, "setup header: version");
_Static_assert(LINUX_BOOT_PARAMS_AT(hdr.type_of_loader) == 0x210, "setup header: type_of_loader");
_Static_assert(LINUX_BOOT_PARAMS_AT(hdr.loadflags) == 0x211, "setup header: loadflags");
_Static_assert(LINUX_BOOT_PARAMS_AT(hdr.ramdisk_image) == 0x218, "setup header: ramdisk_image");
_Static_assert(LINUX_BOOT_PARAMS_AT(hdr.ramdisk_size) == 0x21c, "setup header: ramdisk_size");
_Static_assert(LINUX_BOOT_PARAMS_AT(hdr.cmd_line_ptr) == 0x228, "setup header: cmd_line_ptr");
_Static_assert(LINUX_BOOT_PARAMS_AT(hdr.initrd_addr_max) == 0x22c, "setup header: initrd_addr_max");
_Static_assert(LINUX_BOOT_PARAMS_AT(hdr.kernel_alignment) == 0x230, "setup header: kernel_alignment");
_Static_assert(LINUX_BOOT_PARAMS_AT(hdr.xloadflags) == 0x236, "setup header: xloadflags");
_Static_assert(LINUX_BOOT_PARAMS_AT(hdr.cmdline_size) == 0x238, "setup header: cmdline_size");
_Static_assert(LINUX_BOOT_PARAMS_AT(hdr.pref_address) == 0x258, "setup header: pref_address");
_Static_assert(LINUX_BOOT_PARAMS_AT(hdr.init_size) == 0x260, "setup header: init_size");
_Static_assert(LINUX_BOOT_PARAMS_AT(hdr_newer) == 0x268, "setup header: end of the fields mhv knows");
_Static_assert(LINUX_BOOT_PARAMS_AT(edd_mbr_sig_buffer) == 0x290, "zero page: end of the setup header area");
_Static_assert(LINUX_BOOT_PARAMS_AT(e820_table) == 0x2d0, "zero page: e820_table");
_Static_assert(sizeof(struct linux_e820_entry) == 20, "e820 entry");
_Static_assert(sizeof(struct linux_boot_params) == 4096, "the zero page is one page");

/* Where the setup header starts, in a bzImage as in the zero page; and where the zero page's
 * room for it ends. */
#define LINUX_SETUP_HEADER_OFFSET LINUX_BOOT_PARAMS_AT(hdr)
#define LINUX_SETUP_HEADER_AREA_END LINUX_BOOT_PARAMS_AT(edd_mbr_sig_buffer)
/* The header runs from LINUX_SETUP_HEADER_OFFSET to here plus its length byte (boot.rst). */
#define LINUX_SETUP_HEADER_LENGTH_BASE LINUX_BOOT_PARAMS_AT(hdr.header)

#endif
