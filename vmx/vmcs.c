/* SPDX-License-Identifier: BSD-2-Clause */
/* VMCS accessors and the VMCS instructions (SDM Vol. 3C 25.11, 31.3). */
#include "vmx/vmcs.h"

#include "arch/x86/percpu.h"
#include "kernel/panic.h"
#include "vm/vm.h"
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

void vmcs_not_current(const struct vcpu *v, uint32_t field)
{
    panic("VMCS field 0x%x of vCPU %s/%u accessed while its VMCS is not current on cpu%u (current: 0x%lx)",
          field, v->vm->name, v->id, this_cpu()->index, this_vmx_cpu()->current_vmcs);
}

void vmcs_failed(const char *insn, uint32_t field, uint64_t value)
{
    panic("%s of field 0x%x (value 0x%lx) failed: %s", insn, field, value,
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
