/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Defensive multiboot2 information parser. Layout (multiboot2 spec 3.6): u32 total_size,
 * u32 reserved, then tags, each u32 type, u32 size (header included) padded to 8 bytes, ending
 * with a tag of type 0 and size 8. Nothing a boot loader wrote is trusted before it is checked.
 */
#include "kernel/multiboot2.h"

#include <stddef.h>

#include "kernel/log.h"
#include "lib/string.h"

enum {
    TAG_END = 0,
    TAG_CMDLINE = 1,
    TAG_LOADER_NAME = 2,
    TAG_MODULE = 3,
    TAG_BASIC_MEMINFO = 4,
    TAG_MMAP = 6,
    TAG_EFI64_SYSTEM_TABLE = 12,
    TAG_ACPI_OLD = 14,
    TAG_ACPI_NEW = 15,
    TAG_EFI_MMAP = 17,
    TAG_EFI_BS_ACTIVE = 18,
};

#define RSDP_V1_SIZE 20 /* ACPI 6.5 5.2.5.3: RSDP up to and including RsdtAddress */
#define RSDP_V2_SIZE 36

static const char *tag_name(uint32_t type)
{
    static const char *const names[] = {
        [0] = "end", [1] = "command line", [2] = "boot loader name", [3] = "module",
        [4] = "basic memory info", [5] = "BIOS boot device", [6] = "memory map",
        [7] = "VBE info", [8] = "framebuffer", [9] = "ELF sections", [10] = "APM table",
        [11] = "EFI32 system table", [12] = "EFI64 system table", [13] = "SMBIOS",
        [14] = "ACPI 1.0 RSDP", [15] = "ACPI 2.0 RSDP", [16] = "network", [17] = "EFI memory map",
        [18] = "EFI boot services active", [19] = "EFI32 image handle",
        [20] = "EFI64 image handle", [21] = "image load base",
    };
    return type < sizeof(names) / sizeof(names[0]) && names[type] ? names[type] : "unknown";
}

struct cursor {
    const uint8_t *base;
    uint32_t total;
    struct boot_info *bi;
    /* the tag being parsed, for messages */
    unsigned index;
    uint32_t type;
    uint32_t offset;
};

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

