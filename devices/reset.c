/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The PC's reset paths and what a reset does, as the chipset and the firmware of a PC would
 * (include/vm/platform.h; README.md "Resets and the firmware").
 *
 *   0x92       System Control Port A (Intel 82371AB PIIX4 and ICH datasheets, "Port 92"):
 *              bit 0, fast reset (INIT_NOW), going 0 -> 1 is a soft reset and stays 1 until
 *              the guest clears it or a hard reset does; bit 1, the A20 gate, reads back
 *              what was written (mhv never masks A20).
 *   0xcf9      Reset Control (PIIX4 "RC", ICH "RST_CNT"): RST_CPU going 0 -> 1 resets; with
 *              SYS_RST clear a soft reset (INIT#), with SYS_RST a hard reset (PLTRST#), with
 *              FULL_RST as well a power cycle. SYS_RST and FULL_RST read back; RST_CPU never
 *              does, the reset being immediate.
 *   0x60/0x64  the 8042 keyboard controller, for its output port only (IBM PC AT Technical
 *              Reference, "Keyboard controller"): bit 0 is the processor's reset line, bit 1
 *              the A20 gate. Command 0xD0 puts the output port in the output buffer (0x60),
 *              0xD1 writes the next byte written to 0x60 to it, 0xF0-0xFF pulse low the bits
 *              whose command bit is 0. A write with bit 0 clear, or a pulse of it (0xFE, the
 *              usual reset), is a soft reset (on ICH chipsets RCIN# becomes INIT#); the line
 *              then reads 1 again. There is no keyboard: the FADT says there is no 8042
 *              (Linux does not probe one), data written to 0x60 otherwise goes nowhere, and
 *              the status (0x64) shows the input buffer always empty.
 *
 * What a reset then does is the firmware's decision, and mhv is the VMs' firmware. It looks at
 * the CMOS shutdown status byte first, as a PC/AT BIOS does at the reset vector: with 0x05,
 * 0x0A, 0x0B or 0x0C the program that set it wants to resume through the vector at 40:67 with
 * its memory as it left it (the 286's way back from protected mode; kvm-unit-tests' init
 * test). Then every vCPU takes an INIT, the processors' reset (SDM Vol. 3A 9.1): the bootstrap
 * vCPU starts at F000:FFF0, in vm/firmware_stub.asm, which acts on the code; the others wait
 * for a STARTUP IPI; memory and devices stay as they are (the AT's keyboard-controller reset,
 * for which the codes were made, reset only the processor; a hard reset with such a code is
 * taken the same way). With any other code the VM reboots, an on_reboot event, and what the
 * restart keeps follows the kind of reset, as on a PC, where only a power cycle loses memory
 * (enum stop_kind): a soft reset keeps memory and port 0x92 (a warm boot), a hard reset keeps
 * memory, a power cycle keeps neither. The stub asks for the boot the same way, with a soft
 * reset at 0xcf9, when it finds no resume code (after an INIT to the bootstrap vCPU, or when
 * the guest jumps to FFFF:0000).
 */
#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/spinlock.h"
#include "devices/rtc.h"
#include "devices/vdev.h"
#include "devices/vlapic.h"
#include "kernel/log.h"
#include "lib/format.h"
#include "vm/console.h"
#include "vm/platform.h"
#include "vm/vm.h"
#include "vmx/decode.h"
#include "vmx/vcpu.h"

#define PORT92 0x92
#define PORT92_FAST_RESET 0x01
#define PORT92_A20 0x02

#define RC_SYS_RST (1u << 1)
#define RC_RST_CPU (1u << 2)
#define RC_FULL_RST (1u << 3)

#define KBC_DATA 0x60
#define KBC_COMMAND 0x64
#define KBC_STATUS_OUTPUT_FULL 0x01
#define KBC_READ_OUTPUT_PORT 0xd0
#define KBC_WRITE_OUTPUT_PORT 0xd1
#define KBC_OUT_RESET 0x01        /* output port bit 0: 0 holds the processor in reset */
#define KBC_OUT_A20 0x02
#define KBC_OUT_POWER_ON (KBC_OUT_RESET | KBC_OUT_A20)

/* INIT to every vCPU, as the INIT# pin does: an IPI with delivery mode INIT (101b) and the
 * "all including self" shorthand (SDM Vol. 3A 12.6.1, Interrupt Command Register). */
#define APIC_DELIVERY_INIT 5
#define APIC_SHORTHAND_ALL 2

enum reset_kind { RESET_SOFT, RESET_HARD, RESET_POWER_CYCLE };

struct vreset {
    struct spinlock lock;
    uint8_t port92;         /* FAST_RESET and A20 as written */
    uint8_t reset_control;  /* 0xcf9: SYS_RST and FULL_RST as written */
    uint8_t kbc_output;     /* the 8042's output port */
    uint8_t kbc_buffer;     /* its output buffer (0x60) ... */
    bool kbc_buffer_full;   /* ... and whether it holds a byte not yet read */
    bool kbc_write_pending; /* command 0xD1 came: the next byte at 0x60 is the output port */
};

static bool resumes(uint8_t shutdown_status)
{
    return shutdown_status == 0x05 || shutdown_status == 0x0a || shutdown_status == 0x0b ||
           shutdown_status == 0x0c;
}

/* A reset, by vCPU v, described by `how` (the stop line's reason if the VM reboots). */
static void reset(struct vcpu *v, enum reset_kind kind, const char *how)
{
    struct vm *vm = v->vm;
    uint8_t status = vrtc_shutdown_status(vm);
    if (kind != RESET_POWER_CYCLE && resumes(status)) {
        log_debug("vm %s: %s; shutdown status 0x%x: the firmware resumes through 40:67", vm->name, how, status);
        firmware_write(vm); /* whatever the guest did to the BIOS area */
        vlapic_deliver(vm, v, 0, false, APIC_DELIVERY_INIT, 0, false, APIC_SHORTHAND_ALL);
        return;
    }
    vm_console_flush(vm);
    enum stop_kind stop = kind == RESET_SOFT ? STOP_REBOOT_SOFT : kind == RESET_HARD ? STOP_REBOOT : STOP_REBOOT_POWER_CYCLE;
    vm_stop(vm, stop, 0, "%s", how);
}

/* --- Port 0x92 ----------------------------------------------------------------------------- */

static uint64_t port92_read(struct vcpu *v, void *state, uint64_t port, unsigned size)
{
    (void)v, (void)port, (void)size;
    struct vreset *r = state;
    return __atomic_load_n(&r->port92, __ATOMIC_RELAXED);
}

static void port92_write(struct vcpu *v, void *state, uint64_t port, unsigned size, uint64_t value)
{
    (void)port, (void)size;
    struct vreset *r = state;
    uint8_t now = (uint8_t)(value & (PORT92_FAST_RESET | PORT92_A20));
    uint8_t before = __atomic_exchange_n(&r->port92, now, __ATOMIC_RELAXED);
    if ((now & PORT92_FAST_RESET) && !(before & PORT92_FAST_RESET)) {
        char how[64];
        ksnprintf(how, sizeof(how), "reset through port 0x92 by vCPU %u", v->id);
        reset(v, RESET_SOFT, how);
    }
}

/* --- Port 0xcf9 ---------------------------------------------------------------------------- */

static uint64_t reset_control_read(struct vcpu *v, void *state, uint64_t port, unsigned size)
{
    (void)v, (void)port, (void)size;
    struct vreset *r = state;
    return __atomic_load_n(&r->reset_control, __ATOMIC_RELAXED);
}

/* Linux writes 0x06 (its FADT's reset value; reboot=pci writes 0x02, then 0x06). */
static void reset_control_write(struct vcpu *v, void *state, uint64_t port, unsigned size, uint64_t value)
{
    (void)port, (void)size;
    struct vreset *r = state;
    __atomic_store_n(&r->reset_control, (uint8_t)(value & (RC_SYS_RST | RC_FULL_RST)), __ATOMIC_RELAXED);
    if (!(value & RC_RST_CPU))
        return;
    enum reset_kind kind = value & RC_FULL_RST ? RESET_POWER_CYCLE : value & RC_SYS_RST ? RESET_HARD : RESET_SOFT;
    char how[112];
    if (firmware_running(v))
        ksnprintf(how, sizeof(how), "a warm boot by the firmware (shutdown status 0x%02x at the reset vector, vCPU %u)",
                  (unsigned)(v->regs.gpr[GPR_RBX] & 0xff), v->id);
    else
        ksnprintf(how, sizeof(how), "reset through port 0x%x by vCPU %u", PLATFORM_RESET_PORT, v->id);
    reset(v, kind, how);
}

/* --- The 8042's output port ---------------------------------------------------------------- */

static void kbc_output_port_write(struct vcpu *v, struct vreset *r, uint8_t value, const char *how)
{
    uint64_t flags = spin_lock_irqsave(&r->lock);
    r->kbc_output = value | KBC_OUT_RESET; /* the line goes back up once the reset is done */
    spin_unlock_irqrestore(&r->lock, flags);
    if (!(value & KBC_OUT_RESET))
        reset(v, RESET_SOFT, how);
}

static uint64_t kbc_read(struct vcpu *v, void *state, uint64_t port, unsigned size)
{
    (void)v, (void)size;
    struct vreset *r = state;
    uint64_t flags = spin_lock_irqsave(&r->lock);
    uint8_t value;
    if (port == KBC_COMMAND) {
        value = r->kbc_buffer_full ? KBC_STATUS_OUTPUT_FULL : 0;
    } else {
        value = r->kbc_buffer; /* read again when empty, as the 8042 does */
        r->kbc_buffer_full = false;
    }
    spin_unlock_irqrestore(&r->lock, flags);
    return value;
}

static void kbc_write(struct vcpu *v, void *state, uint64_t port, unsigned size, uint64_t value)
{
    (void)size;
    struct vreset *r = state;
    uint8_t byte = (uint8_t)value;
    char how[96];
    uint64_t flags = spin_lock_irqsave(&r->lock);
    if (port == KBC_DATA) {
        bool to_output_port = r->kbc_write_pending;
        r->kbc_write_pending = false;
        spin_unlock_irqrestore(&r->lock, flags);
        if (to_output_port) {
            ksnprintf(how, sizeof(how), "reset through the keyboard controller (its output port written with 0x%x) by "
                      "vCPU %u", byte, v->id);
            kbc_output_port_write(v, r, byte, how);
        }
        return; /* otherwise for the keyboard, and there is none */
    }
    r->kbc_write_pending = byte == KBC_WRITE_OUTPUT_PORT;
    if (byte == KBC_READ_OUTPUT_PORT) {
        r->kbc_buffer = r->kbc_output;
        r->kbc_buffer_full = true;
    }
    uint8_t output = r->kbc_output;
    spin_unlock_irqrestore(&r->lock, flags);
    if ((byte & 0xf0) == 0xf0 && !(byte & KBC_OUT_RESET)) {
        ksnprintf(how, sizeof(how), "reset through the keyboard controller (port 0x64 command 0x%x) by vCPU %u", byte,
                  v->id);
        kbc_output_port_write(v, r, output & ~KBC_OUT_RESET, how);
    }
}

/* --- Restart ------------------------------------------------------------------------------- */

/* A restart: the devices as a reset of the kind that caused it leaves them. Port 0x92's fast
 * reset bit survives a soft reset (the firmware's warm boot is one), so a guest can tell it
 * from a hard one. */
static void vreset_reset(struct vm *vm, void *state)
{
    struct vreset *r = state;
    uint64_t flags = spin_lock_irqsave(&r->lock);
    uint8_t kept = vm->stop_kind == STOP_REBOOT_SOFT ? (r->port92 & PORT92_FAST_RESET) : 0;
    r->port92 = PORT92_A20 | kept;
    r->reset_control = 0;
    r->kbc_output = KBC_OUT_POWER_ON;
    r->kbc_buffer = 0;
    r->kbc_buffer_full = false;
    r->kbc_write_pending = false;
    spin_unlock_irqrestore(&r->lock, flags);
}

static void vreset_init(struct vm *vm, void *state, uint64_t where, const void *config)
{
    (void)vm, (void)where, (void)config;
    struct vreset *r = state;
    r->lock = (struct spinlock)SPINLOCK_INIT;
    r->port92 = PORT92_A20;
    r->kbc_output = KBC_OUT_POWER_ON;
}

static const struct vdev_range vreset_ranges[] = {
    { VDEV_PORT, PORT92, 1, VDEV_SIZE_ANY, port92_read, port92_write },
    { VDEV_PORT, PLATFORM_RESET_PORT, 1, VDEV_SIZE_ANY, reset_control_read, reset_control_write },
    { VDEV_PORT, KBC_DATA, 1, VDEV_SIZE_ANY, kbc_read, kbc_write },
    { VDEV_PORT, KBC_COMMAND, 1, VDEV_SIZE_ANY, kbc_read, kbc_write },
};

/* Locks for itself: a reset stops the VM, and a restart resets every device. */
static const struct vdev_ops vreset_ops = {
    .name = "reset ports",
    .no_memory = "its reset ports; it has none",
    .state_size = sizeof(struct vreset),
    .ranges = vreset_ranges,
    .range_count = sizeof(vreset_ranges) / sizeof(vreset_ranges[0]),
    .init = vreset_init,
    .reset = vreset_reset,
};

void vreset_attach(struct vm *vm)
{
    vdev_attach(vm, &vreset_ops, 0, NULL);
}
