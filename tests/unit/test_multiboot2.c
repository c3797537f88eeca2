/* SPDX-License-Identifier: BSD-2-Clause */
// sources: kernel/multiboot2.c kernel/log.c lib/format.c
/* Multiboot2 parsing: well-formed information as GRUB builds it, each kind of malformed
 * structure the parser must refuse or work around, and a bounded mutation run under
 * AddressSanitizer proving the parser never reads outside the information. */
#include "stubs.h"

#include <stdlib.h>
#include <string.h>

#include "kernel/log.h"
#include "kernel/multiboot2.h"

#define INFO_PHYS 0x10000ull
#define IMAGE_START 0x200000ull
#define IMAGE_END 0x300000ull

struct mbi {
    uint8_t buf[8192];
    uint32_t len;
};

static void mbi_begin(struct mbi *m)
{
    memset(m, 0, sizeof(*m));
    m->len = 8;
}

/* Appends a tag with the given payload; size is what the header claims (0: the true size). */
static uint32_t mbi_tag(struct mbi *m, uint32_t type, const void *payload, uint32_t payload_len, uint32_t size)
{
    uint32_t off = m->len;
    uint32_t real = 8 + payload_len;
    if (!size)
        size = real;
    memcpy(m->buf + off, &type, 4);
    memcpy(m->buf + off + 4, &size, 4);
    if (payload_len)
        memcpy(m->buf + off + 8, payload, payload_len);
    m->len += (real + 7) & ~7u;
    return off;
}

static void mbi_string_tag(struct mbi *m, uint32_t type, const char *s)
{
    mbi_tag(m, type, s, strlen(s) + 1, 0);
}

static void mbi_module(struct mbi *m, uint32_t start, uint32_t end, const char *name)
{
    uint8_t p[64];
    memcpy(p, &start, 4);
    memcpy(p + 4, &end, 4);
    strcpy((char *)p + 8, name);
    mbi_tag(m, 3, p, 8 + strlen(name) + 1, 0);
}

struct mmap_entry {
    uint64_t base, len;
    uint32_t type, reserved;
};

static void mbi_mmap(struct mbi *m, const struct mmap_entry *e, unsigned n, uint32_t entry_size)
{
    uint8_t p[1024];
    uint32_t version = 0;
    memcpy(p, &entry_size, 4);
    memcpy(p + 4, &version, 4);
    for (unsigned i = 0; i < n; i++)
        memcpy(p + 8 + i * entry_size, &e[i], sizeof(e[i]) < entry_size ? sizeof(e[i]) : entry_size);
    mbi_tag(m, 6, p, 8 + n * entry_size, 0);
}

static const struct mmap_entry pc_map[] = {
    { 0x100000, 0x7ee0000, 1, 0 },   /* listed out of order on purpose: the parser sorts */
    { 0, 0x9fc00, 1, 0 },
    { 0x9fc00, 0x400, 2, 0 },
    { 0xf0000, 0x10000, 2, 0 },
    { 0xfffc0000, 0x40000, 2, 0 },
};

static void mbi_end(struct mbi *m)
{
    mbi_tag(m, 0, NULL, 0, 0);
    memcpy(m->buf, &m->len, 4);
}

/* Parses a copy in a heap block of exactly the information's size, so ASan catches any read
 * past total_size. */
static uint8_t *last_copy; /* strings in bi point into it: kept until the next parse */

static int parse(const struct mbi *m, uint32_t copy_len, struct boot_info *bi)
{
    free(last_copy);
    last_copy = malloc(copy_len);
    memcpy(last_copy, m->buf, copy_len);
    console_capture_reset();
    return mb2_parse(last_copy, INFO_PHYS, IMAGE_START, IMAGE_END, bi);
}

static struct mbi m;
static struct boot_info bi;

static int setup(void **state)
{
    (void)state;
    log_threshold = LOG_DEBUG;
    mbi_begin(&m);
    return 0;
}