#define TAG_PROBLEM(c, fmt, ...)                                                            \
    do {                                                                                    \
        (c)->bi->problems++;                                                                \
        log_warn("multiboot2: tag #%u (type %u, %s) at offset 0x%x: " fmt, (c)->index,     \
                 (c)->type, tag_name((c)->type), (c)->offset, ##__VA_ARGS__);              \
    } while (0)

/* A string that must end with NUL inside [p, p + len). */
static const char *checked_string(struct cursor *c, const uint8_t *p, uint32_t len, const char *what)
{
    if (strnlen((const char *)p, len) == len) {
        TAG_PROBLEM(c, "%s is not NUL-terminated within the tag; ignored", what);
        return NULL;
    }
    return (const char *)p;
}

static void add_range(struct cursor *c, uint64_t base, uint64_t len, enum mem_type type)
{
    struct boot_info *bi = c->bi;
    if (len == 0)
        return; /* nothing to record; common in EFI maps, not worth a warning */
    if (base + len < base) {
        TAG_PROBLEM(c, "range at 0x%lx of length 0x%lx wraps past 2^64; ignored", base, len);
        return;
    }
    if (bi->mem_count == BOOT_MAX_MEM_RANGES) {
        TAG_PROBLEM(c, "more than %d memory ranges; the rest are ignored", BOOT_MAX_MEM_RANGES);
        return;
    }
    /* Insertion keeps the map sorted by base for the allocator and the summary. */
    unsigned i = bi->mem_count++;
    while (i > 0 && bi->mem[i - 1].base > base) {
        bi->mem[i] = bi->mem[i - 1];
        i--;
    }
    bi->mem[i] = (struct mem_range){ base, len, type };
}

static void parse_mmap(struct cursor *c, const uint8_t *tag, uint32_t size)
{
    if (size < 16) {
        TAG_PROBLEM(c, "size %u is below the 16-byte header; ignored", size);
        return;
    }
    uint32_t entry_size = rd32(tag + 8);
    if (entry_size < 24 || entry_size % 8) {
        TAG_PROBLEM(c, "entry_size %u is not a multiple of 8 of at least 24; ignored", entry_size);
        return;
    }
    if (c->bi->mem_source) {
        TAG_PROBLEM(c, "a second memory map; the first (%s) is kept", c->bi->mem_source);
        return;
    }
    if ((size - 16) % entry_size)
        TAG_PROBLEM(c, "%u trailing bytes after the last whole entry; ignored", (size - 16) % entry_size);
    for (uint32_t off = 16; off + entry_size <= size; off += entry_size) {
        const uint8_t *e = tag + off;
        uint32_t type = rd32(e + 16);
        /* multiboot2 spec 3.6.8: 1 available, 3 ACPI reclaimable, 4 NVS, 5 bad; else reserved */
        enum mem_type t = type == 1 ? MEM_USABLE : type == 3 ? MEM_ACPI_RECLAIMABLE
                        : type == 4 ? MEM_ACPI_NVS : type == 5 ? MEM_BAD : MEM_RESERVED;
        add_range(c, rd64(e), rd64(e + 8), t);
    }
    c->bi->mem_source = "multiboot2 memory map";
}

static enum mem_type efi_mem_type(uint32_t type)
{
    /* UEFI 2.10 table 7.10: loader code/data (1, 2), boot services code/data (3, 4) and
     * conventional memory (7) are free once boot services have exited. */
    switch (type) {
    case 1: case 2: case 3: case 4: case 7: return MEM_USABLE;
    case 9: return MEM_ACPI_RECLAIMABLE;
    case 10: return MEM_ACPI_NVS;
    case 8: return MEM_BAD;
    default: return MEM_RESERVED;
    }
}

static void parse_efi_mmap(struct cursor *c, const uint8_t *tag, uint32_t size,
                           struct mem_range *efi, unsigned *efi_count)
{
    if (size < 16) {
        TAG_PROBLEM(c, "size %u is below the 16-byte header; ignored", size);
        return;
    }
    uint32_t desc_size = rd32(tag + 8);
    if (desc_size < 40 || desc_size % 8) {
        TAG_PROBLEM(c, "descriptor_size %u is not a multiple of 8 of at least 40; ignored", desc_size);
        return;
    }
    /* Kept aside: used only when there is no multiboot2 memory map (GRUB gives both). */
    for (uint32_t off = 16; off + desc_size <= size && *efi_count < BOOT_MAX_MEM_RANGES; off += desc_size) {
        const uint8_t *d = tag + off;
        uint64_t pages = rd64(d + 24);
        if (pages > (UINT64_MAX >> 12)) {
            TAG_PROBLEM(c, "descriptor at offset 0x%x has %lu pages; ignored", off, pages);
            continue;
        }
        efi[(*efi_count)++] = (struct mem_range){ rd64(d + 8), pages << 12, efi_mem_type(rd32(d)) };
    }
}

static void parse_module(struct cursor *c, const uint8_t *tag, uint32_t size)
{
    struct boot_info *bi = c->bi;
    if (size < 17) {
        TAG_PROBLEM(c, "size %u is too small for a module; ignored", size);
        return;
    }
    uint64_t start = rd32(tag + 8), end = rd32(tag + 12);
    const char *name = checked_string(c, tag + 16, size - 16, "module name");
    if (!name)
        return;
    if (end < start) {
        TAG_PROBLEM(c, "module '%s' ends (0x%lx) before it starts (0x%lx); ignored", name, end, start);
        return;
    }
    if (bi->module_count == BOOT_MAX_MODULES) {
        TAG_PROBLEM(c, "more than %d modules; '%s' ignored", BOOT_MAX_MODULES, name);
        return;
    }
    bi->modules[bi->module_count++] = (struct boot_module){ start, end, name };
}

static void parse_rsdp(struct cursor *c, const uint8_t *tag, uint32_t size, int revision)
{
    unsigned need = revision == 1 ? RSDP_V1_SIZE : RSDP_V2_SIZE;
    if (size < 8 + need) {
        TAG_PROBLEM(c, "size %u cannot hold a %u-byte RSDP; ignored", size, need);
        return;
    }
    /* The ACPI 2.0 tag wins: it leads to the XSDT. */
    if (c->bi->acpi_revision >= revision)
        return;
    c->bi->acpi_revision = revision;
    c->bi->rsdp = c->bi->info_start + (uint64_t)(tag + 8 - c->base);
    c->bi->rsdp_size = size - 8;
}

static bool overlaps(uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1)
{
    return a0 < b1 && b0 < a1;
}

/* Drops modules that overlap mhv's image, the information, or an earlier module: whichever
 * of the two is wrong, using either would let one overwrite the other. */
static void check_modules(struct boot_info *bi, uint64_t image_start, uint64_t image_end)
{
    unsigned kept = 0;
    for (unsigned i = 0; i < bi->module_count; i++) {
        struct boot_module *m = &bi->modules[i];
        const char *clash = NULL;
        uint64_t c0 = 0, c1 = 0;
        if (overlaps(m->start, m->end, image_start, image_end)) {
            clash = "the mhv image";
            c0 = image_start, c1 = image_end;
        } else if (overlaps(m->start, m->end, bi->info_start, bi->info_end)) {
            clash = "the multiboot2 information";
            c0 = bi->info_start, c1 = bi->info_end;
        } else {
            for (unsigned j = 0; j < kept; j++) {
                if (overlaps(m->start, m->end, bi->modules[j].start, bi->modules[j].end)) {
                    clash = bi->modules[j].name[0] ? bi->modules[j].name : "an earlier module";
                    c0 = bi->modules[j].start, c1 = bi->modules[j].end;
                    break;
                }
            }
        }
        if (clash) {
            bi->problems++;
            log_warn("multiboot2: module %u '%s' [0x%lx, 0x%lx) overlaps %s [0x%lx, 0x%lx); module ignored",
                     i, m->name, m->start, m->end, clash, c0, c1);
            continue;
        }
        bi->modules[kept++] = *m;
    }
    bi->module_count = kept;
}

int mb2_parse(const void *info, uint64_t info_phys, uint64_t image_start, uint64_t image_end,
              struct boot_info *bi)
{
    memset(bi, 0, sizeof(*bi));
    bi->cmdline = "";
    bi->loader_name = "";
    const uint8_t *base = info;

    if (info_phys & 7) {
        log_err("multiboot2: information at 0x%lx is not 8-byte aligned", info_phys);
        return -1;
    }
    uint32_t total = rd32(base);
    if (total < 16 || total > MB2_INFO_MAX_SIZE) {
        log_err("multiboot2: information at 0x%lx: total_size %u is outside [16, %u]", info_phys,
                total, MB2_INFO_MAX_SIZE);
        return -1;
    }
    bi->info_start = info_phys;
    bi->info_end = info_phys + total;

    struct cursor c = { .base = base, .total = total, .bi = bi };
    struct mem_range efi[BOOT_MAX_MEM_RANGES];
    unsigned efi_count = 0;
    bool ended = false;

    for (uint32_t off = 8; off + 8 <= total; c.index++) {
        const uint8_t *tag = base + off;
        uint32_t type = rd32(tag), size = rd32(tag + 4);
        c.type = type;
        c.offset = off;
        if (size < 8) {
            log_err("multiboot2: tag #%u (type %u, %s) at offset 0x%x: size %u is below 8", c.index,
                    type, tag_name(type), off, size);
            return -1;
        }
        if (size > total - off) {
            log_err("multiboot2: tag #%u (type %u, %s) at offset 0x%x: size %u runs past the end "
                    "of the information (total_size %u)", c.index, type, tag_name(type), off, size, total);
            return -1;
        }
        if (type == TAG_END) {
            ended = true;
            break;
        }
        switch (type) {
        case TAG_CMDLINE: {
            const char *s = checked_string(&c, tag + 8, size - 8, "command line");
            if (s)
                bi->cmdline = s;
            break;
        }
        case TAG_LOADER_NAME: {
            const char *s = checked_string(&c, tag + 8, size - 8, "boot loader name");
            if (s)
                bi->loader_name = s;
            break;
        }
        case TAG_MODULE:
            parse_module(&c, tag, size);
            break;
        case TAG_BASIC_MEMINFO:
            if (size >= 16) {
                bi->mem_lower_kib = rd32(tag + 8);
                bi->mem_upper_kib = rd32(tag + 12);
            }
            break;
        case TAG_MMAP:
            parse_mmap(&c, tag, size);
            break;
        case TAG_EFI_MMAP:
            parse_efi_mmap(&c, tag, size, efi, &efi_count);
            break;
        case TAG_ACPI_OLD:
            parse_rsdp(&c, tag, size, 1);
            break;
        case TAG_ACPI_NEW:
            parse_rsdp(&c, tag, size, 2);
            break;
        case TAG_EFI64_SYSTEM_TABLE:
            if (size >= 16)
                bi->efi_system_table = rd64(tag + 8);
            break;
        case TAG_EFI_BS_ACTIVE:
            bi->efi_boot_services_active = true;
            break;
        default:
            break; /* tags mhv does not use (framebuffer, ELF sections, ...) */
        }
        off += (size + 7) & ~7u; /* tags start 8-byte aligned */
    }

    if (!ended) {
        log_err("multiboot2: no end tag within total_size %u (%u tags read)", total, c.index);
        return -1;
    }
    if (!bi->mem_source && efi_count) {
        c.type = TAG_EFI_MMAP;
        for (unsigned i = 0; i < efi_count; i++)
            add_range(&c, efi[i].base, efi[i].length, efi[i].type);
        bi->mem_source = "EFI memory map";
    }
    if (!bi->mem_source || !bi->mem_count) {
        log_err("multiboot2: no usable memory map (neither a memory map tag nor an EFI memory map tag)");
        return -1;
    }
    check_modules(bi, image_start, image_end);
    return 0;
}

const char *mem_type_name(enum mem_type type)
{
    switch (type) {
    case MEM_USABLE: return "usable";
    case MEM_ACPI_RECLAIMABLE: return "ACPI reclaimable";
    case MEM_ACPI_NVS: return "ACPI NVS";
    case MEM_BAD: return "bad";
    default: return "reserved";
    }
}
