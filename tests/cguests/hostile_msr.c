/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Hostile guest: MSR sweeps. RDMSR, then WRMSR of 0 and of all-ones (each read back, then the
 * old value restored) on every MSR in 0-0x1fff, 0x40000000-0x40000fff and
 * 0xc0000000-0xc0001fff. Each access must either work or raise #GP (nothing else, and the VM
 * must not be stopped: README "What every VM has": every MSR mhv does not emulate or pass
 * through raises #GP), consistently: an MSR that takes a write reads, and an MSR that does not
 * read takes no write. The sets of readable and writable MSRs are printed, to be compared with
 * what mhv means to offer. mhv and the canary next to it must not notice (bochs_chostile).
 * The local APIC stays in xAPIC mode, so the x2APIC MSRs (0x800-0x8ff) must raise #GP
 * (SDM Vol. 3A 11.12.1).
 * Then the MSRs whose writes mhv takes itself so that a change of vCPU needs no RDMSR (STAR,
 * LSTAR, CSTAR, SFMASK, TSC_AUX; reads of them need no exit): a write must take effect at
 * once for the instructions that use the MSR without an exit (RDMSR, RDTSCP), and bad values
 * must raise #GP as WRMSR does on a CPU (SDM Vol. 2D WRMSR, Vol. 4 table 2-2).
 */
#include "rt.h"

MHV_GUEST(.name = "hostile_msr", .memory_mib = 8);

struct range {
    uint32_t first, end;
};
static const struct range ranges[] = { { 0, 0x2000 }, { 0x40000000, 0x40001000 }, { 0xc0000000, 0xc0002000 } };

/* MSRs whose change would end this guest's own test rather than probe mhv, left out of the
 * write sweep (they are still read): none so far; the sweep restores every value it changes. */
static bool skip_write(uint32_t msr)
{
    (void)msr;
    return false;
}

#define LIST_MAX 256
struct msr_list {
    unsigned count;
    uint32_t msr[LIST_MAX];
};

static void add(struct msr_list *l, uint32_t msr)
{
    if (l->count < LIST_MAX)
        l->msr[l->count] = msr;
    l->count++;
}

/* "0x10 0x1b 0x174-0x176 ...": consecutive numbers as ranges, several lines if needed. */
static void print_list(const char *what, const struct msr_list *l)
{
    char line[110]; /* mhv's console breaks longer lines */
    unsigned len = (unsigned)ksnprintf(line, sizeof(line), "# %s (%u):", what, l->count);
    unsigned n = l->count < LIST_MAX ? l->count : LIST_MAX;
    for (unsigned i = 0; i < n;) {
        unsigned j = i;
        while (j + 1 < n && l->msr[j + 1] == l->msr[j] + 1)
            j++;
        char item[32];
        unsigned k = j == i ? (unsigned)ksnprintf(item, sizeof(item), " 0x%x", l->msr[i])
                            : (unsigned)ksnprintf(item, sizeof(item), " 0x%x-0x%x", l->msr[i], l->msr[j]);
        if (len + k + 1 >= sizeof(line)) {
            printf("%s\n", line);
            len = (unsigned)ksnprintf(line, sizeof(line), "#  ");
        }
        memcpy(line + len, item, k + 1);
        len += k;
        i = j + 1;
    }
    if (l->count > LIST_MAX)
        len += (unsigned)ksnprintf(line + len, sizeof(line) - len, " ...");
    printf("%s\n", line);
}

static struct msr_list readable, took_zero, took_ones, odd_vector, write_only, unreadable_after_write, changed_by_exit;
static unsigned swept;

static void note_vector(uint32_t msr, int v)
{
    if (v >= 0 && v != VEC_GP)
        add(&odd_vector, msr);
}

static void sweep_one(uint32_t msr)
{
    uint64_t old, back;
    int r = try_rdmsr(msr, &old);
    note_vector(msr, r);
    swept++;
    if (r < 0)
        add(&readable, msr);
    if (skip_write(msr))
        return;
    const uint64_t values[2] = { 0, ~0ull };
    struct msr_list *took[2] = { &took_zero, &took_ones };
    for (unsigned i = 0; i < 2; i++) {
        int w = try_wrmsr(msr, values[i]);
        note_vector(msr, w);
        if (w >= 0)
            continue;
        add(took[i], msr);
        if (r >= 0)
            add(&write_only, msr);
        int rb = try_rdmsr(msr, &back);
        note_vector(msr, rb);
        if (r < 0 && rb >= 0)
            add(&unreadable_after_write, msr);
        /* A VM exit (CPUID always exits) must not change what the MSR holds; the TSC moves. */
        uint64_t after_exit;
        cpuid(0, 0);
        if (rb < 0 && msr != MSR_TSC && (try_rdmsr(msr, &after_exit) >= 0 || after_exit != back))
            add(&changed_by_exit, msr);
        if (r < 0)
            try_wrmsr(msr, old);
    }
}

