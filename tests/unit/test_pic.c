/* SPDX-License-Identifier: BSD-2-Clause */
// sources: devices/pic.c devices/vdev.c kernel/log.c lib/format.c tests/unit/fake_vm.c
/* The 8259A pair through its ports, as a guest programs it, and through the interrupt side
 * (vpic_set_irq, vpic_pending_vector, vpic_intack) as vm/irq.c and the CPU's acknowledge
 * (vmx/inject.c) use it; its INTR output on I/O APIC pin 0, recorded here. */
#include "stubs.h"

#include <stdlib.h>
#include <string.h>

#include "devices/pic.h"
#include "vm/platform.h"
#include "vm/vm.h"

/* --- What devices/pic.c needs of the rest of mhv -------------------------------------------- */

static struct vm vm;
static unsigned intr_changes;
static bool pin0;            /* the level of I/O APIC pin 0 as the PIC drives it */
static unsigned pin0_edges;  /* its rising edges */

void vm_pic_intr_changed(struct vm *v)
{
    assert_ptr_equal(v, &vm);
    intr_changes++;
}

void vioapic_set_pin(struct vm *v, unsigned gsi, bool high)
{
    assert_ptr_equal(v, &vm);
    assert_int_equal(gsi, PLATFORM_PIC_INTR_PIN);
    assert_true(high != pin0); /* driven only when INTR changes */
    pin0_edges += high;
    pin0 = high;
}

/* --- Port access as the guest does it ------------------------------------------------------ */

static const struct io_handler *handler(uint16_t port)
{
    for (unsigned i = 0; i < vm.io_count; i++)
        if (port >= vm.io[i].base && port < vm.io[i].base + vm.io[i].count)
            return &vm.io[i];
    fail_msg("no handler for port 0x%x", port);
    return NULL;
}

static void out(uint16_t port, uint8_t value)
{
    const struct io_handler *h = handler(port);
    h->write(NULL, h->ctx, port, 1, value);
}

static uint8_t in(uint16_t port)
{
    const struct io_handler *h = handler(port);
    return (uint8_t)h->read(NULL, h->ctx, port, 1);
}

/* Linux's init_8259A: vectors 0x30 and 0x38, slave on IR2, 8086 mode (ICW4 as given). */
static void init_pics(uint8_t icw4)
{
    out(0x20, 0x11);
    out(0x21, 0x30);
    out(0x21, 0x04);
    out(0x21, icw4);
    out(0xa0, 0x11);
    out(0xa1, 0x38);
    out(0xa1, 0x02);
    out(0xa1, icw4);
    out(0x21, 0x00); /* everything unmasked */
    out(0xa1, 0x00);
}

static uint8_t read_isr(uint16_t base)
{
    out(base, 0x0b); /* OCW3: read ISR */
    return in(base);
}

static uint8_t read_irr(uint16_t base)
{
    out(base, 0x0a); /* OCW3: read IRR */
    return in(base);
}

static void pulse(unsigned irq)
{
    vpic_set_irq(&vm, irq, true);
    vpic_set_irq(&vm, irq, false);
}

/* The CPU takes the interrupt INTR raises: the INTA cycle when there is one, else -1. */
static int take(void)
{
    if (vpic_pending_vector(&vm) < 0)
        return -1;
    return vpic_intack(&vm, true);
}

static int setup(void **state)
{
    (void)state;
    memset(&vm, 0, sizeof(vm));
    intr_changes = 0;
    pin0 = false;
    pin0_edges = 0;
    vpic_attach(&vm);
    assert_non_null(vm.pic);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(vm.resets[0].ctx); /* the device: vdev_attach allocates it with its state */
    return 0;
}

/* --- Tests ------------------------------------------------------------------------------------ */

static void test_reset_state_is_a_bios_one(void **state)
{
    (void)state;
    assert_int_equal(in(0x21), 0xfb);
    assert_int_equal(in(0xa1), 0xff);
    assert_int_equal(vpic_pending_vector(&vm), -1);
    out(0x21, 0xfa); /* unmask IRQ 0: the BIOS vector base 0x08 */
    pulse(0);
    assert_int_equal(vpic_pending_vector(&vm), 0x08);
}

static void test_init_sequence_sets_vector_base(void **state)
{
    (void)state;
    init_pics(0x01);
    pulse(4);
    assert_int_equal(vpic_pending_vector(&vm), 0x34);
    assert_int_equal(take(), 0x34);
    out(0x20, 0x20);
    pulse(13);
    assert_int_equal(vpic_pending_vector(&vm), 0x3d);
}

