/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Operations that may fault, run so that the guest learns which vector they raised:
 *
 *     int v = try_wrmsr(0x12345678, 0);           // 13 (#GP), or -1: it worked
 *     int v = TRY_ASM("ud2");                      // 6 (#UD)
 *     int v = TRY_ASM("mov %0, %%cr4", : : "r"(x)); // any instruction, with asm operands
 *     int v = try_call(poke, &arg);                // any C function: unwinds on the first fault
 *
 * TRY_ASM records the instruction's address and the one after it in the .rt_fixups table; the
 * exception handler (trap.c) that finds the faulting RIP there stores the vector, error code
 * and CR2 in this vCPU's struct rt_cpu and resumes after the instruction, whose outputs are
 * then undefined. A trap (INT3, a single step) whose RIP is the resume address is recorded the
 * same way. try_call() saves the callee-saved registers and the stack pointer; a fault anywhere
 * inside the function (that no TRY_ASM claims) returns to try_call's caller with the vector.
 * Each returns -1 when nothing faulted; fault_error()/fault_cr2() say more about the last fault.
 */
#ifndef RT_FAULT_H
#define RT_FAULT_H

#include <stdint.h>

#include "percpu.h"

#define RT_FIXUP(insn)                                                                             \
    "771:\n\t" insn "\n772:\n\t"                                                                   \
    ".pushsection .rt_fixups, \"a\"\n\t.balign 8\n\t.quad 771b, 772b\n\t.popsection\n\t"

static inline void rt_fault_arm(void)
{
    this_cpu()->fault_vector = -1;
    __asm__ volatile("" ::: "memory");
}

static inline int rt_fault_taken(void)
{
    __asm__ volatile("" ::: "memory");
    return this_cpu()->fault_vector;
}

/* TRY_ASM("insn" [, asm operands starting with ':']): the vector it raised, or -1. */
#define TRY_ASM(insn, ...)                                                                         \
    ({                                                                                             \
        rt_fault_arm();                                                                            \
        __asm__ volatile(RT_FIXUP(insn) __VA_ARGS__);                                              \
        rt_fault_taken();                                                                          \
    })

static inline uint64_t fault_error(void) { return this_cpu()->fault_error; }
static inline uint64_t fault_cr2(void) { return this_cpu()->fault_cr2; }

int try_call(void (*fn)(void *arg), void *arg);
/* Runs fn(arg) at CPL 3 (user code and data segments, a small user stack, interrupts as the
 * caller has them): -1 when fn returns, else the vector of the fault that ended it. fn may use
 * no runtime function (they expect CPL 0). */
int try_user(void (*fn)(void *arg), void *arg);

static inline int try_rdmsr(uint32_t msr, uint64_t *value)
{
    uint32_t lo = 0, hi = 0;
    int v = TRY_ASM("rdmsr", : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
    *value = ((uint64_t)hi << 32) | lo;
    return v;
}

static inline int try_wrmsr(uint32_t msr, uint64_t value)
{
    return TRY_ASM("wrmsr", : : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)) : "memory");
}

static inline int try_inb(uint16_t port, uint8_t *value)
{
    uint8_t v = 0xff;
    int r = TRY_ASM("inb %w1, %b0", : "+a"(v) : "Nd"(port));
    *value = v;
    return r;
}

static inline int try_inw(uint16_t port, uint16_t *value)
{
    uint16_t v = 0xffff;
    int r = TRY_ASM("inw %w1, %w0", : "+a"(v) : "Nd"(port));
    *value = v;
    return r;
}

static inline int try_inl(uint16_t port, uint32_t *value)
{
    uint32_t v = 0xffffffff;
    int r = TRY_ASM("inl %w1, %k0", : "+a"(v) : "Nd"(port));
    *value = v;
    return r;
}

static inline int try_outb(uint16_t port, uint8_t v) { return TRY_ASM("outb %b0, %w1", : : "a"(v), "Nd"(port)); }
static inline int try_outw(uint16_t port, uint16_t v) { return TRY_ASM("outw %w0, %w1", : : "a"(v), "Nd"(port)); }
static inline int try_outl(uint16_t port, uint32_t v) { return TRY_ASM("outl %k0, %w1", : : "a"(v), "Nd"(port)); }

/* MOV to/from a control register n (0, 2, 3, 4, 8): the vector, or -1. Other n: #UD by design. */
static inline int try_write_cr(unsigned n, uint64_t value)
{
    switch (n) {
    case 0: return TRY_ASM("mov %0, %%cr0", : : "r"(value) : "memory");
    case 2: return TRY_ASM("mov %0, %%cr2", : : "r"(value) : "memory");
    case 3: return TRY_ASM("mov %0, %%cr3", : : "r"(value) : "memory");
    case 4: return TRY_ASM("mov %0, %%cr4", : : "r"(value) : "memory");
    case 8: return TRY_ASM("mov %0, %%cr8", : : "r"(value) : "memory");
    default: return 6;
    }
}

