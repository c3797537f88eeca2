/* SPDX-License-Identifier: BSD-2-Clause */
/* bzImage parsing (the "real-mode kernel header", boot protocol 2.12+). */
#include "vm/linux.h"

#include "lib/format.h"
#include "lib/string.h"
#include "vm/linux_boot_params.h"

#define MIN_PROTOCOL 0x020c
#define LOADED_HIGH 0x01
#define XLF_KERNEL_64 0x01

int linux_parse(const uint8_t *img, size_t size, struct linux_image *li, char *why, size_t n)
{
    memset(li, 0, sizeof(*li));
    struct linux_setup_header h = { 0 };
    if (size >= LINUX_SETUP_HEADER_OFFSET + sizeof(h))
        memcpy(&h, img + LINUX_SETUP_HEADER_OFFSET, sizeof(h));
    if (size < LINUX_SETUP_HEADER_OFFSET + sizeof(h) || h.boot_flag != 0xaa55 || h.header != 0x53726448) { /* "HdrS" */
        ksnprintf(why, n, "not a bzImage (no boot sector signature or HdrS header)");
        return -1;
    }
    li->version = h.version;
    if (li->version < MIN_PROTOCOL) {
        ksnprintf(why, n, "boot protocol %u.%u is older than 2.12", li->version >> 8, li->version & 0xff);
        return -1;
    }
    if (!(h.loadflags & LOADED_HIGH)) {
        ksnprintf(why, n, "a zImage (loaded low), not a bzImage");
        return -1;
    }
    unsigned setup_sects = h.setup_sects ? h.setup_sects : 4; /* 0 means 4 (boot protocol) */
    li->setup_size = (uint64_t)(setup_sects + 1) * 512;
    if (li->setup_size >= size) {
        ksnprintf(why, n, "setup_sects %u leaves no protected-mode kernel in %zu bytes", setup_sects, size);
        return -1;
    }
    li->kernel_size = size - li->setup_size;
    li->header_end = h.header_length;
    li->initrd_addr_max = h.initrd_addr_max;
    li->cmdline_max = h.cmdline_size;
    li->entry64 = h.xloadflags & XLF_KERNEL_64;
    li->load_address = h.pref_address;
    li->init_size = h.init_size;
    uint32_t align = h.kernel_alignment;
    if (!li->load_address || (align && (li->load_address & (align - 1))) || li->load_address >= 0x100000000ull) {
        ksnprintf(why, n, "pref_address 0x%lx is not a usable aligned address (kernel_alignment 0x%x)",
                  li->load_address, align);
        return -1;
    }
    if (li->init_size < li->kernel_size)
        li->init_size = li->kernel_size;
    if (LINUX_SETUP_HEADER_LENGTH_BASE + (unsigned)li->header_end > LINUX_SETUP_HEADER_AREA_END) {
        ksnprintf(why, n, "setup header length byte 0x%x runs past the zero page's header area", li->header_end);
        return -1;
    }
    return 0;
}
