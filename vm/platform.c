/* The virtual PC platform every VM gets (include/vm/platform.h). */
#include "vm/platform.h"

#include "vm/ioapic.h"
#include "vm/vm.h"

void vm_add_platform(struct vm *vm)
{
    vioapic_attach(vm);
    vpic_attach(vm);
    vpit_attach(vm);
    vrtc_attach(vm);
    vuart_attach(vm, 0x3f8, PLATFORM_COM1_IRQ);
    vpm_attach(vm);
    vpci_attach(vm);
    fw_cfg_attach(vm);
}

void vm_platform_place(struct vm *vm)
{
    acpi_tables_write(vm);
}