static void test_well_formed(void **state)
{
    (void)state;
    mbi_string_tag(&m, 1, "loglevel=debug serial=com2");
    mbi_string_tag(&m, 2, "GRUB 2.06");
    mbi_mmap(&m, pc_map, 5, 24);
    mbi_module(&m, 0x400000, 0x401000, "guest.bin");
    mbi_module(&m, 0x401000, 0x401100, "vms.cfg");
    uint8_t rsdp1[20] = "RSD PTR ", rsdp2[36] = "RSD PTR ";
    mbi_tag(&m, 14, rsdp1, sizeof(rsdp1), 0);
    mbi_tag(&m, 15, rsdp2, sizeof(rsdp2), 0);
    mbi_end(&m);

    assert_int_equal(parse(&m, m.len, &bi), 0);
    assert_string_equal(bi.cmdline, "loglevel=debug serial=com2");
    assert_string_equal(bi.loader_name, "GRUB 2.06");
    assert_int_equal(bi.mem_count, 5);
    assert_int_equal(bi.mem[0].base, 0);
    assert_int_equal(bi.mem[0].type, MEM_USABLE);
    assert_int_equal(bi.mem[3].base, 0x100000);
    assert_int_equal(bi.mem[3].length, 0x7ee0000);
    assert_int_equal(bi.mem[4].type, MEM_RESERVED);
    assert_int_equal(bi.module_count, 2);
    assert_string_equal(bi.modules[1].name, "vms.cfg");
    assert_int_equal(bi.modules[1].end, 0x401100);
    assert_int_equal(bi.acpi_revision, 2);
    assert_int_equal(bi.rsdp_size, 36);
    assert_int_equal(bi.info_end - bi.info_start, m.len);
    assert_int_equal(bi.problems, 0);
}

static void test_tag_size_below_8(void **state)
{
    (void)state;
    mbi_string_tag(&m, 1, "x");
    mbi_tag(&m, 2, "abcdefgh", 8, 4); /* claims 4 bytes */
    mbi_end(&m);
    assert_int_equal(parse(&m, m.len, &bi), -1);
    assert_console_saw("tag #1 (type 2, boot loader name) at offset 0x18: size 4 is below 8");
}

static void test_tag_runs_past_total_size(void **state)
{
    (void)state;
    mbi_mmap(&m, pc_map, 5, 24);
    mbi_tag(&m, 1, "hello", 6, 4000); /* claims far more than there is */
    mbi_end(&m);
    assert_int_equal(parse(&m, m.len, &bi), -1);
    assert_console_saw("tag #1 (type 1, command line) at offset 0x90: size 4000 runs past the end");
}

static void test_no_end_tag(void **state)
{
    (void)state;
    mbi_mmap(&m, pc_map, 5, 24);
    memcpy(m.buf, &m.len, 4); /* total_size set, but no end tag inside it */
    assert_int_equal(parse(&m, m.len, &bi), -1);
    assert_console_saw("no end tag within total_size 144");
}

static void test_module_overlapping_image_is_dropped(void **state)
{
    (void)state;
    mbi_mmap(&m, pc_map, 5, 24);
    mbi_module(&m, 0x2ff000, 0x301000, "bad.bin"); /* overlaps [0x200000, 0x300000) */
    mbi_module(&m, 0x400000, 0x401000, "good.bin");
    mbi_end(&m);
    assert_int_equal(parse(&m, m.len, &bi), 0);
    assert_int_equal(bi.module_count, 1);
    assert_string_equal(bi.modules[0].name, "good.bin");
    assert_int_equal(bi.problems, 1);
    assert_console_saw("module 0 'bad.bin' [0x2ff000, 0x301000) overlaps the mhv image [0x200000, 0x300000); module ignored");
}

static void test_modules_overlapping_each_other(void **state)
{
    (void)state;
    mbi_mmap(&m, pc_map, 5, 24);
    mbi_module(&m, 0x400000, 0x402000, "a");
    mbi_module(&m, 0x401000, 0x403000, "b");
    mbi_module(&m, 0x403000, 0x404000, "c"); /* touches b's end: no overlap */
    mbi_end(&m);
    assert_int_equal(parse(&m, m.len, &bi), 0);
    assert_int_equal(bi.module_count, 2);
    assert_string_equal(bi.modules[0].name, "a");
    assert_string_equal(bi.modules[1].name, "c");
    assert_console_saw("module 1 'b' [0x401000, 0x403000) overlaps a [0x400000, 0x402000)");
}

static void test_module_overlapping_information(void **state)
{
    (void)state;
    mbi_mmap(&m, pc_map, 5, 24);
    mbi_module(&m, INFO_PHYS, INFO_PHYS + 0x1000, "onme");
    mbi_end(&m);
    assert_int_equal(parse(&m, m.len, &bi), 0);
    assert_int_equal(bi.module_count, 0);
    assert_console_saw("overlaps the multiboot2 information");
}