static void test_imr_reads_back(void **state)
{
    (void)state;
    init_pics(0x01);
    out(0x21, 0xff); /* Linux's probe_8259A */
    out(0x21, 0xfb);
    assert_int_equal(in(0x21), 0xfb);
    out(0xa1, 0x5a);
    assert_int_equal(in(0xa1), 0x5a);
    /* ICW1 clears the mask */
    out(0x20, 0x11);
    out(0x21, 0x30);
    out(0x21, 0x04);
    out(0x21, 0x01);
    assert_int_equal(in(0x21), 0x00);
}

static void test_irr_and_isr_read_zero_when_idle(void **state)
{
    (void)state;
    init_pics(0x01);
    assert_int_equal(read_irr(0x20), 0);
    assert_int_equal(read_isr(0x20), 0);
    assert_int_equal(read_irr(0xa0), 0);
    assert_int_equal(read_isr(0xa0), 0);
}

static void test_edge_irq_acknowledge_and_eoi(void **state)
{
    (void)state;
    init_pics(0x01);
    unsigned changes = intr_changes;
    pulse(1);
    assert_true(intr_changes > changes); /* the local APIC was told */
    assert_int_equal(read_irr(0x20), 0x02);
    assert_int_equal(take(), 0x31);
    assert_int_equal(read_irr(0x20), 0x00); /* the edge request is consumed */
    assert_int_equal(read_isr(0x20), 0x02);
    assert_int_equal(vpic_pending_vector(&vm), -1);
    out(0x20, 0x20); /* non-specific EOI */
    assert_int_equal(read_isr(0x20), 0x00);
    assert_int_equal(vpic_pending_vector(&vm), -1);
}

static void test_edge_needs_a_new_rising_edge(void **state)
{
    (void)state;
    init_pics(0x01);
    vpic_set_irq(&vm, 3, true);
    assert_int_equal(take(), 0x33);
    out(0x20, 0x20);
    vpic_set_irq(&vm, 3, true); /* still high: no new request */
    assert_int_equal(vpic_pending_vector(&vm), -1);
    vpic_set_irq(&vm, 3, false);
    vpic_set_irq(&vm, 3, true);
    assert_int_equal(vpic_pending_vector(&vm), 0x33);
}

static void test_masked_request_waits_in_irr(void **state)
{
    (void)state;
    init_pics(0x01);
    out(0x21, 0x10);
    pulse(4);
    assert_int_equal(vpic_pending_vector(&vm), -1);
    assert_int_equal(read_irr(0x20), 0x10);
    out(0x21, 0x00);
    assert_int_equal(vpic_pending_vector(&vm), 0x34);
}

static void test_priority(void **state)
{
    (void)state;
    init_pics(0x01);
    pulse(3);
    pulse(1);
    assert_int_equal(take(), 0x31); /* IRQ 1 beats IRQ 3 */
    assert_int_equal(vpic_pending_vector(&vm), -1); /* IRQ 1 in service blocks IRQ 3 */
    pulse(0);
    assert_int_equal(take(), 0x30); /* a higher one nests */
    assert_int_equal(read_isr(0x20), 0x03);
    out(0x20, 0x20); /* ends IRQ 0, the highest in service */
    assert_int_equal(read_isr(0x20), 0x02);
    assert_int_equal(vpic_pending_vector(&vm), -1);
    out(0x20, 0x61); /* specific EOI for IRQ 1 */
    assert_int_equal(take(), 0x33);
}

static void test_special_mask_mode(void **state)
{
    (void)state;
    init_pics(0x01);
    pulse(1);
    assert_int_equal(take(), 0x31);
    pulse(5);
    assert_int_equal(vpic_pending_vector(&vm), -1);
    out(0x21, 0x02);  /* mask IRQ 1 ... */
    out(0x20, 0x68);  /* ... and set special mask mode: lower levels may come */
    assert_int_equal(vpic_pending_vector(&vm), 0x35);
    out(0x20, 0x48);  /* reset special mask mode */
    assert_int_equal(vpic_pending_vector(&vm), -1);
}

static void test_rotation(void **state)
{
    (void)state;
    init_pics(0x01);
    pulse(1);
    assert_int_equal(take(), 0x31);
    out(0x20, 0xa0); /* rotate on non-specific EOI: IRQ 1 becomes the lowest */
    pulse(0);
    pulse(3);
    assert_int_equal(take(), 0x33); /* order now 2, 3, ..., 7, 0, 1 */
    out(0x20, 0xc7);                /* set priority: IRQ 7 lowest again */
    out(0x20, 0x63);
    assert_int_equal(take(), 0x30);
}

