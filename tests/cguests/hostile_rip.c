/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Hostile guest: RIP at the edges of the address space, with an instruction mhv performs for
 * the guest (CPUID, IN, OUT, VMCALL) as the last one before the edge, and one it does not
 * (NOP) to show the CPU's own behaviour next to it:
 *  - 64-bit code in the last canonical page, 0x00007ffffffff000: the instruction ends at
 *    0x0000800000000000, which is not canonical, so the next fetch raises #GP (SDM Vol. 1
 *    3.3.7.1; Vol. 3A 7.15: #GP for a non-canonical address);
 *  - 64-bit code in the last page, 0xfffffffffffff000: RIP goes on at 0, canonical again;
 *  - compatibility-mode code (32-bit code segment in IA-32e mode) in the page below 4 GiB: EIP
 *    is 32 bits wide, so after an instruction that ends at 4 GiB execution goes on at 0
 *    (SDM Vol. 1 3.6: the instruction pointer is EIP outside 64-bit mode);
 * The NOP's outcome is printed, not checked: Bochs itself reports RIP 0x100000000 for the #UD
 * at 0 in compatibility mode.
 *  - arg0 1: CPUID in the last two bytes of RAM, arg0 2: CPUID across the end of RAM: the
 *    next fetch (or this one) is outside the VM's memory, which mhv stops the VM for
 *    (README "VM stops", status 254). bochs_chostile expects that stop.
 * The code pages are the guest's own RAM mapped there by its page tables; linear 0 is
 * guest-physical 0, where the code that follows a wrap lives. What happened is recorded by
 * #GP/#UD handlers that then leave through INT3, which try_call() turns into a return.
 */
#include "rt.h"

MHV_GUEST(.name = "hostile_rip", .memory_mib = 8);

#define PTE (1ull | 2ull | 4ull) /* present, writable, user (the runtime's pages are user pages) */

static uint64_t pdpt_a[512] __attribute__((aligned(4096))), pd_a[512] __attribute__((aligned(4096))),
    pt_a[512] __attribute__((aligned(4096)));
static uint64_t pdpt_b[512] __attribute__((aligned(4096))), pd_b[512] __attribute__((aligned(4096))),
    pt_b[512] __attribute__((aligned(4096)));
static uint64_t pt_c[512] __attribute__((aligned(4096)));
static uint8_t code_a[4096] __attribute__((aligned(4096))), code_b[4096] __attribute__((aligned(4096))),
    code_c[4096] __attribute__((aligned(4096)));

#define EDGE_A 0x0000800000000000ull /* the first non-canonical address */
#define PAGE_A (EDGE_A - 4096)
#define PAGE_B 0xfffffffffffff000ull
#define PAGE_C 0xfffff000ull

static uint64_t *table(uint64_t entry) { return (uint64_t *)(uintptr_t)(entry & 0x000ffffffffff000ull); }

static void map_edges(void)
{
    uint64_t *pml4 = (uint64_t *)(uintptr_t)rt_page_table_root();
    pml4[255] = (uint64_t)(uintptr_t)pdpt_a | PTE;
    pdpt_a[511] = (uint64_t)(uintptr_t)pd_a | PTE;
    pd_a[511] = (uint64_t)(uintptr_t)pt_a | PTE;
    pt_a[511] = (uint64_t)(uintptr_t)code_a | PTE;
    pml4[511] = (uint64_t)(uintptr_t)pdpt_b | PTE;
    pdpt_b[511] = (uint64_t)(uintptr_t)pd_b | PTE;
    pd_b[511] = (uint64_t)(uintptr_t)pt_b | PTE;
    pt_b[511] = (uint64_t)(uintptr_t)code_b | PTE;
    /* 0xffe00000-0xffffffff: a 2 MiB page of nothing (not RAM) until now; a page table whose
     * last entry is a RAM page. */
    uint64_t *pd3 = table(table(pml4[0])[3]);
    pd3[511] = (uint64_t)(uintptr_t)pt_c | PTE;
    pt_c[511] = (uint64_t)(uintptr_t)code_c | PTE;
    write_cr3(read_cr3());
}

/* Guest-physical (and linear) 0: what runs after a wrap. The compiler takes low constant
 * addresses for null pointers, so the address comes through an asm. */
static uint8_t *low_memory(void)
{
    uintptr_t a = 0;
    __asm__("" : "+r"(a));
    return (uint8_t *)a;
}

/* What the last exception was: recorded by on_fault, which then leaves through escape_int3
 * (64-bit code), whose #BP try_call() turns into its return value 3. */
static volatile int got_vector;
static volatile uint64_t got_rip, got_cs, got_error;
extern const uint8_t escape_int3[];
__asm__(".pushsection .text\n.globl escape_int3\nescape_int3:\n\tint3\n\tud2\n.popsection");

static void on_fault(struct rt_frame *f)
{
    got_vector = (int)f->vector;
    got_rip = f->rip;
    got_cs = f->cs;
    got_error = f->error;
    f->rip = (uint64_t)(uintptr_t)escape_int3;
    f->cs = SEL_KERNEL_CODE;
}

static void jump64(void *target) { __asm__ volatile("jmp *%0" : : "r"(target), "a"(MHV_HC_NOP), "d"(0x61)); }

/* m16:32 far pointer for JMP FAR (FF /5 without REX.W): into the 32-bit code segment. */
static struct __attribute__((packed)) { uint32_t offset; uint16_t selector; } far32;
static void jump32(void *target)
{
    far32.offset = (uint32_t)(uintptr_t)target;
    far32.selector = SEL_KERNEL_CODE32;
    __asm__ volatile(".byte 0xff, 0x28" : : "a"(&far32), "d"(0x61) : "memory"); /* ljmp *(%rax) */
}

