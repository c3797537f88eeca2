/* I/O instruction exits (SDM Vol. 3C 29.2.1 table 29-5). Every port exits (both I/O bitmaps
 * are all ones); a registry of port handlers serves them; unclaimed ports read all-ones and
 * drop writes, as on a PC bus with nothing behind them. String forms (INS/OUTS) and their REP
 * prefixes are executed here, at most STRING_BATCH elements per exit so one exit stays short. */
#include <stddef.h>

#include "vm/vm.h"
#include "vmx/exit.h"
#include "vmx/guest_walk.h"
#include "vmx/inject.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs.h"

#define STRING_BATCH 1024

static const struct io_handler *find(struct vm *vm, uint16_t port)
{
    for (unsigned i = 0; i < vm->io_count; i++)
        if (port >= vm->io[i].base && port - vm->io[i].base < vm->io[i].count)
            return &vm->io[i];
    return NULL;
}

static uint32_t port_in(struct vcpu *v, uint16_t port, unsigned size)
{
    const struct io_handler *h = find(v->vm, port);
    uint32_t mask = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
    return (h && h->read ? h->read(v, h->ctx, port, size) : 0xffffffffu) & mask;
}

static void port_out(struct vcpu *v, uint16_t port, unsigned size, uint32_t value)
{
    const struct io_handler *h = find(v->vm, port);
    if (size < 4)
        value &= (1u << (8 * size)) - 1; /* OUT AL/AX: only those bits reach the port */
    if (h && h->write)
        h->write(v, h->ctx, port, size, value);
}

static enum exit_action string_io(struct vcpu *v, uint16_t port, unsigned size, bool in, bool rep)
{
    exit_info_read_details(v);
    /* Instruction information: address size in bits 9:7 (0: 16, 1: 32, 2: 64-bit), the
     * segment of OUTS in bits 17:15 (SDM Vol. 3C table 29-8); guest-linear address field:
     * the first element's linear address. */
    unsigned asize = (v->exit.instruction_info >> 7) & 7;
    uint64_t amask = asize == 0 ? 0xffff : asize == 1 ? 0xffffffffull : ~0ull;
    uint64_t rflags = vmcs_readnat(v, VMCS_GUEST_RFLAGS);
    int64_t step = (rflags & (1u << 10)) ? -(int64_t)size : (int64_t)size; /* DF */
    uint64_t count = rep ? v->regs.gpr[GPR_RCX] & amask : 1;
    unsigned reg = in ? GPR_RDI : GPR_RSI;
    uint64_t linear = v->exit.guest_linear;
    uint64_t done = 0;
    for (; done < count && done < STRING_BATCH; done++, linear += step) {
        uint32_t value = 0;
        if (in) {
            value = port_in(v, port, size);
            if (guest_write_linear(v, linear, &value, size) != size)
                return exit_stop_vm(v, "INS into unmapped guest memory");
        } else {
            if (guest_read_linear(v, linear, &value, size) != size)
                return exit_stop_vm(v, "OUTS from unmapped guest memory");
            port_out(v, port, size, value);
        }
    }
    uint64_t index = v->regs.gpr[reg];
    v->regs.gpr[reg] = (index & ~amask) | ((index + done * step) & amask);
    if (rep)
        v->regs.gpr[GPR_RCX] = (v->regs.gpr[GPR_RCX] & ~amask) | ((count - done) & amask);
    if (done == count)
        skip_instruction(v);
    /* else RIP stays: the guest re-executes the REP instruction for the rest */
    return EXIT_RESUME;
}

enum exit_action handle_io(struct vcpu *v)
{
    uint64_t q = v->exit.qualification;
    unsigned size = (q & 7) + 1;
    bool in = q & 8, string = q & 16, rep = q & 32;
    uint16_t port = (uint16_t)(q >> 16);
    if (string)
        return string_io(v, port, size, in, rep);
    if (in) {
        uint32_t value = port_in(v, port, size);
        uint64_t *rax = &v->regs.gpr[GPR_RAX];
        /* IN AL/AX leaves the rest of RAX alone; IN EAX zero-extends into RAX. */
        *rax = size == 4 ? value : (*rax & ~((1ull << (8 * size)) - 1)) | value;
    } else {
        port_out(v, port, size, (uint32_t)v->regs.gpr[GPR_RAX]);
    }
    if (v->vm->state != VM_RUNNING)
        return EXIT_RESCHED; /* the write stopped the VM (debug-exit port) */
    skip_instruction(v);
    return EXIT_RESUME;
}
