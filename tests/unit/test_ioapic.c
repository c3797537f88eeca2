/* SPDX-License-Identifier: BSD-2-Clause */
// sources: devices/ioapic.c devices/vdev.c kernel/log.c lib/format.c tests/unit/fake_vm.c
/* The I/O APIC through its MMIO registers, as a guest programs it, and through its pins
 * (vioapic_set_pin, vioapic_eoi) as devices and the local APICs drive them. What it sends goes
 * to vlapic_deliver, recorded here. */
#include "stubs.h"

#include <stdlib.h>
#include <string.h>

#include "devices/ioapic.h"
#include "vm/platform.h"
#include "vm/vm.h"
#include "vmx/vcpu.h"

/* --- What devices/ioapic.c needs of the rest of mhv ----------------------------------------- */

static struct vm vm;
static struct vcpu vcpu;

struct message {
    uint32_t dest;
    bool logical;
    unsigned mode;
    uint8_t vector;
    bool level;
};
static struct message sent[16];
static unsigned sent_count;

void vlapic_deliver(struct vm *v, struct vcpu *from, uint32_t dest, bool logical, unsigned mode, uint8_t vector,
                    bool level, unsigned shorthand)
{
    assert_ptr_equal(v, &vm);
    assert_null(from);
    assert_int_equal(shorthand, 0);
    assert_true(sent_count < 16);
    sent[sent_count++] = (struct message){ dest, logical, mode, vector, level };
}

/* --- Registers as the guest reaches them ------------------------------------------------------ */

static void reg_write(uint64_t offset, uint32_t value)
{
    vm.mmio[0].write(&vcpu, vm.mmio[0].ctx, offset, 4, value);
}

static uint32_t reg_read(uint64_t offset)
{
    return (uint32_t)vm.mmio[0].read(&vcpu, vm.mmio[0].ctx, offset, 4);
}

static void write_entry(unsigned pin, uint64_t entry)
{
    reg_write(0x00, 0x10 + 2 * pin + 1);
    reg_write(0x10, (uint32_t)(entry >> 32));
    reg_write(0x00, 0x10 + 2 * pin);
    reg_write(0x10, (uint32_t)entry);
}

static uint64_t read_entry(unsigned pin)
{
    reg_write(0x00, 0x10 + 2 * pin + 1);
    uint64_t high = reg_read(0x10);
    reg_write(0x00, 0x10 + 2 * pin);
    return high << 32 | reg_read(0x10);
}

static int setup(void **state)
{
    (void)state;
    memset(&vm, 0, sizeof(vm));
    memset(&vcpu, 0, sizeof(vcpu));
    vcpu.vm = &vm;
    vm.vcpu_count = 2;
    sent_count = 0;
    vioapic_attach(&vm);
    assert_int_equal(vm.mmio_count, 1);
    assert_int_equal(vm.mmio[0].base, PLATFORM_IOAPIC_BASE);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(vm.resets[0].ctx); /* the device: vdev_attach allocates it with its state */
    return 0;
}

/* --- Tests ------------------------------------------------------------------------------------ */

static void test_reset_state(void **state)
{
    (void)state;
    reg_write(0x00, 1);
    assert_int_equal(reg_read(0x10), ((PLATFORM_IOAPIC_PINS - 1) << 16) | 0x20); /* 24 pins, version 0x20 */
    reg_write(0x00, 0);
    assert_int_equal(reg_read(0x10), 2u << 24); /* its ID after the vCPUs' APIC IDs */
    for (unsigned pin = 0; pin < PLATFORM_IOAPIC_PINS; pin++)
        assert_int_equal(read_entry(pin), 1ull << 16); /* masked */
}

static void test_edge_fixed_delivers_once_per_rising_edge(void **state)
{
    (void)state;
    write_entry(4, 0x0100000000000000ull | 0x31); /* fixed, physical, APIC ID 1, vector 0x31 */
    vioapic_set_pin(&vm, 4, true);
    vioapic_set_pin(&vm, 4, true);
    assert_int_equal(sent_count, 1);
    assert_int_equal(sent[0].dest, 1);
    assert_false(sent[0].logical);
    assert_int_equal(sent[0].mode, 0);
    assert_int_equal(sent[0].vector, 0x31);
    assert_false(sent[0].level);
    vioapic_set_pin(&vm, 4, false);
    vioapic_set_pin(&vm, 4, true);
    assert_int_equal(sent_count, 2);
}

