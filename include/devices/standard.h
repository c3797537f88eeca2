/* SPDX-License-Identifier: BSD-2-Clause */
/* The devices every VM gets (include/vm/abi.h lists their addresses). */
#ifndef MHV_DEVICES_STANDARD_H
#define MHV_DEVICES_STANDARD_H

struct vm;

/* COM1 (transmit path), the debug-exit port, the POST port, the MMIO test device and the
 * minimal local APIC through which vCPU 0 starts the others with INIT/SIPI. */
void vm_add_standard_devices(struct vm *vm);

#endif
