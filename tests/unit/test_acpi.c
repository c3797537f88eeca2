/* SPDX-License-Identifier: BSD-2-Clause */
// sources: drivers/acpi.c kernel/log.c lib/format.c
/* ACPI parsing on the real tables QEMU (SeaBIOS) and Bochs 2.7 present, captured with
 * `acpidump` and tools/acpi-extract, and on malformed variants of them. Tables sit at their
 * original addresses in a fake physical memory; anything else is unreadable, as on hardware. */
#include "stubs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/acpi.h"
#include "kernel/log.h"

#define FIXTURES "tests/unit/fixtures/"

struct region {
    uint64_t addr;
    uint8_t *buf;
    uint32_t len;
};
static struct region regions[16];
static unsigned nregions;

static const void *fake_map(uint64_t addr, uint64_t len)
{
    for (unsigned i = 0; i < nregions; i++) {
        struct region *r = &regions[i];
        if (addr >= r->addr && addr + len >= addr && addr + len <= r->addr + r->len)
            return r->buf + (addr - r->addr);
    }
    return NULL;
}

static struct region *add_region(uint64_t addr, const void *data, uint32_t len)
{
    struct region *r = &regions[nregions++];
    r->addr = addr;
    r->len = len;
    r->buf = malloc(len); /* exact size: ASan catches reads past the end */
    memcpy(r->buf, data, len);
    return r;
}

static void clear_regions(void)
{
    for (unsigned i = 0; i < nregions; i++)
        free(regions[i].buf);
    nregions = 0;
}

/* Loads a captured machine; returns the RSDP address. */
static uint64_t load_machine(const char *dir)
{
    char path[256], name[16], file[64];
    unsigned long long addr, rsdp = 0;
    snprintf(path, sizeof(path), FIXTURES "%s/manifest", dir);
    FILE *m = fopen(path, "r");
    if (!m)
        fail_msg("cannot open %s (run the tests from the repository root)", path);
    while (fscanf(m, "%15s %llx %63s", name, &addr, file) == 3) {
        uint8_t buf[4096];
        snprintf(path, sizeof(path), FIXTURES "%s/%s", dir, file);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        size_t n = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        add_region(addr, buf, (uint32_t)n);
        if (!strcmp(name, "RSDP"))
            rsdp = addr;
    }
    fclose(m);
    return rsdp;
}

static struct region *find_table(const char *sig)
{
    for (unsigned i = 0; i < nregions; i++)
        if (!memcmp(regions[i].buf, sig, 4))
            return &regions[i];
    fail_msg("no %s table loaded", sig);
    return NULL;
}

static void fix_checksum(uint8_t *t, uint32_t len, unsigned at)
{
    uint8_t sum = 0;
    t[at] = 0;
    for (uint32_t i = 0; i < len; i++)
        sum += t[i];
    t[at] = (uint8_t)-sum;
}

static void fix_table(struct region *r)
{
    uint32_t len;
    memcpy(&len, r->buf + 4, 4);
    fix_checksum(r->buf, len, 9);
}

static struct acpi_info info;

static int setup(void **state)
{
    (void)state;
    log_threshold = LOG_DEBUG;
    console_capture_reset();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    clear_regions();
    return 0;
}

static void test_qemu_tables(void **state)
{
    (void)state;
    uint64_t rsdp = load_machine("acpi-qemu");
    assert_int_equal(acpi_parse(rsdp, fake_map, &info), 0);
    assert_int_equal(info.problems, 0);
    assert_string_equal(info.root_name, "RSDT");
    assert_string_equal(info.oem_id, "BOCHS ");
    assert_int_equal(info.table_count, 4);
    assert_string_equal(info.tables[1].signature, "APIC");
    assert_int_equal(info.cpu_entries, 4);
    for (unsigned i = 0; i < 4; i++) {
        assert_int_equal(info.cpus[i].apic_id, i);
        assert_true(info.cpus[i].enabled);
    }
    assert_int_equal(info.lapic_address, 0xfee00000);
    assert_true(info.pcat_compat);
    assert_int_equal(info.ioapic_count, 1);
    assert_int_equal(info.ioapics[0].address, 0xfec00000);
    assert_int_equal(info.override_count, 5);
    assert_int_equal(info.overrides[0].source, 0); /* the PIT's IRQ 0 -> GSI 2 */
    assert_int_equal(info.overrides[0].gsi, 2);
    assert_int_equal(info.pm_timer_port, 0x608);
    assert_false(info.pm_timer_32bit);
    assert_int_equal(info.hpet_address, 0xfed00000);
}

