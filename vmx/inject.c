/* Event injection (SDM Vol. 3C 28.6) and skip_instruction(). */
#include "vmx/inject.h"

#include <stdbool.h>

#include "arch/x86/cpu.h"
#include "vm/vm.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs.h"

#define INFO_VALID (1u << 31)
#define INFO_ERROR_CODE (1u << 11)
#define INFO_TYPE_HW_EXCEPTION (3u << 8)
#define INFO_TYPE(info) (((info) >> 8) & 7)
#define INFO_VECTOR(info) ((info) & 0xff)

static bool has_error_code(unsigned vector)
{
    return vector == VEC_DF || (vector >= VEC_TS && vector <= VEC_PF) || vector == VEC_AC;
}

static bool contributory(unsigned vector)
{
    return vector == VEC_DE || (vector >= VEC_TS && vector <= VEC_GP);
}

void inject_exception(struct vcpu *v, unsigned vector, uint32_t error_code)
{
    /* An exception raised while delivering another (IDT-vectoring information valid, type
     * hardware exception): contributory or #PF on top of #PF/contributory is a #DF; anything
     * on top of #DF is a triple fault. */
    uint32_t first = v->exit.idt_vectoring_info;
    if ((first & INFO_VALID) && INFO_TYPE(first) == 3) {
        unsigned f = INFO_VECTOR(first);
        if (f == VEC_DF) {
            vm_stop(v->vm, 255, "triple fault: exception %u while delivering a double fault at RIP 0x%lx", vector,
                    v->exit.rip);
            return;
        }
        if ((contributory(f) || f == VEC_PF) && (contributory(vector) || (vector == VEC_PF && f == VEC_PF))) {
            vector = VEC_DF;
            error_code = 0;
        }
    }
    v->exit.idt_vectoring_info = 0; /* superseded: not re-injected */
    bool protected_mode = v->cr0 & CR0_PE;
    v->pending_valid = true;
    v->pending_info = INFO_VALID | INFO_TYPE_HW_EXCEPTION | vector |
                      (has_error_code(vector) && protected_mode ? INFO_ERROR_CODE : 0);
    v->pending_error = error_code;
}

void inject_events(struct vcpu *v)
{
    uint32_t info = 0, error = 0;
    if (v->pending_valid) {
        info = v->pending_info;
        error = v->pending_error;
        v->pending_valid = false;
    } else if (v->exit.idt_vectoring_info & INFO_VALID) {
        /* Bit 12 is undefined in IDT-vectoring info and reserved in the entry field. */
        info = v->exit.idt_vectoring_info & ~(1u << 12);
        error = v->exit.idt_vectoring_error;
        /* Software interrupts and exceptions need their instruction length again. */
        unsigned type = INFO_TYPE(info);
        if (type == 4 || type == 5 || type == 6)
            vmcs_write32(v, VMCS_ENTRY_INSTRUCTION_LENGTH, v->exit.instruction_length);
        v->exit.idt_vectoring_info = 0;
    } else {
        return;
    }
    if (info & INFO_ERROR_CODE)
        vmcs_write32(v, VMCS_ENTRY_EXCEPTION_ERROR_CODE, error);
    vmcs_write32(v, VMCS_ENTRY_INTERRUPTION_INFO, info);
}
