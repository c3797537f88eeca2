/* SPDX-License-Identifier: BSD-2-Clause */
/* GDT and TSS of one CPU (SDM Vol. 3A 3.4.5 segment descriptors, 8.7 64-bit TSS). */
#ifndef MHV_ARCH_X86_GDT_H
#define MHV_ARCH_X86_GDT_H

#include <stdint.h>

#define GDT_KERNEL_CS 0x08
#define GDT_KERNEL_DS 0x10
#define GDT_TSS 0x18

/* Interrupt stack table slots (SDM Vol. 3A 7.14.5): faults that must not use a stack that may
 * be broken get their own. */
enum ist_slot { IST_DOUBLE_FAULT = 1, IST_NMI = 2, IST_MACHINE_CHECK = 3, IST_COUNT = 3 };
#define IST_STACK_SIZE 8192

struct __attribute__((packed)) tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
};

struct cpu_descriptors {
    uint64_t gdt[5]; /* null, code, data, TSS (two slots) */
    struct tss64 tss;
    uint8_t ist_stacks[IST_COUNT][IST_STACK_SIZE] __attribute__((aligned(16)));
};

/* Fills and loads the GDT and TSS of the calling CPU, and reloads the segment registers. */
void gdt_init_cpu(struct cpu_descriptors *d);

#endif
