/* SPDX-License-Identifier: BSD-2-Clause */
/* Deliberate exceptions (fuzz.h): #UD, #BP, #DE, #PF, #GP, #SS, #NM, software interrupts,
 * segment and descriptor-table loads, privileged instructions at CPL 3. Most of them never
 * exit; they are here because every exit the other operations cause may find the vCPU with
 * an exception just delivered, a fault handler running or an IRET in flight (SDM Vol. 3A
 * chapter 7 gives each vector and error code). */
#include "fuzz.h"

#define GDT_LIMIT (8 * (6 + 2 * RT_MAX_CPUS) - 1) /* desc.c: 6 fixed descriptors, a TSS per vCPU */

static void pf_case(struct fuzz_op *op)
{
    /* The runtime maps the first 4 GiB (desc.h): above that nothing is present. */
    static const uint64_t bases[] = { 0x100000000ull, 0x7fffffff000ull, 0x00007ffffffff000ull, 0x123456789000ull };
    uint64_t addr = FZ_PICK(op, bases) + fz_below(op, 0x1000 - 8), v;
    bool write = fz_chance(op, 50);
    fz_note(op, write ? "#PF write" : "#PF read", addr, 0, 0);
    int r = write ? try_write64(addr, 0x5a) : try_read64(addr, &v);
    fz_expect(op, r, VEC_PF, "an access to an address the page tables do not map");
    if (r == VEC_PF) {
        fz_expect_value(op, fault_cr2(), addr, "the #PF's CR2 is the address");
        fz_expect_value(op, fault_error() & 7, write ? 2 : 0, "the #PF's error code: not present, read or write, CPL 0");
    }
}

static void segment_case(struct fuzz_op *op)
{
    uint16_t sel = (uint16_t)(fz_chance(op, 50) ? fz_below(op, GDT_LIMIT + 0x40) : fz_next(op));
    unsigned which = (unsigned)fz_below(op, 3);
    fz_note(op, "segment load", which, sel, 0);
    uint16_t ds = SEL_KERNEL_DATA;
    int r;
    switch (which) {
    case 0: r = TRY_ASM("movw %w0, %%ds", : : "r"(sel)); break;
    case 1: r = TRY_ASM("movw %w0, %%es", : : "r"(sel)); break;
    default: r = TRY_ASM("movw %w0, %%fs", : : "r"(sel)); break;
    }
    __asm__ volatile("movw %w0, %%ds; movw %w0, %%es" : : "r"(ds));
    if ((sel | 7) > GDT_LIMIT && !(sel & 4)) {
        fz_expect(op, r, VEC_GP, "a data-segment load beyond the GDT's limit");
        if (r == VEC_GP)
            fz_expect_value(op, fault_error(), sel & 0xfffc, "its #GP's error code is the selector");
    }
}

/* Privileged instructions at CPL 3 raise #GP before any exit (SDM Vol. 2). */
static void user_cli(void *a) { (void)a; __asm__ volatile("cli"); }
static void user_hlt(void *a) { (void)a; __asm__ volatile("hlt"); }
static void user_rdmsr(void *a) { (void)a; __asm__ volatile("rdmsr" : : "c"(MSR_EFER) : "rax", "rdx"); }
static void user_wrmsr(void *a) { (void)a; __asm__ volatile("wrmsr" : : "c"(MSR_STAR), "a"(0), "d"(0)); }
static void user_in(void *a) { (void)a; __asm__ volatile("inb $0x61, %%al" ::: "rax"); }
static void user_outs(void *a) { (void)a; __asm__ volatile("outsb" : : "S"(a), "d"(0x80)); }
static void user_mov_cr(void *a) { (void)a; __asm__ volatile("mov %%cr4, %%rax" ::: "rax"); }
static void user_mov_dr(void *a) { (void)a; __asm__ volatile("mov %%db6, %%rax" ::: "rax"); }
static void user_invd(void *a) { (void)a; __asm__ volatile("invd"); }
static void user_wbinvd(void *a) { (void)a; __asm__ volatile("wbinvd"); }
static void user_clts(void *a) { (void)a; __asm__ volatile("clts"); }
static void user_invlpg(void *a) { __asm__ volatile("invlpg (%0)" : : "r"(a) : "memory"); }
static void user_rdpmc(void *a) { (void)a; __asm__ volatile("rdpmc" : : "c"(0) : "rax", "rdx"); }