static void test_bochs_tables(void **state)
{
    (void)state;
    uint64_t rsdp = load_machine("acpi-bochs");
    assert_int_equal(acpi_parse(rsdp, fake_map, &info), 0);
    assert_int_equal(info.problems, 0);
    assert_int_equal(info.cpu_entries, 4);
    assert_int_equal(info.cpus[3].apic_id, 3);
    assert_int_equal(info.ioapic_count, 1);
    assert_int_equal(info.ioapics[0].id, 4);
    assert_int_equal(info.pm_timer_port, 0xb008);
    assert_int_equal(info.table_count, 4);
    assert_string_equal(info.tables[2].signature, "SSDT");
}

static void test_bad_rsdp_falls_back_to_bios_area(void **state)
{
    (void)state;
    uint64_t rsdp = load_machine("acpi-qemu");
    /* The copy from the boot loader is broken; a good one sits in the BIOS area. */
    struct region *copy = &regions[0];
    assert_int_equal(copy->addr, rsdp);
    static uint8_t bios[0x20000];
    memcpy(bios + 0xf5a0, copy->buf, 20);
    copy->buf[8] ^= 1; /* checksum no longer zero */
    add_region(0xe0000, bios, sizeof(bios));
    assert_int_equal(acpi_parse(rsdp, fake_map, &info), 0);
    assert_int_equal(info.rsdp_address, 0xe0000 + 0xf5a0);
    assert_int_equal(info.cpu_entries, 4);
    assert_console_saw("RSDP at 0x128690 (from the boot loader): bad signature or checksum; searching the BIOS areas");
}

static void test_no_rsdp_anywhere(void **state)
{
    (void)state;
    assert_int_equal(acpi_parse(0, fake_map, &info), -1);
    assert_console_saw("acpi: no valid RSDP found");
}

static void test_bad_table_checksum_skips_only_that_table(void **state)
{
    (void)state;
    uint64_t rsdp = load_machine("acpi-qemu");
    find_table("APIC")->buf[40] ^= 0x80;
    assert_int_equal(acpi_parse(rsdp, fake_map, &info), 0);
    assert_false(info.has_madt);
    assert_int_equal(info.cpu_entries, 0);
    assert_true(info.has_fadt);
    assert_int_equal(info.hpet_address, 0xfed00000);
    assert_console_saw("table 'APIC' at 0xffe1aff (144 bytes): bad checksum; skipped");
}

static void test_madt_entry_of_length_zero(void **state)
{
    (void)state;
    uint64_t rsdp = load_machine("acpi-qemu");
    struct region *madt = find_table("APIC");
    /* Entries start at 44, 8 bytes per LAPIC: break the third processor entry. */
    madt->buf[44 + 2 * 8 + 1] = 0;
    fix_table(madt);
    assert_int_equal(acpi_parse(rsdp, fake_map, &info), 0);
    assert_int_equal(info.cpu_entries, 2); /* the entries before it are kept */
    assert_console_saw("entry at offset 60 (type 0) has length 0; rest of MADT ignored");
}

static void test_madt_entry_running_past_the_table(void **state)
{
    (void)state;
    uint64_t rsdp = load_machine("acpi-qemu");
    struct region *madt = find_table("APIC");
    uint32_t len;
    memcpy(&len, madt->buf + 4, 4);
    /* Find the last entry and make it claim more bytes than remain. */
    uint32_t off = 44, last = 44;
    while (off < len) {
        last = off;
        off += madt->buf[off + 1];
    }
    madt->buf[last + 1] = (uint8_t)(len - last + 8);
    fix_table(madt);
    assert_int_equal(acpi_parse(rsdp, fake_map, &info), 0);
    assert_int_equal(info.cpu_entries, 4);
    assert_console_saw("runs past the table end (144); rest of MADT ignored");
}

static void test_madt_entry_too_short_for_its_type(void **state)
{
    (void)state;
    uint64_t rsdp = load_machine("acpi-qemu");
    struct region *madt = find_table("APIC");
    /* Turn processor entry #1 (8 bytes) into an "I/O APIC" entry, which needs 12. */
    madt->buf[44 + 8] = 1;
    fix_table(madt);
    assert_int_equal(acpi_parse(rsdp, fake_map, &info), 0);
    assert_int_equal(info.cpu_entries, 3); /* skipped, and the walk went on */
    assert_int_equal(info.ioapic_count, 1);
    assert_console_saw("entry at offset 52 (type 1) has length 8, needs 12; skipped");
}

