/* SPDX-License-Identifier: BSD-2-Clause */
/* The start states of the common modes (include/vmx/start_state.h): the one place where a
 * starting vCPU's segments are set up. Pure; vmx/vcpu_start.c applies them. */
#include "vmx/start_state.h"

#include "arch/x86/cpu.h"
#include "arch/x86/msr.h"
#include "lib/string.h"
#include "vmx/segment.h"

/* Access rights in the VMCS format (SDM Vol. 3C 25.4.1): present code (execute/read) and data
 * (read/write) segments, accessed; a busy TSS (type 11, SDM Vol. 3A table 3-2). */
#define AR_CODE (SEG_AR_P | SEG_AR_S | SEG_TYPE_CODE | SEG_TYPE_RW | SEG_TYPE_ACCESSED)
#define AR_DATA (SEG_AR_P | SEG_AR_S | SEG_TYPE_RW | SEG_TYPE_ACCESSED)
#define AR_TSS_BUSY (SEG_AR_P | 11u)
#define LIMIT_64K 0xffffu
#define LIMIT_4G 0xffffffffu
#define TSS32_LIMIT 0x67u   /* a 32-bit TSS is 104 bytes (SDM Vol. 3A 8.2.1) */
#define REAL_MODE_IVT_LIMIT 0x3ffu

static void segment(struct vcpu_start_state *s, unsigned seg, uint16_t selector, uint64_t base, uint32_t limit,
                    uint32_t access)
{
    s->seg[seg] = (struct vmx_segment){ .selector = selector, .base = base, .limit = limit, .access = access };
}

void start_state_real_mode(struct vcpu_start_state *s, uint16_t cs, uint16_t ip)
{
    memset(s, 0, sizeof(*s));
    s->mode = VCPU_START_REAL;
    for (unsigned i = SEG_ES; i <= SEG_GS; i++)
        segment(s, i, 0, 0, LIMIT_64K, AR_DATA);
    segment(s, SEG_CS, cs, (uint64_t)cs << 4, LIMIT_64K, AR_CODE);
    segment(s, SEG_LDTR, 0, 0, 0, SEG_AR_UNUSABLE);
    segment(s, SEG_TR, 0, 0, LIMIT_64K, AR_TSS_BUSY);
    s->gdtr_limit = LIMIT_64K;
    s->idtr_limit = REAL_MODE_IVT_LIMIT;
    s->cr0 = CR0_ET;
    s->rip = ip;
    s->rflags = RFLAGS_FIXED1;
}

void start_state_flat32(struct vcpu_start_state *s, const struct start_gdt *gdt, uint64_t rip, uint64_t rsp)
{
    start_state_real_mode(s, 0, 0);
    s->mode = VCPU_START_PROTECTED32;
    for (unsigned i = SEG_ES; i <= SEG_GS; i++)
        segment(s, i, gdt->data, 0, LIMIT_4G, SEG_AR_G | SEG_AR_DB | AR_DATA);
    segment(s, SEG_CS, gdt->code, 0, LIMIT_4G, SEG_AR_G | SEG_AR_DB | AR_CODE);
    s->seg[SEG_TR].limit = TSS32_LIMIT;
    s->gdtr_base = gdt->base;
    s->gdtr_limit = gdt->limit;
    s->idtr_limit = 0;
    s->cr0 = CR0_PE | CR0_ET;
    s->rip = rip;
    s->rsp = rsp;
}

void start_state_long64(struct vcpu_start_state *s, const struct start_gdt *gdt, uint64_t cr3, uint64_t rip,
                        uint64_t rsp)
{
    start_state_flat32(s, gdt, rip, rsp);
    s->mode = VCPU_START_LONG64;
    s->seg[SEG_CS].access = SEG_AR_G | SEG_AR_L | AR_CODE; /* L = 1 requires D = 0 (SDM Vol. 3A 5.2.1) */
    s->cr0 |= CR0_PG | CR0_WP;
    s->cr4 = CR4_PAE;
    s->cr3 = cr3;
    s->efer = EFER_LME | EFER_LMA;
}