static void cpl3_case(struct fuzz_op *op)
{
    static void (*const fns[])(void *) = { user_cli, user_hlt, user_rdmsr, user_wrmsr, user_in, user_outs, user_mov_cr,
                                           user_mov_dr, user_invd, user_wbinvd, user_clts, user_invlpg, user_rdpmc };
    unsigned i = (unsigned)fz_below(op, sizeof(fns) / sizeof(fns[0]));
    fz_note(op, "cpl3", i, 0, 0);
    if (fns[i] == user_rdpmc && (read_cr4() & CR4_PCE))
        return; /* with CR4.PCE RDPMC is allowed at CPL 3 */
    int r = try_user(fns[i], (void *)(uintptr_t)0x100000);
    fz_expect(op, r, VEC_GP, "a privileged instruction at CPL 3 raises #GP");
}

static volatile uint64_t soft_interrupts;

void op_fault(struct fuzz_op *op)
{
    int r;
    switch (fz_below(op, 14)) {
    case 0:
        fz_note(op, "ud2", 0, 0, 0);
        fz_expect(op, TRY_ASM("ud2"), VEC_UD, "UD2");
        break;
    case 1:
        fz_note(op, "int3", 0, 0, 0);
        fz_expect(op, TRY_ASM("int3"), VEC_BP, "INT3");
        break;
    case 2: {
        uint64_t lo = fz_value(op), hi = 0, d = 0;
        fz_note(op, "div by 0", lo, 0, 0);
        fz_expect(op, TRY_ASM("divq %2", : "+a"(lo), "+d"(hi) : "r"(d)), VEC_DE, "DIV by 0");
        break;
    }
    case 3: {
        uint64_t lo = 0x8000000000000000ull, hi = ~0ull, d = ~0ull;
        fz_note(op, "idiv overflow", 0, 0, 0);
        fz_expect(op, TRY_ASM("idivq %2", : "+a"(lo), "+d"(hi) : "r"(d)), VEC_DE, "IDIV of -2^63 by -1");
        break;
    }
    case 4: case 5: pf_case(op); break;
    case 6: {
        uint64_t addr = 0x0000800000000000ull + (fz_next(op) & 0x7fffffff0000ull), v;
        fz_note(op, "non-canonical read", addr, 0, 0);
        r = try_read64(addr, &v);
        fz_expect(op, r, VEC_GP, "a non-canonical address raises #GP");
        if (r == VEC_GP)
            fz_expect_value(op, fault_error(), 0, "its error code is 0");
        break;
    }
    case 7: {
        uint64_t off = 0x0000800000000000ull + (fz_next(op) & 0xffff0), v = 0;
        fz_note(op, "non-canonical stack access", off, 0, 0);
        r = TRY_ASM("movq (%%rsp,%1), %0", : "+r"(v) : "r"(off - (uint64_t)(uintptr_t)__builtin_frame_address(0) + 0x10000));
        fz_expect(op, r, VEC_SS, "a non-canonical address through RSP raises #SS");
        break;
    }
    case 8: segment_case(op); break;
    case 9: { /* software interrupts: to the runtime's interrupt handlers, or exception vectors as traps */
        static const uint8_t exceptions[] = { 0, 3, 4, 5, 6, 7, 9, 15, 16, 19, 20, 22, 28, 31 };
        bool high = fz_chance(op, 70);
        uint8_t n = high ? (uint8_t)fz_range(op, 0x20, 0xfe) : FZ_PICK(op, exceptions);
        uint8_t code[3] = { 0xcd, n, 0xc3 }; /* int n; ret */
        static uint8_t stubs[RT_MAX_CPUS][16];
        memcpy(stubs[op->cpu], code, sizeof(code));
        uint64_t before = this_cpu()->interrupts, before_n = this_cpu()->interrupts_by_vector[n];
        fz_note(op, "int n", n, 0, 0);
        r = try_call((void (*)(void *))(void *)stubs[op->cpu], NULL);
        if (high && n != RT_VEC_USER_RETURN) {
            fz_expect(op, r, -1, "INT n for an interrupt vector");
            struct rt_cpu *c = this_cpu();
            fz_expect_value(op, c->interrupts_by_vector[n] - before_n, 1, "INT n reaches its handler once");
            /* Any other interrupt here came with interrupts off (the op runs with IF = 0 and
             * INT n clears it): no injection of mhv's can do that (the entry would fail its
             * checks), only a CPU delivering a virtual interrupt it recognized, which Bochs
             * does when a physical interrupt arrives (include/devices/vlapic.h). mhv keeps the
             * vectors it knows of from being recognized (hostile_lapic tests that); one the CPU
             * put in RVI itself since the last exit it cannot, so these are counted and shown,
             * not failed. */
            uint64_t others = c->interrupts - before - (c->interrupts_by_vector[n] - before_n);
            if (others) {
                bool first = fz_vcpus[op->cpu].taken_with_if_off++ == 0;
                unsigned last = (unsigned)(c->interrupts % 2);
                if (first)
                    fz_printf("# vCPU %u op %lu: vector 0x%lx came with interrupts off during INT 0x%x (rip 0x%lx, "
                              "rflags 0x%lx): Bochs's virtual-interrupt erratum\n", op->cpu, op->index,
                              c->recent_interrupts[last].vector == n ? c->recent_interrupts[last ^ 1].vector
                                                                     : c->recent_interrupts[last].vector,
                              n, c->recent_interrupts[last].rip, c->recent_interrupts[last].rflags);
            }
        } else if (!high) {
            fz_expect(op, r, n, "INT n for an exception vector");
        }
        soft_interrupts++;
        break;
    }
    case 10: { /* #NM: CR0.TS (or EM) and an x87 instruction; CLTS exits when mhv owns TS */
        uint64_t cr0 = read_cr0();
        bool em = fz_chance(op, 30);
        fz_note(op, "#NM", em, 0, 0);
        write_cr0(cr0 | (em ? CR0_EM : CR0_TS));
        fz_expect(op, TRY_ASM("fnop"), VEC_NM, "an x87 instruction with CR0.TS or CR0.EM raises #NM");
        __asm__ volatile("clts");
        fz_expect_value(op, read_cr0() & CR0_TS, 0, "CLTS clears CR0.TS");
        write_cr0(cr0);
        break;
    }
    case 11: cpl3_case(op); break;
    case 12: {
        fz_note(op, "lock nop", 0, 0, 0);
        fz_expect(op, TRY_ASM(".byte 0xf0, 0x90"), VEC_UD, "LOCK with an instruction that cannot take it");
        break;
    }
    default: { /* LTR of the loaded (busy) TSS: #GP with the selector (SDM Vol. 2A LTR) */
        uint16_t tr;
        __asm__ volatile("str %w0" : "=r"(tr));
        fz_note(op, "ltr busy tss", tr, 0, 0);
        r = TRY_ASM("ltr %w0", : : "r"(tr));
        fz_expect(op, r, VEC_GP, "LTR of a busy TSS");
        if (r == VEC_GP)
            fz_expect_value(op, fault_error(), tr & 0xfffc, "its #GP's error code is the selector");
        break;
    }
    }
}

