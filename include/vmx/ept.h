/* SPDX-License-Identifier: BSD-2-Clause */
/* Extended page tables: guest-physical to host-physical (SDM Vol. 3C 30.3). */
#ifndef MHV_VMX_EPT_H
#define MHV_VMX_EPT_H

#include <stdint.h>

struct vm;

/* Creates the VM's EPT root and EPTP (write-back walks, A/D flags where supported). */
int ept_init(struct vm *vm);
/* Maps [gpa, gpa + size) to [hpa, ...) read/write/execute, write-back, with 1 GiB, 2 MiB or
 * 4 KiB pages as alignment allows. Returns 0 or -1 when out of memory for tables. */
int ept_map(struct vm *vm, uint64_t gpa, uint64_t hpa, uint64_t size);

#endif
