/* SPDX-License-Identifier: BSD-2-Clause */
/* The devices every VM gets (include/vm/abi.h lists their addresses). */
#ifndef MHV_DEVICES_STANDARD_H
#define MHV_DEVICES_STANDARD_H

struct vm;

/* The debug-exit port, the POST port, the MMIO test device and the local APIC page at
 * 0xfee00000 (devices/standard.c). */
void vm_add_standard_devices(struct vm *vm);

#endif
