/* SPDX-License-Identifier: BSD-2-Clause */
// sources: vm/linux.c lib/format.c
/* bzImage headers (Linux x86 boot protocol): what mhv takes from a good one, and why it refuses
 * the others. */
#include "stubs.h"

#include <string.h>

#include "vm/linux.h"

static uint8_t img[8192];
static struct linux_image li;
static char why[160];

static void put16(size_t off, uint16_t v) { memcpy(img + off, &v, 2); }
static void put32(size_t off, uint32_t v) { memcpy(img + off, &v, 4); }
static void put64(size_t off, uint64_t v) { memcpy(img + off, &v, 8); }

/* A protocol 2.15 bzImage header like a distribution kernel's (values typical of x86-64). */
static void bzimage(void)
{
    memset(img, 0, sizeof(img));
    img[0x1f1] = 3;               /* setup_sects: 4 x 512 bytes of setup with the boot sector */
    put16(0x1fe, 0xaa55);
    img[0x201] = 0x66;            /* the setup header ends at 0x268 */
    put32(0x202, 0x53726448);     /* "HdrS" */
    put16(0x206, 0x020f);
    img[0x211] = 0x01;            /* LOADED_HIGH */
    put32(0x22c, 0x7fffffff);     /* initrd_addr_max */
    put32(0x230, 0x200000);       /* kernel_alignment */
    put16(0x236, 0x7f);           /* xloadflags: 64-bit entry and more */
    put32(0x238, 2047);           /* cmdline_size */
    put64(0x258, 0x1000000);      /* pref_address: 16 MiB */
    put32(0x260, 0x2000000);      /* init_size: 32 MiB */
}

static void test_good_bzimage(void **state)
{
    (void)state;
    bzimage();
    assert_int_equal(linux_parse(img, sizeof(img), &li, why, sizeof(why)), 0);
    assert_int_equal(li.version, 0x020f);
    assert_int_equal(li.setup_size, 2048);
    assert_int_equal(li.kernel_size, sizeof(img) - 2048);
    assert_int_equal(li.load_address, 0x1000000);
    assert_int_equal(li.init_size, 0x2000000);
    assert_int_equal(li.cmdline_max, 2047);
    assert_true(li.entry64);
    img[0x1f1] = 0; /* 0 setup sectors means 4 (boot protocol) */
    assert_int_equal(linux_parse(img, sizeof(img), &li, why, sizeof(why)), 0);
    assert_int_equal(li.setup_size, 2560);
}

static void test_refusals(void **state)
{
    (void)state;
    bzimage();
    put16(0x1fe, 0);
    assert_int_equal(linux_parse(img, sizeof(img), &li, why, sizeof(why)), -1);
    assert_string_equal(why, "not a bzImage (no boot sector signature or HdrS header)");

    bzimage();
    put16(0x206, 0x0206);
    assert_int_equal(linux_parse(img, sizeof(img), &li, why, sizeof(why)), -1);
    assert_string_equal(why, "boot protocol 2.6 is older than 2.12");

    bzimage();
    img[0x211] = 0;
    assert_int_equal(linux_parse(img, sizeof(img), &li, why, sizeof(why)), -1);
    assert_string_equal(why, "a zImage (loaded low), not a bzImage");

    bzimage();
    img[0x1f1] = 40; /* setup larger than the file */
    assert_int_equal(linux_parse(img, sizeof(img), &li, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "leaves no protected-mode kernel"));

    bzimage();
    put64(0x258, 0x1000100); /* not aligned to kernel_alignment */
    assert_int_equal(linux_parse(img, sizeof(img), &li, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "pref_address 0x1000100 is not a usable aligned address"));

    bzimage();
    assert_int_equal(linux_parse(img, 0x100, &li, why, sizeof(why)), -1); /* truncated */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_bzimage),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests_name("linux", tests, NULL, NULL);
}
