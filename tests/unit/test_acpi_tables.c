/* SPDX-License-Identifier: BSD-2-Clause */
// sources: vm/acpi_tables.c drivers/acpi.c kernel/log.c lib/format.c
/* The ACPI tables mhv builds for a VM (vm/acpi_tables.c), read back by mhv's own parser of the
 * firmware's tables (drivers/acpi.c) the way a guest finds them: by scanning the BIOS area. */
#include "stubs.h"

#include <stdlib.h>
#include <string.h>

#include "devices/hpet.h"
#include "drivers/acpi.h"
#include "vm/acpi_tables.h"
#include "vm/platform.h"
#include "vm/vm.h"

/* Guest memory from 0 to 1 MiB: the BIOS area 0xE0000-0xFFFFF is what the parser scans. */
#define RAM_SIZE 0x100000
static uint8_t *ram;
static struct acpi_info info;

static const void *ram_map(uint64_t addr, uint64_t len)
{
    return addr < RAM_SIZE && len <= RAM_SIZE - addr ? ram + addr : NULL;
}

/* acpi_tables_write's way into guest memory; the test's RAM ends at vm->mem_size. */
int vm_write_gpa(struct vm *vm, uint64_t gpa, const void *src, uint64_t len)
{
    if (gpa > vm->mem_size || len > vm->mem_size - gpa || gpa + len > RAM_SIZE)
        return -1;
    memcpy(ram + gpa, src, len);
    return 0;
}

static int setup(void **state)
{
    (void)state;
    ram = calloc(1, RAM_SIZE);
    console_capture_reset();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(ram);
    return 0;
}

static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static uint8_t sum(const uint8_t *p, size_t len)
{
    uint8_t s = 0;
    while (len--)
        s += *p++;
    return s;
}

static const uint8_t *table(const char *sig)
{
    for (unsigned i = 0; i < info.table_count; i++)
        if (!strcmp(info.tables[i].signature, sig))
            return ram + info.tables[i].address;
    fail_msg("no valid %s table", sig);
    return NULL;
}

static size_t build(unsigned vcpus)
{
    struct acpi_vm_layout l = { .vcpus = vcpus };
    size_t len = acpi_build(ram + PLATFORM_ACPI_BASE, PLATFORM_ACPI_SIZE, PLATFORM_ACPI_BASE, &l);
    assert_true(len > 0 && len <= PLATFORM_ACPI_SIZE);
    return len;
}

static void check_gas_io(const uint8_t *g, uint8_t bit_width, uint8_t access_size, uint16_t port)
{
    assert_int_equal(g[0], 1); /* system I/O */
    assert_int_equal(g[1], bit_width);
    assert_int_equal(g[2], 0);
    assert_int_equal(g[3], access_size);
    assert_int_equal(rd64(g + 4), port);
}

