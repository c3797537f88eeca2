/* EPT violations and misconfigurations (SDM Vol. 3C 30.3.3). Guest RAM is mapped in full, so
 * a violation is either an MMIO access to an emulated device (decode the instruction, perform
 * it, retire it) or an access outside the guest's memory, which stops the VM. */
#include <stddef.h>

#include "kernel/log.h"
#include "vm/vlapic.h"
#include "vm/vm.h"
#include "vmx/decode.h"
#include "vmx/exit.h"
#include "vmx/guest_walk.h"
#include "vmx/inject.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs.h"

static const struct mmio_handler *find(struct vm *vm, uint64_t gpa)
{
    for (unsigned i = 0; i < vm->mmio_count; i++)
        if (gpa >= vm->mmio[i].base && gpa - vm->mmio[i].base < vm->mmio[i].size)
            return &vm->mmio[i];
    return NULL;
}

enum exit_action exit_emulate_mmio(struct vcpu *v, const struct mmio_handler *h, uint64_t gpa)
{
    uint8_t bytes[15];
    uint64_t linear = vmcs_readnat(v, VMCS_GUEST_CS_BASE) + v->exit.rip;
    unsigned mode = guest_cpu_mode(v);
    if (mode != 64)
        linear &= 0xffffffffull;
    unsigned avail = guest_read_linear(v, linear, bytes, sizeof(bytes));
    struct mmio_insn insn;
    if (decode_mmio_insn(bytes, avail, mode, &insn) < 0)
        return exit_stop_vm(v, "MMIO access by an instruction mhv does not emulate");
    uint64_t offset = gpa - h->base;
    if (insn.op == MMIO_LOAD) {
        uint64_t value = h->read ? h->read(v, h->ctx, offset, insn.size) : ~0ull;
        v->regs.gpr[GPR_RSP] = vmcs_readnat(v, VMCS_GUEST_RSP);
        mmio_insn_complete_load(&insn, value, v->regs.gpr, mode);
        if (insn.reg == GPR_RSP)
            vmcs_writenat(v, VMCS_GUEST_RSP, v->regs.gpr[GPR_RSP]);
    } else {
        v->regs.gpr[GPR_RSP] = vmcs_readnat(v, VMCS_GUEST_RSP);
        if (h->write)
            h->write(v, h->ctx, offset, insn.size, mmio_insn_store_value(&insn, v->regs.gpr));
    }
    if (v->vm->state != VM_RUNNING)
        return EXIT_RESCHED;
    /* The exit gives no instruction length for EPT violations or APIC accesses: the decoder's. */
    v->exit.instruction_length = insn.length;
    skip_instruction(v);
    return EXIT_RESUME;
}

enum exit_action handle_ept_violation(struct vcpu *v)
{
    exit_info_read_details(v);
    uint64_t gpa = v->exit.guest_physical, q = v->exit.qualification;
    struct mmio_handler moved;
    const struct mmio_handler *h = vlapic_moved_mmio(v, gpa, &moved); /* this vCPU's APIC, moved */
    if (!h)
        h = find(v->vm, gpa);
    if (h && !(q & 4))
        return exit_emulate_mmio(v, h, gpa);
    log_err("vm %s: vCPU %u: %s of guest-physical 0x%lx, outside the VM's %lu KiB of memory and devices",
            v->vm->name, v->id, q & 4 ? "instruction fetch" : q & 2 ? "write" : "read", gpa, v->vm->mem_size >> 10);
    return exit_stop_vm(v, "access outside guest memory");
}

enum exit_action handle_ept_misconfig(struct vcpu *v)
{
    exit_info_read_details(v);
    /* mhv builds every EPT entry itself: a misconfiguration is mhv's bug, but only this VM
     * depends on these tables. */
    log_err("vm %s: EPT misconfiguration at guest-physical 0x%lx (an mhv bug)", v->vm->name, v->exit.guest_physical);
    return exit_stop_vm(v, "EPT misconfiguration");
}