/* WRMSR of `bad` raises #GP and leaves the MSR as it was; `good` takes, reads back at once
 * and still after a VM exit; then the old value is back. */
static void check_write_rules(uint32_t msr, const char *name, uint64_t bad, uint64_t good)
{
    uint64_t old = rdmsr(msr);
    check_eq((uint64_t)try_wrmsr(msr, bad), VEC_GP, "WRMSR of 0x%lx to %s raises #GP", bad, name);
    check_eq(rdmsr(msr), old, "%s kept 0x%lx", name, old);
    check_eq((uint64_t)try_wrmsr(msr, good), (uint64_t)-1, "WRMSR of 0x%lx to %s works", good, name);
    check_eq(rdmsr(msr), good, "RDMSR of %s reads 0x%lx at once", name, good);
    cpuid(0, 0);
    check_eq(rdmsr(msr), good, "%s reads 0x%lx after a VM exit", name, good);
    wrmsr(msr, old);
}

static void syscall_msr_checks(void)
{
    const uint64_t noncanonical = 1ull << 63; /* neither 48- nor 57-bit canonical */
    check_write_rules(MSR_LSTAR, "LSTAR", noncanonical, 0xffffffff81a00040ull);
    check_write_rules(MSR_CSTAR, "CSTAR", noncanonical, 0xffffffff81a00080ull);
    check_write_rules(MSR_SFMASK, "SFMASK", 1ull << 32, 0x47700);
    uint64_t star = rdmsr(MSR_STAR);
    const uint64_t new_star = 0x0023001012345678ull; /* bits 31:0 too: CPUs take them */
    check_eq((uint64_t)try_wrmsr(MSR_STAR, new_star), (uint64_t)-1, "WRMSR of 0x%lx to STAR works", new_star);
    check_eq(rdmsr(MSR_STAR), new_star, "RDMSR of STAR reads 0x%lx at once", new_star);
    wrmsr(MSR_STAR, star);
    if (!(cpuid(0x80000001, 0).edx & (1u << 27))) {
        printf("# TSC_AUX: no RDTSCP, not checked\n");
        return;
    }
    check_write_rules(MSR_TSC_AUX, "TSC_AUX", 1ull << 32, 0x5a17);
    uint64_t aux = rdmsr(MSR_TSC_AUX), tsc;
    uint32_t seen;
    wrmsr(MSR_TSC_AUX, 0x1234);
    check_eq((uint64_t)try_rdtscp(&tsc, &seen), (uint64_t)-1, "RDTSCP works");
    check_eq(seen, 0x1234, "RDTSCP returns the TSC_AUX written just before (0x1234)");
    wrmsr(MSR_TSC_AUX, aux);
}

void guest_main(void)
{
    uint64_t efer = rdmsr(MSR_EFER);
    for (unsigned i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
        for (uint32_t msr = ranges[i].first; msr < ranges[i].end; msr++)
            sweep_one(msr);
    print_list("readable", &readable);
    print_list("took 0", &took_zero);
    print_list("took all-ones", &took_ones);
    check(odd_vector.count == 0, "every RDMSR and WRMSR on %u MSRs worked or raised #GP", swept);
    if (odd_vector.count)
        print_list("raised something else", &odd_vector);
    check(write_only.count == 0, "no MSR takes a write without reading");
    if (write_only.count)
        print_list("take a write but do not read", &write_only);
    check(unreadable_after_write.count == 0, "every MSR that took a write still reads");
    if (unreadable_after_write.count)
        print_list("stopped reading after a write", &unreadable_after_write);
    check(changed_by_exit.count == 0, "what a written MSR reads does not change across a VM exit");
    if (changed_by_exit.count)
        print_list("changed across a VM exit", &changed_by_exit);
    bool x2apic_gp = true;
    for (unsigned i = 0; i < readable.count && i < LIST_MAX; i++)
        x2apic_gp &= readable.msr[i] < 0x800 || readable.msr[i] > 0x8ff;
    check(x2apic_gp, "in xAPIC mode the x2APIC MSRs 0x800-0x8ff raise #GP");
    /* The guest itself still works: long mode, its local APIC, a hypercall. */
    check_eq(rdmsr(MSR_EFER), efer, "EFER is what it was before the sweep");
    check_eq(apic_id(), 0, "the local APIC still answers (ID 0)");
    syscall_msr_checks();
    check_eq((uint64_t)hc_nop(), 0, "hypercalls still work");
}
