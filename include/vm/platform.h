/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The virtual PC platform every VM gets (README.md "The virtual platform"), one device per
 * file under devices/. Each *_attach hands the device's description (struct vdev_ops,
 * include/devices/vdev.h) to vdev_attach, which creates its state and registers its ports or
 * MMIO ranges and its reset; vm_add_platform (vm/platform.c) is the list of devices a VM gets,
 * attached when it is created. Fixed addresses: below.
 */
#ifndef MHV_VM_PLATFORM_H
#define MHV_VM_PLATFORM_H

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct vcpu;

/* Where the platform's pieces are, as the guest's ACPI tables describe them. */
#define PLATFORM_IOAPIC_BASE 0xfec00000ull
#define PLATFORM_IOAPIC_PINS 24
#define PLATFORM_LAPIC_BASE 0xfee00000ull
#define PLATFORM_HPET_BASE 0xfed00000ull  /* 1 KiB (devices/hpet.c), unless `hpet = false` */
#define PLATFORM_ACPI_BASE 0xe0000ull    /* RSDP and the tables: 0xe0000-0xeffff (e820 reserved) */
#define PLATFORM_ACPI_SIZE 0x10000ull
#define PLATFORM_PM_BASE 0x600           /* PM1a event (0x600, 4), PM1a control (0x604, 2), PM timer (0x608, 4) */
#define PLATFORM_PM_TIMER_HZ 3579545ull
#define PLATFORM_SCI_IRQ 9
#define PLATFORM_RESET_PORT 0xcf9
#define PLATFORM_FW_CFG_PORT 0x510       /* selector 0x510 (16-bit), data 0x511 */
/* QEMU's pc-testdev (devices/testdev.c, `testdev = true`): ports 0xe0-0xeb, 0x2000 + line, and: */
#define PC_TESTDEV_IOMEM_BASE 0xff000000ull
#define PC_TESTDEV_IOMEM_SIZE 0x10000
#define PC_TESTDEV_IRQ_LINES 24

/* `serial_ports` 16550As at the PC's COM1-COM4 addresses (COM1 is the VM's console). */
void vm_add_platform(struct vm *vm, unsigned serial_ports);
/* Writes what lives in guest memory (the ACPI tables, the firmware stub) again: at creation
 * and at restart, before the kernel is placed. */
void vm_platform_place(struct vm *vm);

/* The devices (one file each). */
void vuart_attach(struct vm *vm, uint16_t base, unsigned irq);   /* devices/uart.c */
void vpic_attach(struct vm *vm);                                  /* devices/pic.c */
void vpit_attach(struct vm *vm);                                  /* devices/pit.c */
void vrtc_attach(struct vm *vm);                                  /* devices/rtc.c */
void vpm_attach(struct vm *vm);        /* devices/pm.c: PM timer, PM1 event/control */
void vreset_attach(struct vm *vm);     /* devices/reset.c: resets through 0xcf9, port 0x92, the 8042 */
void vpci_attach(struct vm *vm);                                  /* devices/pci.c */
void fw_cfg_attach(struct vm *vm);                                /* devices/fw_cfg.c */
void vhpet_attach(struct vm *vm);                                 /* devices/hpet.c */
void pc_testdev_attach(struct vm *vm); /* devices/testdev.c: QEMU's pc-testdev, for `testdev = true` only */
void firmware_write(struct vm *vm);    /* vm/firmware.c: the reset-vector stub at 0xfe05b-0xfffff */
bool firmware_running(struct vcpu *v); /* v runs the stub (CS base 0xf0000); its VMCS is current */
/* For VMs started as after a BIOS (vm->bios): the interrupt vector table, the BIOS data area
 * and the EBDA's size byte (memory, before the kernel is placed); the 8259s' masks and the
 * PIT's tick, as POST leaves them (devices, after their reset; ctx unused). */
void firmware_bios_data(struct vm *vm);
void firmware_bios_devices(struct vm *vm, void *ctx);

/* The 8259 pair's side of interrupt delivery (devices/pic.c), for vm/irq.c and the CPU's
 * interrupt acknowledge (vmx/inject.c): the line levels of ISA IRQs 0-15; the vector the PIC
 * would hand the CPU now (-1: INTR low); and the acknowledge cycle, which returns the vector
 * read then (the spurious IRQ 7 when no request is left), or -1 without a PIC; with take
 * false it only says which vector an acknowledge would read now. The pair's INTR output
 * reaches vCPU 0's LINT0 (or its INTR pin while its local APIC is disabled) and I/O APIC pin
 * PLATFORM_PIC_INTR_PIN. */
#define PLATFORM_PIC_INTR_PIN 0
void vpic_set_irq(struct vm *vm, unsigned irq, bool high);
int vpic_pending_vector(struct vm *vm);
int vpic_intack(struct vm *vm, bool take);

#endif
