/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Hostile guest: INIT arriving while the target is in the middle of exits. vCPU 1 runs a storm
 * of instructions mhv performs (CPUID, IN, a REP INSB of 3000 bytes that mhv does in batches,
 * MMIO loads, RDMSR, XSETBV, HLT woken by a timer, self-IPIs, single steps) with debug
 * registers, CR4 bits and x2APIC mode set; vCPU 0 sends it INIT at random moments, then a
 * STARTUP to a real-mode probe that records the state the vCPU starts in before it goes on
 * through the runtime's trampoline back into the storm. After each INIT the state must be
 * the SDM's (Vol. 3A table 10-1, INIT column; 12.12.5.1): CR0 with only ET set (CD and NW
 * unchanged: clear here), CR4 0, EFLAGS 2, DR7 0x400, DR6 0xffff0ff0, real mode at the STARTUP
 * vector's page, the APIC enabled and still in x2APIC mode when it was. Nothing of the
 * interrupted exit may follow the vCPU into its new start (an event injected in real mode
 * before the probe ran would show as a wrong CS or a lost restart).
 */
#include "rt.h"

MHV_GUEST(.name = "hostile_init", .vcpus = 2, .memory_mib = 8);

#define PROBE 0x9000 /* STARTUP vector 9 */
#define RECORD 0x9f00
#define RESTARTS 40

struct probe_record {
    uint32_t cr0, eflags, dr7, dr6, cr4, apic_base, efer;
    uint16_t cs, pad;
    uint32_t runs;
};

/* Real mode, DS = 0: the state as the STARTUP left it, into RECORD, then on to the runtime's
 * trampoline at 0800:0000 (which smp_start() set up for vCPU 1 the first time). */
__asm__(".pushsection .rodata\n"
        ".globl probe16_start, probe16_end\n"
        "probe16_start:\n"
        ".code16\n"
        "pushfl\n"                 /* first: the flags as the STARTUP left them */
        "cli\n"
        "movw %cs, %si\n"
        "xorw %ax, %ax\n"
        "movw %ax, %ds\n"
        "popl %eax\n"
        "movl %eax, 0x9f04\n"
        "movw %si, 0x9f1c\n"
        "movl %cr0, %eax\n"
        "movl %eax, 0x9f00\n"
        "movl %dr7, %eax\n"
        "movl %eax, 0x9f08\n"
        "movl %dr6, %eax\n"
        "movl %eax, 0x9f0c\n"
        "movl %cr4, %eax\n"
        "movl %eax, 0x9f10\n"
        "movl $0x1b, %ecx\n"
        "rdmsr\n"
        "movl %eax, 0x9f14\n"
        "movl $0xc0000080, %ecx\n"
        "rdmsr\n"
        "movl %eax, 0x9f18\n"
        "lock incl 0x9f20\n"
        "ljmp $0x0800, $0x0000\n"
        ".code64\n"
        "probe16_end:\n"
        ".popsection\n");
extern const uint8_t probe16_start[], probe16_end[];

static volatile bool stop_storm, want_x2apic, in_x2apic;
static volatile uint64_t storm_rounds;
static uint8_t insb_buffer[4096];

static struct probe_record *record(void)
{
    uintptr_t a = RECORD;
    __asm__("" : "+r"(a));
    return (struct probe_record *)a;
}

static void on_db(struct rt_frame *f) { f->rflags &= ~(1ull << 8); }

static void storm(unsigned cpu, void *arg)
{
    (void)cpu, (void)arg;
    this_cpu()->try_ctx = NULL; /* an INIT may have left one on the old stack */
    if (want_x2apic && apic_x2apic_supported() && !apic_is_x2apic()) {
        apic_enable_x2apic(); /* the second half in x2APIC mode: INIT must keep it */
        in_x2apic = true;
    }
    apic_write(APIC_SVR, 0x100 | RT_VEC_SPURIOUS);
    write_cr4(read_cr4() | CR4_DE | CR4_PGE | (cpuid(1, 0).ecx & (1u << 26) ? CR4_OSXSAVE : 0));
    write_dr0((uint64_t)(uintptr_t)&insb_buffer[4000]);
    write_dr7(0x400 | 1 | (1u << 16)); /* a write breakpoint nobody hits */
    uint64_t n = 0;
    while (!stop_storm) {
        uint64_t a = 0, b = 0, c = 0, d = 0, di, cx;
        switch (n++ % 9) {
        case 0: __asm__ volatile("cpuid" : "+a"(a), "+b"(b), "+c"(c), "+d"(d)); break;
        case 1: __asm__ volatile("inb $0x61, %%al" : "+a"(a)); break;
        case 2:
            di = (uint64_t)(uintptr_t)insb_buffer;
            cx = 3000;
            __asm__ volatile("rep insb" : "+D"(di), "+c"(cx) : "d"(0x61) : "memory");
            break;
        case 3: a = *(volatile uint32_t *)(uintptr_t)0xfebf0000; break;
        case 4: a = rdmsr(MSR_EFER); break;
        case 5:
            if (read_cr4() & CR4_OSXSAVE)
                xsetbv(0, xgetbv(0));
            break;
        case 6: /* HLT until a timer */
            hc_timer(50, 0x41);
            irq_enable_and_halt();
            irq_disable();
            break;
        case 7: /* a self-IPI left pending, interrupts off */
            apic_send_ipi(1, ICR_FIXED | ICR_LEVEL_ASSERT | 0x42);
            break;
        default: /* a single step over CPUID */
            __asm__ volatile("pushfq; orq $0x100, (%%rsp); popfq; cpuid" : "+a"(a), "+b"(b), "+c"(c), "+d"(d));
            break;
        }
        storm_rounds++;
    }
}