/* Everything a guest learns from the tables of a VM with `vcpus` processors. */
static void check_tables(unsigned vcpus)
{
    size_t len = build(vcpus);
    assert_int_equal(acpi_parse(0, ram_map, &info), 0);
    assert_int_equal(info.problems, 0);
    assert_int_equal(info.rsdp_address, PLATFORM_ACPI_BASE); /* found by the BIOS-area scan */
    assert_int_equal(info.rsdp_revision, 2);
    assert_string_equal(info.oem_id, "MHV   ");
    assert_string_equal(info.root_name, "XSDT");
    assert_int_equal(info.table_count, 2); /* FACP and APIC, checksums good; nothing else */
    for (unsigned i = 0; i < info.table_count; i++)
        assert_true(info.tables[i].address >= PLATFORM_ACPI_BASE &&
                    info.tables[i].address + info.tables[i].length <= PLATFORM_ACPI_BASE + len);

    /* RSDP: both checksums. */
    const uint8_t *rsdp = ram + PLATFORM_ACPI_BASE;
    assert_int_equal(sum(rsdp, 20), 0);
    assert_int_equal(rd32(rsdp + 20), 36);
    assert_int_equal(sum(rsdp, 36), 0);

    /* MADT: one enabled local APIC per vCPU, APIC ID = UID = index; the I/O APIC after them. */
    assert_true(info.has_madt);
    assert_int_equal(info.lapic_address, 0xfee00000);
    assert_true(info.pcat_compat);
    assert_int_equal(info.cpu_entries, vcpus);
    for (unsigned i = 0; i < vcpus; i++) {
        assert_int_equal(info.cpus[i].apic_id, i);
        assert_int_equal(info.cpus[i].acpi_uid, i);
        assert_true(info.cpus[i].enabled);
        assert_false(info.cpus[i].online_capable);
    }
    assert_int_equal(info.ioapic_count, 1);
    assert_int_equal(info.ioapics[0].id, vcpus);
    assert_int_equal(info.ioapics[0].address, PLATFORM_IOAPIC_BASE);
    assert_int_equal(info.ioapics[0].gsi_base, 0);
    assert_int_equal(info.override_count, 2);
    assert_int_equal(info.overrides[0].bus, 0);
    assert_int_equal(info.overrides[0].source, 0);
    assert_int_equal(info.overrides[0].gsi, 2);
    assert_int_equal(info.overrides[0].flags, 0x5); /* edge, active high */
    assert_int_equal(info.overrides[1].source, 9);
    assert_int_equal(info.overrides[1].gsi, 9);
    assert_int_equal(info.overrides[1].flags, 0xd); /* level, active high */
    /* The last entry: LINT1 of every processor is NMI (the parser skips this type). */
    const uint8_t *madt = table("APIC");
    const uint8_t *nmi = madt + rd32(madt + 4) - 6;
    assert_int_equal(nmi[0], 4);
    assert_int_equal(nmi[1], 6);
    assert_int_equal(nmi[2], 0xff);
    assert_int_equal(rd16(nmi + 3), 0x5);
    assert_int_equal(nmi[5], 1);

    /* FADT: the PM blocks, the reset register, no 8042, no HPET. */
    assert_true(info.has_fadt);
    assert_int_equal(info.pm_timer_port, PLATFORM_PM_BASE + 8);
    assert_false(info.pm_timer_32bit);
    assert_int_equal(info.pm1a_control_port, PLATFORM_PM_BASE + 4);
    assert_true(info.reset_supported);
    assert_int_equal(info.reset_register.space, 1);
    assert_int_equal(info.reset_register.bit_width, 8);
    assert_int_equal(info.reset_register.address, PLATFORM_RESET_PORT);
    assert_int_equal(info.reset_value, 6);
    assert_int_equal(info.boot_arch_flags & 2, 0); /* no 8042 keyboard controller */
    assert_int_equal(info.boot_arch_flags & 1, 1); /* legacy devices (COM1) outside the DSDT */
    assert_int_equal(info.hpet_address, 0);
}

static void test_one_vcpu(void **state)
{
    (void)state;
    check_tables(1);
}

static void test_two_vcpus(void **state)
{
    (void)state;
    check_tables(2);
}

static void test_eight_vcpus(void **state)
{
    (void)state;
    check_tables(8);
}

static void test_most_vcpus(void **state)
{
    (void)state;
    check_tables(VM_MAX_VCPUS);
    struct acpi_vm_layout l = { .vcpus = VM_MAX_VCPUS };
    uint8_t buf[2048]; /* what vm/acpi_tables.c gives it */
    assert_true(acpi_build(buf, sizeof(buf), PLATFORM_ACPI_BASE, &l) > 0);
}

