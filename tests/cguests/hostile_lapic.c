/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Hostile guest: local APIC corners, in xAPIC and then in x2APIC mode (SDM Vol. 3A chapter 12).
 *  - An IPI with an illegal vector (0-15): the sender's ESR gets "send illegal vector" (bit 5),
 *    the receiver's "receive illegal vector" (bit 6), and nothing is delivered (12.5.3); a
 *    self-IPI (and the x2APIC SELF IPI register) sets both in the one APIC; with the error
 *    LVT unmasked the error interrupts the vCPU.
 *  - The timer's current count: in one-shot mode it counts down to 0 and stays there, never
 *    above the initial count; in periodic mode it stays within 1..initial (12.5.4).
 *  - A fixed self-IPI (the "self" shorthand) sent with interrupts off waits for STI, also while
 *    other IPIs arrive (12.6.1, 7.4.x: maskable interrupts wait while IF = 0). With virtual-
 *    interrupt delivery the CPU takes the self-IPI in without an exit (SDM Vol. 3C 31.5);
 *    after the next exit (a CPUID here) mhv keeps it from being delivered by a CPU that would
 *    deliver it anyway when a physical interrupt arrives (Bochs: include/devices/vlapic.h). vCPU 1
 *    sends IPIs meanwhile (a new vector each), which mhv's kicks turn into physical interrupts
 *    on vCPU 0's CPU. 40 rounds.
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
#define VEC_SELF 0xd0
#define VEC_FLOOD 0xc0 /* vCPU 1 sends 0xc0-0xcf in turn: each a new request, none merged */
static volatile bool flood;
static volatile unsigned self_taken, flood_taken, taken_with_if_off;

static void on_self_or_flood(struct rt_frame *f)
{
    if (f->vector == VEC_SELF)
        self_taken++;
    else
        flood_taken++;
    if (!(f->rflags & RFLAGS_IF))
        taken_with_if_off++;
}

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
        for (unsigned n = 0; flood; n++) {
            apic_send_fixed(0, (uint8_t)(VEC_FLOOD + n % 16));
            delay_us(50);
        }
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

/* Spins without PAUSE (which exits): the guest stays in VMX non-root operation, where the
 * physical interrupts of mhv's kicks reach it. With interrupts off it executes CLI again and
 * again, as code that disables interrupts does (Bochs 2.7 holds physical interrupts back from
 * a guest entered with IF = 0 until its IF is written). */
static void spin_us(uint64_t us)
{
    uint64_t end = tsc_deadline_in_us(us);
    bool off = !(read_rflags() & RFLAGS_IF);
    while (!tsc_reached(end))
        if (off)
            irq_disable();
}

#define SELF_IPI_ROUNDS 40

static void self_ipi_interrupts_off(const char *mode)
{
    irq_set_handler(VEC_SELF, on_self_or_flood);
    for (unsigned v = VEC_FLOOD; v < VEC_FLOOD + 16; v++)
        irq_set_handler(v, on_self_or_flood);
    unsigned early = 0, self_after_sti = 0;
    for (unsigned round = 0; round < SELF_IPI_ROUNDS; round++) {
        irq_disable();
        unsigned taken = self_taken + flood_taken;
        apic_send_ipi(0, ICR_FIXED | ICR_LEVEL_ASSERT | ICR_SELF | VEC_SELF);
        cpuid(0, 0); /* an exit, after which mhv has seen the vector (vCPU 1 sends nothing yet) */
        flood = true;
        spin_us(300);
        flood = false;
        spin_us(200); /* the last of vCPU 1's IPIs land */
        early += self_taken + flood_taken - taken;
        unsigned self_before = self_taken;
        irq_enable();
        spin_us(100);
        irq_disable();
        self_after_sti += self_taken - self_before;
    }
    check(taken_with_if_off == 0 && early == 0,
          "%s: a self-IPI sent with interrupts off, and IPIs arriving then, wait for STI (%u rounds; %u taken with IF = 0)",
          mode, SELF_IPI_ROUNDS, taken_with_if_off);
    check(self_after_sti == SELF_IPI_ROUNDS && flood_taken >= 1,
          "%s: after STI each round's self-IPI is taken once (%u of %u) and the others' vector too (%u)", mode,
          self_after_sti, SELF_IPI_ROUNDS, flood_taken);
}

void guest_main(void)
{
    irq_set_handler(VEC_ERROR, on_error);
    check_eq(smp_start(1, receiver, NULL), 0, "vCPU 1 started");
    illegal_vectors("xAPIC");
    timer_counts("xAPIC");
    self_ipi_interrupts_off("xAPIC");
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