static void test_duplicate_apic_ids(void **state)
{
    (void)state;
    uint64_t rsdp = load_machine("acpi-qemu");
    struct region *madt = find_table("APIC");
    madt->buf[44 + 8 + 3] = 0; /* processor #1 claims APIC ID 0 too */
    fix_table(madt);
    assert_int_equal(acpi_parse(rsdp, fake_map, &info), 0);
    assert_int_equal(info.cpu_entries, 3);
    assert_console_saw("MADT: APIC ID 0 listed twice; the second entry is ignored");
}

static void test_table_lengths_out_of_range(void **state)
{
    (void)state;
    uint64_t rsdp = load_machine("acpi-qemu");
    struct region *hpet = find_table("HPET");
    uint32_t tiny = 20, huge = 0x40000000;
    memcpy(hpet->buf + 4, &tiny, 4);
    struct region *facp = find_table("FACP");
    memcpy(facp->buf + 4, &huge, 4);
    assert_int_equal(acpi_parse(rsdp, fake_map, &info), 0);
    assert_int_equal(info.hpet_address, 0);
    assert_false(info.has_fadt);
    assert_true(info.has_madt);
    assert_console_saw("table 'HPET' at 0xffe1b8f: length 20 outside [36, 16777216]; skipped");
    assert_console_saw("table 'FACP' at 0xffe1a8b: length 1073741824 outside");
}

static void test_root_entry_pointing_nowhere(void **state)
{
    (void)state;
    uint64_t rsdp = load_machine("acpi-qemu");
    struct region *rsdt = find_table("RSDT");
    uint32_t nowhere = 0x7000000;
    memcpy(rsdt->buf + 36 + 4, &nowhere, 4); /* the second entry (APIC) */
    fix_table(rsdt);
    assert_int_equal(acpi_parse(rsdp, fake_map, &info), 0);
    assert_false(info.has_madt);
    assert_console_saw("RSDT entry 0x7000000: not a readable address; skipped");
}

/* Builds an ACPI 2.0 RSDP and an XSDT over the QEMU tables; returns the RSDP address. */
static uint64_t add_xsdt(uint32_t xsdt_len_delta)
{
    struct region *rsdt = find_table("RSDT");
    uint32_t n = (rsdt->len - 36) / 4;
    uint8_t x[36 + 8 * 8] = { 0 };
    memcpy(x, rsdt->buf, 36);
    memcpy(x, "XSDT", 4);
    uint32_t len = 36 + 8 * n + xsdt_len_delta;
    memcpy(x + 4, &len, 4);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t e = 0;
        memcpy(&e, rsdt->buf + 36 + 4 * i, 4);
        memcpy(x + 36 + 8 * i, &e, 8);
    }
    fix_checksum(x, len, 9);
    add_region(0x3000000, x, len);

    uint8_t r[36] = "RSD PTR ";
    memcpy(r + 9, "MHVTST", 6);
    r[15] = 2;
    uint32_t rsdt_addr = (uint32_t)rsdt->addr, rlen = 36;
    uint64_t xsdt_addr = 0x3000000;
    memcpy(r + 16, &rsdt_addr, 4);
    memcpy(r + 20, &rlen, 4);
    memcpy(r + 24, &xsdt_addr, 8);
    fix_checksum(r, 20, 8);
    fix_checksum(r, 36, 32);
    add_region(0x2000000, r, 36);
    return 0x2000000;
}

static void test_xsdt_preferred(void **state)
{
    (void)state;
    load_machine("acpi-qemu");
    uint64_t rsdp = add_xsdt(0);
    assert_int_equal(acpi_parse(rsdp, fake_map, &info), 0);
    assert_string_equal(info.root_name, "XSDT");
    assert_int_equal(info.rsdp_revision, 2);
    assert_int_equal(info.cpu_entries, 4);
    assert_int_equal(info.problems, 0);
}

