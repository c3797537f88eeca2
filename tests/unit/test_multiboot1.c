/* SPDX-License-Identifier: BSD-2-Clause */
// sources: vm/multiboot1.c lib/format.c
/* Multiboot (v1) kernel images: a.out-kludge and ELF32/ELF64 forms, and the malformed ones a
 * loader must refuse with a reason. */
#include "stubs.h"

#include <string.h>

#include "vm/multiboot1.h"

static uint8_t img[16384];
static struct mb1_image mb;
static char why[160];

static void put32(size_t off, uint32_t v) { memcpy(img + off, &v, 4); }
static void put16(size_t off, uint16_t v) { memcpy(img + off, &v, 2); }
static void put64(size_t off, uint64_t v) { memcpy(img + off, &v, 8); }

static void header(size_t at, uint32_t flags)
{
    put32(at, MB1_HEADER_MAGIC);
    put32(at + 4, flags);
    put32(at + 8, -(MB1_HEADER_MAGIC + flags));
}

/* The layout of tests/guests/mbkernel.asm: loaded at 2 MiB, 0x200 bytes of file, 0x1000 of BSS. */
static void aout_kernel(void)
{
    memset(img, 0, sizeof(img));
    header(0, 0x10003);
    put32(12, 0x200000); /* header_addr */
    put32(16, 0x200000); /* load_addr */
    put32(20, 0x200200); /* load_end_addr */
    put32(24, 0x201200); /* bss_end_addr */
    put32(28, 0x200020); /* entry_addr */
}

static void test_aout_kludge(void **state)
{
    (void)state;
    aout_kernel();
    assert_int_equal(mb1_parse(img, 0x200, &mb, why, sizeof(why)), 0);
    assert_int_equal(mb.entry, 0x200020);
    assert_int_equal(mb.segment_count, 1);
    assert_int_equal(mb.segments[0].addr, 0x200000);
    assert_int_equal(mb.segments[0].file_size, 0x200);
    assert_int_equal(mb.segments[0].mem_size, 0x1200);
    assert_int_equal(mb.end, 0x201200);
}

static void elf32_kernel(void)
{
    memset(img, 0, sizeof(img));
    memcpy(img, "\x7f" "ELF", 4);
    img[4] = 1, img[5] = 1;
    put16(18, 3);        /* EM_386 */
    put32(24, 0x100010); /* e_entry */
    put32(28, 52);       /* e_phoff */
    put16(42, 32);       /* e_phentsize */
    put16(44, 1);        /* e_phnum */
    put32(52, 1);        /* PT_LOAD */
    put32(56, 0x1000);   /* p_offset */
    put32(64, 0x100000); /* p_paddr */
    put32(68, 0x100);    /* p_filesz */
    put32(72, 0x2000);   /* p_memsz */
    header(0x1000, 0x3); /* the header in the first loaded page */
}

static void test_elf32(void **state)
{
    (void)state;
    elf32_kernel();
    assert_int_equal(mb1_parse(img, 0x1100, &mb, why, sizeof(why)), 0);
    assert_int_equal(mb.entry, 0x100010);
    assert_int_equal(mb.segments[0].file_offset, 0x1000);
    assert_int_equal(mb.segments[0].mem_size, 0x2000);
}

static void test_elf64(void **state)
{
    (void)state;
    memset(img, 0, sizeof(img));
    memcpy(img, "\x7f" "ELF", 4);
    img[4] = 2, img[5] = 1;
    put16(18, 62);       /* EM_X86_64 */
    put64(24, 0x100000); /* 32-bit entry code, as multiboot requires */
    put64(32, 64);       /* e_phoff */
    put16(54, 56);
    put16(56, 1);
    put32(64, 1);
    put64(64 + 8, 0x1000);
    put64(64 + 24, 0x100000);
    put64(64 + 32, 0x80);
    put64(64 + 40, 0x80);
    header(0x1000, 0x3);
    assert_int_equal(mb1_parse(img, 0x1080, &mb, why, sizeof(why)), 0);
    assert_int_equal(mb.segments[0].addr, 0x100000);
}

static void test_refusals(void **state)
{
    (void)state;
    memset(img, 0, sizeof(img));
    assert_int_equal(mb1_parse(img, 0x3000, &mb, why, sizeof(why)), -1);
    assert_string_equal(why, "no multiboot header (magic 0x1badb002) in the first 8192 bytes");

    aout_kernel();
    put32(8, 0);
    assert_int_equal(mb1_parse(img, 0x200, &mb, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "bad checksum"));

    aout_kernel();
    header(0, 0x10013); /* bit 4: a requirement mhv does not know */
    assert_int_equal(mb1_parse(img, 0x200, &mb, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "ask for features mhv does not provide"));

    aout_kernel();
    assert_int_equal(mb1_parse(img, 0x100, &mb, why, sizeof(why)), -1); /* file shorter than load_end */
    assert_non_null(strstr(why, "lies outside the file"));

    aout_kernel();
    put32(28, 0x300000); /* entry beyond what is loaded */
    assert_int_equal(mb1_parse(img, 0x200, &mb, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "entry point 0x300000 is not inside a loaded segment"));

    aout_kernel();
    put32(24, 0x200100); /* BSS ends inside the loaded data */
    assert_int_equal(mb1_parse(img, 0x200, &mb, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "bss_end_addr"));

    elf32_kernel();
    put16(18, 40); /* ARM */
    assert_int_equal(mb1_parse(img, 0x1100, &mb, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "is not x86"));

    elf32_kernel();
    put16(44, 2000); /* program headers past the end */
    assert_int_equal(mb1_parse(img, 0x1100, &mb, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "program headers"));

    elf32_kernel();
    put32(64, 0xfffff000); /* wraps past 4 GiB */
    assert_int_equal(mb1_parse(img, 0x1100, &mb, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "does not fit below 4 GiB"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aout_kludge),
        cmocka_unit_test(test_elf32),
        cmocka_unit_test(test_elf64),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests_name("multiboot1", tests, NULL, NULL);
}
