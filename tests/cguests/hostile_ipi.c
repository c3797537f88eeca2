/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Hostile guest: IPI, NMI, INIT and STARTUP storms between its own vCPUs (SDM Vol. 3A 11.6).
 * vCPU 0 floods vCPUs 1-3 with fixed IPIs, NMIs and broadcasts, itself with self-IPIs, sends
 * illegal vectors (0-15: not delivered, "send illegal vector" in its ESR), restarts vCPU 3
 * again and again with INIT and STARTUP (also from a halted-for-good state, and after bursts of
 * INITs), and sends STARTUPs to running vCPUs (ignored). At the end every vCPU must still
 * answer. Equal fixed vectors merge in IRR and NMIs while one is pending, so the checks ask for
 * at least one delivery per burst, and never more than were sent. mhv and the canary must not
 * notice (bochs_chostile).
 */
#include "rt.h"

MHV_GUEST(.name = "hostile_ipi", .vcpus = 4, .memory_mib = 8);

#define VEC_PING 0x60
#define VEC_BROADCAST 0x61
#define VEC_PONG 0x62 /* + the answering vCPU */
#define VEC_SELF 0x70
#define PARK_CODE 0x9000 /* real-mode "cli; hlt" for STARTUP vector 9 */

struct counts {
    volatile uint64_t ping, broadcast, nmi, self;
};
static struct counts counts[4];
static volatile bool stop_all, pong[4];

static void on_ping(struct rt_frame *f)
{
    (void)f;
    unsigned me = smp_id();
    counts[me].ping++;
}

static void on_broadcast(struct rt_frame *f) { (void)f; counts[smp_id()].broadcast++; }
static void on_nmi(struct rt_frame *f) { (void)f; counts[smp_id()].nmi++; }
static void on_self(struct rt_frame *f) { (void)f; counts[smp_id()].self++; }
static void on_pong(struct rt_frame *f) { pong[f->vector - VEC_PONG] = true; }

static void on_ping_reply(struct rt_frame *f)
{
    (void)f;
    apic_send_fixed(0, (uint8_t)(VEC_PONG + smp_id()));
}

/* The APs wait for interrupts; they use no lock, since INIT may strike at any instruction. */
static void ap_loop(unsigned cpu, void *arg)
{
    (void)cpu;
    (void)arg;
    while (!stop_all)
        irq_enable_and_halt();
    irq_disable();
}

static bool at_least_one(volatile uint64_t *field_of_1, size_t stride)
{
    for (unsigned c = 1; c < 4; c++)
        if (!*(volatile uint64_t *)((volatile uint8_t *)field_of_1 + (c - 1) * stride))
            return false;
    return true;
}

void guest_main(void)
{
    irq_set_handler(VEC_PING, on_ping);
    irq_set_handler(VEC_BROADCAST, on_broadcast);
    irq_set_handler(VEC_NMI, on_nmi);
    irq_set_handler(VEC_SELF, on_self);
    for (unsigned c = 0; c < 4; c++)
        irq_set_handler(VEC_PONG + c, on_pong);
    check_eq(smp_start_all(ap_loop, NULL), 3, "vCPUs 1-3 started");

    for (unsigned i = 0; i < 3000; i++)
        apic_send_fixed(1 + i % 3, VEC_PING);
    delay_us(20000);
    uint64_t pings = counts[1].ping + counts[2].ping + counts[3].ping;
    check(at_least_one(&counts[1].ping, sizeof(struct counts)) && pings <= 3000,
          "3000 fixed IPIs: each of vCPUs 1-3 took some, %lu in all", pings);

    for (unsigned i = 0; i < 900; i++)
        apic_send_ipi(1 + i % 3, ICR_NMI | ICR_LEVEL_ASSERT);
    delay_us(20000);
    uint64_t nmis = counts[1].nmi + counts[2].nmi + counts[3].nmi;
    check(at_least_one(&counts[1].nmi, sizeof(struct counts)) && nmis <= 900,
          "900 NMIs: each of vCPUs 1-3 took some, %lu in all", nmis);

    for (unsigned i = 0; i < 300; i++)
        apic_send_ipi(0, ICR_ALL_EXCLUDING_SELF | ICR_LEVEL_ASSERT | VEC_BROADCAST);
    delay_us(20000);
    irq_enable();
    delay_us(1000);
    irq_disable();
    check(at_least_one(&counts[1].broadcast, sizeof(struct counts)) && counts[0].broadcast == 0,
          "300 broadcasts to all but self: vCPUs 1-3 took some, vCPU 0 none (%lu)", counts[0].broadcast);

    irq_enable();
    for (unsigned i = 0; i < 1000; i++)
        apic_send_ipi(0, ICR_SELF | ICR_LEVEL_ASSERT | VEC_SELF);
    delay_us(5000);
    irq_disable();
    check(counts[0].self >= 1 && counts[0].self <= 1000, "1000 self-IPIs with interrupts on: %lu taken", counts[0].self);

    /* Vectors 0-15 are illegal for fixed IPIs: the sender's ESR gets "send illegal vector". */
    apic_write(APIC_ESR, 0);
    for (unsigned v = 0; v < 16; v++)
        apic_send_ipi(1, ICR_FIXED | ICR_LEVEL_ASSERT | v);
    apic_write(APIC_ESR, 0);
    uint32_t esr = apic_read(APIC_ESR);
    check(esr & (1u << 5), "fixed IPIs with vectors 0-15 set ESR's send-illegal-vector bit (ESR 0x%x)", esr);

    /* Restart vCPU 3 over and over; also from a halted-for-good state and after INIT bursts. */
    memcpy((void *)(uintptr_t)PARK_CODE, "\xfa\xf4\xeb\xfd", 4); /* cli; hlt; jmp $-1 */
    unsigned restarts = 0;
    for (unsigned i = 0; i < 20; i++) {
        if (i % 5 == 1) {
            apic_send_ipi(3, ICR_INIT | ICR_LEVEL_ASSERT);
            apic_send_ipi(3, ICR_STARTUP | (PARK_CODE >> 12)); /* parks it with interrupts off */
            delay_us(2000);
        }
        if (i % 5 == 2)
            for (unsigned k = 0; k < 50; k++)
                apic_send_ipi(3, ICR_INIT | ICR_LEVEL_ASSERT);
        restarts += smp_start(3, ap_loop, NULL) == 0;
    }
    check_eq(restarts, 20, "vCPU 3 restarted 20 times by INIT and STARTUP");
    for (unsigned i = 0; i < 50; i++)
        apic_send_ipi(2, ICR_STARTUP | (PARK_CODE >> 12)); /* a running vCPU ignores STARTUP */

    /* Everyone still answers. */
    irq_set_handler(VEC_PING, on_ping_reply);
    irq_enable();
    for (unsigned c = 1; c < 4; c++)
        apic_send_fixed(c, VEC_PING);
    uint64_t end = tsc_deadline_in_us(200000);
    while (!(pong[1] && pong[2] && pong[3]) && !tsc_reached(end))
        cpu_relax();
    irq_disable();
    check(pong[1] && pong[2] && pong[3], "after the storms vCPUs 1-3 all answer an IPI (%d%d%d)", pong[1], pong[2], pong[3]);
    stop_all = true;
    for (unsigned c = 1; c < 4; c++)
        apic_send_fixed(c, VEC_BROADCAST);
}
