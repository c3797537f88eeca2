/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What a VM finds where a PC has its BIOS (include/vm/platform.h): mhv is the VMs' firmware,
 * and the only firmware code a guest ever runs is the reset-vector stub of
 * vm/firmware_stub.asm, which acts on the CMOS shutdown status byte after a reset (resume
 * through 40:67, or a boot). It is written into guest memory at every start, and again before
 * every reset that resumes (devices/reset.c), so a guest that scribbled over the BIOS area still
 * finds it there:
 *
 *   F000:E05B (0xfe05b)  the stub, at the PC BIOS's POST entry
 *   F000:FFF0 (0xffff0)  the reset vector: JMP FAR F000:E05B, where a processor starts after
 *                        RESET or INIT (SDM Vol. 3A 9.1.4: CS selector 0xF000, base 0xF0000,
 *                        IP 0xFFF0); FFFF:0000 is the same byte, the address DOS-era software
 *                        jumps to for a reboot
 *   F000:FFFE (0xffffe)  the PC's model byte, 0xFC (AT)
 *
 * The loaders mark 0x9fc00-0xfffff reserved in the memory maps they hand over, as a PC's BIOS
 * does for its ROM; the ACPI tables (0xe0000) lie below the stub.
 *
 * Behind the stub are interrupt handlers (firmware_stub.asm) for VMs that start "as after a
 * BIOS" (vm->bios: multiboot kernels). The Multiboot Specification (0.6.96, 3.2 "Machine
 * state") asks the boot loader to leave the machine "as initialized by the BIOS", the PIC
 * "programmed with the normal BIOS/DOS values", and GRUB and QEMU's -kernel (SeaBIOS) do; a
 * kernel written for them may go back to real mode and take interrupts there (kvm-unit-tests'
 * realmode ends a HLT with the BIOS's timer tick). So for those VMs the firmware also leaves
 * what SeaBIOS leaves (measured with a multiboot kernel under QEMU 7.2 -kernel):
 *
 *   0x00000  the interrupt vector table: vector 0x08 the timer tick, 0x09-0x0F and 0x70-0x77
 *            the hardware interrupts (each acknowledged at the 8259s), every other vector an
 *            IRET (there are no BIOS services)
 *   0x00400  the BIOS data area: COM port addresses, the EBDA's segment, the equipment word,
 *            640 KiB of base memory less the EBDA, the timer ticks since midnight
 *   0x9fc00  the extended BIOS data area: its size, 1 KiB
 *   devices  the 8259s at vectors 0x08 and 0x70 (their reset state) with SeaBIOS's masks:
 *            IRQ 0, 1, 2 and 6 open at the master (0xb8), 8, 12, 13 and 14 at the slave
 *            (0x8e); the PIT's channel 0 in mode 2 with count 65536, 18.2 Hz on IRQ 0
 *
 * Other VMs get none of it: mhv's guest images and raw images start with every 8259 line but
 * the cascade masked and the PIT idle (their ABI: no interrupts until the guest asks for
 * them), and Linux is entered where its own real-mode setup code, which masks every 8259 line
 * before it leaves real mode, would have handed over.
 */
#include <stdbool.h>
#include <stdint.h>

#include "devices/rtc.h"
#include "kernel/panic.h"
#include "lib/string.h"
#include "vm/platform.h"
#include "vm/vm.h"
#include "vmx/guest_walk.h"
#include "vmx/vcpu.h"

#define POST_ENTRY_SEGMENT 0xf000
#define POST_ENTRY_OFFSET 0xe05b
#define POST_ENTRY (((uint64_t)POST_ENTRY_SEGMENT << 4) + POST_ENTRY_OFFSET)
#define RESET_VECTOR 0xffff0ull
#define MODEL_BYTE 0xffffeull
#define MODEL_AT 0xfc

extern const uint8_t firmware_stub[], firmware_stub_end[];
extern const uint8_t firmware_irq0[], firmware_irq1[], firmware_irq8[], firmware_irq9[], firmware_iret[];
#define IRQ_ENTRY_SIZE 5 /* firmware_irq1 and firmware_irq9 are 7 entries of 5 bytes (checked there) */

/* The BIOS data area (segment 0x40) and the EBDA (IBM PC AT Technical Reference, "BIOS data
 * area"; Ralf Brown's memory list for the words later BIOSes added). */
#define BDA 0x400ull
#define BDA_COM_PORTS 0x00       /* 4 words: COM1-COM4 base ports, 0 where absent */
#define BDA_EBDA_SEGMENT 0x0e
#define BDA_EQUIPMENT 0x10       /* bit 1: FPU; bits 11-9: serial ports */
#define BDA_MEMORY_KIB 0x13      /* base memory below the EBDA */
#define BDA_TICKS 0x6c           /* dword: PIT ticks since midnight */
#define EBDA 0x9fc00ull          /* the top KiB of the 640, reserved in the loaders' maps */
#define TICKS_PER_DAY 0x1800b0ull /* 86400 s of 1193182 Hz / 65536 */

/* SeaBIOS's 8259 masks (a set bit masks the IRQ) and PIT programming. */
#define BIOS_PIC1_MASK 0xb8      /* open: IRQ 0 (timer), 1, 2 (cascade), 6 */
#define BIOS_PIC2_MASK 0x8e      /* open: IRQ 8 (CMOS clock), 12, 13, 14 */
#define PIT_MODE_PORT 0x43
#define PIT_CH0_PORT 0x40
#define PIT_CH0_LOHI_MODE2 0x34  /* channel 0, low then high byte, mode 2, binary */

_Static_assert(POST_ENTRY < RESET_VECTOR, "the stub lies below the reset vector");
_Static_assert(PLATFORM_ACPI_BASE + PLATFORM_ACPI_SIZE <= POST_ENTRY, "the ACPI tables lie below the stub");

void firmware_write(struct vm *vm)
{
    const uint8_t jump[5] = { 0xea, POST_ENTRY_OFFSET & 0xff, POST_ENTRY_OFFSET >> 8, POST_ENTRY_SEGMENT & 0xff,
                              POST_ENTRY_SEGMENT >> 8 }; /* JMP FAR ptr16:16 */
    const uint8_t model = MODEL_AT;
    ASSERT(POST_ENTRY + (uint64_t)(firmware_stub_end - firmware_stub) <= RESET_VECTOR);
    vm_write_gpa(vm, POST_ENTRY, firmware_stub, (uint64_t)(firmware_stub_end - firmware_stub));
    vm_write_gpa(vm, RESET_VECTOR, jump, sizeof(jump));
    vm_write_gpa(vm, MODEL_BYTE, &model, 1);
}

/* F000:offset of a handler behind the stub, as an IVT entry (offset low, segment high). */
static uint32_t vector_to(const uint8_t *handler)
{
    return (uint32_t)POST_ENTRY_SEGMENT << 16 | (uint32_t)(POST_ENTRY_OFFSET + (handler - firmware_stub));
}

void firmware_bios_data(struct vm *vm)
{
    uint32_t ivt[256];
    for (unsigned v = 0; v < 256; v++)
        ivt[v] = vector_to(firmware_iret);
    ivt[0x08] = vector_to(firmware_irq0);
    ivt[0x70] = vector_to(firmware_irq8);
    for (unsigned irq = 1; irq < 8; irq++) {
        ivt[0x08 + irq] = vector_to(firmware_irq1 + IRQ_ENTRY_SIZE * (irq - 1));
        ivt[0x70 + irq] = vector_to(firmware_irq9 + IRQ_ENTRY_SIZE * (irq - 1));
    }
    vm_write_gpa(vm, 0, ivt, sizeof(ivt));

    static const uint16_t com_bases[4] = { 0x3f8, 0x2f8, 0x3e8, 0x2e8 }; /* vm/platform.c's order */
    uint8_t bda[256] = { 0 };
    unsigned serial = 0;
    for (unsigned i = 0; i < 4; i++) {
        if (!vm->uart[i])
            continue;
        bda[BDA_COM_PORTS + 2 * serial] = (uint8_t)com_bases[i];
        bda[BDA_COM_PORTS + 2 * serial + 1] = (uint8_t)(com_bases[i] >> 8);
        serial++;
    }
    uint16_t ebda_segment = (uint16_t)(EBDA >> 4), equipment = (uint16_t)(0x2 | serial << 9);
    uint16_t memory_kib = (uint16_t)(EBDA >> 10);
    /* The tick count a BIOS sets from the CMOS clock at POST. */
    uint32_t ticks = (uint32_t)(vrtc_seconds(vm) % 86400 * TICKS_PER_DAY / 86400);
    memcpy(&bda[BDA_EBDA_SEGMENT], &ebda_segment, 2);
    memcpy(&bda[BDA_EQUIPMENT], &equipment, 2);
    memcpy(&bda[BDA_MEMORY_KIB], &memory_kib, 2);
    memcpy(&bda[BDA_TICKS], &ticks, 4);
    vm_write_gpa(vm, BDA, bda, sizeof(bda));
    const uint8_t ebda_kib = 1;
    vm_write_gpa(vm, EBDA, &ebda_kib, 1);
}

void firmware_bios_devices(struct vm *vm, void *ctx)
{
    (void)ctx;
    /* The 8259s' reset state already has the BIOS's vectors (devices/pic.c); POST opens its lines. */
    vm_port_write(vm, 0x21, 1, BIOS_PIC1_MASK);
    vm_port_write(vm, 0xa1, 1, BIOS_PIC2_MASK);
    vm_port_write(vm, PIT_MODE_PORT, 1, PIT_CH0_LOHI_MODE2);
    vm_port_write(vm, PIT_CH0_PORT, 1, 0); /* count 0: 65536, 1193182 / 65536 = 18.2 Hz */
    vm_port_write(vm, PIT_CH0_PORT, 1, 0);
}

bool firmware_running(struct vcpu *v)
{
    struct vmx_segment cs;
    guest_segment(v, SEG_CS, &cs);
    return cs.base == (uint64_t)POST_ENTRY_SEGMENT << 4;
}
