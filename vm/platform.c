/* SPDX-License-Identifier: BSD-2-Clause */
/* The virtual PC platform every VM gets (include/vm/platform.h). */
#include "vm/platform.h"

#include <stddef.h>

#include "devices/ioapic.h"
#include "vm/acpi_tables.h"
#include "vm/vm.h"

/* The PC's serial ports: COM1 and COM3 share IRQ 4, COM2 and COM4 IRQ 3. */
static const struct { uint16_t base; uint8_t irq; } com_ports[4] = {
    { 0x3f8, 4 }, { 0x2f8, 3 }, { 0x3e8, 4 }, { 0x2e8, 3 },
};

void vm_add_platform(struct vm *vm, unsigned serial_ports)
{
    vioapic_attach(vm);
    vpic_attach(vm);
    vpit_attach(vm);
    vrtc_attach(vm);
    for (unsigned i = 0; i < serial_ports && i < 4; i++)
        vuart_attach(vm, com_ports[i].base, com_ports[i].irq);
    vpm_attach(vm);
    vreset_attach(vm);
    vpci_attach(vm);
    fw_cfg_attach(vm);
    if (!vm->no_hpet)
        vhpet_attach(vm);
    if (vm->bios) {
        /* POST's programming of the PIC and the PIT, now and after every device reset (the
         * last reset registered, so it comes after theirs). */
        firmware_bios_devices(vm, NULL);
        vm_register_reset(vm, firmware_bios_devices, NULL);
    }
}

void vm_platform_place(struct vm *vm)
{
    acpi_tables_write(vm);
    firmware_write(vm);
    if (vm->bios)
        firmware_bios_data(vm);
}
