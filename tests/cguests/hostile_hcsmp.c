/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Hostile guest: hypercalls from all 4 vCPUs at once (README "Hypercalls"). Each vCPU, in
 * ROUNDS rounds, writes a whole console line of its own straight through CONSOLE_WRITE (not
 * the runtime's printf, which serializes under a lock), arms and cancels its TIMER, sends
 * SEND_IPIs to the others, INJECTs into itself, and calls VERSION, NOP and unknown numbers;
 * every result must be the one the README gives, and every interrupt sent must arrive at
 * most once per send and at least once per burst. bochs_chostile2 checks the console: every
 * line this VM writes must come out whole ("hc-line vcpu=V n=N end"), none mixed with
 * another vCPU's bytes.
 */
#include "rt.h"

MHV_GUEST(.name = "hostile_hcsmp", .vcpus = 4, .memory_mib = 8);

#define ROUNDS 60
#define VEC_IPI 0x50   /* + the sender */
#define VEC_INJECT 0x60
#define VEC_TIMER 0x61

static volatile uint64_t received[4][4], injected[4], timer_fired[4];
static volatile unsigned sent[4][4], wrong[4], first_wrong_nr[4] = { ~0u, ~0u, ~0u, ~0u };
static struct barrier together;

static void on_ipi(struct rt_frame *f) { received[smp_id()][f->vector - VEC_IPI]++; }
static void on_inject(struct rt_frame *f) { (void)f; injected[smp_id()]++; }
static void on_timer(struct rt_frame *f) { (void)f; timer_fired[smp_id()]++; }

static void expect(unsigned cpu, uint64_t nr, int64_t got, int64_t want)
{
    if (got != want && !wrong[cpu]++)
        first_wrong_nr[cpu] = (unsigned)nr;
}

static void hammer(unsigned cpu, void *arg)
{
    (void)arg;
    unsigned n = smp_cpus();
    char line[64];
    barrier_wait(&together);
    for (unsigned i = 0; i < ROUNDS; i++) {
        int len = ksnprintf(line, sizeof(line), "hc-line vcpu=%u n=%u end\n", cpu, i);
        expect(cpu, MHV_HC_CONSOLE_WRITE, hc_console_write(line, (size_t)len), len);
        expect(cpu, MHV_HC_TIMER, hc_timer(10 + i * 7, VEC_TIMER), 0);
        for (unsigned t = 0; t < n; t++)
            if (t != cpu) {
                expect(cpu, MHV_HC_SEND_IPI, hc_send_ipi(VEC_IPI + cpu, t), 0);
                sent[cpu][t]++;
            }
        expect(cpu, MHV_HC_INJECT, hc_inject(VEC_INJECT), 0);
        uint64_t abi, sig;
        expect(cpu, MHV_HC_VERSION, hc_version(&abi, &sig), 0);
        expect(cpu, MHV_HC_NOP, hc_nop(), 0);
        expect(cpu, 0x1000 + i, hypercall(0x1000 + i, i, i, i), MHV_ENOSYS);
        expect(cpu, MHV_HC_SEND_IPI, hc_send_ipi(VEC_IPI, n + i), MHV_EINVAL);
        expect(cpu, MHV_HC_CONSOLE_WRITE, hypercall(MHV_HC_CONSOLE_WRITE, 0xfee00000, 8, 0), MHV_EFAULT);
        if (i % 8 == 7) { /* take what arrived */
            irq_enable();
            delay_us(200);
            irq_disable();
        }
        if (i % 16 == 15)
            expect(cpu, MHV_HC_TIMER, hc_timer(0, 0), 0); /* cancel */
    }
    irq_enable();
    delay_us(5000);
    irq_disable();
    barrier_wait(&together);
}

void guest_main(void)
{
    unsigned n = smp_cpus();
    barrier_init(&together, n);
    for (unsigned v = 0; v < 4; v++)
        irq_set_handler(VEC_IPI + v, on_ipi);
    irq_set_handler(VEC_INJECT, on_inject);
    irq_set_handler(VEC_TIMER, on_timer);
    check_eq(smp_start_all(hammer, NULL), n - 1, "vCPUs 1-%u started", n - 1);
    hammer(0, NULL);
    smp_wait_all();
    for (unsigned c = 0; c < n; c++) {
        check(wrong[c] == 0, "vCPU %u: every hypercall returned what the README says (%u did not, the first number 0x%x)", c,
              wrong[c], first_wrong_nr[c]);
        for (unsigned s = 0; s < n; s++) {
            if (s == c)
                continue;
            check(received[c][s] >= 1 && received[c][s] <= sent[s][c],
                  "vCPU %u took %lu of the %u SEND_IPIs from vCPU %u (at least one, at most all)", c, received[c][s],
                  sent[s][c], s);
        }
        check(injected[c] >= 1 && injected[c] <= ROUNDS, "vCPU %u took %lu of its %u INJECTs", c, injected[c], ROUNDS);
    }
}
