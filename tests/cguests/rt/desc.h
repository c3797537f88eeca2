/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The runtime's own descriptor tables, shared by every vCPU: a GDT with kernel and user
 * segments and one TSS per vCPU (a TSS descriptor is marked busy by LTR, so vCPUs cannot share
 * one), and the page tables (paging.c).
 */
#ifndef RT_DESC_H
#define RT_DESC_H

#include <stdint.h>

#define SEL_KERNEL_CODE 0x08 /* 64-bit */
#define SEL_KERNEL_DATA 0x10
#define SEL_KERNEL_CODE32 0x18 /* for the AP trampoline; also SYSRET's STAR base */
#define SEL_USER_DATA 0x23   /* 0x20 | RPL 3 */
#define SEL_USER_CODE 0x2b   /* 0x28 | RPL 3, 64-bit */
#define SEL_TSS(cpu) (0x30 + 16 * (cpu))

struct rt_tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base; /* past the limit: no I/O permission bitmap, CPL 3 port I/O raises #GP */
} __attribute__((packed));

extern struct rt_tss rt_tss[];

void rt_gdt_init(void);
/* Loads the GDT, reloads the segment registers and this vCPU's TSS. */
void rt_gdt_load(unsigned cpu);
/* GDTR contents for the AP trampoline. */
uint64_t rt_gdt_base(void);
uint16_t rt_gdt_limit(void);

/* Identity map of the first 4 GiB, 2 MiB pages, user-accessible (for try_user). */
void rt_paging_init(void);
uint64_t rt_page_table_root(void);

#endif