static void test_xsdt_with_partial_entry_falls_back_to_rsdt(void **state)
{
    (void)state;
    load_machine("acpi-qemu");
    uint64_t rsdp = add_xsdt(4); /* length no longer 36 + a multiple of 8 */
    assert_int_equal(acpi_parse(rsdp, fake_map, &info), 0);
    assert_string_equal(info.root_name, "RSDT");
    assert_int_equal(info.cpu_entries, 4);
    assert_console_saw("XSDT at 0x3000000: length 72 leaves a partial entry (entries are 8 bytes); not used");
}

static void test_x2apic_entries(void **state)
{
    (void)state;
    /* A machine with APIC IDs above 255: x2APIC entries (type 9), one disabled, one
     * hot-pluggable, and an xAPIC entry with ID 0xff that is not a processor. */
    uint8_t m[44 + 3 * 16 + 8] = "APIC";
    uint32_t len = sizeof(m), lapic = 0xfee00000, flags = 1;
    memcpy(m + 4, &len, 4);
    memcpy(m + 36, &lapic, 4);
    memcpy(m + 40, &flags, 4);
    uint32_t ids[3] = { 0, 300, 70000 }, fl[3] = { 1, 1, 2 };
    for (int i = 0; i < 3; i++) {
        uint8_t *e = m + 44 + 16 * i;
        e[0] = 9;
        e[1] = 16;
        memcpy(e + 4, &ids[i], 4);
        memcpy(e + 8, &fl[i], 4);
        memcpy(e + 12, &i, 4);
    }
    uint8_t *x = m + 44 + 48;
    x[0] = 0, x[1] = 8, x[2] = 9, x[3] = 0xff, x[4] = 1;
    fix_checksum(m, len, 9);
    add_region(0x1000000, m, len);
    uint8_t rsdt[40] = "RSDT";
    uint32_t rlen = 40, entry = 0x1000000;
    memcpy(rsdt + 4, &rlen, 4);
    memcpy(rsdt + 36, &entry, 4);
    fix_checksum(rsdt, 40, 9);
    add_region(0x1001000, rsdt, 40);
    uint8_t r[20] = "RSD PTR ";
    uint32_t rsdt_addr = 0x1001000;
    memcpy(r + 16, &rsdt_addr, 4);
    fix_checksum(r, 20, 8);
    add_region(0x1002000, r, 20);

    assert_int_equal(acpi_parse(0x1002000, fake_map, &info), 0);
    assert_int_equal(info.cpu_entries, 3);
    assert_int_equal(info.cpus[1].apic_id, 300);
    assert_true(info.cpus[1].from_x2apic_entry);
    assert_int_equal(info.cpus[2].apic_id, 70000);
    assert_false(info.cpus[2].enabled);
    assert_true(info.cpus[2].online_capable);
}

/* Random corruption of the MADT and RSDT (checksums repaired, so the structure checks are what
 * is tested): the parser must terminate and never read outside a table (ASan). */
static void test_mutations_never_read_outside(void **state)
{
    (void)state;
    uint32_t seed = 777;
    for (int iter = 0; iter < 5000; iter++) {
        uint64_t rsdp = load_machine(iter & 1 ? "acpi-qemu" : "acpi-bochs");
        struct region *t = find_table(iter % 3 ? "APIC" : "RSDT");
        for (int f = 0; f < 1 + iter % 3; f++) {
            seed = seed * 1103515245u + 12345u;
            uint32_t pos = (seed >> 8) % t->len;
            if (pos == 9)
                continue;
            seed = seed * 1103515245u + 12345u;
            t->buf[pos] = (uint8_t)(seed >> 16);
        }
        uint32_t claimed;
        memcpy(&claimed, t->buf + 4, 4);
        if (claimed <= t->len && claimed >= 10)
            fix_checksum(t->buf, claimed, 9);
        stub_console_up = false;
        acpi_parse(rsdp, fake_map, &info);
        stub_console_up = true;
        assert_true(info.cpu_entries <= ACPI_MAX_CPU_ENTRIES);
        clear_regions();
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_qemu_tables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bochs_tables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_rsdp_falls_back_to_bios_area, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_rsdp_anywhere, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_table_checksum_skips_only_that_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_madt_entry_of_length_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_madt_entry_running_past_the_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_madt_entry_too_short_for_its_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_apic_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_table_lengths_out_of_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_root_entry_pointing_nowhere, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xsdt_preferred, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xsdt_with_partial_entry_falls_back_to_rsdt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_x2apic_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mutations_never_read_outside, setup, teardown),
    };
    return cmocka_run_group_tests_name("acpi", tests, NULL, NULL);
}
