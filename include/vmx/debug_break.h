/* SPDX-License-Identifier: BSD-2-Clause */
/* Data and I/O breakpoints (DR7) hit by accesses mhv performs for a guest: the port of an IN or
 * OUT, the memory an INS, OUTS or MMIO instruction reads or writes. The CPU never saw those
 * accesses (the instruction exited), so mhv matches them against the guest's breakpoints and
 * raises the #DB trap the CPU would have raised after the instruction (SDM Vol. 3B 18.2.4,
 * 18.3.1.2). */
#ifndef MHV_VMX_DEBUG_BREAK_H
#define MHV_VMX_DEBUG_BREAK_H

#include <stdint.h>

#include "vmx/vcpu.h"
#include "vmx/vmcs.h"

enum debug_access { DEBUG_READ, DEBUG_WRITE, DEBUG_IO };

/* B0-B3 (DR6 bits 3:0) of the breakpoints enabled in dr7 that an access of len bytes at addr (a
 * linear address, or a port for DEBUG_IO) hits. I/O breakpoints count only with CR4.DE. */
unsigned debug_breakpoints_hit(struct vcpu *v, uint64_t dr7, uint64_t addr, unsigned len, enum debug_access a);

/* The guest's DR7 when it enables any breakpoint, else 0 (the common case: no more work). */
static inline uint64_t debug_enabled_dr7(struct vcpu *v)
{
    uint64_t dr7 = vmcs_readnat(v, VMCS_GUEST_DR7);
    return dr7 & 0xff ? dr7 : 0;
}

/* Notes the breakpoints an access hits; the instruction's retirement (skip_instruction) or
 * inject_debug_trap delivers them. */
static inline void debug_note_access(struct vcpu *v, uint64_t dr7, uint64_t addr, unsigned len, enum debug_access a)
{
    if (dr7)
        v->debug_hits |= (uint8_t)debug_breakpoints_hit(v, dr7, addr, len, a);
}

#endif