static void test_module_ending_before_start(void **state)
{
    (void)state;
    mbi_mmap(&m, pc_map, 5, 24);
    mbi_module(&m, 0x500000, 0x400000, "backwards");
    mbi_end(&m);
    assert_int_equal(parse(&m, m.len, &bi), 0);
    assert_int_equal(bi.module_count, 0);
    assert_console_saw("module 'backwards' ends (0x400000) before it starts (0x500000)");
}

static void test_total_size_out_of_bounds(void **state)
{
    (void)state;
    uint32_t tiny = 8;
    memcpy(m.buf, &tiny, 4);
    assert_int_equal(parse(&m, 16, &bi), -1);
    assert_console_saw("total_size 8 is outside [16, 1048576]");
    uint32_t huge = 0x7fffffff;
    memcpy(m.buf, &huge, 4);
    assert_int_equal(parse(&m, 16, &bi), -1);
    assert_console_saw("total_size 2147483647 is outside");
}

static void test_misaligned_information(void **state)
{
    (void)state;
    mbi_mmap(&m, pc_map, 5, 24);
    mbi_end(&m);
    console_capture_reset();
    assert_int_equal(mb2_parse(m.buf, INFO_PHYS + 4, IMAGE_START, IMAGE_END, &bi), -1);
    assert_console_saw("is not 8-byte aligned");
}

static void test_bad_mmap_entry_size_means_no_memory_map(void **state)
{
    (void)state;
    mbi_mmap(&m, pc_map, 5, 20); /* entry_size must be >= 24 and a multiple of 8 */
    mbi_end(&m);
    assert_int_equal(parse(&m, m.len, &bi), -1);
    assert_console_saw("entry_size 20 is not a multiple of 8 of at least 24; ignored");
    assert_console_saw("no usable memory map");
}

static void test_mmap_entries_that_wrap_or_are_empty(void **state)
{
    (void)state;
    const struct mmap_entry e[] = {
        { 0x100000, 0x1000000, 1, 0 },
        { 0xfffffffffffff000ull, 0x2000, 1, 0 }, /* wraps past 2^64 */
        { 0x5000000, 0, 1, 0 },                  /* empty */
    };
    mbi_mmap(&m, e, 3, 24);
    mbi_end(&m);
    assert_int_equal(parse(&m, m.len, &bi), 0);
    assert_int_equal(bi.mem_count, 1);
    assert_console_saw("wraps past 2^64; ignored");
}

static void test_larger_mmap_entries_are_stepped_correctly(void **state)
{
    (void)state;
    /* Future loaders may add fields: entry_size 32 must still find every base/length. */
    mbi_mmap(&m, pc_map, 5, 32);
    mbi_end(&m);
    assert_int_equal(parse(&m, m.len, &bi), 0);
    assert_int_equal(bi.mem_count, 5);
    assert_int_equal(bi.mem[3].length, 0x7ee0000);
}

static void test_efi_memory_map_used_without_bios_map(void **state)
{
    (void)state;
    /* UEFI descriptors: type, pad, physical start, virtual start, pages, attributes. */
    uint64_t d[3][5] = {
        { 7, 0x100000, 0, 0x800, 0 },  /* conventional: usable */
        { 3, 0x900000, 0, 0x10, 0 },   /* boot services code: usable after exit */
        { 10, 0xa00000, 0, 0x4, 0 },   /* ACPI NVS */
    };
    uint8_t p[8 + sizeof(d)];
    uint32_t desc_size = 40, version = 1;
    memcpy(p, &desc_size, 4);
    memcpy(p + 4, &version, 4);
    memcpy(p + 8, d, sizeof(d));
    mbi_tag(&m, 17, p, sizeof(p), 0);
    mbi_end(&m);
    assert_int_equal(parse(&m, m.len, &bi), 0);
    assert_string_equal(bi.mem_source, "EFI memory map");
    assert_int_equal(bi.mem_count, 3);
    assert_int_equal(bi.mem[0].length, 0x800000);
    assert_int_equal(bi.mem[1].type, MEM_USABLE);
    assert_int_equal(bi.mem[2].type, MEM_ACPI_NVS);
}

static void test_unterminated_strings_are_ignored(void **state)
{
    (void)state;
    mbi_mmap(&m, pc_map, 5, 24);
    mbi_tag(&m, 1, "loglevel=debug", 14, 0); /* no NUL inside the tag */
    mbi_end(&m);
    assert_int_equal(parse(&m, m.len, &bi), 0);
    assert_string_equal(bi.cmdline, "");
    assert_console_saw("command line is not NUL-terminated within the tag; ignored");
}

