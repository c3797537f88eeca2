/*
 * VMCS access. The VMCS a vCPU owns is only ever touched while it is this CPU's current VMCS
 * (vcpu_load made it so); every accessor asserts that. Accessors exist per field width and
 * reject a field of another width at compile time (the width is bits 14:13 of the encoding).
 * VMREAD/VMWRITE failures (VMfail) are bugs in mhv and panic with the VM-instruction error.
 */
#ifndef MHV_VMX_VMCS_H
#define MHV_VMX_VMCS_H

#include <stdint.h>

#include "vmx/vmcs_fields.h"

struct vcpu;

enum vmcs_width { VMCS_W16 = 0, VMCS_W64 = 1, VMCS_W32 = 2, VMCS_WNAT = 3 };
#define VMCS_FIELD_WIDTH(f) (((f) >> 13) & 3)

uint64_t vmcs_read_checked(const struct vcpu *v, uint32_t field);
void vmcs_write_checked(const struct vcpu *v, uint32_t field, uint64_t value);

#define VMCS_ACCESSOR_CHECK(f, w) _Static_assert(VMCS_FIELD_WIDTH(f) == (w), "VMCS field " #f " has another width")
#define vmcs_read16(v, f) ({ VMCS_ACCESSOR_CHECK(f, VMCS_W16); (uint16_t)vmcs_read_checked(v, f); })
#define vmcs_read32(v, f) ({ VMCS_ACCESSOR_CHECK(f, VMCS_W32); (uint32_t)vmcs_read_checked(v, f); })
#define vmcs_read64(v, f) ({ VMCS_ACCESSOR_CHECK(f, VMCS_W64); vmcs_read_checked(v, f); })
#define vmcs_readnat(v, f) ({ VMCS_ACCESSOR_CHECK(f, VMCS_WNAT); vmcs_read_checked(v, f); })
#define vmcs_write16(v, f, x) ({ VMCS_ACCESSOR_CHECK(f, VMCS_W16); vmcs_write_checked(v, f, (uint16_t)(x)); })
#define vmcs_write32(v, f, x) ({ VMCS_ACCESSOR_CHECK(f, VMCS_W32); vmcs_write_checked(v, f, (uint32_t)(x)); })
#define vmcs_write64(v, f, x) ({ VMCS_ACCESSOR_CHECK(f, VMCS_W64); vmcs_write_checked(v, f, (uint64_t)(x)); })
#define vmcs_writenat(v, f, x) ({ VMCS_ACCESSOR_CHECK(f, VMCS_WNAT); vmcs_write_checked(v, f, (uint64_t)(x)); })

/* The raw instructions. Each returns 0, or -1 on VMfailInvalid, -2 on VMfailValid. */
int vmx_vmclear(uint64_t vmcs_phys);
int vmx_vmptrld(uint64_t vmcs_phys);

#endif
