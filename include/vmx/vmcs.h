/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * VMCS access. The VMCS a vCPU owns is only ever touched while it is this CPU's current VMCS
 * (vcpu_load made it so); every accessor asserts that. Accessors exist per field width and
 * reject a field of another width at compile time (the width is bits 14:13 of the encoding).
 * VMREAD/VMWRITE failures (VMfail) are bugs in mhv and panic with the VM-instruction error.
 */
#ifndef MHV_VMX_VMCS_H
#define MHV_VMX_VMCS_H

#include <stddef.h>
#include <stdint.h>

#include "arch/x86/percpu.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs_fields.h"
#include "vmx/vmx_cpu.h"

enum vmcs_width { VMCS_W16 = 0, VMCS_W64 = 1, VMCS_W32 = 2, VMCS_WNAT = 3 };
#define VMCS_FIELD_WIDTH(f) (((f) >> 13) & 3)

/* Out of line, never return: the VMCS is not current here, or the instruction failed. */
__attribute__((noreturn, cold)) void vmcs_not_current(const struct vcpu *v, uint32_t field);
__attribute__((noreturn, cold)) void vmcs_failed(const char *insn, uint32_t field, uint64_t value);

/* This CPU's current_vmcs, a %gs-relative load and one more: cheap enough to check on every
 * access (debug builds). */
static inline uint64_t this_cpu_current_vmcs(void)
{
    const struct vmx_cpu *vmx;
    __asm__ volatile("movq %%gs:%c1, %0" : "=r"(vmx) : "i"(offsetof(struct percpu, vmx)));
    return vmx->current_vmcs;
}

/* VMREAD/VMWRITE set CF or ZF on failure (SDM Vol. 3C 31.2): "jbe" takes both. */
#ifndef MHV_DEBUG
#define MHV_DEBUG 1
#endif
/* Debug builds check that the VMCS is this CPU's current one before every access. */
#define VMCS_ASSERT_CURRENT(v, field)                                                       \
    do {                                                                                    \
        if (MHV_DEBUG && __builtin_expect(this_cpu_current_vmcs() != (v)->vmcs, 0))        \
            vmcs_not_current(v, field);                                                     \
    } while (0)

/* A VMREAD or VMWRITE fails only on a bug in mhv: no current VMCS (asserted above) or a field
 * encoding the CPU does not have or may not write (the accessors take constants). Debug builds
 * check every one and panic with the VM-instruction error; release builds do not branch on
 * the flags, as NOVA and ACRN do not: on the exit path each check is an instruction of the
 * round trip `make bench` counts. */
static inline uint64_t vmcs_read_checked(const struct vcpu *v, uint32_t field)
{
    VMCS_ASSERT_CURRENT(v, field);
    uint64_t value;
    if (!MHV_DEBUG) {
        __asm__ volatile("vmread %[field], %[value]" : [value] "=r"(value) : [field] "r"((uint64_t)field) : "cc");
        return value;
    }
    __asm__ goto("vmread %[field], %[value]\n\tjbe %l[failed]"
                 : [value] "=r"(value) : [field] "r"((uint64_t)field) : "cc" : failed);
    return value;
failed:
    vmcs_failed("VMREAD", field, 0);
}

static inline void vmcs_write_checked(const struct vcpu *v, uint32_t field, uint64_t value)
{
    VMCS_ASSERT_CURRENT(v, field);
    if (!MHV_DEBUG) {
        __asm__ volatile("vmwrite %[value], %[field]" : : [value] "r"(value), [field] "r"((uint64_t)field) : "cc");
        return;
    }
    __asm__ goto("vmwrite %[value], %[field]\n\tjbe %l[failed]"
                 : : [value] "r"(value), [field] "r"((uint64_t)field) : "cc" : failed);
    return;
failed:
    vmcs_failed("VMWRITE", field, value);
}

#define VMCS_ACCESSOR_CHECK(f, w) _Static_assert(VMCS_FIELD_WIDTH(f) == (w), "VMCS field " #f " has another width")
#define vmcs_read16(v, f) ({ VMCS_ACCESSOR_CHECK(f, VMCS_W16); (uint16_t)vmcs_read_checked(v, f); })
#define vmcs_read32(v, f) ({ VMCS_ACCESSOR_CHECK(f, VMCS_W32); (uint32_t)vmcs_read_checked(v, f); })
#define vmcs_read64(v, f) ({ VMCS_ACCESSOR_CHECK(f, VMCS_W64); vmcs_read_checked(v, f); })
#define vmcs_readnat(v, f) ({ VMCS_ACCESSOR_CHECK(f, VMCS_WNAT); vmcs_read_checked(v, f); })
#define vmcs_write16(v, f, x) ({ VMCS_ACCESSOR_CHECK(f, VMCS_W16); vmcs_write_checked(v, f, (uint16_t)(x)); })
#define vmcs_write32(v, f, x) ({ VMCS_ACCESSOR_CHECK(f, VMCS_W32); vmcs_write_checked(v, f, (uint32_t)(x)); })
#define vmcs_write64(v, f, x) ({ VMCS_ACCESSOR_CHECK(f, VMCS_W64); vmcs_write_checked(v, f, (uint64_t)(x)); })
#define vmcs_writenat(v, f, x) ({ VMCS_ACCESSOR_CHECK(f, VMCS_WNAT); vmcs_write_checked(v, f, (uint64_t)(x)); })

/* The raw instructions. Each returns 0, or -1 on VMfailInvalid (CF), -2 on VMfailValid (ZF)
 * (SDM Vol. 3C 31.2). VMPTRLD is inline: vcpu_load runs it on every switch between vCPUs. */
int vmx_vmclear(uint64_t vmcs_phys);

static inline int vmx_vmptrld(uint64_t vmcs_phys)
{
    __asm__ goto("vmptrld %0\n\tjc %l[fail_invalid]\n\tjz %l[fail_valid]"
                 : : "m"(vmcs_phys) : "cc", "memory" : fail_invalid, fail_valid);
    return 0;
fail_invalid:
    return -1;
fail_valid:
    return -2;
}

#endif
