/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The exit fuzzer (tests/cguests/exitfuzz.c, README "Tests"): what its driver and its
 * operation families (ops_*.c in this folder) share.
 *
 * Every vCPU of a fuzz VM runs operations 0, 1, 2, ... up to its count. Operation i of vCPU c
 * draws everything it does (its kind and every operand) from a PRNG seeded with
 * fuzz_op_seed(seed, c, i): one seed replays each vCPU's sequence exactly, whatever the other
 * vCPUs do and wherever an INIT from another vCPU cut an operation short (the operation is
 * then lost, not repeated). Only the interleaving between vCPUs differs between runs.
 *
 * An operation must leave its vCPU runnable: it restores what it changes (control, debug and
 * extended control registers, MSRs), never resets or stops its VM (outside the destructive
 * variant), keeps the interrupt controllers from sending what the runtime cannot take
 * (vectors 16-31, INIT, level-triggered storms: sanitize.c), and catches every fault it
 * provokes (TRY_ASM; the driver runs each operation inside try_call). Where the SDM defines
 * the outcome (an exception, a value), the operation says what it expected: fz_expect().
 */
#ifndef EXITFUZZ_FUZZ_H
#define EXITFUZZ_FUZZ_H

#include <stdbool.h>
#include <stdint.h>

#include "rt.h"

/* --- One operation ---------------------------------------------------------------------- */

struct fuzz_op {
    struct prng rng;  /* seeded for this operation alone */
    unsigned cpu;     /* this vCPU */
    uint64_t index;   /* its number in this vCPU's sequence */
};