static void test_level_waits_for_eoi(void **state)
{
    (void)state;
    write_entry(9, (1ull << 15) | (1ull << 11) | 0x0300000000000000ull | 0x41); /* level, logical 3 */
    vioapic_set_pin(&vm, 9, true);
    assert_int_equal(sent_count, 1);
    assert_true(sent[0].logical);
    assert_true(sent[0].level);
    assert_true(read_entry(9) & (1ull << 14)); /* remote IRR */
    vioapic_set_pin(&vm, 9, true);
    assert_int_equal(sent_count, 1);
    vioapic_eoi(&vm, 0x41); /* still asserted: sent again */
    assert_int_equal(sent_count, 2);
    vioapic_set_pin(&vm, 9, false);
    vioapic_eoi(&vm, 0x41);
    assert_int_equal(sent_count, 2);
    assert_false(read_entry(9) & (1ull << 14));
}

static void test_masked_pin_sends_nothing(void **state)
{
    (void)state;
    write_entry(3, (1ull << 16) | 0x22);
    vioapic_set_pin(&vm, 3, true);
    assert_int_equal(sent_count, 0);
}

/* Delivery modes 011 and 110 are reserved in a redirection entry (82093AA datasheet 3.2.4):
 * 110 on the APIC bus is a STARTUP IPI, which would start a vCPU waiting for one. */
static void test_reserved_delivery_modes_send_nothing(void **state)
{
    (void)state;
    write_entry(5, (3ull << 8) | 0x50);
    write_entry(6, (6ull << 8) | 0x08);
    write_entry(7, (4ull << 8) | 0x02); /* NMI: a mode that does go out */
    vioapic_set_pin(&vm, 5, true);
    vioapic_set_pin(&vm, 6, true);
    assert_int_equal(sent_count, 0);
    vioapic_set_pin(&vm, 7, true);
    assert_int_equal(sent_count, 1);
    assert_int_equal(sent[0].mode, 4);
}

static void test_active_low_pin(void **state)
{
    (void)state;
    write_entry(10, (1ull << 13) | 0x60); /* active low: a low line is asserted */
    vioapic_set_pin(&vm, 10, true);
    assert_int_equal(sent_count, 0);
    vioapic_set_pin(&vm, 10, false);
    assert_int_equal(sent_count, 1);
}

static void test_read_only_bits_and_eoi_register(void **state)
{
    (void)state;
    write_entry(2, (1ull << 15) | 0x70);
    vioapic_set_pin(&vm, 2, true);
    assert_int_equal(sent_count, 1);
    write_entry(2, (1ull << 15) | 0x70); /* remote IRR written as 0: read-only, it stays */
    assert_true(read_entry(2) & (1ull << 14));
    vioapic_set_pin(&vm, 2, false);
    reg_write(0x40, 0x70); /* the EOI register */
    assert_false(read_entry(2) & (1ull << 14));
}

/* ExtINT (111) goes out as a message, edge-triggered even when the entry says level (the
 * datasheet requires edge for it; no local APIC EOI would clear remote IRR). */
static void test_extint_is_an_edge_message(void **state)
{
    (void)state;
    write_entry(0, (7ull << 8) | (1ull << 15) | 0x99);
    vioapic_set_pin(&vm, 0, true);
    assert_int_equal(sent_count, 1);
    assert_int_equal(sent[0].mode, 7);
    assert_int_equal(sent[0].dest, 0);
    assert_false(sent[0].level);
    assert_false(read_entry(0) & (1ull << 14)); /* no remote IRR */
    vioapic_set_pin(&vm, 0, true);
    assert_int_equal(sent_count, 1); /* still high: no new edge */
    vioapic_set_pin(&vm, 0, false);
    vioapic_set_pin(&vm, 0, true);
    assert_int_equal(sent_count, 2);
    write_entry(0, (7ull << 8) | (1ull << 15) | 0x99); /* unmasked again with the line high: no edge */
    assert_int_equal(sent_count, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reset_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edge_fixed_delivers_once_per_rising_edge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_level_waits_for_eoi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_masked_pin_sends_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reserved_delivery_modes_send_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_active_low_pin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only_bits_and_eoi_register, setup, teardown),
        cmocka_unit_test_setup_teardown(test_extint_is_an_edge_message, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