static int run(void (*jump)(void *), uint64_t target)
{
    got_vector = -1;
    got_rip = got_cs = got_error = 0;
    return try_call((void (*)(void *))jump, (void *)(uintptr_t)target);
}

/* The instruction under test at the end of the page, so that it ends where the page does;
 * its linear address. */
static uint64_t place(uint8_t *page, uint64_t page_linear, const uint8_t *insn, unsigned len)
{
    memset(page, 0xcc, 4096);
    memcpy(page + 4096 - len, insn, len);
    return page_linear + 4096 - len;
}

struct insn {
    const char *name;
    uint8_t bytes[4];
    unsigned len;
};
static const struct insn insns[] = {
    { "CPUID", { 0x0f, 0xa2 }, 2 },
    { "IN AL, DX", { 0xec }, 1 },
    { "OUT DX, AL", { 0xee }, 1 },
    { "VMCALL", { 0x0f, 0x01, 0xc1 }, 3 },
    { "NOP", { 0x90 }, 1 }, /* no exit: the CPU's (Bochs's) own behaviour, printed, not checked */
};
#define BASELINE 4 /* the NOP's index */

/* A case's verdict: a check for the instructions mhv performs, a note for the NOP. */
static void verdict(unsigned i, bool ok, const char *what, const char *detail)
{
    if (i == BASELINE)
        printf("# without an exit (%s), the CPU itself: %s%s%s\n", insns[i].name, what, ok ? ": as expected" : ": not so, ",
               ok ? "" : detail);
    else if (!check(ok, "%s %s", insns[i].name, what))
        printf("#   %s\n", detail);
}

static void canonical_edge(void)
{
    for (unsigned i = 0; i < sizeof(insns) / sizeof(insns[0]); i++) {
        uint64_t at = place(code_a, PAGE_A, insns[i].bytes, insns[i].len);
        int r = run(jump64, at);
        bool ok = r == VEC_BP && got_vector == VEC_GP && got_rip == EDGE_A;
        char detail[96];
        ksnprintf(detail, sizeof(detail), "left with vector %d; recorded %s at rip 0x%lx, error 0x%lx", r,
                  got_vector < 0 ? "nothing" : exception_name((unsigned)got_vector), got_rip, got_error);
        verdict(i, ok, "in 64-bit mode ending at the canonical edge 0x800000000000: #GP on the next fetch", detail);
    }
}

static void top_of_linear(void)
{
    uint8_t *zero = low_memory();
    static const uint8_t ud2[] = { 0x0f, 0x0b };
    for (unsigned i = 0; i < sizeof(insns) / sizeof(insns[0]); i++) {
        memcpy(zero, ud2, sizeof(ud2)); /* what runs at 0: #UD, recorded */
        uint64_t at = place(code_b, PAGE_B, insns[i].bytes, insns[i].len);
        int r = run(jump64, at);
        bool ok = r == VEC_BP && got_vector == VEC_UD && got_rip == 0;
        char detail[96];
        ksnprintf(detail, sizeof(detail), "left with vector %d; recorded %s at rip 0x%lx", r,
                  got_vector < 0 ? "nothing" : exception_name((unsigned)got_vector), got_rip);
        verdict(i, ok, "in 64-bit mode ending at 2^64: RIP goes on at 0", detail);
    }
}

static void compat_wrap(void)
{
    uint8_t *zero = low_memory();
    static const uint8_t ud2[] = { 0x0f, 0x0b };
    for (unsigned i = 0; i < sizeof(insns) / sizeof(insns[0]); i++) {
        memcpy(zero, ud2, sizeof(ud2));
        uint64_t at = place(code_c, PAGE_C, insns[i].bytes, insns[i].len);
        int r = run(jump32, at);
        bool ok = r == VEC_BP && got_vector == VEC_UD && got_rip == 0 && got_cs == SEL_KERNEL_CODE32;
        char detail[96];
        ksnprintf(detail, sizeof(detail), "left with vector %d; recorded %s at rip 0x%lx, cs 0x%lx", r,
                  got_vector < 0 ? "nothing" : exception_name((unsigned)got_vector), got_rip, got_cs);
        verdict(i, ok, "in compatibility mode ending at 4 GiB: EIP wraps to 0", detail);
    }
}

/* Execution runs off the end of RAM: mhv stops the VM (status 254). */
static void end_of_ram(unsigned how)
{
    uint64_t end = (uint64_t)rt_image_header()->memory_mib << 20;
    uint8_t *top = (uint8_t *)(uintptr_t)(end - 4096);
    memset(top, 0xcc, 4096);
    uint64_t at = how == 1 ? end - 2 : end - 1; /* CPUID in the last two bytes, or across the end */
    top[at - (end - 4096)] = 0x0f;
    if (how == 1)
        top[4095] = 0xa2;
    printf("# CPUID at 0x%lx: %s\n", at, how == 1 ? "the next fetch is outside RAM" : "its second byte is outside RAM");
    int r = run(jump64, at);
    check(false, "running off the end of RAM stopped the VM (it went on: %s)",
          r < 0 ? "no fault" : exception_name((unsigned)(got_vector >= 0 ? got_vector : r)));
}

void guest_main(void)
{
    irq_set_handler(VEC_GP, on_fault);
    irq_set_handler(VEC_UD, on_fault);
    map_edges();
    if (rt_arg(0)) {
        end_of_ram((unsigned)rt_arg(0));
        return;
    }
    canonical_edge();
    top_of_linear();
    compat_wrap();
    irq_set_handler(VEC_GP, NULL);
    irq_set_handler(VEC_UD, NULL);
}
