/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The exit fuzzer (README "Tests"): every vCPU of the VM issues a seeded random sequence of
 * exit-causing operations with random operands (tests/cguests/exitfuzz/, one family per file:
 * CPUID and MSRs, control, debug and extended control registers, ports and MMIO of every
 * device, hypercalls, the local APIC with IPIs, NMIs and INIT/STARTUP restarts of the other
 * vCPUs, exceptions, far transfers, single steps, HLT and interrupt windows), survives them,
 * and compares every outcome the SDM defines with what it got. A vCPU that another restarts
 * with INIT and STARTUP comes back into its loop where it was.
 *
 * Replay: operation i of vCPU c depends only on (seed, c, i) (exitfuzz/fuzz.h), so the seed
 * printed at the start, at every progress line and with every report runs the same
 * operations again: tests/cguests/mkvariant seed=..., or MHV_FUZZ_SEED for the boot test.
 *
 * Parameters (mkvariant): seed=N (0: the TSC picks one); arg0 operations per vCPU (10000);
 * arg1 bit 1: no INIT/STARTUP restarts of other vCPUs; bit 0: the destructive variant (resets and stops at the PRNG's word, for a VM with
 * on_reboot/on_crash/on_poweroff = restart); arg2 = N + 1: print every operation from index N
 * on; arg3 progress line every N operations per vCPU (arg0 / 10); arg4 report a vCPU that
 * made no progress for N ms (5000).
 *
 * Output: "# exitfuzz: seed ..." first; "# progress vCPU c: n of m operations (seed ...)";
 * "not ok - <rule>: got ..., expected ... (vCPU c op i seed s: <operation> <operands>)" once
 * per rule that mhv broke; "not ok - stall: ..." for a vCPU that stopped making progress;
 * per-vCPU totals, "ok - exitfuzz: every vCPU ran its N operations (seed ...)", and the
 * runtime's "done: ..." with the number of failures as the exit status.
 */
#include "exitfuzz/fuzz.h"

MHV_GUEST(.name = "exitfuzz", .vcpus = 4, .memory_mib = 16);

struct fz_config fz_cfg;
struct fz_vcpu fz_vcpus[RT_MAX_CPUS];
static uint64_t kind_counts[RT_MAX_CPUS][32];
static uint64_t kind_ticks[RT_MAX_CPUS][32]; /* TSC ticks spent in each kind */
static unsigned kind_total_weight;

/* --- Handlers for what the operations raise ---------------------------------------------- */

static void on_interrupt(struct rt_frame *f)
{
    (void)f;
    fz_vcpus[smp_id()].interrupts++;
}

static void on_nmi(struct rt_frame *f)
{
    (void)f;
    fz_vcpus[smp_id()].nmis++;
}

/* A #DB no TRY_ASM claimed: a breakpoint of a random DR7, a single step running on. Resume
 * without the trap flag, and with RF so an instruction breakpoint does not fire again
 * (SDM Vol. 3B 18.3.1.1). */
static void on_stray_debug(struct rt_frame *f)
{
    f->rflags = (f->rflags & ~(1ull << 8)) | (1ull << 16);
    fz_vcpus[smp_id()].stray_db++;
}

static void install_handlers(void)
{
    for (unsigned v = 0x20; v < 0xff; v++)
        irq_set_handler(v, on_interrupt);
    irq_set_handler(VEC_NMI, on_nmi);
    irq_set_handler(VEC_DB, on_stray_debug);
}

/* An NMI may reach a vCPU in real mode, between its STARTUP and its IDT (ops_apic.c keeps
 * that rare): the real-mode vector 2 points at an IRET. */
static void real_mode_nmi_stub(void)
{
    uintptr_t ivt = 0; /* hidden from the compiler, which takes low addresses for null pointers */
    __asm__("" : "+r"(ivt));
    *(volatile uint8_t *)(ivt + 0x7f00) = 0xcf;    /* iret */
    *(volatile uint32_t *)(ivt + 2 * 4) = 0x07f00; /* IVT entry 2: 0000:7f00 */
}

/* --- The loop ---------------------------------------------------------------------------- */

/* Whether this run draws kind k: the destructive kinds only in the destructive variant, the
 * INIT/STARTUP restarts unless arg1 bit 1 leaves them out. */
static bool kind_drawn(const struct fz_kind *k)
{
    return (!k->destructive || fz_cfg.destructive) && !(fz_cfg.no_restarts && k->run == op_init_sipi);
}

