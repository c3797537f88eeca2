/* SPDX-License-Identifier: BSD-2-Clause */
/* The built-in demo VMs (vm/demo.c). */
#ifndef MHV_VM_DEMO_H
#define MHV_VM_DEMO_H

#include "kernel/boot_info.h"

/* Boots vm/demo.cfg with its built-in guests (and Linux when the modules vmlinuz and initrd
 * are there); returns how many VMs were created. */
unsigned vm_boot_demo(const struct boot_info *bi);

#endif
