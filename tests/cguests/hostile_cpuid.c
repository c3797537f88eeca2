/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Hostile guest: a CPUID sweep. Every leaf 0-0x20, 0x40000000-0x40000100 and
 * 0x80000000-0x80000020, with subleaves 0-63 where a leaf has them and 0, 1 and 0xffffffff
 * where it has none, on each of 4 vCPUs, twice. Checks: an answer is the same every time and
 * on every vCPU (but the APIC IDs in leaves 1, 0xb and 0x1f, which are each vCPU's own); a
 * leaf without subleaves ignores ECX; above the highest basic and extended leaf the CPU
 * answers with the highest basic leaf (SDM Vol. 2A CPUID, "If a value entered for CPUID.EAX
 * is higher than the maximum input value"); the topology is one package with a core per vCPU
 * (README "What every VM has"); nothing mhv hides shows (VMX, SMX, MONITOR, the PMU, SGX,
 * TSX, processor trace, the speculation-control MSRs); and what CPUID offers that VMX must
 * enable for a guest works (RDTSCP, RDPID, INVPCID, XSAVES, PCID, FSGSBASE).
 */
#include "rt.h"

MHV_GUEST(.name = "hostile_cpuid", .vcpus = 4, .memory_mib = 8);

#define BASIC_LAST 0x20u
#define HV_FIRST 0x40000000u
#define HV_LAST 0x40000100u
#define EXT_FIRST 0x80000000u
#define EXT_LAST 0x80000020u
#define SUBLEAVES 64
#define LEAVES ((BASIC_LAST + 1) + (HV_LAST - HV_FIRST + 1) + (EXT_LAST - EXT_FIRST + 1))

static struct cpuid_regs seen[LEAVES][SUBLEAVES]; /* vCPU 0's answers */
static volatile bool seen_ready;
static struct barrier start_line;
static volatile unsigned differ_between[4], differ_again[4], ecx_not_ignored[4];
static volatile uint32_t first_differ_leaf[4] = { ~0u, ~0u, ~0u, ~0u };

static uint32_t leaf_at(unsigned i)
{
    if (i <= BASIC_LAST)
        return i;
    i -= BASIC_LAST + 1;
    if (i <= HV_LAST - HV_FIRST)
        return HV_FIRST + i;
    return EXT_FIRST + (i - (HV_LAST - HV_FIRST + 1));
}

/* Leaves whose answer depends on ECX (SDM Vol. 2A CPUID). */
static bool has_subleaves(uint32_t leaf)
{
    switch (leaf) {
    case 4: case 7: case 0xb: case 0xd: case 0xf: case 0x10: case 0x12: case 0x14: case 0x17: case 0x18:
    case 0x1a: case 0x1b: case 0x1d: case 0x1e: case 0x1f: case 0x20: case 0x8000001d: case 0x80000020:
        return true;
    default:
        return false;
    }
}

static unsigned subleaf_count(uint32_t leaf) { return has_subleaves(leaf) ? SUBLEAVES : 3; }
static uint32_t subleaf_at(uint32_t leaf, unsigned j) { return has_subleaves(leaf) ? j : j == 2 ? 0xffffffffu : j; }

/* What is each vCPU's own: its APIC ID (leaf 1 EBX[31:24], the x2APIC ID in EDX of 0xb and 0x1f). */
static struct cpuid_regs mask_own(uint32_t leaf, struct cpuid_regs r)
{
    if (leaf == 1)
        r.ebx &= 0x00ffffffu;
    if (leaf == 0xb || leaf == 0x1f)
        r.edx = 0;
    return r;
}

static bool same(struct cpuid_regs a, struct cpuid_regs b)
{
    return a.eax == b.eax && a.ebx == b.ebx && a.ecx == b.ecx && a.edx == b.edx;
}

static void sweep(unsigned cpu)
{
    for (unsigned i = 0; i < LEAVES; i++) {
        uint32_t leaf = leaf_at(i);
        struct cpuid_regs first = cpuid(leaf, subleaf_at(leaf, 0));
        for (unsigned j = 0; j < subleaf_count(leaf); j++) {
            uint32_t sub = subleaf_at(leaf, j);
            struct cpuid_regs a = cpuid(leaf, sub), b = cpuid(leaf, sub);
            if (!same(a, b))
                differ_again[cpu]++;
            if (!has_subleaves(leaf) && !same(a, first))
                ecx_not_ignored[cpu]++;
            if (cpu == 0) {
                seen[i][j] = a;
            } else if (!same(mask_own(leaf, a), mask_own(leaf, seen[i][j]))) {
                if (!differ_between[cpu]++)
                    first_differ_leaf[cpu] = leaf;
            }
        }
    }
}

static void other_cpu(unsigned cpu, void *arg)
{
    (void)arg;
    barrier_wait(&start_line);
    while (!seen_ready)
        cpu_relax();
    sweep(cpu);
    struct cpuid_regs l1 = cpuid(1, 0), b = cpuid(0xb, 0);
    check_eq(l1.ebx >> 24, cpu, "vCPU %u: CPUID 1 EBX[31:24] is its APIC ID", cpu);
    check_eq(b.edx, cpu, "vCPU %u: CPUID 0xb EDX is its x2APIC ID", cpu);
}

static void check_hidden(void)
{
    struct cpuid_regs l1 = cpuid(1, 0), l7 = cpuid(7, 0);
    uint32_t max = cpuid(0, 0).eax;
    check((l1.ecx & ((1u << 5) | (1u << 6) | (1u << 3))) == 0, "CPUID 1 ECX hides VMX, SMX and MONITOR (0x%x)", l1.ecx);
    check(!(l1.ecx & (1u << 15)), "CPUID 1 ECX hides PDCM (no PMU: IA32_PERF_CAPABILITIES)");
    check(l1.ecx & (1u << 31), "CPUID 1 ECX sets the hypervisor bit");
    if (max >= 0xa) {
        struct cpuid_regs a = cpuid(0xa, 0);
        check(a.eax == 0 && a.ebx == 0 && a.ecx == 0 && a.edx == 0, "CPUID 0xa (the PMU) is all zero (0x%x 0x%x 0x%x 0x%x)",
              a.eax, a.ebx, a.ecx, a.edx);
    }
    if (max >= 5) {
        struct cpuid_regs m = cpuid(5, 0);
        check(m.eax == 0 && m.ebx == 0 && m.ecx == 0 && m.edx == 0,
              "CPUID 5 (MONITOR/MWAIT, hidden) is all zero (0x%x 0x%x 0x%x 0x%x)", m.eax, m.ebx, m.ecx, m.edx);
    }
    check((l7.ebx & ((1u << 2) | (1u << 4) | (1u << 11) | (1u << 25))) == 0,
          "CPUID 7 EBX hides SGX, HLE, RTM and processor trace (0x%x)", l7.ebx);
    check(!(l7.ecx & (1u << 30)), "CPUID 7 ECX hides SGX launch control");
    check((l7.edx & ((1u << 26) | (1u << 27) | (1u << 29) | (1u << 31))) == 0,
          "CPUID 7 EDX hides IBRS/IBPB, STIBP, ARCH_CAPABILITIES and SSBD (0x%x)", l7.edx);
    if (max >= 0x12) {
        struct cpuid_regs s = cpuid(0x12, 0);
        check(s.eax == 0 && s.ebx == 0 && s.ecx == 0 && s.edx == 0, "CPUID 0x12 (SGX) is all zero");
    }
    if (max >= 0x14) {
        struct cpuid_regs p = cpuid(0x14, 0);
        check(p.eax == 0 && p.ebx == 0 && p.ecx == 0 && p.edx == 0, "CPUID 0x14 (processor trace) is all zero");
    }
    struct cpuid_regs hv = cpuid(0x40000000, 0);
    check(hv.ebx == 0x6d76686d && hv.ecx == 0x686d7668 && hv.edx == 0x76686d76, "CPUID 0x40000000: 'mhvmhvmhvmhv'");
}

static void check_limits(void)
{
    uint32_t max = cpuid(0, 0).eax, ext = cpuid(EXT_FIRST, 0).eax;
    check(max >= 0xb && max <= 0x7fffffff, "CPUID 0 EAX, the highest basic leaf, is 0x%x", max);
    check(ext >= 0x80000008 && ext < 0x8000ffff, "CPUID 0x80000000 EAX, the highest extended leaf, is 0x%x", ext);
    unsigned wrong = 0;
    uint32_t first_wrong = 0;
    for (uint32_t leaf = max + 1; leaf <= BASIC_LAST; leaf++)
        if (!same(cpuid(leaf, 0), cpuid(max, 0)) && !wrong++)
            first_wrong = leaf;
    for (uint32_t leaf = ext + 1; leaf <= EXT_LAST; leaf++)
        if (!same(cpuid(leaf, 0), cpuid(max, 0)) && !wrong++)
            first_wrong = leaf;
    struct cpuid_regs w = cpuid(first_wrong, 0), h = cpuid(max, 0);
    check(wrong == 0, "leaves above the highest basic and extended ones answer like the highest basic leaf "
                      "(%u do not, the first 0x%x)", wrong, first_wrong);
    if (wrong)
        printf("#   leaf 0x%x: 0x%x 0x%x 0x%x 0x%x; leaf 0x%x (the highest): 0x%x 0x%x 0x%x 0x%x\n", first_wrong, w.eax, w.ebx,
               w.ecx, w.edx, max, h.eax, h.ebx, h.ecx, h.edx);
}

static void check_topology(void)
{
    unsigned n = smp_cpus();
    struct cpuid_regs l1 = cpuid(1, 0), t0 = cpuid(0xb, 0), t1 = cpuid(0xb, 1), t2 = cpuid(0xb, 2);
    check(((l1.ebx >> 16) & 0xff) >= n, "CPUID 1 EBX[23:16] counts at least the %u vCPUs (%u)", n, (l1.ebx >> 16) & 0xff);
    check((t0.ecx >> 8 & 0xff) == 1 && (t0.ebx & 0xffff) == 1, "CPUID 0xb.0: the SMT level, one thread per core");
    check((t1.ecx >> 8 & 0xff) == 2 && (t1.ebx & 0xffff) == n, "CPUID 0xb.1: the core level, %u cores (%u)", n, t1.ebx & 0xffff);
    check((t2.ecx >> 8 & 0xff) == 0, "CPUID 0xb.2: no further level");
}

/* What CPUID offers and VMX must enable for the guest (SDM Vol. 3C 25.3: "enable RDTSCP",
 * "enable INVPCID", "enable XSAVES/XRSTORS" are secondary controls; without them the
 * instructions raise #UD in a guest). */
static uint8_t xsave_area[4096] __attribute__((aligned(64)));

static void check_offered_features_work(void)
{
    struct cpuid_regs l1 = cpuid(1, 0), l7 = cpuid(7, 0), e1 = cpuid(0x80000001, 0);
    uint64_t v;
    uint32_t aux;
    if (e1.edx & (1u << 27))
        check_eq((uint64_t)try_rdtscp(&v, &aux), (uint64_t)-1, "RDTSCP, offered by CPUID 0x80000001 EDX[27], works");
    if (l7.ecx & (1u << 22))
        check_eq((uint64_t)try_rdpid(&v), (uint64_t)-1, "RDPID, offered by CPUID 7 ECX[22], works");
    if (l7.ebx & (1u << 10)) {
        static uint64_t desc[2];
        uint64_t type = 2; /* every context, global pages too */
        check_eq((uint64_t)TRY_ASM("invpcid (%0), %1", : : "r"(desc), "r"(type) : "memory"), (uint64_t)-1,
                 "INVPCID, offered by CPUID 7 EBX[10], works");
    }
    if ((l1.ecx & (1u << 26)) && (cpuid(0xd, 1).eax & (1u << 3))) {
        uint64_t cr4 = read_cr4();
        write_cr4(cr4 | CR4_OSXSAVE);
        check_eq((uint64_t)TRY_ASM("xsaves (%0)", : : "r"(xsave_area), "a"(1), "d"(0) : "memory"), (uint64_t)-1,
                 "XSAVES, offered by CPUID 0xd.1 EAX[3], works");
        write_cr4(cr4);
    }
    if (l1.ecx & (1u << 17)) {
        uint64_t cr4 = read_cr4();
        check_eq((uint64_t)try_write_cr(4, cr4 | CR4_PCIDE), (uint64_t)-1, "CR4.PCIDE, offered by CPUID 1 ECX[17], can be set");
        write_cr4(cr4);
    }
    if (l7.ebx & 1) {
        uint64_t cr4 = read_cr4();
        int r = try_write_cr(4, cr4 | CR4_FSGSBASE);
        check_eq((uint64_t)r, (uint64_t)-1, "CR4.FSGSBASE, offered by CPUID 7 EBX[0], can be set");
        if (r < 0)
            check_eq((uint64_t)TRY_ASM("rdfsbase %0", : "=r"(v)), (uint64_t)-1, "and RDFSBASE works");
        write_cr4(cr4);
    }
}

void guest_main(void)
{
    barrier_init(&start_line, smp_cpus());
    unsigned started = smp_start_all(other_cpu, NULL);
    check_eq(started, smp_cpus() - 1, "vCPUs 1-%u started", smp_cpus() - 1);
    barrier_wait(&start_line);
    sweep(0);
    seen_ready = true;
    check_hidden();
    check_limits();
    check_topology();
    check_offered_features_work();
    smp_wait_all();
    unsigned again = 0, between = 0, ignored = 0;
    for (unsigned c = 0; c < smp_cpus(); c++) {
        again += differ_again[c];
        between += differ_between[c];
        ignored += ecx_not_ignored[c];
        if (differ_between[c])
            printf("# vCPU %u: %u answers differ from vCPU 0's, the first for leaf 0x%x\n", c, differ_between[c],
                   first_differ_leaf[c]);
    }
    check(again == 0, "every CPUID answer is the same twice in a row (%u differ)", again);
    check(between == 0, "every vCPU gets vCPU 0's answers but its own APIC IDs (%u differ)", between);
    check(ignored == 0, "leaves without subleaves ignore ECX (%u answers depend on it)", ignored);
}
