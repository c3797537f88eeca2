/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Hostile guest: local APIC corners, in xAPIC and then in x2APIC mode (SDM Vol. 3A chapter 12).
 *  - An IPI with an illegal vector (0-15): the sender's ESR gets "send illegal vector" (bit 5),
 *    the receiver's "receive illegal vector" (bit 6), and nothing is delivered (12.5.3); a
 *    self-IPI (and the x2APIC SELF IPI register) sets both in the one APIC; with the error
 *    LVT unmasked the error interrupts the vCPU.
 *  - The timer's current count: in one-shot mode it counts down to 0 and stays there, never
 *    above the initial count; in periodic mode it stays within 1..initial (12.5.4).
 * vCPU 1 is the receiver: it polls for the sender's word, latches its ESR (a write, then a
 * read, 12.5.3) and reports back.
 */
#include "rt.h"

MHV_GUEST(.name = "hostile_lapic", .vcpus = 2, .memory_mib = 8);

#define ESR_SEND_ILLEGAL (1u << 5)
#define ESR_RECEIVE_ILLEGAL (1u << 6)
#define VEC_ERROR 0xe0
#define VEC_LOW 0x20 /* the lowest legal vector, to see nothing lower was delivered as it */

static volatile unsigned request, answered;
static volatile uint32_t receiver_esr, receiver_interrupts;
static volatile bool receiver_x2apic, stop;
static volatile unsigned errors[2];

static void on_error(struct rt_frame *f)
{
    (void)f;
    errors[smp_id()]++;
}

static uint32_t esr_latch(void)
{
    apic_write(APIC_ESR, 0);
    return apic_read(APIC_ESR);
}

/* vCPU 1: on each request, latch its ESR and report it with its interrupt count. */
static void receiver(unsigned cpu, void *arg)
{
    (void)cpu, (void)arg;
    unsigned seen = 0;
    esr_latch();
    while (!stop) {
        if (request == seen) {
            cpu_relax();
            continue;
        }
        seen = request;
        if (receiver_x2apic && !apic_is_x2apic())
            apic_enable_x2apic();
        apic_write(APIC_SVR, 0x100 | RT_VEC_SPURIOUS);
        receiver_esr = esr_latch();
        receiver_interrupts = (uint32_t)this_cpu()->interrupts;
        __atomic_store_n(&answered, seen, __ATOMIC_RELEASE);
    }
}

static void ask_receiver(void)
{
    unsigned r = ++request;
    uint64_t end = tsc_deadline_in_us(500000);
    while (__atomic_load_n(&answered, __ATOMIC_ACQUIRE) != r && !tsc_reached(end))
        cpu_relax();
}

static void illegal_vectors(const char *mode)
{
    ask_receiver(); /* its ESR clean, its mode set */
    uint32_t before = receiver_interrupts;
    esr_latch();
    for (unsigned v = 0; v < 16; v++)
        apic_send_fixed(1, (uint8_t)v);
    uint32_t sender = esr_latch();
    delay_us(2000);
    ask_receiver();
    check(sender & ESR_SEND_ILLEGAL, "%s: the sender of vectors 0-15 has ESR bit 5 (ESR 0x%x)", mode, sender);
    check(receiver_esr & ESR_RECEIVE_ILLEGAL, "%s: their receiver has ESR bit 6 (ESR 0x%x)", mode, receiver_esr);
    check_eq(receiver_interrupts - before, 0, "%s: the receiver took no interrupt for them", mode);

    esr_latch();
    apic_send_ipi(0, ICR_SELF | ICR_LEVEL_ASSERT | 7);
    uint32_t self = esr_latch();
    check((self & (ESR_SEND_ILLEGAL | ESR_RECEIVE_ILLEGAL)) == (ESR_SEND_ILLEGAL | ESR_RECEIVE_ILLEGAL),
          "%s: a self-IPI with vector 7 sets ESR bits 5 and 6 (ESR 0x%x)", mode, self);
    if (apic_is_x2apic()) {
        esr_latch();
        wrmsr(0x83f, 3); /* SELF IPI register */
        uint32_t e = esr_latch();
        check(e & ESR_SEND_ILLEGAL, "%s: the SELF IPI register with vector 3 sets ESR bit 5 (ESR 0x%x)", mode, e);
    }

    /* The error LVT unmasked: an illegal vector interrupts the sender. */
    unsigned errs = errors[0];
    apic_write(APIC_LVT_ERROR, VEC_ERROR);
    irq_enable();
    apic_send_fixed(1, 9);
    delay_us(1000);
    irq_disable();
    apic_write(APIC_LVT_ERROR, LVT_MASKED);
    esr_latch();
    check(errors[0] > errs, "%s: with the error LVT unmasked, the illegal vector raised the error interrupt", mode);
}

static void timer_counts(const char *mode)
{
    /* One-shot, masked, 200 ticks at divide-by-1: long over after 20000 ticks. */
    unsigned above = 0, nonzero = 0;
    for (unsigned i = 0; i < 20; i++) {
        apic_write(APIC_TIMER_INITIAL, 0);
        apic_write(APIC_TIMER_DIVIDE, 0xb);
        apic_write(APIC_LVT_TIMER, LVT_MASKED | 0x40);
        apic_write(APIC_TIMER_INITIAL, 200);
        uint64_t end = rdtsc() + 20000 + i * 997;
        while (rdtsc() < end)
            cpu_relax();
        uint32_t cur = apic_read(APIC_TIMER_CURRENT);
        above += cur > 200;
        nonzero += cur != 0;
    }
    check(above == 0, "%s: a one-shot timer's current count never exceeds its initial count (%u of 20 did)", mode, above);
    check(nonzero == 0, "%s: an expired one-shot timer's current count stays 0 (%u of 20 were not)", mode, nonzero);
    /* Periodic, masked, 5000 ticks: the count stays in 1..5000 whenever read. */
    apic_write(APIC_TIMER_INITIAL, 0);
    apic_write(APIC_LVT_TIMER, LVT_MASKED | LVT_TIMER_PERIODIC | 0x40);
    apic_write(APIC_TIMER_INITIAL, 5000);
    unsigned outside = 0;
    for (unsigned i = 0; i < 200; i++) {
        uint32_t cur = apic_read(APIC_TIMER_CURRENT);
        outside += cur == 0 || cur > 5000;
        for (unsigned k = 0; k < 37 * (i % 7); k++)
            cpu_relax();
    }
    apic_write(APIC_TIMER_INITIAL, 0);
    check(outside == 0, "%s: a periodic timer's current count stays within 1..initial (%u of 200 reads were not)", mode,
          outside);
}

void guest_main(void)
{
    irq_set_handler(VEC_ERROR, on_error);
    check_eq(smp_start(1, receiver, NULL), 0, "vCPU 1 started");
    illegal_vectors("xAPIC");
    timer_counts("xAPIC");
    if (apic_x2apic_supported()) {
        receiver_x2apic = true;
        apic_enable_x2apic();
        apic_write(APIC_SVR, 0x100 | RT_VEC_SPURIOUS);
        illegal_vectors("x2APIC");
        timer_counts("x2APIC");
    }
    stop = true;
    smp_wait_all();
}