/* The FADT's fields the parser does not read, the FACS and the DSDT's AML. */
static void test_fadt_facs_dsdt(void **state)
{
    (void)state;
    build(1);
    assert_int_equal(acpi_parse(0, ram_map, &info), 0);
    const uint8_t *f = table("FACP");
    assert_int_equal(rd32(f + 4), 276);
    assert_int_equal(f[8], 6);                                 /* revision */
    assert_int_equal(f[131], 5);                               /* minor version: 6.5 */
    assert_memory_equal(f + 10, "MHV   ", 6);
    assert_int_equal(rd16(f + 46), 9);                         /* SCI_INT */
    assert_int_equal(rd32(f + 48), 0);                         /* SMI_CMD: always ACPI mode */
    assert_int_equal(rd32(f + 56), PLATFORM_PM_BASE);          /* PM1a_EVT_BLK */
    assert_int_equal(rd32(f + 60), 0);                         /* no PM1b */
    assert_int_equal(rd32(f + 64), PLATFORM_PM_BASE + 4);      /* PM1a_CNT_BLK */
    assert_int_equal(rd32(f + 72), 0);                         /* no PM2 */
    assert_int_equal(rd32(f + 80), 0);                         /* no GPE0 */
    assert_int_equal(f[88], 4);
    assert_int_equal(f[89], 2);
    assert_int_equal(f[91], 4);
    assert_int_equal(f[92], 0);
    assert_int_equal(f[108], 0x32);                            /* CENTURY: devices/rtc.c's index */
    uint32_t flags = rd32(f + 112);
    assert_true(flags & (1u << 0));                            /* WBINVD */
    assert_true(flags & (1u << 10));                           /* RESET_REG_SUP */
    assert_false(flags & (1u << 8));                           /* 24-bit timer */
    assert_false(flags & (1u << 20));                          /* not hardware-reduced */
    check_gas_io(f + 148, 32, 2, PLATFORM_PM_BASE);            /* X_PM1a_EVT_BLK */
    check_gas_io(f + 172, 16, 2, PLATFORM_PM_BASE + 4);        /* X_PM1a_CNT_BLK */
    check_gas_io(f + 208, 32, 3, PLATFORM_PM_BASE + 8);        /* X_PM_TMR_BLK */
    check_gas_io(f + 116, 8, 1, PLATFORM_RESET_PORT);          /* RESET_REG */

    uint32_t facs = rd32(f + 36);
    assert_int_equal(rd64(f + 132), 0);                        /* X_FIRMWARE_CTRL: 32-bit field used */
    assert_int_equal(facs % 64, 0);
    assert_memory_equal(ram + facs, "FACS", 4);
    assert_int_equal(rd32(ram + facs + 4), 64);

    uint32_t dsdt = rd32(f + 40);
    assert_int_equal(rd64(f + 140), dsdt);                     /* X_DSDT agrees */
    const uint8_t *d = ram + dsdt;
    assert_memory_equal(d, "DSDT", 4);
    assert_int_equal(d[8], 2);
    assert_int_equal(sum(d, rd32(d + 4)), 0);
    static const uint8_t s5[] = { 0x08, '\\', '_', 'S', '5', '_', 0x12, 0x08, 0x04, 0x0a, ACPI_S5_SLP_TYP,
                                  0x0a, ACPI_S5_SLP_TYP, 0x00, 0x00 };
    assert_int_equal(rd32(d + 4), 36 + sizeof(s5));
    assert_memory_equal(d + 36, s5, sizeof(s5));
}

/* A guest that only knows ACPI 1.0 (or an XSDT it cannot use) gets the same tables from the
 * RSDT. */
static void test_rsdt_lists_the_same_tables(void **state)
{
    (void)state;
    build(2);
    const uint8_t *rsdp = ram + PLATFORM_ACPI_BASE;
    uint8_t *xsdt = ram + rd64(rsdp + 24);
    xsdt[9]++; /* spoil the XSDT's checksum */
    stub_console_up = false;
    assert_int_equal(acpi_parse(0, ram_map, &info), 0);
    stub_console_up = true;
    assert_string_equal(info.root_name, "RSDT");
    assert_int_equal(info.table_count, 2);
    assert_int_equal(info.cpu_entries, 2);
    assert_true(info.reset_supported);
}

static void test_too_small_a_buffer_is_refused(void **state)
{
    (void)state;
    size_t need = build(8);
    struct acpi_vm_layout l = { .vcpus = 8 };
    uint8_t *buf = malloc(need);
    for (size_t size = 0; size < need; size += size < 64 ? 1 : 37)
        assert_int_equal(acpi_build(buf, size, PLATFORM_ACPI_BASE, &l), 0);
    assert_int_equal(acpi_build(buf, need - 1, PLATFORM_ACPI_BASE, &l), 0);
    assert_int_equal(acpi_build(buf, need, PLATFORM_ACPI_BASE, &l), need);
    free(buf);
}

static void test_impossible_layouts_are_refused(void **state)
{
    (void)state;
    uint8_t *buf = ram + PLATFORM_ACPI_BASE;
    struct acpi_vm_layout none = { .vcpus = 0 }, too_many = { .vcpus = 255 }, most = { .vcpus = 254 };
    assert_int_equal(acpi_build(buf, PLATFORM_ACPI_SIZE, PLATFORM_ACPI_BASE, &none), 0);
    assert_int_equal(acpi_build(buf, PLATFORM_ACPI_SIZE, PLATFORM_ACPI_BASE, &too_many), 0);
    assert_int_equal(acpi_build(buf, PLATFORM_ACPI_SIZE, PLATFORM_ACPI_BASE + 8, &most), 0); /* misaligned */
    assert_true(acpi_build(buf, PLATFORM_ACPI_SIZE, PLATFORM_ACPI_BASE, &most) > 0);
    assert_int_equal(acpi_parse(0, ram_map, &info), 0);
    assert_int_equal(info.cpu_entries, 254);
    assert_int_equal(info.ioapics[0].id, 254);
}

