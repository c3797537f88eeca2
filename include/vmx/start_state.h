/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A vCPU's start state: the registers it holds at its first instruction, as plain data. The
 * loaders in vm/ describe where a guest starts by filling one (the helpers below set up the
 * common modes, then a boot protocol adjusts what it asks for: Linux's selectors and RSI,
 * multiboot's EAX and EBX), and vcpu_apply_start_state (vmx/vcpu_start.c) is the one place
 * that writes such a state into the VMCS and the saved registers. The same helpers give the
 * state after RESET, INIT and a STARTUP IPI. The helpers are pure: host tests use them as
 * they are.
 */
#ifndef MHV_VMX_START_STATE_H
#define MHV_VMX_START_STATE_H

#include <stdint.h>

#include "vmx/decode.h"
#include "vmx/guest_check.h"

enum vcpu_start_mode {
    VCPU_START_REAL,        /* real-address mode: CR0.PE = PG = 0, through unrestricted guest */
    VCPU_START_PROTECTED32, /* 32-bit protected mode, paging off */
    VCPU_START_LONG64,      /* IA-32e mode with a 64-bit code segment: the "IA-32e mode guest" entry control */
};

struct vcpu_start_state {
    enum vcpu_start_mode mode;
    struct vmx_segment seg[SEG_COUNT]; /* ES, CS, SS, DS, FS, GS, LDTR, TR, as the VMCS caches them */
    uint64_t gdtr_base, idtr_base;
    uint32_t gdtr_limit, idtr_limit;
    uint64_t cr0, cr3, cr4;            /* as the guest sees them; VMX's fixed bits are added on apply */
    uint64_t efer;
    uint64_t rip, rsp, rflags;
    uint64_t gpr[GPR_COUNT];           /* general registers in x86 encoding order; gpr[GPR_RSP] unused */
};

/* Where a protected-mode start finds its descriptors: a GDT the loader wrote into guest memory
 * with a flat code descriptor (32-bit, or 64-bit for long mode) and a flat data descriptor. */
struct start_gdt {
    uint64_t base;
    uint16_t limit;
    uint16_t code, data; /* their selectors */
};

/* Real-address mode at cs:ip with CS base cs << 4, as a CPU is after RESET or INIT (SDM Vol. 3A
 * 9.1.1, table 9-1) and after a STARTUP IPI (cs = vector << 8, ip = 0): data segments 0 with
 * 64 KiB limits, the interrupt vector table at 0, RFLAGS 2, every other register 0. */
void start_state_real_mode(struct vcpu_start_state *s, uint16_t cs, uint16_t ip);

/* 32-bit protected mode without paging (CR0 = PE | ET): CS the flat code selector, ES, SS, DS,
 * FS and GS the flat data selector, all with base 0 and a 4 GiB limit; TR a busy 32-bit TSS of
 * 104 bytes at 0, LDTR unusable, no IDT (limit 0); at rip with rsp. */
void start_state_flat32(struct vcpu_start_state *s, const struct start_gdt *gdt, uint64_t rip, uint64_t rsp);

/* 64-bit mode: as flat32 with a 64-bit code segment, paging through the tables at cr3 (CR0.PG
 * and WP, CR4.PAE), EFER.LME and LMA (SDM Vol. 3A 10.8.5). */
void start_state_long64(struct vcpu_start_state *s, const struct start_gdt *gdt, uint64_t cr3, uint64_t rip,
                        uint64_t rsp);

struct vcpu;
/* Puts s into v's VMCS (segments, descriptor tables, control registers with VMX's fixed bits,
 * EFER and the "IA-32e mode guest" entry control, RIP, RSP, RFLAGS) and v's saved registers
 * (CR0 and CR4 as the guest wrote them, the general registers). Every guest register a start
 * state names is written, so what was there before does not matter. v's VMCS must be current
 * here (vcpu_load). */
void vcpu_apply_start_state(struct vcpu *v, const struct vcpu_start_state *s);

#endif