static inline int try_read_cr(unsigned n, uint64_t *value)
{
    uint64_t v = 0;
    int r;
    switch (n) {
    case 0: r = TRY_ASM("mov %%cr0, %0", : "=r"(v)); break;
    case 2: r = TRY_ASM("mov %%cr2, %0", : "=r"(v)); break;
    case 3: r = TRY_ASM("mov %%cr3, %0", : "=r"(v)); break;
    case 4: r = TRY_ASM("mov %%cr4, %0", : "=r"(v)); break;
    case 8: r = TRY_ASM("mov %%cr8, %0", : "=r"(v)); break;
    default: r = 6;
    }
    *value = v;
    return r;
}

/* MOV to/from debug register n (0-7; 4 and 5 alias 6 and 7 unless CR4.DE, SDM Vol. 3B 18.2.2). */
static inline int try_write_dr(unsigned n, uint64_t value)
{
    switch (n) {
    case 0: return TRY_ASM("mov %0, %%db0", : : "r"(value));
    case 1: return TRY_ASM("mov %0, %%db1", : : "r"(value));
    case 2: return TRY_ASM("mov %0, %%db2", : : "r"(value));
    case 3: return TRY_ASM("mov %0, %%db3", : : "r"(value));
    case 4: return TRY_ASM("mov %0, %%db4", : : "r"(value));
    case 5: return TRY_ASM("mov %0, %%db5", : : "r"(value));
    case 6: return TRY_ASM("mov %0, %%db6", : : "r"(value));
    case 7: return TRY_ASM("mov %0, %%db7", : : "r"(value));
    default: return 6;
    }
}

static inline int try_read_dr(unsigned n, uint64_t *value)
{
    uint64_t v = 0;
    int r;
    switch (n) {
    case 0: r = TRY_ASM("mov %%db0, %0", : "=r"(v)); break;
    case 1: r = TRY_ASM("mov %%db1, %0", : "=r"(v)); break;
    case 2: r = TRY_ASM("mov %%db2, %0", : "=r"(v)); break;
    case 3: r = TRY_ASM("mov %%db3, %0", : "=r"(v)); break;
    case 4: r = TRY_ASM("mov %%db4, %0", : "=r"(v)); break;
    case 5: r = TRY_ASM("mov %%db5, %0", : "=r"(v)); break;
    case 6: r = TRY_ASM("mov %%db6, %0", : "=r"(v)); break;
    case 7: r = TRY_ASM("mov %%db7, %0", : "=r"(v)); break;
    default: r = 6;
    }
    *value = v;
    return r;
}

static inline int try_xsetbv(uint32_t index, uint64_t value)
{
    return TRY_ASM("xsetbv", : : "c"(index), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)) : "memory");
}

static inline int try_xgetbv(uint32_t index, uint64_t *value)
{
    uint32_t lo = 0, hi = 0;
    int r = TRY_ASM("xgetbv", : "+a"(lo), "+d"(hi) : "c"(index));
    *value = ((uint64_t)hi << 32) | lo;
    return r;
}

static inline int try_rdtscp(uint64_t *tsc, uint32_t *aux)
{
    uint32_t lo = 0, hi = 0, c = 0;
    int r = TRY_ASM("rdtscp", : "+a"(lo), "+d"(hi), "+c"(c));
    *tsc = ((uint64_t)hi << 32) | lo;
    *aux = c;
    return r;
}

static inline int try_rdpid(uint64_t *value)
{
    uint64_t v = 0;
    int r = TRY_ASM("rdpid %0", : "+r"(v));
    *value = v;
    return r;
}

static inline int try_xsave(void *area, uint64_t mask)
{
    return TRY_ASM("xsave64 (%0)", : : "r"(area), "a"((uint32_t)mask), "d"((uint32_t)(mask >> 32)) : "memory");
}

static inline int try_xrstor(const void *area, uint64_t mask)
{
    return TRY_ASM("xrstor64 (%0)", : : "r"(area), "a"((uint32_t)mask), "d"((uint32_t)(mask >> 32)) : "memory");
}

/* Memory access at any address (a fault, or an access mhv stops the VM for). */
static inline int try_read64(uintptr_t addr, uint64_t *value)
{
    uint64_t v = 0;
    int r = TRY_ASM("mov (%1), %0", : "+r"(v) : "r"(addr) : "memory");
    *value = v;
    return r;
}

static inline int try_write64(uintptr_t addr, uint64_t value)
{
    return TRY_ASM("mov %0, (%1)", : : "r"(value), "r"(addr) : "memory");
}

#endif