/* A VM with an HPET (devices/hpet.c) gets the HPET table (IA-PC HPET 1.0a 3.2.4) in both root
 * tables, after FACP and APIC; one without has none (check_tables). */
static void test_hpet_table(void **state)
{
    (void)state;
    struct acpi_vm_layout l = { .vcpus = 2, .hpet = true };
    size_t len = acpi_build(ram + PLATFORM_ACPI_BASE, PLATFORM_ACPI_SIZE, PLATFORM_ACPI_BASE, &l);
    assert_true(len > 0);
    assert_int_equal(acpi_parse(0, ram_map, &info), 0);
    assert_int_equal(info.problems, 0);
    assert_int_equal(info.table_count, 3);
    assert_string_equal(info.tables[2].signature, "HPET");
    assert_int_equal(info.hpet_address, PLATFORM_HPET_BASE);
    assert_int_equal(info.cpu_entries, 2);
    const uint8_t *t = table("HPET");
    assert_int_equal(rd32(t + 4), 56);
    assert_int_equal(t[8], 1);                                 /* revision */
    assert_int_equal(sum(t, 56), 0);
    assert_int_equal(rd32(t + 36), 0x8086a201);                /* ID: vendor, LEG_RT, 64-bit, 3 timers, rev 1 */
    assert_int_equal(t[40], 0);                                /* GAS: system memory */
    assert_int_equal(rd64(t + 44), 0xfed00000);
    assert_int_equal(t[52], 0);                                /* HPET number */
    assert_int_equal(rd16(t + 53), HPET_MIN_PERIOD);
    assert_int_equal(t[55], 1);                                /* 4 KiB page protection */
    /* The RSDT lists it too. */
    const uint8_t *rsdt = ram + rd32(ram + PLATFORM_ACPI_BASE + 16);
    assert_int_equal(rd32(rsdt + 4), 36 + 3 * 4);
    assert_int_equal(rd32(rsdt + 36 + 8), (uint32_t)info.tables[2].address);
    assert_int_equal(sum(rsdt, rd32(rsdt + 4)), 0);
    /* Every vCPU count still fits the 2 KiB that acpi_tables_write gives it. */
    struct acpi_vm_layout most = { .vcpus = VM_MAX_VCPUS, .hpet = true };
    uint8_t buf[2048];
    assert_true(acpi_build(buf, sizeof(buf), PLATFORM_ACPI_BASE, &most) > 0);
}

/* acpi_tables_write puts the tables into the VM's memory, or says why it cannot. */
static void test_write_into_a_vm(void **state)
{
    (void)state;
    static struct vm vm;
    memset(&vm, 0, sizeof(vm));
    strcpy(vm.name, "t");
    vm.vcpu_count = 2;
    vm.mem_size = RAM_SIZE;
    assert_int_equal(acpi_tables_write(&vm), 0);
    assert_int_equal(acpi_parse(0, ram_map, &info), 0);
    assert_int_equal(info.cpu_entries, 2);
    assert_int_equal(info.hpet_address, 0);
    vm.hpet = (struct vhpet *)&vm; /* only whether there is one counts */
    assert_int_equal(acpi_tables_write(&vm), 0);
    assert_int_equal(acpi_parse(0, ram_map, &info), 0);
    assert_int_equal(info.hpet_address, PLATFORM_HPET_BASE);
    vm.hpet = NULL;

    vm.mem_size = PLATFORM_ACPI_BASE + 0x100; /* memory ends inside the tables */
    assert_int_equal(acpi_tables_write(&vm), -1);
    assert_console_saw("vm t: no ACPI tables: guest memory does not reach");
    vm.mem_size = RAM_SIZE;
    vm.vcpu_count = 0;
    assert_int_equal(acpi_tables_write(&vm), -1);
    assert_console_saw("vm t: no ACPI tables for 0 vCPUs");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_vcpu, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_vcpus, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eight_vcpus, setup, teardown),
        cmocka_unit_test_setup_teardown(test_most_vcpus, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fadt_facs_dsdt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rsdt_lists_the_same_tables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_small_a_buffer_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_impossible_layouts_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hpet_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_into_a_vm, setup, teardown),
    };
    return cmocka_run_group_tests_name("acpi_tables", tests, NULL, NULL);
}