/* --- Instructions mhv must refuse or perform (README "What every VM has") ------------------ */

static uint8_t scratch[RT_MAX_CPUS][4096] __attribute__((aligned(4096)));

void op_privileged(struct fuzz_op *op)
{
    void *m = scratch[op->cpu];
    uint64_t a = 0, b = 0;
    unsigned which = (unsigned)fz_below(op, 30);
    fz_note(op, "privileged", which, 0, 0);
    int r, want = VEC_UD;
    const char *what = "a VMX instruction in a guest raises #UD (VMX is hidden)";
    switch (which) {
    case 0: r = TRY_ASM("vmxon (%0)", : : "r"(m) : "memory"); break;
    case 1: r = TRY_ASM("vmxoff"); break;
    case 2: r = TRY_ASM("vmread %1, %0", : "+r"(a) : "r"(b)); break;
    case 3: r = TRY_ASM("vmwrite %1, %0", : : "r"(a), "r"(b)); break;
    case 4: r = TRY_ASM("vmptrld (%0)", : : "r"(m) : "memory"); break;
    case 5: r = TRY_ASM("vmptrst (%0)", : : "r"(m) : "memory"); break;
    case 6: r = TRY_ASM("vmclear (%0)", : : "r"(m) : "memory"); break;
    case 7: r = TRY_ASM("vmlaunch"); break;
    case 8: r = TRY_ASM("vmresume"); break;
    case 9: r = TRY_ASM("invept (%0), %1", : : "r"(m), "r"(a) : "memory"); break;
    case 10: r = TRY_ASM("invvpid (%0), %1", : : "r"(m), "r"(a) : "memory"); break;
    case 11: r = TRY_ASM("vmfunc", : : "a"(0), "c"(0)); what = "VMFUNC raises #UD"; break;
    case 12: r = TRY_ASM("getsec", : : "a"(0)); what = "GETSEC raises #UD (SMX is hidden)"; break;
    case 13: r = TRY_ASM("rsm"); what = "RSM outside SMM raises #UD"; break;
    case 14: r = TRY_ASM("encls", : : "a"(0)); what = "ENCLS raises #UD (SGX is hidden)"; break;
    case 15: r = TRY_ASM("monitor", : : "a"(m), "c"(0), "d"(0)); what = "MONITOR raises #UD (hidden)"; break;
    case 16: r = TRY_ASM("mwait", : : "a"(0), "c"(0)); what = "MWAIT raises #UD (hidden)"; break;
    case 17: r = TRY_ASM("invd"); want = -1; what = "INVD at CPL 0"; break;
    case 18: r = TRY_ASM("wbinvd"); want = -1; what = "WBINVD at CPL 0"; break;
    case 19: {
        uint32_t ecx = fz_chance(op, 50) ? (uint32_t)fz_below(op, 8) : (uint32_t)fz_next(op);
        r = TRY_ASM("rdpmc", : "+c"(ecx) : : "rax", "rdx");
        want = VEC_GP;
        what = "RDPMC raises #GP (no performance counters: CPUID leaf 0xa is 0)";
        break;
    }
    case 20: r = TRY_ASM("rdrand %0", : "+r"(a)); want = fz_features.rdrand ? -1 : VEC_UD; what = "RDRAND as CPUID says"; break;
    case 21: r = TRY_ASM("rdseed %0", : "+r"(a)); want = fz_features.rdseed ? -1 : VEC_UD; what = "RDSEED as CPUID says"; break;
    case 22: {
        uint32_t aux;
        r = try_rdtscp(&a, &aux);
        want = fz_features.rdtscp ? -1 : VEC_UD;
        what = "RDTSCP as CPUID says";
        break;
    }
    case 23: r = try_rdpid(&a); want = fz_features.rdpid ? -1 : VEC_UD; what = "RDPID as CPUID says"; break;
    case 24: {
        uint64_t type = fz_below(op, 6);
        memset(m, 0, 16); /* PCID 0, address 0 */
        r = TRY_ASM("invpcid (%0), %1", : : "r"(m), "r"(type) : "memory");
        want = !fz_features.invpcid ? VEC_UD : type > 3 ? VEC_GP : -1;
        what = "INVPCID as CPUID says, #GP for a type above 3";
        break;
    }
    case 25: {
        bool xsaves = fz_features.xsave && (cpuid(0xd, 1).eax & (1u << 3));
        uint64_t cr4 = read_cr4();
        if (fz_features.xsave)
            write_cr4(cr4 | CR4_OSXSAVE);
        memset(m, 0, 1024);
        r = TRY_ASM("xsaves (%0)", : : "r"(m), "a"(0), "d"(0) : "memory");
        want = xsaves ? -1 : VEC_UD;
        what = "XSAVES as CPUID says";
        write_cr4(cr4);
        break;
    }
    case 26: r = TRY_ASM("wbnoinvd"); want = -1; what = "WBNOINVD (WBINVD on CPUs without it)"; break;
    case 27: { /* descriptor tables read and loaded back as they are */
        uint8_t gdtr[10], idtr[10];
        __asm__ volatile("sgdt %0; sidt %1" : "=m"(gdtr), "=m"(idtr));
        r = TRY_ASM("lgdt (%0); lidt (%1)", : : "r"(gdtr), "r"(idtr) : "memory");
        want = -1;
        what = "LGDT and LIDT of the tables in use";
        break;
    }
    case 28: r = TRY_ASM("swapgs; swapgs"); want = -1; what = "SWAPGS twice"; break;
    default: r = TRY_ASM("clflush (%0)", : : "r"(m) : "memory"); want = -1; what = "CLFLUSH"; break;
    }
    fz_expect(op, r, want, what);
}

