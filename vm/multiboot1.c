/* SPDX-License-Identifier: BSD-2-Clause */
/* The multiboot (v1) loader (include/vm/multiboot1.h). */
#include "vm/multiboot1.h"

#include <stdbool.h>

#include "kernel/log.h"
#include "lib/format.h"
#include "lib/string.h"

#define HEADER_SEARCH 8192 /* the header lies in the first 8 KiB, 4-byte aligned (spec 3.1.1) */
#define FLAG_AOUT_KLUDGE (1u << 16)

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static int fail(char *why, size_t n, const char *fmt, uint64_t a, uint64_t b)
{
    ksnprintf(why, n, fmt, a, b);
    return -1;
}

static int add_segment(struct mb1_image *mb, uint64_t off, uint64_t filesz, uint64_t addr, uint64_t memsz,
                       size_t size, char *why, size_t n)
{
    if (mb->segment_count == MB1_MAX_SEGMENTS)
        return fail(why, n, "more than %lu loadable segments%.0lu", MB1_MAX_SEGMENTS, 0);
    if (off > size || filesz > size - off)
        return fail(why, n, "a segment's data (offset 0x%lx, 0x%lx bytes) lies outside the file", off, filesz);
    if (memsz < filesz || addr + memsz < addr || addr + memsz > 0x100000000ull)
        return fail(why, n, "a segment at 0x%lx (0x%lx bytes in memory) does not fit below 4 GiB", addr, memsz);
    mb->segments[mb->segment_count++] = (struct mb1_segment){ off, filesz, addr, memsz };
    if (addr + memsz > mb->end)
        mb->end = addr + memsz;
    return 0;
}

/* The a.out kludge (flags bit 16): the header gives the load addresses itself (spec 3.1.3). */
static int parse_aout(const uint8_t *image, size_t size, size_t hdr, struct mb1_image *mb, char *why, size_t n)
{
    if (hdr + 32 > size)
        return fail(why, n, "the header at 0x%lx is cut off before its address fields%.0lu", hdr, 0);
    uint32_t header_addr = rd32(image + hdr + 12), load_addr = rd32(image + hdr + 16);
    uint32_t load_end = rd32(image + hdr + 20), bss_end = rd32(image + hdr + 24);
    mb->entry = rd32(image + hdr + 28);
    if (header_addr < load_addr || header_addr - load_addr > hdr)
        return fail(why, n, "header_addr 0x%lx and load_addr 0x%lx do not match the header's place in the file",
                    header_addr, load_addr);
    uint64_t off = hdr - (header_addr - load_addr);
    uint64_t filesz = load_end ? (uint64_t)load_end - load_addr : size - off;
    if (load_end && load_end < load_addr)
        return fail(why, n, "load_end_addr 0x%lx is below load_addr 0x%lx", load_end, load_addr);
    uint64_t memsz = bss_end ? (uint64_t)bss_end - load_addr : filesz;
    if (bss_end && bss_end < load_addr + filesz)
        return fail(why, n, "bss_end_addr 0x%lx is below the end of the loaded data 0x%lx", bss_end, load_addr + filesz);
    return add_segment(mb, off, filesz, load_addr, memsz, size, why, n);
}

/* ELF32 or ELF64 program headers (System V ABI): PT_LOAD segments at their physical addresses. */
static int parse_elf(const uint8_t *image, size_t size, struct mb1_image *mb, char *why, size_t n)
{
    if (size < 52 || memcmp(image, "\x7f" "ELF", 4))
        return fail(why, n, "no a.out kludge (flags bit 16) and not an ELF file%.0lu%.0lu", 0, 0);
    bool is64 = image[4] == 2;
    if ((image[4] != 1 && image[4] != 2) || image[5] != 1)
        return fail(why, n, "ELF class %lu / data %lu: only little-endian ELF32 and ELF64", image[4], image[5]);
    uint16_t machine = rd16(image + 18);
    if (machine != (is64 ? 62 : 3))
        return fail(why, n, "ELF machine %lu is not x86 (%lu expected)", machine, is64 ? 62 : 3);
    uint64_t phoff = is64 ? rd64(image + 32) : rd32(image + 28);
    uint16_t phentsize = rd16(image + (is64 ? 54 : 42)), phnum = rd16(image + (is64 ? 56 : 44));
    mb->entry = is64 ? rd64(image + 24) : rd32(image + 24);
    if (phentsize < (is64 ? 56 : 32) || phoff > size || (uint64_t)phentsize * phnum > size - phoff)
        return fail(why, n, "program headers (offset 0x%lx, %lu entries) lie outside the file", phoff, phnum);
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *ph = image + phoff + (uint64_t)i * phentsize;
        if (rd32(ph) != 1) /* PT_LOAD */
            continue;
        uint64_t off = is64 ? rd64(ph + 8) : rd32(ph + 4), paddr = is64 ? rd64(ph + 24) : rd32(ph + 12);
        uint64_t filesz = is64 ? rd64(ph + 32) : rd32(ph + 16), memsz = is64 ? rd64(ph + 40) : rd32(ph + 20);
        if (add_segment(mb, off, filesz, paddr, memsz, size, why, n) < 0)
            return -1;
    }
    if (!mb->segment_count)
        return fail(why, n, "the ELF file has no loadable segment%.0lu%.0lu", 0, 0);
    return 0;
}

int mb1_parse(const uint8_t *image, size_t size, struct mb1_image *mb, char *why, size_t n)
{
    memset(mb, 0, sizeof(*mb));
    size_t hdr = 0;
    bool found = false;
    for (; hdr + 12 <= size && hdr < HEADER_SEARCH; hdr += 4) {
        if (rd32(image + hdr) == MB1_HEADER_MAGIC) {
            found = true;
            break;
        }
    }
    if (!found)
        return fail(why, n, "no multiboot header (magic 0x%lx) in the first %lu bytes", MB1_HEADER_MAGIC, HEADER_SEARCH);
    mb->flags = rd32(image + hdr + 4);
    if ((uint32_t)(MB1_HEADER_MAGIC + mb->flags + rd32(image + hdr + 8)) != 0)
        return fail(why, n, "the multiboot header at 0x%lx has a bad checksum (flags 0x%lx)", hdr, mb->flags);
    /* Bits 0 and 1 (aligned modules, memory information) are always honoured; bit 2 (a video
     * mode) may be declined (spec 3.1.2); bits 3-15 are requirements mhv does not know. */
    if (mb->flags & 0xfff8u)
        return fail(why, n, "header flags 0x%lx ask for features mhv does not provide (bits 3-15)%.0lu", mb->flags, 0);
    int rc = mb->flags & FLAG_AOUT_KLUDGE ? parse_aout(image, size, hdr, mb, why, n) : parse_elf(image, size, mb, why, n);
    if (rc < 0)
        return rc;
    bool entry_ok = false;
    for (unsigned i = 0; i < mb->segment_count; i++)
        if (mb->entry >= mb->segments[i].addr && mb->entry < mb->segments[i].addr + mb->segments[i].file_size)
            entry_ok = true;
    if (!entry_ok || mb->entry >= 0x100000000ull)
        return fail(why, n, "the entry point 0x%lx is not inside a loaded segment%.0lu", mb->entry, 0);
    return 0;
}
