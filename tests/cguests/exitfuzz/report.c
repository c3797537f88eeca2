/* SPDX-License-Identifier: BSD-2-Clause */
/* What the fuzzer says about operations (fuzz.h): notes for traces and stall reports, and
 * the expectations the SDM gives, each departure reported with what replays it. */
#include "fuzz.h"

void fz_note(struct fuzz_op *op, const char *what, uint64_t a, uint64_t b, uint64_t c)
{
    struct fz_vcpu *me = &fz_vcpus[op->cpu];
    me->what = what;
    me->arg[0] = a;
    me->arg[1] = b;
    me->arg[2] = c;
    if (op->index >= fz_cfg.trace_from)
        fz_printf("# trace vCPU %u op %lu: %s 0x%lx 0x%lx 0x%lx\n", op->cpu, op->index, what, a, b, c);
}

const char *fz_vector_name(int vector)
{
    return vector < 0 ? "no fault" : exception_name((unsigned)vector);
}

/* Departures are reported once per kind (their `what` string), all are counted. */
#define REPORTED_MAX 64
static const char *reported[REPORTED_MAX];
static unsigned reported_count;
static struct spinlock report_lock;
static volatile uint64_t departures, expectations;

uint64_t fz_departures(void) { return departures; }
uint64_t fz_expectations(void) { return expectations; }

static bool first_time(const char *what)
{
    bool first = true;
    spin_lock(&report_lock);
    for (unsigned i = 0; i < reported_count; i++)
        first &= reported[i] != what;
    if (first && reported_count < REPORTED_MAX)
        reported[reported_count++] = what;
    else if (first)
        first = false; /* too many kinds already: counted, not printed */
    spin_unlock(&report_lock);
    return first;
}

/* Three lines, each within mhv's 127 characters, in one printf (the console's lock keeps them
 * together): the rule, what happened, and what replays it. */
static void depart(struct fuzz_op *op, const char *what, const char *got, const char *want)
{
    __atomic_add_fetch(&departures, 1, __ATOMIC_RELAXED);
    fz_critical_enter();
    if (first_time(what)) {
        struct fz_vcpu *me = &fz_vcpus[op->cpu];
        check(false, "%s\n#   got %s, expected %s\n#   vCPU %u op %lu seed 0x%lx: %s %lx %lx %lx", what, got, want, op->cpu,
              op->index, fz_cfg.seed, me->what, me->arg[0], me->arg[1], me->arg[2]);
    }
    fz_critical_exit();
}

void fz_expect(struct fuzz_op *op, int got, int want, const char *what)
{
    __atomic_add_fetch(&expectations, 1, __ATOMIC_RELAXED);
    if (got >= 0 && got < 32)
        fz_vcpus[op->cpu].faults[got]++;
    if (got != want)
        depart(op, what, fz_vector_name(got), fz_vector_name(want));
}

void fz_expect_value(struct fuzz_op *op, uint64_t got, uint64_t want, const char *what)
{
    __atomic_add_fetch(&expectations, 1, __ATOMIC_RELAXED);
    if (got != want) {
        char g[24], w[24];
        ksnprintf(g, sizeof(g), "0x%lx", got);
        ksnprintf(w, sizeof(w), "0x%lx", want);
        depart(op, what, g, w);
    }
}