static const struct fz_kind *pick_kind(struct fuzz_op *op)
{
    uint64_t r = fz_below(op, kind_total_weight);
    for (unsigned i = 0; i < fz_kind_count; i++) {
        if (!kind_drawn(&fz_kinds[i]))
            continue;
        if (r < fz_kinds[i].weight)
            return &fz_kinds[i];
        r -= fz_kinds[i].weight;
    }
    return &fz_kinds[0];
}

struct one_op {
    const struct fz_kind *kind;
    struct fuzz_op *op;
};

static void run_one(void *arg)
{
    struct one_op *o = arg;
    o->kind->run(o->op);
}

/* An exception no part of the operation expected: reported like a departure, and whatever
 * the operation held is let go. */
static void unexpected(struct fuzz_op *op, int vector)
{
    struct fz_vcpu *me = &fz_vcpus[op->cpu];
    uint64_t error = fault_error(), cr2 = fault_cr2();
    me->unexpected++;
    if (me->held) {
        spin_unlock(me->held);
        me->held = NULL;
    }
    me->depth = 0;
    if (me->state == FZ_CRITICAL)
        __atomic_store_n(&me->state, FZ_RUNNING, __ATOMIC_RELEASE);
    char what[96];
    ksnprintf(what, sizeof(what), "error 0x%lx, cr2 0x%lx", error, cr2);
    fz_expect(op, vector, -1, "an operation raised an exception it did not expect");
    fz_printf("# unexpected %s on vCPU %u op %lu: %s\n", fz_vector_name(vector), op->cpu, op->index, what);
}

static uint64_t stall_ticks(void) { return us_to_tsc(fz_cfg.stall_ms * 1000); }

struct watch {
    uint64_t seen, since;
    bool reported;
};
static struct watch watches[RT_MAX_CPUS][RT_MAX_CPUS];

static const char *state_name(uint32_t s)
{
    static const char *const names[] = { "offline", "running", "critical", "claimed", "done" };
    return s < 5 ? names[s] : "?";
}

/* Whether vCPU t has made no progress for the stall time; reported once per stall. */
static bool watch(unsigned cpu, unsigned t)
{
    struct fz_vcpu *tv = &fz_vcpus[t];
    struct watch *w = &watches[cpu][t];
    uint64_t now = rdtsc(), next = tv->next;
    uint32_t st = tv->state;
    if (st == FZ_DONE || st == FZ_OFFLINE || next != w->seen || !w->since) {
        w->seen = next;
        w->since = now;
        w->reported = false;
        return false;
    }
    if ((int64_t)(now - w->since) < (int64_t)stall_ticks())
        return false;
    if (!w->reported) {
        w->reported = true;
        fz_critical_enter();
        check(false, "stall: vCPU %u made no progress for %lu ms at op %lu (%s 0x%lx 0x%lx 0x%lx, %s), seed 0x%lx", t,
              tsc_to_us(now - w->since) / 1000, next ? next - 1 : 0, tv->what ? tv->what : "-", tv->arg[0], tv->arg[1],
              tv->arg[2], state_name(st), fz_cfg.seed);
        fz_critical_exit();
    }
    return true;
}

static void loop(unsigned cpu)
{
    struct fz_vcpu *me = &fz_vcpus[cpu];
    unsigned cpus = smp_cpus();
    while (me->next < fz_cfg.ops_per_cpu) {
        uint64_t i = me->next;
        me->next = i + 1; /* first: an INIT during the operation loses it, never repeats it */
        if (fz_cfg.destructive)
            fz_persist()->next[cpu] = i + 1; /* and so does a reset of the VM */
        struct fuzz_op op = { .cpu = cpu, .index = i };
        prng_seed(&op.rng, fuzz_op_seed(fz_cfg.seed, cpu, i));
        const struct fz_kind *k = pick_kind(&op);
        me->what = k->name;
        me->arg[0] = me->arg[1] = me->arg[2] = 0;
        kind_counts[cpu][k - fz_kinds]++;
        if (i >= fz_cfg.trace_from)
            fz_printf("# trace vCPU %u op %lu: %s\n", cpu, i, k->name);
        struct one_op o = { k, &op };
        uint64_t t0 = rdtsc();
        int v = try_call(run_one, &o);
        irq_disable(); /* every operation ends with interrupts off; make sure */
        kind_ticks[cpu][k - fz_kinds] += rdtsc() - t0;
        if (v >= 0)
            unexpected(&op, v);
        if ((i + 1) % fz_cfg.progress_every == 0)
            fz_printf("# progress vCPU %u: %lu of %lu operations (seed 0x%lx)\n", cpu, i + 1, fz_cfg.ops_per_cpu,
                      fz_cfg.seed);
        if ((i & 63) == 0 && cpus > 1)
            watch(cpu, (cpu + 1) % cpus);
    }
}

