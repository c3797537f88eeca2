/* SPDX-License-Identifier: BSD-2-Clause */
// sources: devices/reset.c devices/vdev.c kernel/log.c lib/format.c tests/unit/fake_vm.c
/* The PC's reset paths (devices/reset.c): port 0x92, 0xcf9 and the keyboard controller's output
 * port; what the firmware makes of a reset (the CMOS shutdown status: resume through 40:67 by
 * INIT to every vCPU, or a reboot of the kind the reset was); and what a restart keeps. */
#include "stubs.h"

#include <stdlib.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "devices/rtc.h"
#include "devices/vlapic.h"
#include "vm/platform.h"
#include "vm/vm.h"
#include "vmx/decode.h"
#include "vmx/vcpu.h"

/* --- What devices/reset.c needs of the rest of mhv ------------------------------------------- */

static struct vm vm;
static struct vcpu vcpu;
static uint8_t shutdown_status;
static bool in_firmware;
static unsigned firmware_writes, inits, stops;
static int stop_kind = -1;
static char stop_reason[200];

uint8_t vrtc_shutdown_status(struct vm *v)
{
    assert_ptr_equal(v, &vm);
    return shutdown_status;
}

void firmware_write(struct vm *v)
{
    assert_ptr_equal(v, &vm);
    firmware_writes++;
}

bool firmware_running(struct vcpu *v)
{
    assert_ptr_equal(v, &vcpu);
    return in_firmware;
}

void vlapic_deliver(struct vm *v, struct vcpu *from, uint32_t dest, bool logical, unsigned mode, uint8_t vector,
                    bool level, unsigned shorthand)
{
    (void)dest, (void)logical, (void)vector, (void)level;
    assert_ptr_equal(v, &vm);
    assert_ptr_equal(from, &vcpu);
    assert_int_equal(mode, 5);      /* INIT */
    assert_int_equal(shorthand, 2); /* all including self: the INIT# pin */
    inits++;
}

void vm_console_flush(struct vm *v)
{
    (void)v;
}

void vm_stop(struct vm *v, enum stop_kind kind, int status, const char *fmt, ...)
{
    assert_ptr_equal(v, &vm);
    assert_int_equal(status, 0);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(stop_reason, sizeof(stop_reason), fmt, ap);
    va_end(ap);
    stop_kind = (int)kind;
    v->stop_kind = (uint8_t)kind;
    stops++;
}

/* --- Ports as the guest uses them ----------------------------------------------------------- */

static const struct io_handler *io(uint16_t port)
{
    for (unsigned i = 0; i < vm.io_count; i++)
        if (port >= vm.io[i].base && port < vm.io[i].base + vm.io[i].count)
            return &vm.io[i];
    fail_msg("nothing at port 0x%x", port);
    return NULL;
}

static uint8_t in(uint16_t port)
{
    const struct io_handler *h = io(port);
    return (uint8_t)h->read(&vcpu, h->ctx, port, 1);
}

static void out(uint16_t port, uint8_t value)
{
    const struct io_handler *h = io(port);
    h->write(&vcpu, h->ctx, port, 1, value);
}

static void restart(void)
{
    for (unsigned i = 0; i < vm.reset_count; i++)
        vm.resets[i].reset(&vm, vm.resets[i].ctx);
}

static int setup(void **state)
{
    (void)state;
    memset(&vm, 0, sizeof(vm));
    memset(&vcpu, 0, sizeof(vcpu));
    vcpu.vm = &vm;
    shutdown_status = 0;
    in_firmware = false;
    firmware_writes = inits = stops = 0;
    stop_kind = -1;
    stop_reason[0] = '\0';
    vreset_attach(&vm);
    return 0;
}

/* The device's state: the context its handlers were registered with. */
static int teardown(void **state)
{
    (void)state;
    free(vm.resets[0].ctx);
    return 0;
}

/* --- Tests ---------------------------------------------------------------------------------- */

static void test_port92_fast_reset_reboots_warm_and_survives(void **state)
{
    (void)state;
    assert_int_equal(in(0x92), 0x02);    /* A20 on, no reset */
    out(0x92, 0x02);
    assert_int_equal(stops, 0);
    out(0x92, 0x03);                     /* bit 0 going 0 -> 1 */
    assert_int_equal(stops, 1);
    assert_int_equal(stop_kind, STOP_REBOOT_SOFT);
    assert_string_equal(stop_reason, "reset through port 0x92 by vCPU 0");
    out(0x92, 0x03);                     /* staying 1 is no new reset */
    assert_int_equal(stops, 1);
    restart();                           /* a soft reset keeps bit 0: the guest can tell */
    assert_int_equal(in(0x92), 0x03);
    assert_true(vm_restart_keeps_memory(&vm));
}

