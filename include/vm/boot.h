/* Creating the VMs of this boot from the multiboot2 modules. */
#ifndef MHV_VM_BOOT_H
#define MHV_VM_BOOT_H

#include "kernel/boot_info.h"

/* Loads every module that is a guest image as a VM; returns how many VMs were created. */
unsigned vm_boot_from_modules(const struct boot_info *bi);

#endif
