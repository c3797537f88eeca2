/* SPDX-License-Identifier: BSD-2-Clause */
/* Run-time parameters (params.h). */
#include "params.h"

#include "cpu.h"
#include "header.h"

#define FW_CFG_SELECTOR 0x510
#define FW_CFG_DATA 0x511
#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_CMDLINE_SIZE 0x14
#define FW_CFG_CMDLINE_DATA 0x15

static uint32_t fw_cfg_read32(uint16_t key)
{
    outw(FW_CFG_SELECTOR, key);
    uint32_t v = 0;
    for (unsigned i = 0; i < 4; i++)
        v |= (uint32_t)inb(FW_CFG_DATA) << (8 * i);
    return v;
}

unsigned fw_cfg_cmdline(char *buf, unsigned size)
{
    if (size == 0)
        return 0;
    buf[0] = 0;
    if (fw_cfg_read32(FW_CFG_SIGNATURE) != 0x554d4551) /* "QEMU" */
        return 0;
    uint32_t n = fw_cfg_read32(FW_CFG_CMDLINE_SIZE);
    outw(FW_CFG_SELECTOR, FW_CFG_CMDLINE_DATA);
    unsigned len = 0;
    for (uint32_t i = 0; i < n; i++) {
        char c = (char)inb(FW_CFG_DATA);
        if (len + 1 < size && c)
            buf[len++] = c;
    }
    buf[len] = 0;
    return len;
}

/* "seed=N" (decimal or 0x hex) as a word of the command line. */
static int seed_from_cmdline(uint64_t *seed)
{
    char line[256];
    fw_cfg_cmdline(line, sizeof(line));
    for (const char *p = line; *p; p++) {
        if ((p != line && p[-1] != ' ') || p[0] != 's' || p[1] != 'e' || p[2] != 'e' || p[3] != 'd' || p[4] != '=')
            continue;
        const char *d = p + 5;
        unsigned base = 10;
        if (d[0] == '0' && (d[1] == 'x' || d[1] == 'X')) {
            base = 16;
            d += 2;
        }
        uint64_t v = 0;
        unsigned digits = 0;
        for (;; d++, digits++) {
            unsigned x = *d >= '0' && *d <= '9' ? (unsigned)(*d - '0')
                       : base == 16 && (*d | 0x20) >= 'a' && (*d | 0x20) <= 'f' ? (unsigned)((*d | 0x20) - 'a' + 10)
                       : 99;
            if (x >= base)
                break;
            v = v * base + x;
        }
        if (digits) {
            *seed = v;
            return 0;
        }
    }
    return -1;
}

static uint64_t seed;
static const char *source;

uint64_t rt_seed(void)
{
    if (source)
        return seed;
    if (rt_header.seed) {
        seed = rt_header.seed;
        source = "image";
    } else if (seed_from_cmdline(&seed) == 0) {
        source = "fw_cfg";
    } else {
        seed = rdtsc();
        source = "tsc";
    }
    return seed;
}

const char *rt_seed_source(void)
{
    rt_seed();
    return source;
}

uint64_t rt_arg(unsigned i)
{
    return i < RT_ARGS ? rt_header.args[i] : 0;
}

const struct rt_header *rt_image_header(void)
{
    return &rt_header;
}