static void test_resume_codes_init_every_vcpu(void **state)
{
    (void)state;
    static const uint8_t resume[] = { 0x05, 0x0a, 0x0b, 0x0c };
    for (unsigned i = 0; i < sizeof(resume); i++) {
        shutdown_status = resume[i];
        out(0x92, 0x00);
        out(0x92, 0x01);
        assert_int_equal(inits, i + 1);
        assert_int_equal(firmware_writes, i + 1); /* the stub written again first */
    }
    assert_int_equal(stops, 0);
    shutdown_status = 0x04;              /* not a resume code: a boot */
    out(0x64, 0xfe);
    assert_int_equal(inits, 4);
    assert_int_equal(stop_kind, STOP_REBOOT_SOFT);
    assert_string_equal(stop_reason, "reset through the keyboard controller (port 0x64 command 0xfe) by vCPU 0");
}

static void test_cf9_kinds(void **state)
{
    (void)state;
    out(0xcf9, 0x02);                    /* SYS_RST alone: no reset yet, and it reads back */
    assert_int_equal(stops, 0);
    assert_int_equal(in(0xcf9), 0x02);
    out(0xcf9, 0x06);                    /* Linux's reset value: a hard reset */
    assert_int_equal(stop_kind, STOP_REBOOT);
    assert_string_equal(stop_reason, "reset through port 0xcf9 by vCPU 0");
    assert_true(vm_restart_keeps_memory(&vm));
    out(0x92, 0x01);                     /* bit 0 set (itself a reset) ... */
    vm.stop_kind = STOP_REBOOT;          /* ... then a restart after a hard reset clears it */
    restart();
    assert_int_equal(in(0x92), 0x02);
    assert_int_equal(in(0xcf9), 0x00);
    out(0xcf9, 0x04);                    /* RST_CPU alone: a soft reset */
    assert_int_equal(stop_kind, STOP_REBOOT_SOFT);
    out(0xcf9, 0x0e);                    /* FULL_RST: a power cycle, even with a resume code */
    shutdown_status = 0x0a;
    out(0xcf9, 0x0e);
    assert_int_equal(stop_kind, STOP_REBOOT_POWER_CYCLE);
    assert_int_equal(inits, 0);
    assert_false(vm_restart_keeps_memory(&vm));
}

static void test_firmware_boot_request(void **state)
{
    (void)state;
    in_firmware = true;                  /* the stub found code 0x00 (in BL) and asks for a boot */
    vcpu.regs.gpr[GPR_RBX] = 0x1200;
    out(0xcf9, 0x04);
    assert_int_equal(stop_kind, STOP_REBOOT_SOFT);
    assert_string_equal(stop_reason, "a warm boot by the firmware (shutdown status 0x00 at the reset vector, vCPU 0)");
}

static void test_kbc_output_port(void **state)
{
    (void)state;
    assert_int_equal(in(0x64) & 1, 0);   /* output buffer empty */
    out(0x64, 0xd0);                     /* read the output port */
    assert_int_equal(in(0x64) & 1, 1);
    assert_int_equal(in(0x60), 0x03);    /* reset line high, A20 on */
    assert_int_equal(in(0x64) & 1, 0);
    out(0x60, 0x55);                     /* data for a keyboard there is not: nothing */
    out(0x64, 0xd1);                     /* write the output port ... */
    out(0x60, 0x03);                     /* ... keeping the reset line high: nothing */
    assert_int_equal(stops, 0);
    out(0x64, 0xd1);
    out(0x60, 0x02);                     /* ... pulling it low: a reset (init.c's "kbd controller init") */
    assert_int_equal(stops, 1);
    assert_int_equal(stop_kind, STOP_REBOOT_SOFT);
    assert_string_equal(stop_reason, "reset through the keyboard controller (its output port written with 0x2) by vCPU 0");
    out(0x64, 0xd0);
    assert_int_equal(in(0x60), 0x03);    /* the line is high again */
    out(0x64, 0xff);                     /* a pulse of no bit: nothing */
    out(0x64, 0xfd);                     /* a pulse of A20 alone: nothing */
    assert_int_equal(stops, 1);
    out(0x64, 0xf0);                     /* every even 0xFx pulses the reset line */
    assert_int_equal(stops, 2);
}

static void test_crash_and_poweroff_restarts_lose_memory(void **state)
{
    (void)state;
    vm.stop_kind = STOP_CRASH;
    assert_false(vm_restart_keeps_memory(&vm));
    vm.stop_kind = STOP_POWEROFF;
    assert_false(vm_restart_keeps_memory(&vm));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_port92_fast_reset_reboots_warm_and_survives, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resume_codes_init_every_vcpu, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cf9_kinds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_firmware_boot_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kbc_output_port, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_and_poweroff_restarts_lose_memory, setup, teardown),
    };
    return cmocka_run_group_tests_name("reset", tests, NULL, NULL);
}