/* The seed of operation index of vCPU cpu: SplitMix64's finalizer over both (prng.h). */
static inline uint64_t fuzz_op_seed(uint64_t seed, unsigned cpu, uint64_t index)
{
    uint64_t z = seed ^ ((uint64_t)cpu << 56) ^ (index * 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline uint64_t fz_next(struct fuzz_op *op) { return prng_next(&op->rng); }
static inline uint64_t fz_below(struct fuzz_op *op, uint64_t n) { return prng_below(&op->rng, n); }
static inline uint64_t fz_range(struct fuzz_op *op, uint64_t lo, uint64_t hi) { return lo + fz_below(op, hi - lo + 1); }
/* True with probability percent/100. */
static inline bool fz_chance(struct fuzz_op *op, unsigned percent) { return fz_below(op, 100) < percent; }
#define FZ_PICK(op, array) ((array)[fz_below((op), sizeof(array) / sizeof((array)[0]))])

/* A 64-bit operand from a distribution that reaches the corners: 0, all-ones, single bits,
 * small numbers, sign boundaries, non-canonical addresses, 8/16/32-bit values, anything. */
uint64_t fz_value(struct fuzz_op *op);
/* An interrupt vector for a fixed interrupt the runtime can take (0x20-0xfe), or now and
 * then an illegal one (0-15, which the local APIC refuses, SDM Vol. 3A 12.5.3). Never
 * 16-31: delivered as interrupts they would look like exceptions to the runtime's stubs. */
uint8_t fz_vector(struct fuzz_op *op);

/* What the operation is doing, for traces and for the stall report of another vCPU; the
 * values are its operands. Cheap unless this operation is traced (arg2 of the image). */
void fz_note(struct fuzz_op *op, const char *what, uint64_t a, uint64_t b, uint64_t c);

/* The outcome the SDM (or mhv's README) gives for what the operation did: got and want are
 * vectors (-1: no fault). A difference is reported once per (what) with the seed, the
 * vCPU, the operation's index and its operands, and counted as a failed check. */
void fz_expect(struct fuzz_op *op, int got, int want, const char *what);
/* The same for values. */
void fz_expect_value(struct fuzz_op *op, uint64_t got, uint64_t want, const char *what);
const char *fz_vector_name(int vector);
uint64_t fz_expectations(void); /* outcomes compared so far, in this VM */
uint64_t fz_departures(void);   /* of which differed */

/* TRY_ASM for asm text that places its own expected-fault entry (labels 771 and 772 and a
 * ".quad 771b, 772b" in .rt_fixups, as RT_FIXUP does): for instructions whose resume point
 * needs more code around it. */
#define FZ_FIXUP_ENTRY ".pushsection .rt_fixups, \"a\"\n\t.balign 8\n\t.quad 771b, 772b\n\t.popsection\n\t"
#define FZ_TRY_RAW(text, ...)                                                                      \
    ({                                                                                             \
        rt_fault_arm();                                                                            \
        __asm__ volatile(text __VA_ARGS__);                                                        \
        rt_fault_taken();                                                                          \
    })

/* --- Sections an INIT must not cut ----------------------------------------------------- */

/* Operations may be cut short by an INIT from another vCPU (ops_apic.c restarts it into the
 * loop), except inside a critical section: while it holds a lock, prints, or has its local
 * APIC or TSC in a state the runtime could not restart from. Sections nest. */
void fz_critical_enter(void);
void fz_critical_exit(void);
/* A spinlock of the VM's, taken inside a critical section. The driver releases the one a vCPU
 * holds when an unexpected exception ends its operation, so the other vCPUs go on. */
void fz_lock(struct spinlock *l);
bool fz_trylock(struct spinlock *l);
void fz_unlock(struct spinlock *l);
/* printf() inside a critical section (the console lock must never be held by a vCPU that
 * an INIT restarts). */
int fz_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* --- The VM and its vCPUs -------------------------------------------------------------- */

enum fz_state {
    FZ_OFFLINE,  /* not started (or its start failed) */
    FZ_RUNNING,  /* in the loop; another vCPU may claim it for an INIT */
    FZ_CRITICAL, /* in a critical section */
    FZ_CLAIMED,  /* another vCPU is about to INIT and restart it */
    FZ_DONE,     /* reached its count, parked */
};

struct fz_vcpu {
    volatile uint32_t state;       /* enum fz_state */
    volatile uint32_t depth;       /* critical-section nesting */
    volatile uint64_t next;        /* the next operation's index */
    volatile uint32_t x2apic;      /* its APIC mode, published from inside critical sections */
    struct spinlock *volatile held; /* the lock it holds (fz_lock), if any */
    /* The operation in progress (fz_note), for a stall report. */
    const char *volatile what;
    volatile uint64_t arg[3];
    /* Counters. */
    uint64_t faults[32];           /* exceptions its operations raised, by vector */
    uint64_t stray_db;             /* #DB no TRY_ASM claimed (breakpoints, single steps) */
    uint64_t nmis, restarts, restarts_sent, unexpected;
    volatile uint64_t interrupts;  /* vectors 32-255 taken */
    uint64_t taken_with_if_off;    /* other interrupts that came during an INT n, interrupts off */
};

struct fz_config {
    uint64_t seed;
    unsigned cpus;
    uint64_t ops_per_cpu;
    bool destructive;       /* resets, stops and crashes at the PRNG's word (arg1 bit 0) */
    bool no_restarts;       /* no INIT/STARTUP restarts of other vCPUs (arg1 bit 1) */
    uint64_t trace_from;    /* print every operation from this index on (arg2 - 1; ~0: none) */
    uint64_t progress_every;
    uint64_t stall_ms;
};

extern struct fz_config fz_cfg;
extern struct fz_vcpu fz_vcpus[RT_MAX_CPUS];
extern struct spinlock fz_restart_lock; /* one INIT/SIPI restart at a time (shared trampoline) */
/* Where a vCPU restarted by INIT/STARTUP (ops_apic.c) starts: back into the loop (exitfuzz.c). */
void fz_ap_entry(unsigned cpu, void *arg);

static inline struct fz_vcpu *fz_me(void) { return &fz_vcpus[this_cpu()->id]; }

/* What the CPU offers (CPUID through mhv), read once by vCPU 0 before the others start. */
struct fz_cpu_features {
    unsigned maxphyaddr;
    uint64_t cr4_legal;      /* CR4 bits CPUID offers (ops_regs.c) */
    uint64_t xcr0_supported; /* CPUID 0xd */
    bool xsave, x2apic, tsc_deadline, rdtscp, rdpid, pcid, invpcid, fsgsbase, rdrand, rdseed;
};
extern struct fz_cpu_features fz_features;
void fz_features_read(void);

/* --- The destructive variant (ops_destructive.c) ------------------------------------------ */

/* What survives the VM's own resets (memory is kept): where each vCPU had got to. */
struct fz_persist {
    uint64_t magic, seed, lives;
    uint64_t next[RT_MAX_CPUS];
    char last[96]; /* the reset that ended the last life */
};
#define FZ_PERSIST_MAGIC 0x7473697372657046ull /* "Fpersist" */
struct fz_persist *fz_persist(void);
/* The VM's last act in the destructive variant: a stop the PRNG picks, announced first. */
void fz_destructive_end(void);

/* --- Sanitizers (sanitize.c): keep random device programming survivable ------------------ */

/* Local APIC register write (xAPIC offset, both interfaces): the value to write instead. */
uint32_t fz_sanitize_lapic(unsigned offset, uint32_t value);
/* I/O APIC indirect register write (its index): the value to write instead. */
uint32_t fz_sanitize_ioapic(unsigned index, uint32_t value);
/* A byte written to port: the byte to write instead; false: the port must not be written
 * at all (it would stop the VM, reset it, or write raw bytes to mhv's console). */
bool fz_sanitize_port_byte(uint16_t port, uint8_t *value);

/* --- Families (ops_*.c) ----------------------------------------------------------------- */

typedef void (*fz_op_fn)(struct fuzz_op *op);

void op_cpuid(struct fuzz_op *op);
void op_msr(struct fuzz_op *op);
void op_tsc_msr(struct fuzz_op *op);
void op_cr(struct fuzz_op *op);
void op_dr(struct fuzz_op *op);
void op_xcr0(struct fuzz_op *op);
void op_port(struct fuzz_op *op);
void op_port_string(struct fuzz_op *op);
void op_uart_loopback(struct fuzz_op *op);
void op_mmio_testdev(struct fuzz_op *op);
void op_mmio_ioapic(struct fuzz_op *op);
void op_mmio_lapic(struct fuzz_op *op);
void op_x2apic_msr(struct fuzz_op *op);
void op_apic_mode(struct fuzz_op *op);
void op_apic_timer(struct fuzz_op *op);
void op_ipi(struct fuzz_op *op);
void op_init_sipi(struct fuzz_op *op);
void op_hypercall(struct fuzz_op *op);
void op_fault(struct fuzz_op *op);
void op_privileged(struct fuzz_op *op);
void op_far_transfer(struct fuzz_op *op);
void op_single_step(struct fuzz_op *op);
void op_hlt(struct fuzz_op *op);
void op_interrupt_window(struct fuzz_op *op);
void op_pause_loop(struct fuzz_op *op);
void op_destructive(struct fuzz_op *op);

struct fz_kind {
    const char *name;
    unsigned weight;     /* relative frequency */
    fz_op_fn run;
    bool destructive;    /* only in the destructive variant */
};
extern const struct fz_kind fz_kinds[];
extern const unsigned fz_kind_count;

/* The local APIC through whichever interface this vCPU uses now, with the expected fault:
 * -1, or the vector (x2APIC: #GP for reserved registers and bits, SDM Vol. 3A 12.12.1). */
int fz_apic_write(unsigned offset, uint32_t value);
/* An ICR value sent safely: INIT and STARTUP never (ops_apic.c owns those), NMIs only while
 * no vCPU is being restarted (an NMI in its real-mode trampoline would kill it). */
void fz_send_icr(struct fuzz_op *op, uint32_t dest, uint32_t icr_low);
bool fz_any_done(void);
/* Puts this vCPU's local APIC where the runtime needs it: enabled, software-enabled, TPR 0,
 * LINT0 masked (the PIC's vectors are the fuzzer's to scramble), errors counted. */
void fz_apic_sane(void);

#endif
