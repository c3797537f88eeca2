/* SPDX-License-Identifier: BSD-2-Clause */
/* bzImage parsing (the "real-mode kernel header", boot protocol 2.12+). */
#include "vm/linux.h"

#include "lib/format.h"
#include "lib/string.h"

#define MIN_PROTOCOL 0x020c
#define LOADED_HIGH 0x01
#define XLF_KERNEL_64 0x01

static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

int linux_parse(const uint8_t *img, size_t size, struct linux_image *li, char *why, size_t n)
{
    memset(li, 0, sizeof(*li));
    if (size < 0x268 || rd16(img + 0x1fe) != 0xaa55 || rd32(img + 0x202) != 0x53726448) { /* "HdrS" */
        ksnprintf(why, n, "not a bzImage (no boot sector signature or HdrS header)");
        return -1;
    }
    li->version = rd16(img + 0x206);
    if (li->version < MIN_PROTOCOL) {
        ksnprintf(why, n, "boot protocol %u.%u is older than 2.12", li->version >> 8, li->version & 0xff);
        return -1;
    }
    if (!(img[0x211] & LOADED_HIGH)) {
        ksnprintf(why, n, "a zImage (loaded low), not a bzImage");
        return -1;
    }
    unsigned setup_sects = img[0x1f1] ? img[0x1f1] : 4; /* 0 means 4 (boot protocol) */
    li->setup_size = (uint64_t)(setup_sects + 1) * 512;
    if (li->setup_size >= size) {
        ksnprintf(why, n, "setup_sects %u leaves no protected-mode kernel in %zu bytes", setup_sects, size);
        return -1;
    }
    li->kernel_size = size - li->setup_size;
    li->header_end = img[0x201];
    li->initrd_addr_max = rd32(img + 0x22c);
    li->cmdline_max = rd32(img + 0x238);
    li->entry64 = rd16(img + 0x236) & XLF_KERNEL_64;
    li->load_address = rd64(img + 0x258);
    li->init_size = rd32(img + 0x260);
    uint32_t align = rd32(img + 0x230);
    if (!li->load_address || (align && (li->load_address & (align - 1))) || li->load_address >= 0x100000000ull) {
        ksnprintf(why, n, "pref_address 0x%lx is not a usable aligned address (kernel_alignment 0x%x)",
                  li->load_address, align);
        return -1;
    }
    if (li->init_size < li->kernel_size)
        li->init_size = li->kernel_size;
    if (0x202 + (unsigned)li->header_end > 0x290) {
        ksnprintf(why, n, "setup header length byte 0x%x runs past the zero page's header area", li->header_end);
        return -1;
    }
    return 0;
}