static void test_cascade(void **state)
{
    (void)state;
    init_pics(0x01);
    pulse(8);
    assert_int_equal(vpic_pending_vector(&vm), 0x38);
    assert_int_equal(take(), 0x38);
    assert_int_equal(read_isr(0x20), 0x04); /* master IR2 in service */
    assert_int_equal(read_isr(0xa0), 0x01);
    out(0xa0, 0x20); /* EOI to the slave only */
    pulse(12);
    assert_int_equal(vpic_pending_vector(&vm), -1); /* the master's IR2 in service blocks it */
    pulse(1);
    assert_int_equal(take(), 0x31); /* but a master IRQ above 2 nests */
    out(0x20, 0x20); /* ends IRQ 1 */
    assert_int_equal(vpic_pending_vector(&vm), -1);
    out(0x20, 0x20); /* ends IR2 */
    assert_int_equal(read_isr(0x20), 0x00);
    assert_int_equal(take(), 0x3c); /* the waiting slave request comes through */
    out(0xa0, 0x20);
    out(0x20, 0x20);
    assert_int_equal(vpic_pending_vector(&vm), -1);
}

static void test_slave_masked_at_master(void **state)
{
    (void)state;
    init_pics(0x01);
    out(0x21, 0x04);
    pulse(9);
    assert_int_equal(vpic_pending_vector(&vm), -1);
    out(0x21, 0x00);
    assert_int_equal(vpic_pending_vector(&vm), 0x39);
}

static void test_level_line_stays_pending(void **state)
{
    (void)state;
    init_pics(0x01);
    out(0x4d0, 0xff);
    assert_int_equal(in(0x4d0), 0xf8); /* IRQs 0-2 are always edge-triggered */
    out(0x4d1, 0x0c);                  /* IRQs 10, 11 level */
    assert_int_equal(in(0x4d1), 0x0c);
    vpic_set_irq(&vm, 10, true);
    assert_int_equal(take(), 0x3a);
    out(0xa0, 0x20);
    out(0x20, 0x20);
    assert_int_equal(vpic_pending_vector(&vm), 0x3a); /* still high: still requesting */
    vpic_set_irq(&vm, 10, false);
    assert_int_equal(vpic_pending_vector(&vm), -1); /* withdrawn */
    assert_int_equal(read_irr(0xa0), 0x00);
}

static void test_level_withdrawn_before_acknowledge(void **state)
{
    (void)state;
    init_pics(0x01);
    out(0x4d0, 0x20); /* IRQ 5 level */
    vpic_set_irq(&vm, 5, true);
    int vector = vpic_pending_vector(&vm);
    assert_int_equal(vector, 0x35);
    vpic_set_irq(&vm, 5, false);
    /* Too late: the acknowledge finds no request and answers with IR7, the spurious vector,
     * without putting anything in service. */
    assert_int_equal(vpic_intack(&vm, false), 0x37);
    assert_int_equal(vpic_intack(&vm, true), 0x37);
    assert_int_equal(read_isr(0x20), 0x00);
}

/* A slave request gone by the acknowledge: the master serves IR2, the slave gives its IR7. */
static void test_slave_spurious_is_irq15(void **state)
{
    (void)state;
    struct pic_pair pp;
    pic_pair_reset(&pp);
    pic_pair_write(&pp, 0x21, 0x00);
    pic_pair_write(&pp, 0xa1, 0x00);
    pic_pair_write(&pp, 0x4d1, 0x02); /* IRQ 9 level */
    pic_pair_set_irq(&pp, 9, true);
    assert_int_equal(pic_pair_pending_vector(&pp), 0x71);
    pp.slave.irr = 0; /* the request vanished at the slave while the master's IR2 was raised */
    pp.slave.lines = 0;
    assert_int_equal(pic_pair_intack(&pp), 0x77);
    assert_int_equal(pp.master.isr, 0x04);
    assert_int_equal(pp.slave.isr, 0x00);
}

static void test_auto_eoi(void **state)
{
    (void)state;
    init_pics(0x03); /* ICW4: 8086 mode, automatic EOI */
    pulse(4);
    assert_int_equal(take(), 0x34);
    assert_int_equal(read_isr(0x20), 0x00);
    pulse(6); /* a lower one is not blocked: nothing is in service */
    assert_int_equal(take(), 0x36);
    pulse(8);
    assert_int_equal(take(), 0x38);
    assert_int_equal(read_isr(0x20), 0x00);
    assert_int_equal(read_isr(0xa0), 0x00);
}