static void on_interrupt(struct rt_frame *f) { (void)f; }

void guest_main(void)
{
    struct prng rng;
    prng_seed(&rng, rt_seed());
    printf("# seed 0x%lx (%s)\n", rt_seed(), rt_seed_source());
    irq_set_handler(VEC_DB, on_db);
    irq_set_handler(0x41, on_interrupt);
    irq_set_handler(0x42, on_interrupt);
    memcpy((void *)(uintptr_t)PROBE, probe16_start, (size_t)(probe16_end - probe16_start));
    check_eq(smp_start(1, storm, NULL), 0, "vCPU 1 started its storm of exits");
    struct probe_record *r = record();
    unsigned restarted = 0, cr0_bad = 0, cr4_bad = 0, eflags_bad = 0, dr7_bad = 0, dr6_bad = 0, cs_bad = 0, apic_bad = 0;
    unsigned x2apic_lost = 0, x2apic_seen = 0, runs_before;
    for (unsigned k = 0; k < RESTARTS; k++) {
        delay_us(prng_below(&rng, 3000));
        want_x2apic = k >= RESTARTS / 2;
        bool expect_x2apic = in_x2apic;
        in_x2apic = false;
        uint64_t rounds = storm_rounds;
        runs_before = r->runs;
        rt_cpus[1].online = false;
        unsigned inits = 1 + (unsigned)prng_below(&rng, 3);
        for (unsigned i = 0; i < inits; i++)
            apic_send_ipi(1, ICR_INIT | ICR_LEVEL_ASSERT);
        delay_us(100);
        apic_send_ipi(1, ICR_STARTUP | (PROBE >> 12));
        uint64_t end = tsc_deadline_in_us(1000000);
        while (!rt_cpus[1].online && !tsc_reached(end))
            cpu_relax();
        if (!rt_cpus[1].online) {
            check(false, "vCPU 1 came back after INIT %u (it had done %lu rounds)", k, rounds);
            break;
        }
        restarted++;
        cr0_bad += (r->cr0 & ~0x60000000u) != 0x10;
        cr4_bad += r->cr4 != 0;
        eflags_bad += r->eflags != 2;
        dr7_bad += r->dr7 != 0x400;
        dr6_bad += r->dr6 != 0xffff0ff0;
        cs_bad += r->cs != (PROBE >> 4);
        apic_bad += !(r->apic_base & (1u << 11)) || (r->apic_base & (1u << 8));
        x2apic_lost += expect_x2apic && !(r->apic_base & (1u << 10));
        x2apic_seen += expect_x2apic;
        if (k < 3 || (r->cr0 & ~0x60000000u) != 0x10 || r->dr7 != 0x400 || r->cs != (PROBE >> 4))
            printf("# after INIT %u: cr0 0x%x cr4 0x%x eflags 0x%x dr7 0x%x dr6 0x%x cs 0x%x apic_base 0x%x efer 0x%x\n", k,
                   r->cr0, r->cr4, r->eflags, r->dr7, r->dr6, r->cs, r->apic_base, r->efer);
        check(r->runs == runs_before + 1, "INIT %u: the probe ran once (%u times)", k, r->runs - runs_before);
    }
    stop_storm = true;
    check_eq(restarted, RESTARTS, "vCPU 1 came back after each of %u INITs in the middle of its exits", RESTARTS);
    check_eq(cr0_bad, 0, "after INIT, CR0 has only ET set (CD and NW as they were: clear)");
    check_eq(cr4_bad, 0, "after INIT, CR4 is 0");
    check_eq(eflags_bad, 0, "after INIT, EFLAGS is 2");
    check_eq(dr7_bad, 0, "after INIT, DR7 is 0x400");
    check_eq(dr6_bad, 0, "after INIT, DR6 is 0xffff0ff0");
    check_eq(cs_bad, 0, "after INIT and STARTUP 9, CS is 0x0900");
    check_eq(apic_bad, 0, "after INIT, the APIC is enabled and not the BSP's");
    check_eq(x2apic_lost, 0, "after INIT, an APIC in x2APIC mode stays in x2APIC mode (SDM Vol. 3A 12.12.5.1; %u cases)",
             x2apic_seen);
    printf("# vCPU 1 did %lu rounds of exits in all\n", storm_rounds);
}
