/* SPDX-License-Identifier: BSD-2-Clause */
// sources: devices/testdev.c devices/vdev.c kernel/log.c lib/format.c tests/unit/fake_vm.c
/* QEMU's pc-testdev (devices/testdev.c) as kvm-unit-tests use it: the scratch register at 0xe0
 * and 0xe8 at every width and offset, the ignored flush port, interrupt lines through
 * 0x2000 + n, the 64 KiB of memory at 0xff000000, and what a reset puts back. */
#include "stubs.h"

#include <stdlib.h>
#include <string.h>

#include "vm/platform.h"
#include "vm/vm.h"

static struct vm vm;
static int line_level[32];
static unsigned line_changes;

void vm_irq_line(struct vm *v, unsigned irq, bool high)
{
    assert_ptr_equal(v, &vm);
    assert_true(irq < 32);
    line_level[irq] = high;
    line_changes++;
}

static const struct io_handler *io(uint16_t port)
{
    for (unsigned i = 0; i < vm.io_count; i++)
        if (port >= vm.io[i].base && port < vm.io[i].base + vm.io[i].count)
            return &vm.io[i];
    return NULL;
}

static uint32_t in(uint16_t port, unsigned size)
{
    const struct io_handler *h = io(port);
    assert_non_null(h);
    return h->read(NULL, h->ctx, port, size);
}

static void out(uint16_t port, unsigned size, uint32_t value)
{
    const struct io_handler *h = io(port);
    assert_non_null(h);
    h->write(NULL, h->ctx, port, size, value);
}

static const struct mmio_handler *iomem(void)
{
    assert_int_equal(vm.mmio_count, 1);
    assert_int_equal(vm.mmio[0].base, 0xff000000ull);
    assert_int_equal(vm.mmio[0].size, 0x10000);
    return &vm.mmio[0];
}

static int setup(void **state)
{
    (void)state;
    memset(&vm, 0, sizeof(vm));
    memset(line_level, 0, sizeof(line_level));
    line_changes = 0;
    pc_testdev_attach(&vm);
    return 0;
}

/* The device's state: the context its handlers were registered with. */
static int teardown(void **state)
{
    (void)state;
    free(vm.resets[0].ctx);
    return 0;
}

static void test_scratch_register(void **state)
{
    (void)state;
    out(0xe0, 4, 0x12345678);
    assert_int_equal(in(0xe0, 4), 0x12345678);
    assert_int_equal(in(0xe0, 2), 0x5678);
    assert_int_equal(in(0xe2, 2), 0x1234);
    assert_int_equal(in(0xe3, 1), 0x12);
    out(0xe1, 1, 0xaa);                      /* one byte at offset 1 */
    assert_int_equal(in(0xe0, 4), 0x1234aa78);
    out(0xe2, 4, 0xffeeddcc);                /* bytes past the fourth are dropped */
    assert_int_equal(in(0xe0, 4), 0xddccaa78);
    /* 0xe8 is the same register, a byte at a time: the same result. */
    assert_int_equal(in(0xe8, 4), 0xddccaa78);
    out(0xe8, 2, 0x9999);
    assert_int_equal(in(0xe0, 4), 0xddcc9999);
}

static void test_flush_port_is_taken(void **state)
{
    (void)state;
    out(0xe4, 4, 0x123000);
    assert_int_equal(in(0xe0, 4), 0);
    assert_int_equal(line_changes, 0);
}

static void test_irq_lines(void **state)
{
    (void)state;
    out(0x200e, 1, 1);
    assert_int_equal(line_level[14], 1);
    out(0x200e, 1, 0);
    assert_int_equal(line_level[14], 0);
    out(0x2017, 1, 0x80); /* any non-zero byte raises; the last line is GSI 23 */
    assert_int_equal(line_level[23], 1);
    unsigned before = line_changes;
    out(0x200d, 2, 1);    /* only byte writes drive a line */
    assert_int_equal(line_changes, before);
    assert_null(io(0x2018));
}

static void test_iomem(void **state)
{
    (void)state;
    const struct mmio_handler *m = iomem();
    m->write(NULL, m->ctx, 0x100, 8, 0x1122334455667788ull);
    assert_int_equal(m->read(NULL, m->ctx, 0x100, 8), 0x1122334455667788ull);
    assert_int_equal(m->read(NULL, m->ctx, 0x102, 2), 0x5566);
    m->write(NULL, m->ctx, 0x101, 1, 0xaa);
    assert_int_equal(m->read(NULL, m->ctx, 0x100, 4), 0x5566aa88);
    m->write(NULL, m->ctx, 0xfffe, 4, 0xdeadbeef); /* the part past the end is dropped */
    assert_int_equal(m->read(NULL, m->ctx, 0xfffe, 4), 0xbeef);
}

static void test_reset(void **state)
{
    (void)state;
    out(0xe0, 4, 0x12345678);
    out(0x200e, 1, 1);
    out(0x200f, 1, 1);
    out(0x200f, 1, 0);
    const struct mmio_handler *m = iomem();
    m->write(NULL, m->ctx, 0, 4, 0x55);
    assert_int_equal(vm.reset_count, 1);
    vm.resets[0].reset(&vm, vm.resets[0].ctx);
    assert_int_equal(in(0xe0, 4), 0);
    assert_int_equal(line_level[14], 0);             /* the line it held high is lowered */
    assert_int_equal(m->read(NULL, m->ctx, 0, 4), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_scratch_register, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flush_port_is_taken, setup, teardown),
        cmocka_unit_test_setup_teardown(test_irq_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_iomem, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
    };
    return cmocka_run_group_tests_name("testdev", tests, NULL, NULL);
}