/* --- Far transfers: task switches do not exist in IA-32e mode (SDM Vol. 3A 8.7) ------------- */

void op_far_transfer(struct fuzz_op *op)
{
    static uint64_t far_ptrs[RT_MAX_CPUS][2];
    uint64_t *p = far_ptrs[op->cpu];
    unsigned cpus = smp_cpus();
    uint16_t sel;
    switch (fz_below(op, 6)) {
    case 0: case 1: sel = (uint16_t)SEL_TSS(fz_below(op, cpus)); break;      /* a TSS: #GP(selector) */
    case 2: sel = (uint16_t)(GDT_LIMIT + 1 + fz_below(op, 0x100)) & ~7; break; /* beyond the GDT */
    case 3: sel = SEL_USER_CODE; break;                                     /* DPL 3 code from CPL 0 */
    case 4: sel = SEL_KERNEL_DATA; break;                                   /* not code */
    default: sel = SEL_KERNEL_CODE; break;                                  /* legal */
    }
    bool call = fz_chance(op, 50), iret_nt = fz_chance(op, 15);
    int r;
    if (iret_nt) {
        /* IRET with EFLAGS.NT set: #GP(0) in IA-32e mode (SDM Vol. 2A IRET). A frame that
         * would return to 772 at the same privilege; R11 keeps RSP for the way back. */
        fz_note(op, "iretq with NT", 0, 0, 0);
        r = FZ_TRY_RAW("movq %%rsp, %%r11\n\t"
                       "movq %%ss, %%rax\n\tpushq %%rax\n\tpushq %%r11\n\tpushfq\n\t"
                       "movq %%cs, %%rax\n\tpushq %%rax\n\tleaq 772f(%%rip), %%rax\n\tpushq %%rax\n\t"
                       "pushfq\n\torq $0x4000, (%%rsp)\n\tpopfq\n\t"
                       "771: iretq\n772:\n\t"
                       "movq %%r11, %%rsp\n\tpushfq\n\tandq $~0x4000, (%%rsp)\n\tpopfq\n\t" FZ_FIXUP_ENTRY,
                       : : : "rax", "r11", "memory", "cc");
        fz_expect(op, r, VEC_GP, "IRET with NT set in IA-32e mode raises #GP");
        return;
    }
    /* JMP and CALL far through a m16:64 pointer (REX.W FF /5 and /3): offset, then selector.
     * A CALL that works lands on LRETQ, which comes back to 772. */
    fz_note(op, call ? "lcall" : "ljmp", sel, 0, 0);
    p[1] = sel;
    if (call)
        r = FZ_TRY_RAW("leaq 2f(%%rip), %%rcx\n\tmovq %%rcx, (%0)\n\t"
                       "771: .byte 0x48, 0xff, 0x18\n772:\n\t" FZ_FIXUP_ENTRY "jmp 3f\n2: lretq\n3:",
                       : : "a"(p) : "rcx", "memory");
    else
        r = FZ_TRY_RAW("leaq 772f(%%rip), %%rcx\n\tmovq %%rcx, (%0)\n\t"
                       "771: .byte 0x48, 0xff, 0x28\n772:\n\t" FZ_FIXUP_ENTRY,
                       : : "a"(p) : "rcx", "memory");
    if (sel == SEL_KERNEL_CODE) {
        fz_expect(op, r, -1, "a far transfer to the 64-bit kernel code segment");
    } else {
        fz_expect(op, r, VEC_GP, "a far transfer to a TSS, beyond the GDT, to DPL 3 code or to data raises #GP");
        if (r == VEC_GP)
            fz_expect_value(op, fault_error(), sel & 0xfffc, "its #GP's error code is the selector");
    }
}
