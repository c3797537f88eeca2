/* VMCS accessors and the VMCS instructions (SDM Vol. 3C 25.11, 31.3). */
#include "vmx/vmcs.h"

#include "arch/x86/percpu.h"
#include "kernel/panic.h"
#include "vmx/vcpu.h"
#include "vmx/vm_error.h"

/* VMX instructions report failure in RFLAGS: CF = VMfailInvalid, ZF = VMfailValid with the
 * number in the VM-instruction error field (SDM Vol. 3C 31.2). */
static uint32_t instruction_error(void)
{
    uint64_t e = 0;
    __asm__ volatile("vmread %1, %0" : "=r"(e) : "r"((uint64_t)VMCS_INSTRUCTION_ERROR) : "cc");
    return (uint32_t)e;
}

uint64_t vmcs_read_checked(const struct vcpu *v, uint32_t field)
{
    ASSERT(this_cpu()->current_vmcs == v->vmcs);
    uint64_t value;
    uint8_t fail;
    __asm__ volatile("vmread %2, %0; setna %1" : "=r"(value), "=r"(fail) : "r"((uint64_t)field) : "cc");
    if (fail)
        panic("VMREAD of field 0x%x failed: %s", field, vmx_instruction_error_text(instruction_error()));
    return value;
}

void vmcs_write_checked(const struct vcpu *v, uint32_t field, uint64_t value)
{
    ASSERT(this_cpu()->current_vmcs == v->vmcs);
    uint8_t fail;
    __asm__ volatile("vmwrite %1, %2; setna %0" : "=r"(fail) : "r"(value), "r"((uint64_t)field) : "cc");
    if (fail)
        panic("VMWRITE of 0x%lx to field 0x%x failed: %s", value, field,
              vmx_instruction_error_text(instruction_error()));
}

static int flags_to_result(uint8_t cf, uint8_t zf)
{
    return cf ? -1 : zf ? -2 : 0;
}

int vmx_vmclear(uint64_t vmcs_phys)
{
    uint8_t cf, zf;
    __asm__ volatile("vmclear %2; setc %0; setz %1" : "=r"(cf), "=r"(zf) : "m"(vmcs_phys) : "cc", "memory");
    return flags_to_result(cf, zf);
}

int vmx_vmptrld(uint64_t vmcs_phys)
{
    uint8_t cf, zf;
    __asm__ volatile("vmptrld %2; setc %0; setz %1" : "=r"(cf), "=r"(zf) : "m"(vmcs_phys) : "cc", "memory");
    return flags_to_result(cf, zf);
}