/* Out of the loop for good: DONE, unless another vCPU claimed it first (then its INIT comes
 * and the loop, already at its count, ends at once). */
static void finish(struct fz_vcpu *me)
{
    for (;;) {
        uint32_t s = FZ_RUNNING;
        if (__atomic_compare_exchange_n(&me->state, &s, FZ_DONE, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            return;
        cpu_relax();
    }
}

#define VEC_WATCH 0xf8

/* A vCPU that is done keeps watching vCPU 0, which the others stopped watching when they
 * finished: every 100 ms (a timer wakes it from HLT) until vCPU 0 is done too. */
static void watch_vcpu0_until_done(unsigned cpu)
{
    while (fz_vcpus[0].state != FZ_DONE) {
        watch(cpu, 0);
        hc_timer(100000, VEC_WATCH);
        irq_enable_and_halt();
        irq_disable();
    }
}

void fz_ap_entry(unsigned cpu, void *arg)
{
    (void)arg;
    struct rt_cpu *c = this_cpu();
    struct fz_vcpu *me = &fz_vcpus[cpu];
    c->try_ctx = NULL; /* an INIT left the old one on a stack that is gone */
    c->fault_vector = -1;
    me->depth = 0;
    me->held = NULL;
    bool restarted = me->state == FZ_CLAIMED;
    bool x2apic_before = me->x2apic, x2apic_now = (rdmsr(MSR_APIC_BASE) >> 10) & 1;
    fz_apic_sane();
    /* Running first: a report below enters a critical section, which a claimed vCPU may not. */
    __atomic_store_n(&me->state, FZ_RUNNING, __ATOMIC_RELEASE);
    if (restarted) {
        me->restarts++;
        /* INIT keeps the x2APIC mode and a disabled APIC disabled (SDM Vol. 3A 12.12.5.1). */
        struct fuzz_op op = { .cpu = cpu, .index = me->next ? me->next - 1 : 0 };
        fz_expect_value(&op, x2apic_now, x2apic_before, "INIT keeps the local APIC's mode (SDM Vol. 3A 12.12.5.1)");
    }
    loop(cpu);
    finish(me);
    if (cpu == smp_cpus() - 1)
        watch_vcpu0_until_done(cpu);
}

/* --- vCPU 0: set-up, its own loop, the wait for the others, the totals -------------------- */

static void configure(void)
{
    fz_cfg.seed = rt_seed();
    fz_cfg.cpus = smp_cpus();
    fz_cfg.ops_per_cpu = rt_arg(0) ? rt_arg(0) : 10000;
    fz_cfg.destructive = rt_arg(1) & 1;
    fz_cfg.no_restarts = rt_arg(1) & 2;
    fz_cfg.trace_from = rt_arg(2) ? rt_arg(2) - 1 : ~0ull;
    fz_cfg.progress_every = rt_arg(3) ? rt_arg(3) : fz_cfg.ops_per_cpu / 10 ? fz_cfg.ops_per_cpu / 10 : 1;
    fz_cfg.stall_ms = rt_arg(4) ? rt_arg(4) : 5000;
    for (unsigned i = 0; i < fz_kind_count; i++)
        if (kind_drawn(&fz_kinds[i]))
            kind_total_weight += fz_kinds[i].weight;
}

/* The destructive variant after one of its own resets: memory survived, so every vCPU goes on
 * from where it was. */
static void resume_after_reset(void)
{
    struct fz_persist *p = fz_persist();
    if (p->magic == FZ_PERSIST_MAGIC && p->seed == fz_cfg.seed) {
        p->lives++;
        for (unsigned c = 0; c < smp_cpus(); c++)
            fz_vcpus[c].next = p->next[c];
        fz_printf("# exitfuzz: life %lu after the %s; vCPU 0 resumes at op %lu\n", p->lives + 1, p->last, p->next[0]);
        return;
    }
    memset(p, 0, sizeof(*p));
    p->seed = fz_cfg.seed;
    p->magic = FZ_PERSIST_MAGIC;
}

static void wait_for_the_others(void)
{
    unsigned cpus = smp_cpus();
    for (;;) {
        bool all = true, gave_up = false;
        for (unsigned t = 1; t < cpus; t++) {
            uint32_t s = fz_vcpus[t].state;
            if (s == FZ_DONE || s == FZ_OFFLINE)
                continue;
            all = false;
            struct watch *w = &watches[0][t];
            if (watch(0, t) && (int64_t)(rdtsc() - w->since) > 3 * (int64_t)stall_ticks())
                gave_up = true;
        }
        if (all || gave_up)
            return;
        delay_us(1000);
    }
}

static void print_totals(uint64_t *total)
{
    unsigned cpus = smp_cpus();
    *total = 0;
    for (unsigned c = 0; c < cpus; c++) {
        struct fz_vcpu *v = &fz_vcpus[c];
        uint64_t faults = 0;
        for (unsigned i = 0; i < 32; i++)
            faults += v->faults[i];
        uint64_t done = v->next < fz_cfg.ops_per_cpu ? v->next : fz_cfg.ops_per_cpu;
        *total += done;
        if (v->taken_with_if_off)
            fz_printf("# vCPU %u: %lu interrupts came with interrupts off during INT n (Bochs's erratum)\n", c,
                      v->taken_with_if_off);
        fz_printf("# vCPU %u: %lu operations, %lu exceptions (#GP %lu, #UD %lu, #PF %lu, #DB %lu), %lu interrupts, %lu NMIs\n",
                  c, done, faults, v->faults[VEC_GP], v->faults[VEC_UD], v->faults[VEC_PF], v->faults[VEC_DB],
                  v->interrupts, v->nmis);
        fz_printf("# vCPU %u: %lu stray #DB, restarted %lu times by INIT/SIPI, restarted others %lu times, %lu unexpected exceptions\n",
                  c, v->stray_db, v->restarts, v->restarts_sent, v->unexpected);
    }
    char line[110];
    fz_printf("# kinds: operations/TSC ticks per operation\n");
    unsigned len = (unsigned)ksnprintf(line, sizeof(line), "# kinds:");
    for (unsigned k = 0; k < fz_kind_count; k++) {
        uint64_t n = 0;
        for (unsigned c = 0; c < cpus; c++)
            n += kind_counts[c][k];
        uint64_t ticks = 0;
        for (unsigned c = 0; c < cpus; c++)
            ticks += kind_ticks[c][k];
        char item[48];
        unsigned l = (unsigned)ksnprintf(item, sizeof(item), " %s %lu/%lu", fz_kinds[k].name, n, n ? ticks / n : 0);
        if (len + l + 1 >= sizeof(line)) {
            fz_printf("%s\n", line);
            len = (unsigned)ksnprintf(line, sizeof(line), "# kinds:");
        }
        memcpy(line + len, item, l + 1);
        len += l;
    }
    fz_printf("%s\n", line);
}

void guest_main(void)
{
    configure();
    fz_features_read();
    install_handlers();
    real_mode_nmi_stub();
    uint64_t start = rdtsc();
    unsigned cpus = smp_cpus();
    fz_printf("# exitfuzz: seed 0x%lx (%s), %u vCPUs, %lu operations each, %s variant\n", fz_cfg.seed, rt_seed_source(),
              cpus, fz_cfg.ops_per_cpu, fz_cfg.destructive ? "destructive" : "non-destructive");
    fz_apic_sane();
    if (fz_cfg.destructive)
        resume_after_reset();
    for (unsigned c = 1; c < cpus; c++) {
        fz_vcpus[c].state = FZ_CLAIMED; /* fz_ap_entry counts no restart for it: cleared below */
        fz_lock(&fz_restart_lock);      /* no NMI while it runs its trampoline (fz_send_icr) */
        int rc = smp_start(c, fz_ap_entry, NULL);
        fz_unlock(&fz_restart_lock);
        if (rc != 0) {
            fz_vcpus[c].state = FZ_OFFLINE;
            check(false, "vCPU %u came up after INIT/SIPI/SIPI", c);
        }
    }
    for (unsigned c = 1; c < cpus; c++)
        fz_vcpus[c].restarts = 0;
    fz_vcpus[0].state = FZ_RUNNING;
    loop(0);
    finish(&fz_vcpus[0]);
    wait_for_the_others();
    uint64_t total;
    print_totals(&total);
    check_eq(total, fz_cfg.ops_per_cpu * cpus, "exitfuzz: every vCPU ran its %lu operations (seed 0x%lx)",
             fz_cfg.ops_per_cpu, fz_cfg.seed);
    check(fz_departures() == 0, "exitfuzz: %lu outcomes compared with the SDM's, %lu differed (seed 0x%lx)",
          fz_expectations(), fz_departures(), fz_cfg.seed);
    fz_printf("# exitfuzz: %lu operations on %u vCPUs in %lu ms of TSC time, seed 0x%lx\n", total, cpus,
              tsc_to_us(rdtsc() - start) / 1000, fz_cfg.seed);
    if (fz_cfg.destructive)
        fz_destructive_end();
}
