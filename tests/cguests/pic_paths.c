/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The 8259's interrupts along every path a PC gives them to the CPU, each time the PIT's IRQ 0
 * waking vCPU 0 from HLT:
 *  - LINT0 in ExtINT mode with the local APIC enabled (virtual-wire mode A, MP spec 3.6.2.2);
 *  - I/O APIC pin 2 (IRQ 0) in ExtINT delivery mode, LINT0 masked: the I/O APIC's message makes
 *    the CPU acknowledge the 8259, which supplies the vector (82093AA datasheet, delivery mode
 *    111); the entry's own vector field is ignored;
 *  - I/O APIC pin 0, where the 8259's INTR output is wired on a PC (virtual-wire mode B), in
 *    ExtINT mode;
 *  - the local APIC disabled in IA32_APIC_BASE: LINT0 is the CPU's INTR pin (SDM Vol. 3A
 *    12.4.3);
 *  - for comparison, pin 2 in fixed mode with the 8259's IRQ 0 masked: the entry's vector.
 * LINT0 follows INTR as a level: a request masked before the CPU takes it is not taken.
 * Each path gets the PIC programmed with another vector base, so the vector taken must be the
 * one the 8259 hands out at the acknowledge. Then the acknowledge cycle itself: an ExtINT
 * message whose 8259 request was masked before the CPU took it is answered with IRQ 7, the
 * 8259's spurious vector, without setting ISR (8259A datasheet, "Interrupt sequence").
 * vCPU 1 is a watchdog: if vCPU 0 stays halted for 2 s it reports which path and stops the VM
 * (a vCPU that is never woken would otherwise hang the test until its timeout).
 */
#include "rt.h"

MHV_GUEST(.name = "pic_paths", .vcpus = 2, .memory_mib = 8);

#define IOAPIC ((volatile uint32_t *)0xfec00000)
#define ENTRY_EXTINT (7u << 8)
#define ENTRY_MASKED (1u << 16)
#define VEC_IGNORED 0x99 /* in an ExtINT entry: must not be what the CPU takes */
#define VEC_FIXED 0x60
#define VEC_WATCHDOG 0xe8
#define PIT_COUNT 11932  /* 10 ms at 1.193182 MHz */
#define MSR_APIC_BASE_ENABLE (1ull << 11)
#define LINT0_EXTINT 0x700u

static volatile unsigned taken, progress, watchdog_ticks;
static volatile unsigned last_vector, last_isr;
static volatile bool finished;
static const char *volatile path = "start";
static uint8_t pic_base;

/* --- The devices -------------------------------------------------------------------------- */

/* ICW1-ICW4 as a BIOS writes them, with master vectors base..base+7 and the slave's above;
 * only IRQ 0 (and the cascade) open when irq0 is set. ICW1 also drops latched edges. */
static void pic_program(uint8_t base, bool irq0)
{
    static const uint8_t icw3[2] = { 0x04, 0x02 };
    for (unsigned chip = 0; chip < 2; chip++) {
        uint16_t port = chip ? 0xa0 : 0x20;
        outb(port, 0x11);
        outb((uint16_t)(port + 1), (uint8_t)(base + 8 * chip));
        outb((uint16_t)(port + 1), icw3[chip]);
        outb((uint16_t)(port + 1), 0x01);
    }
    outb(0x21, irq0 ? 0xfa : 0xfb);
    outb(0xa1, 0xff);
    pic_base = base;
}

static uint8_t pic_read_isr(void)
{
    outb(0x20, 0x0b); /* OCW3: read ISR */
    uint8_t isr = inb(0x20);
    outb(0x20, 0x0a); /* back to IRR */
    return isr;
}

static uint8_t pic_read_irr(void)
{
    outb(0x20, 0x0a);
    return inb(0x20);
}

/* Channel 0 in mode 0: OUT rises once, at terminal count, which is one edge on IRQ 0. */
static void pit_oneshot(uint16_t count)
{
    outb(0x43, 0x30);
    outb(0x40, (uint8_t)count);
    outb(0x40, (uint8_t)(count >> 8));
}

static void ioapic_set(unsigned pin, uint32_t low)
{
    IOAPIC[0] = 0x11 + 2 * pin;
    IOAPIC[4] = 0; /* destination: APIC ID 0, physical */
    IOAPIC[0] = 0x10 + 2 * pin;
    IOAPIC[4] = low;
}