static void test_short_rsdp_tag_is_ignored(void **state)
{
    (void)state;
    mbi_mmap(&m, pc_map, 5, 24);
    uint8_t r[10] = { 0 };
    mbi_tag(&m, 15, r, sizeof(r), 0);
    mbi_end(&m);
    assert_int_equal(parse(&m, m.len, &bi), 0);
    assert_int_equal(bi.acpi_revision, 0);
    assert_console_saw("cannot hold a 36-byte RSDP");
}

/* Deterministic mutations of a valid information block: whatever the bytes, the parser must
 * stay inside the block (ASan aborts otherwise) and, when it accepts, give sane results. */
static void test_mutations_never_read_outside(void **state)
{
    (void)state;
    mbi_string_tag(&m, 1, "loglevel=info");
    mbi_string_tag(&m, 2, "GRUB");
    mbi_mmap(&m, pc_map, 5, 24);
    mbi_module(&m, 0x400000, 0x401000, "guest.bin");
    uint8_t rsdp2[36] = "RSD PTR ";
    mbi_tag(&m, 15, rsdp2, sizeof(rsdp2), 0);
    mbi_end(&m);
    const struct mbi good = m;

    uint32_t seed = 12345;
    unsigned accepted = 0;
    for (int iter = 0; iter < 20000; iter++) {
        struct mbi t = good;
        int flips = 1 + iter % 4;
        for (int f = 0; f < flips; f++) {
            seed = seed * 1103515245u + 12345u;
            uint32_t pos = (seed >> 8) % t.len;
            seed = seed * 1103515245u + 12345u;
            t.buf[pos] = (iter & 1) ? (uint8_t)(seed >> 16) : t.buf[pos] ^ (uint8_t)(1u << (seed >> 29));
        }
        /* Half the runs also cut the block short of what total_size says. */
        seed = seed * 1103515245u + 12345u;
        uint32_t len = (iter % 2) ? t.len : 16 + (seed >> 8) % (t.len - 16);
        uint32_t total;
        memcpy(&total, t.buf, 4);
        if (total > len) {
            total = len;
            memcpy(t.buf, &total, 4);
        }
        uint8_t *copy = malloc(len);
        memcpy(copy, t.buf, len);
        stub_console_up = false; /* keep the capture quiet; the ring still takes the lines */
        int rc = mb2_parse(copy, INFO_PHYS, IMAGE_START, IMAGE_END, &bi);
        stub_console_up = true;
        if (rc == 0) {
            accepted++;
            assert_true(bi.mem_count > 0 && bi.mem_count <= BOOT_MAX_MEM_RANGES);
            for (unsigned i = 1; i < bi.mem_count; i++)
                assert_true(bi.mem[i - 1].base <= bi.mem[i].base);
            for (unsigned i = 0; i < bi.module_count; i++) {
                assert_true(bi.modules[i].start <= bi.modules[i].end);
                assert_false(bi.modules[i].start < IMAGE_END && IMAGE_START < bi.modules[i].end);
            }
        }
        free(copy);
    }
    assert_true(accepted > 0); /* single flips in string bytes stay acceptable */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_well_formed, setup),
        cmocka_unit_test_setup(test_tag_size_below_8, setup),
        cmocka_unit_test_setup(test_tag_runs_past_total_size, setup),
        cmocka_unit_test_setup(test_no_end_tag, setup),
        cmocka_unit_test_setup(test_module_overlapping_image_is_dropped, setup),
        cmocka_unit_test_setup(test_modules_overlapping_each_other, setup),
        cmocka_unit_test_setup(test_module_overlapping_information, setup),
        cmocka_unit_test_setup(test_module_ending_before_start, setup),
        cmocka_unit_test_setup(test_total_size_out_of_bounds, setup),
        cmocka_unit_test_setup(test_misaligned_information, setup),
        cmocka_unit_test_setup(test_bad_mmap_entry_size_means_no_memory_map, setup),
        cmocka_unit_test_setup(test_mmap_entries_that_wrap_or_are_empty, setup),
        cmocka_unit_test_setup(test_larger_mmap_entries_are_stepped_correctly, setup),
        cmocka_unit_test_setup(test_efi_memory_map_used_without_bios_map, setup),
        cmocka_unit_test_setup(test_unterminated_strings_are_ignored, setup),
        cmocka_unit_test_setup(test_short_rsdp_tag_is_ignored, setup),
        cmocka_unit_test_setup(test_mutations_never_read_outside, setup),
    };
    int failed = cmocka_run_group_tests_name("multiboot2", tests, NULL, NULL);
    free(last_copy);
    return failed;
}
