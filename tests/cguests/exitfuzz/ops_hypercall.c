/* SPDX-License-Identifier: BSD-2-Clause */
/* Hypercalls with random numbers and arguments (fuzz.h), each result compared with what
 * README "Hypercalls" promises: ENOSYS for unknown numbers, EINVAL for bad vectors, targets
 * and lengths, EFAULT for buffers outside RAM, EPERM from CPL 3. STOP only in the
 * destructive variant (ops_destructive.c). */
#include "fuzz.h"

static const char line[] = "# hypercall console line\n";

/* A vector for INJECT, TIMER and SEND_IPI: legal (32-254; 255 too, but the runtime never EOIs
 * it) or on either side of the range. */
static uint64_t hc_vector(struct fuzz_op *op, bool *legal)
{
    static const uint64_t bad[] = { 0, 1, 3, 14, 16, 31, 256, 257, 0x10020, 1ull << 32, ~0ull };
    if (fz_chance(op, 80)) {
        *legal = true;
        return fz_range(op, 32, 254);
    }
    *legal = false;
    return FZ_PICK(op, bad);
}

/* A buffer for CONSOLE_WRITE: the line with no length, with a length over the limit, or a
 * buffer reaching outside RAM. */
static uint64_t hc_buffer(struct fuzz_op *op, uint64_t *len, int64_t *want)
{
    uint64_t ram = (uint64_t)rt_image_header()->memory_mib << 20;
    static const uint64_t huge[] = { 4097, 1ull << 31, 1ull << 63, ~0ull };
    static const uint64_t lengths[] = { 16, 4096, 4097, 1ull << 31, 1ull << 63, ~0ull };
    static const uint64_t where[] = { 0xfee00000, 0xfebf0000, 0xfec00000, 0x100000000ull, 1ull << 52,
                                      0x8000000000000000ull, ~0ull - 7 };
    switch (fz_below(op, 6)) {
    case 0: case 1: case 2:
        /* Nothing that reaches the console: the runtime's lock is not held here, and bytes of
         * two vCPUs' writes would mix in the log (printf exercises the call with output). */
        *len = 0;
        *want = 0;
        return (uint64_t)(uintptr_t)line;
    case 3:
        *len = FZ_PICK(op, huge);
        *want = MHV_EINVAL; /* more than 4096 bytes */
        return (uint64_t)(uintptr_t)line;
    default: {
        /* Past the end of RAM (at least one byte of it), or in no RAM at all. */
        uint64_t gpa = fz_chance(op, 30) ? ram - fz_below(op, 16) : FZ_PICK(op, where);
        *len = FZ_PICK(op, lengths);
        /* Both wrong: either error will do, so no opinion. */
        *want = *len > 4096 ? MHV_ENOSYS - 100 : MHV_EFAULT;
        return gpa;
    }
    }
}

struct user_call {
    uint64_t nr;
    volatile int64_t result;
};

static void call_at_cpl3(void *arg)
{
    struct user_call *c = arg;
    c->result = hypercall(c->nr, (uint64_t)(uintptr_t)line, 4, 0);
}

void op_hypercall(struct fuzz_op *op)
{
    uint64_t nr = fz_chance(op, 75) ? fz_below(op, 7) : fz_chance(op, 50) ? fz_range(op, 7, 64) : fz_value(op);
    if (nr == MHV_HC_STOP)
        nr = MHV_HC_NOP;
    uint64_t a = fz_value(op), b = fz_value(op), c = fz_value(op);
    int64_t want = MHV_ENOSYS - 100; /* -(101): no opinion */
    bool legal;
    switch (nr) {
    case MHV_HC_VERSION: case MHV_HC_NOP: want = 0; break;
    case MHV_HC_CONSOLE_WRITE: {
        uint64_t len;
        a = hc_buffer(op, &len, &want);
        b = len;
        break;
    }
    case MHV_HC_INJECT:
        if (fz_chance(op, 10)) {
            a = 2; /* an NMI for this vCPU */
            want = 0;
        } else {
            a = hc_vector(op, &legal);
            want = legal ? 0 : MHV_EINVAL;
        }
        break;
    case MHV_HC_TIMER:
        a = fz_chance(op, 10) ? 0 : fz_chance(op, 70) ? fz_below(op, 5000) : fz_value(op);
        b = hc_vector(op, &legal);
        want = a == 0 || legal ? 0 : MHV_EINVAL; /* 0 cancels, whatever the vector */
        break;
    case MHV_HC_SEND_IPI: {
        b = fz_chance(op, 85) ? fz_below(op, smp_cpus()) : fz_value(op);
        a = hc_vector(op, &legal);
        want = legal && b < smp_cpus() ? 0 : MHV_EINVAL;
        break;
    }
    case MHV_HC_STOP: break;
    default: want = MHV_ENOSYS; break;
    }
    if (fz_chance(op, 5)) { /* from CPL 3: EPERM, whatever the number */
        struct user_call uc = { nr, 0 };
        fz_note(op, "hypercall at cpl3", nr, 0, 0);
        fz_expect(op, try_user(call_at_cpl3, &uc), -1, "a hypercall from CPL 3 returns to CPL 3");
        fz_expect_value(op, (uint64_t)uc.result, (uint64_t)MHV_EPERM, "a hypercall from CPL 3 returns EPERM");
        return;
    }
    fz_note(op, "hypercall", nr, a, b);
    struct hc_regs r = hypercall_raw((struct hc_regs){ nr, a, b, c });
    if (want >= -4)
        fz_expect_value(op, r.rax, (uint64_t)want, "a hypercall's result (README \"Hypercalls\")");
    if (nr == MHV_HC_VERSION && r.rax == 0)
        fz_expect_value(op, r.rcx, 0x76686d, "VERSION returns the signature in RCX");
}