static void ioapic_mask_all(void)
{
    for (unsigned pin = 0; pin < 24; pin++)
        ioapic_set(pin, ENTRY_MASKED);
}

/* --- Interrupts --------------------------------------------------------------------------- */

static void on_interrupt(struct rt_frame *f)
{
    last_vector = (unsigned)f->vector;
    last_isr = pic_read_isr();
    taken++;
    /* A real request is in service at the 8259 and needs its EOI; the spurious IRQ 7 is not. */
    if (f->vector >= pic_base && f->vector < pic_base + 7u)
        outb(0x20, 0x20);
}

static void on_watchdog(struct rt_frame *f)
{
    (void)f;
    watchdog_ticks++;
}

/* vCPU 1: every 500 ms, on its own APIC timer, looks whether vCPU 0 moved on. */
static void watchdog(unsigned cpu, void *arg)
{
    (void)cpu, (void)arg;
    unsigned seen = progress, idle = 0;
    while (!finished) {
        unsigned ticks = watchdog_ticks;
        apic_timer_oneshot(VEC_WATCHDOG, (uint32_t)(apic_timer_khz() * 500));
        irq_disable();
        while (watchdog_ticks == ticks && !finished)
            irq_enable_and_halt(), irq_disable();
        irq_enable();
        idle = progress == seen ? idle + 1 : 0;
        seen = progress;
        if (idle >= 4 && !finished) {
            check(false, "%s: vCPU 0 woke from HLT within 2 s (it is still halted)", path);
            exit((int)check_failures());
        }
    }
}

/* Arms the PIT, halts with interrupts on until an interrupt came, and returns its vector. */
static unsigned halt_for_tick(const char *what)
{
    path = what;
    unsigned before = taken, halts = 0;
    irq_disable();
    uint64_t start = rdtsc();
    pit_oneshot(PIT_COUNT);
    while (taken == before) {
        halts++;
        irq_enable_and_halt(); /* STI's shadow covers the HLT: nothing is taken in between */
        irq_disable();
    }
    uint64_t waited = tsc_to_us(rdtsc() - start);
    progress++;
    /* The PIT's 10 ms, not anything earlier, ended the wait. */
    check(taken == before + 1 && waited >= 9000, "%s: the PIT's IRQ 0 woke the halted vCPU after %lu us (%u HLTs)",
          what, waited, halts);
    return last_vector;
}

/* --- The paths ---------------------------------------------------------------------------- */

static void lint0_extint(void)
{
    pic_program(0x40, true);
    apic_write(APIC_LVT_LINT0, LINT0_EXTINT);
    unsigned vector = halt_for_tick("LINT0 ExtINT");
    check_eq(vector, 0x40, "LINT0 ExtINT: IRQ 0 arrives with the 8259's vector 0x40");
    check_eq(last_isr, 0x01, "LINT0 ExtINT: the acknowledge put IRQ 0 in service at the 8259");
    apic_write(APIC_LVT_LINT0, LVT_MASKED | LINT0_EXTINT);
}

/* Interrupts off until the 8259 requests IRQ 0 (a short PIT count), then true. */
static bool irq0_requested(void)
{
    irq_disable();
    pit_oneshot(50);
    uint64_t end = tsc_deadline_in_us(1000000);
    while (!(pic_read_irr() & 1) && !tsc_reached(end))
        cpu_relax();
    return pic_read_irr() & 1;
}

/* Interrupts on for a moment: whatever is pending is taken (an exit on the STI's window). */
static void irq_window(void)
{
    irq_enable();
    for (unsigned i = 0; i < 1000; i++)
        cpu_relax();
    irq_disable();
}

/* LINT0 in ExtINT mode follows INTR as a level (SDM Vol. 3A 12.5.1): a request masked at the
 * 8259 before the CPU could take it leaves nothing to take; unmasked, it comes with its vector. */
