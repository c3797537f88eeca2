/* SPDX-License-Identifier: BSD-2-Clause */
/* CPU primitives: CPUID, control registers, halting. */
#ifndef MHV_ARCH_X86_CPU_H
#define MHV_ARCH_X86_CPU_H

#include <stdint.h>

struct cpuid_regs {
    uint32_t eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf)
{
    struct cpuid_regs r;
    __asm__ volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx) : "a"(leaf), "c"(subleaf));
    return r;
}

#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_EM (1ull << 2)
#define CR0_TS (1ull << 3)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_AM (1ull << 18)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR0_DEFINED (CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_NW | CR0_CD | CR0_PG)
#define CR4_PAE (1ull << 5)
#define CR4_PSE (1ull << 4)
#define CR4_DE (1ull << 3)
#define CR4_OSFXSR (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define CR4_VMXE (1ull << 13)
#define CR4_OSXSAVE (1ull << 18)
#define CR4_SMXE (1ull << 14)
#define CR4_LA57 (1ull << 12)
#define CR4_PCIDE (1ull << 17)
#define CR4_SMEP (1ull << 20)
#define CR4_SMAP (1ull << 21)
#define CR4_PKE (1ull << 22)

/* RFLAGS (SDM Vol. 1 3.4.3). */
#define RFLAGS_FIXED1 (1ull << 1)
#define RFLAGS_TF (1ull << 8)
#define RFLAGS_IF (1ull << 9)
#define RFLAGS_RF (1ull << 16)
#define RFLAGS_VM (1ull << 17)
#define RFLAGS_AC (1ull << 18)

#define DEFINE_CR_ACCESSORS(n)                                                              \
    static inline uint64_t read_cr##n(void)                                                 \
    {                                                                                       \
        uint64_t v;                                                                         \
        __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));                                   \
        return v;                                                                           \
    }                                                                                       \
    static inline void write_cr##n(uint64_t v) { __asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory"); }
DEFINE_CR_ACCESSORS(0)
DEFINE_CR_ACCESSORS(2)
DEFINE_CR_ACCESSORS(3)
DEFINE_CR_ACCESSORS(4)
#undef DEFINE_CR_ACCESSORS

/* Debug registers (SDM Vol. 3B 19.2). DR4/DR5 alias DR6/DR7 and are not used. */
#define DEFINE_DR_ACCESSORS(n)                                                              \
    static inline uint64_t read_dr##n(void)                                                 \
    {                                                                                       \
        uint64_t v;                                                                         \
        __asm__ volatile("mov %%dr" #n ", %0" : "=r"(v));                                   \
        return v;                                                                           \
    }                                                                                       \
    static inline void write_dr##n(uint64_t v) { __asm__ volatile("mov %0, %%dr" #n : : "r"(v)); }
DEFINE_DR_ACCESSORS(0)
DEFINE_DR_ACCESSORS(1)
DEFINE_DR_ACCESSORS(2)
DEFINE_DR_ACCESSORS(3)
DEFINE_DR_ACCESSORS(6)
#undef DEFINE_DR_ACCESSORS
#define DR6_RESET 0xffff0ff0ull /* DR6 after reset: reserved bits set, no condition (19.2.3) */
#define DR6_BS (1ull << 14)      /* single step */

static inline uint64_t read_rflags(void)
{
    uint64_t v;
    __asm__ volatile("pushfq; popq %0" : "=r"(v));
    return v;
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* Lets pending interrupts in, then masks them again. The jump matters under QEMU TCG, which
 * takes interrupts only between translated blocks: it ends one while IF is 1. On hardware the
 * window is the instruction after STI's shadow. */
static inline void irq_window(void)
{
    __asm__ volatile("sti; jmp 1f; 1: cli" ::: "memory");
}

static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }

/* Stops this CPU for good: interrupts off, HLT in a loop (an NMI or SMI may wake it). */
static inline __attribute__((noreturn)) void cpu_halt_forever(void)
{
    for (;;)
        __asm__ volatile("cli; hlt");
}

#endif
