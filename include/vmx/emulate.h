/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Execution of a decoded instruction (include/vmx/decode.h) on a register file and, through
 * callbacks, on the guest's memory and system state: what mhv does for an instruction that
 * touched emulated MMIO, as the CPU would have done it (SDM Vol. 2's "Operation" sections).
 * Pure: vmx/emulate_vcpu.c gives it a vCPU (segmentation, paging, RAM and the devices); host
 * tests give it a flat memory.
 *
 * Registers change only when an instruction completes (or, for REP string instructions, an
 * element does); a fault leaves them as they were before the faulting access, memory as far as
 * the instruction had written it, as the CPU does.
 */
#ifndef MHV_VMX_EMULATE_H
#define MHV_VMX_EMULATE_H

#include <stdbool.h>
#include <stdint.h>

#include "vmx/decode.h"
#include "vmx/guest_walk.h"

enum emu_result {
    EMU_OK,      /* done: RIP goes to next_rip */
    EMU_AGAIN,   /* a REP string instruction did a batch of elements: RIP stays, it runs again */
    EMU_FAULT,   /* the guest gets fault (vector, error code, CR2 for #PF); RIP stays */
    EMU_STOP,    /* mhv cannot go on: stop the VM (stop_reason) */
};

/* How a memory access is made: a read, a write, or the read of a read-modify-write (checked
 * for writing, as the CPU checks a locked or RMW operand before it reads). */
enum emu_access { EMU_READ, EMU_WRITE, EMU_RMW };

struct emu;

struct emu_ops {
    /* len bytes (1-16) at seg:offset, offset already truncated to the address size: the
     * segment's checks, paging, then RAM or a device. */
    enum emu_result (*mem)(struct emu *e, unsigned seg, uint64_t offset, void *buf, unsigned len,
                           enum emu_access how);
    /* Whether a branch may go to rip in the current code segment (canonical in 64-bit mode,
     * within CS's limit otherwise): false is #GP(0). */
    bool (*rip_ok)(struct emu *e, uint64_t rip);
    /* CR0 as the guest reads it (SMSW). */
    uint64_t (*cr0)(struct emu *e);
    /* Segment registers: the selector (MOV from Sreg), and a load with its protection checks
     * (MOV to Sreg: SEG_ES, SEG_SS, SEG_DS, SEG_FS, SEG_GS). */
    uint16_t (*sreg)(struct emu *e, unsigned seg);
    enum emu_result (*load_sreg)(struct emu *e, unsigned seg, uint16_t selector);
    /* LTR; a far JMP to selector:offset (sets e->next_rip on success). */
    enum emu_result (*load_tr)(struct emu *e, uint16_t selector);
    enum emu_result (*far_jmp)(struct emu *e, uint16_t selector, uint64_t offset, unsigned opsize);
    /* XMM (kind VEC_XMM, 16 bytes) and MMX (VEC_MM, 8 bytes) registers. */
    void (*vec)(struct emu *e, unsigned kind, unsigned reg, void *buf, bool write);
};

struct emu {
    const struct emu_ops *ops;
    uint64_t gpr[GPR_COUNT];   /* RSP included */
    uint64_t rflags;
    uint64_t next_rip;         /* in: the address after the instruction; out: where to go on */
    unsigned mode;             /* 16, 32 or 64: the code segment's default size */
    unsigned stack_size;       /* 2, 4 or 8: SS's address size (SS.B, or 64-bit mode) */
    unsigned max_elements;     /* REP string elements per call (then EMU_AGAIN) */
    bool mov_ss;               /* out: SS was loaded (interrupts wait one instruction) */
    struct guest_fault fault;  /* EMU_FAULT: what the guest gets */
    const char *stop_reason;   /* EMU_STOP */
};

enum emu_result emulate_insn(struct emu *e, const struct mmio_insn *insn);

/* Fills e->fault with an exception (no CR2) and returns EMU_FAULT. */
enum emu_result emu_raise(struct emu *e, unsigned vector, uint32_t error_code);

#endif
