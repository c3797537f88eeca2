/* SPDX-License-Identifier: BSD-2-Clause */
/* Creating the VMs of this boot from the multiboot2 modules. */
#ifndef MHV_VM_BOOT_H
#define MHV_VM_BOOT_H

#include "kernel/boot_info.h"

/* The VMs of this boot: the configuration module (config=NAME, or a module whose name ends in
 * .cfg), else every module that is a guest image, else the built-in demo (vm/demo.c).
 * Returns how many VMs were created. */
unsigned vm_boot_from_modules(const struct boot_info *bi);

/* Creates the VMs the configuration module describes, with kernels and ramdisks from bi's
 * modules; each VM that cannot be created is reported by file and line. */
unsigned vm_boot_config(const struct boot_module *cfg, const struct boot_info *bi);

#endif