static void test_poll(void **state)
{
    (void)state;
    init_pics(0x01);
    pulse(6); /* with the CPU's interrupts off, a poll serves it */
    out(0x20, 0x0c); /* OCW3: poll */
    assert_int_equal(in(0x20), 0x86);
    assert_int_equal(read_isr(0x20), 0x40); /* the poll read acknowledged */
    out(0x20, 0x0c);
    assert_int_equal(in(0x20), 0x00);
}

/* The vector is read at the acknowledge: what wins then, not what INTR was raised for. */
static void test_acknowledge_reads_the_vector_then(void **state)
{
    (void)state;
    init_pics(0x01);
    pulse(5);
    assert_int_equal(vpic_pending_vector(&vm), 0x35);
    pulse(3); /* a higher request arrives before the CPU takes the interrupt */
    assert_int_equal(vpic_intack(&vm, false), 0x33);
    assert_int_equal(vpic_intack(&vm, true), 0x33);
    assert_int_equal(read_isr(0x20), 0x08); /* IRQ 3 is the one in service */
    assert_int_equal(vpic_pending_vector(&vm), -1); /* IRQ 5 waits behind it */
    out(0x20, 0x20);
    assert_int_equal(take(), 0x35);
}

/* INTR drives I/O APIC pin 0 (virtual-wire mode through the I/O APIC): high while a request
 * is on offer, low once it is acknowledged, high again for the next. */
static void test_intr_drives_ioapic_pin0(void **state)
{
    (void)state;
    init_pics(0x01);
    assert_false(pin0);
    pulse(4);
    assert_true(pin0);
    pulse(6); /* a second request changes the vector, not INTR */
    assert_int_equal(pin0_edges, 1);
    assert_int_equal(take(), 0x34);
    assert_false(pin0); /* IRQ 6 waits behind IRQ 4 in service */
    out(0x20, 0x20);
    assert_true(pin0);
    assert_int_equal(pin0_edges, 2);
    assert_int_equal(take(), 0x36);
    assert_false(pin0);
    out(0x21, 0xff);
    pulse(1); /* masked: INTR stays low */
    assert_false(pin0);
    assert_int_equal(pin0_edges, 2);
}

static void test_reset(void **state)
{
    (void)state;
    init_pics(0x01);
    pulse(1);
    take();
    vm.resets[0].reset(&vm, vm.resets[0].ctx);
    assert_int_equal(in(0x21), 0xfb);
    assert_int_equal(read_isr(0x20), 0);
    assert_int_equal(vpic_pending_vector(&vm), -1);
}

static void test_chip_alone(void **state)
{
    (void)state;
    struct pic8259 p;
    pic8259_reset(&p, true, 0xf8);
    pic8259_write(&p, 0, 0x13); /* ICW1: single, ICW4 */
    pic8259_write(&p, 1, 0x20); /* ICW2; no ICW3 in single mode */
    pic8259_write(&p, 1, 0x01); /* ICW4 */
    assert_int_equal(p.init_step, 0);
    assert_int_equal(p.vector_base, 0x20);
    pic8259_set_line(&p, 7, true);
    assert_int_equal(pic8259_pending(&p), 7);
    pic8259_acknowledge(&p, 7);
    assert_int_equal(p.isr, 0x80);
    assert_int_equal(pic8259_pending(&p), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reset_state_is_a_bios_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_init_sequence_sets_vector_base, setup, teardown),
        cmocka_unit_test_setup_teardown(test_imr_reads_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_irr_and_isr_read_zero_when_idle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edge_irq_acknowledge_and_eoi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edge_needs_a_new_rising_edge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_masked_request_waits_in_irr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_priority, setup, teardown),
        cmocka_unit_test_setup_teardown(test_special_mask_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cascade, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slave_masked_at_master, setup, teardown),
        cmocka_unit_test_setup_teardown(test_level_line_stays_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_level_withdrawn_before_acknowledge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slave_spurious_is_irq15, setup, teardown),
        cmocka_unit_test_setup_teardown(test_intr_drives_ioapic_pin0, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auto_eoi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_poll, setup, teardown),
        cmocka_unit_test_setup_teardown(test_acknowledge_reads_the_vector_then, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
        cmocka_unit_test(test_chip_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