static void lint0_level(void)
{
    pic_program(0x40, true);
    apic_write(APIC_LVT_LINT0, LINT0_EXTINT);
    unsigned before = taken;
    check(irq0_requested(), "LINT0 level: IRQ 0 is requested at the 8259 while interrupts are off");
    outb(0x21, 0xfb);
    irq_window();
    check_eq(taken - before, 0, "LINT0 level: a request masked before the CPU took it is not taken");
    outb(0x21, 0xfa);
    irq_window();
    progress++;
    check_eq(taken - before, 1, "LINT0 level: unmasked again, it is taken once");
    check_eq(last_vector, 0x40, "LINT0 level: with the 8259's vector 0x40");
    apic_write(APIC_LVT_LINT0, LVT_MASKED | LINT0_EXTINT);
}

static void ioapic_extint(unsigned pin, uint8_t base, const char *what)
{
    pic_program(base, true);
    ioapic_set(pin, ENTRY_EXTINT | VEC_IGNORED);
    unsigned vector = halt_for_tick(what);
    check_eq(vector, base, "%s: IRQ 0 arrives with the 8259's vector 0x%x, not the entry's 0x%x", what, base, VEC_IGNORED);
    check_eq(last_isr, 0x01, "%s: the acknowledge put IRQ 0 in service at the 8259", what);
    ioapic_set(pin, ENTRY_MASKED);
}

/* An ExtINT message whose request is gone when the CPU acknowledges: IRQ 7, nothing in service. */
static void ioapic_extint_spurious(void)
{
    pic_program(0x70, true);
    ioapic_set(2, ENTRY_EXTINT | VEC_IGNORED);
    unsigned before = taken;
    check(irq0_requested(), "spurious: IRQ 0 is requested at the 8259 while interrupts are off");
    outb(0x21, 0xfb); /* masked before the CPU takes the ExtINT message */
    progress++;
    irq_window();
    check_eq(taken - before, 1, "spurious: the ExtINT message is taken once interrupts are on");
    check_eq(last_vector, 0x77, "spurious: the 8259 answers the acknowledge with IRQ 7 (vector 0x77)");
    check_eq(last_isr, 0, "spurious: IRQ 7 is not put in service");
    ioapic_set(2, ENTRY_MASKED);
}

static void apic_disabled(void)
{
    pic_program(0x50, true);
    apic_write(APIC_LVT_LINT0, LVT_MASKED | LINT0_EXTINT); /* not the way in: the APIC is gone */
    uint64_t base = rdmsr(MSR_APIC_BASE);
    wrmsr(MSR_APIC_BASE, base & ~MSR_APIC_BASE_ENABLE);
    unsigned vector = halt_for_tick("APIC disabled");
    check_eq(vector, 0x50, "APIC disabled: IRQ 0 reaches INTR directly with the 8259's vector 0x50");
    check_eq(last_isr, 0x01, "APIC disabled: the acknowledge put IRQ 0 in service at the 8259");
    wrmsr(MSR_APIC_BASE, base);
    apic_init(); /* software-enabled again, whatever state the enable left it in */
    apic_write(APIC_LVT_LINT0, LVT_MASKED | LINT0_EXTINT);
}

static void ioapic_fixed(void)
{
    pic_program(0x40, false); /* the 8259 sees IRQ 0 too, but its line is masked there */
    ioapic_set(2, VEC_FIXED);
    unsigned vector = halt_for_tick("I/O APIC fixed");
    check_eq(vector, VEC_FIXED, "I/O APIC fixed: IRQ 0 on pin 2 arrives with the entry's vector 0x%x", VEC_FIXED);
    check_eq(last_isr, 0, "I/O APIC fixed: nothing in service at the 8259");
    ioapic_set(2, ENTRY_MASKED);
}

void guest_main(void)
{
    for (unsigned v = 0x40; v < 0x80; v++)
        irq_set_handler(v, on_interrupt);
    irq_set_handler(VEC_FIXED, on_interrupt);
    irq_set_handler(VEC_IGNORED, on_interrupt);
    irq_set_handler(VEC_WATCHDOG, on_watchdog);
    ioapic_mask_all();
    check(smp_start(1, watchdog, NULL) == 0, "the watchdog vCPU started");

    lint0_extint();
    lint0_level();
    ioapic_extint(2, 0x48, "I/O APIC pin 2 ExtINT");
    ioapic_extint(0, 0x58, "I/O APIC pin 0 ExtINT");
    apic_disabled();
    ioapic_fixed();
    ioapic_extint_spurious();

    pic_program(0x08, false);
    finished = true;
}
