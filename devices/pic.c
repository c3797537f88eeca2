/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The VM's 8259A PIC pair (include/devices/pic.h). References are to the Intel 8259A data sheet
 * ("8259A Programmable Interrupt Controller", order number 231468): its "Interrupt sequence",
 * "Programming the 8259A" (ICW1-ICW4, OCW1-OCW3), "Fully nested mode", "End of interrupt",
 * "Special mask mode", "Poll command" and "Edge and level triggered modes" sections. The ELCR
 * registers at 0x4d0/0x4d1 are the PIIX/ICH south bridges' (e.g. Intel 82371AB PIIX4 data sheet,
 * "ELCR1/ELCR2"): there they, not ICW1 LTIM, choose edge or level per line.
 */
#include "devices/pic.h"

#include <stddef.h>

#include "arch/x86/spinlock.h"
#include "devices/ioapic.h"
#include "devices/vdev.h"
#include "vm/platform.h"
#include "vm/vm.h"

#define CASCADE_IR 2

/* --- One 8259A ------------------------------------------------------------------------------ */

void pic8259_reset(struct pic8259 *p, bool master, uint8_t elcr_mask)
{
    *p = (struct pic8259){ .master = master, .elcr_mask = elcr_mask, .lowest = 7 };
}

static bool is_level(const struct pic8259 *p, unsigned ir)
{
    return (p->elcr >> ir) & 1;
}

/* Priority of input ir: 0 is the highest. Without rotation IR0 is highest and IR7 lowest;
 * rotation ("Rotating priority", OCW2) makes `lowest` the lowest and the next one highest. */
static unsigned priority(const struct pic8259 *p, unsigned ir)
{
    return (ir - p->lowest - 1) & 7;
}

/* The highest-priority input among `bits`, or -1. */
static int highest(const struct pic8259 *p, uint8_t bits)
{
    if (!bits)
        return -1; /* the common case (nothing requested): no walk of the eight levels */
    for (unsigned n = 0; n < 8; n++) {
        unsigned ir = (p->lowest + 1 + n) & 7;
        if (bits & (1u << ir))
            return (int)ir;
    }
    return -1;
}

void pic8259_set_line(struct pic8259 *p, unsigned ir, bool high)
{
    uint8_t bit = (uint8_t)(1u << ir);
    bool was_high = p->lines & bit;
    if (high)
        p->lines |= bit;
    else
        p->lines &= (uint8_t)~bit;
    if (is_level(p, ir)) {
        /* Level mode: IRR follows the input; a request withdrawn before the INTA is gone. */
        if (high)
            p->irr |= bit;
        else
            p->irr &= (uint8_t)~bit;
    } else if (high && !was_high) {
        /* Edge mode: the rising edge sets IRR. The data sheet asks the input to stay high
         * until the first INTA; devices here pulse their lines (vm_irq_pulse), so the request
         * stays latched until it is acknowledged, as ISA-era emulators do. */
        p->irr |= bit;
    }
}

int pic8259_pending(const struct pic8259 *p)
{
    int ir = highest(p, p->irr & (uint8_t)~p->imr);
    if (ir < 0)
        return -1;
    /* Fully nested mode: an in-service level blocks itself and every lower level. Special
     * mask mode lets a level in service but masked block nothing ("Special mask mode"); the
     * special fully nested mode lets a master take further requests from its slave while the
     * slave's IR is in service ("Special fully nested mode"). */
    uint8_t blocking = p->isr;
    if (p->special_mask)
        blocking &= (uint8_t)~p->imr;
    if (p->fully_nested && p->master && !p->single)
        blocking &= (uint8_t)~p->icw3;
    int busy = highest(p, blocking);
    if (busy >= 0 && priority(p, (unsigned)busy) <= priority(p, (unsigned)ir))
        return -1;
    return ir;
}

void pic8259_acknowledge(struct pic8259 *p, unsigned ir)
{
    uint8_t bit = (uint8_t)(1u << ir);
    /* An edge request is consumed by the INTA; a level one stays in IRR while the input is
     * high (the handler must quiet the device before its EOI). */
    if (!is_level(p, ir))
        p->irr &= (uint8_t)~bit;
    if (p->auto_eoi) {
        /* Automatic EOI: the ISR bit is reset at the end of the last INTA pulse. */
        if (p->rotate_on_aeoi)
            p->lowest = (uint8_t)ir;
    } else {
        p->isr |= bit;
    }
}

static void write_icw1(struct pic8259 *p, uint8_t value)
{
    /* ICW1 (A0 = 0, D4 = 1): the initialisation sequence starts. "The edge sense circuit is
     * reset": after it an edge input must go low to high again to request, so only requests
     * of level-triggered inputs survive. IMR, ISR and special mask mode are cleared, IR7 gets
     * the lowest priority, a read of the command port returns IRR. LTIM (D3) is ignored: on a
     * PC with ELCR it has no effect. ADI (D2) only matters in 8080 mode. */
    p->need_icw4 = value & 0x01;
    p->single = value & 0x02;
    p->irr &= p->lines & p->elcr;
    p->isr = 0;
    p->imr = 0;
    p->lowest = 7;
    p->special_mask = false;
    p->read_isr = false;
    p->poll = false;
    p->rotate_on_aeoi = false;
    if (!p->need_icw4) {
        /* "If IC4 = 0, all functions selected in ICW4 are set to zero." */
        p->auto_eoi = false;
        p->fully_nested = false;
    }
    p->init_step = 2;
}

static void write_ocw2(struct pic8259 *p, uint8_t value)
{
    int ir;
    switch (value >> 5) { /* R, SL, EOI */
    case 0: /* rotate in automatic EOI mode: clear */
        p->rotate_on_aeoi = false;
        break;
    case 4: /* rotate in automatic EOI mode: set */
        p->rotate_on_aeoi = true;
        break;
    case 1: /* non-specific EOI: the highest-priority level in service */
    case 5: /* rotate on non-specific EOI */
        ir = highest(p, p->isr);
        if (ir >= 0) {
            p->isr &= (uint8_t)~(1u << ir);
            if (value >> 5 == 5)
                p->lowest = (uint8_t)ir;
        }
        break;
    case 3: /* specific EOI: level L2-L0 */
    case 7: /* rotate on specific EOI */
        p->isr &= (uint8_t)~(1u << (value & 7));
        if (value >> 5 == 7)
            p->lowest = value & 7;
        break;
    case 6: /* set priority: L2-L0 becomes the lowest */
        p->lowest = value & 7;
        break;
    default: /* 2: no operation */
        break;
    }
}

static void write_ocw3(struct pic8259 *p, uint8_t value)
{
    if (value & 0x04) /* P: poll command */
        p->poll = true;
    if (value & 0x02) /* RR: RIS chooses what the next command-port read returns */
        p->read_isr = value & 0x01;
    if (value & 0x40) /* ESMM: SMM sets or resets special mask mode */
        p->special_mask = value & 0x20;
}

void pic8259_write(struct pic8259 *p, unsigned a0, uint8_t value)
{
    if (!a0) {
        if (value & 0x10)
            write_icw1(p, value);
        else if (value & 0x08)
            write_ocw3(p, value);
        else
            write_ocw2(p, value);
        return;
    }
    switch (p->init_step) {
    case 2: /* ICW2: T7-T3 of the vectors (8086 mode: the low three bits are the IR) */
        p->vector_base = value & 0xf8;
        p->init_step = p->single ? (p->need_icw4 ? 4 : 0) : 3;
        break;
    case 3: /* ICW3: master: a 1 for each IR with a slave; slave: its ID. The PC's wiring
             * is fixed (slave on IR2) but a master's ICW3 still says what SFNM exempts. */
        p->icw3 = value;
        p->init_step = p->need_icw4 ? 4 : 0;
        break;
    case 4: /* ICW4: uPM (D0, 8086 mode assumed: mhv guests are x86), AEOI (D1), buffered
             * mode (D3-D2, no effect here), SFNM (D4) */
        p->auto_eoi = value & 0x02;
        p->fully_nested = value & 0x10;
        p->init_step = 0;
        break;
    default: /* OCW1: the interrupt mask */
        p->imr = value;
        break;
    }
}

uint8_t pic8259_read(struct pic8259 *p, unsigned a0)
{
    if (p->poll) {
        /* "Poll command": the read is the acknowledge; the poll word is I (D7) and the
         * highest-priority request W2-W0. */
        p->poll = false;
        int ir = pic8259_pending(p);
        if (ir < 0)
            return 0;
        pic8259_acknowledge(p, (unsigned)ir);
        return (uint8_t)(0x80 | ir);
    }
    if (a0)
        return p->imr;
    return p->read_isr ? p->isr : p->irr;
}

/* --- The PC's master/slave pair ------------------------------------------------------------- */

/* The slave's INT output drives the master's IR2. It is followed as a level: the master's ISR
 * bit 2 blocks further slave requests until the master's EOI, and a second slave request
 * waiting behind the first must reach the master once that EOI comes, which an edge alone
 * would not do. */
static void cascade(struct pic_pair *pp)
{
    if (pp->master.single)
        return;
    if (pic8259_pending(&pp->slave) >= 0)
        pp->master.irr |= 1u << CASCADE_IR;
    else
        pp->master.irr &= (uint8_t)~(1u << CASCADE_IR);
}

void pic_pair_reset(struct pic_pair *pp)
{
    /* ELCR bits that exist: not IRQ 0, 1, 2 (timer, keyboard, cascade), 8 (RTC) and 13 (FPU),
     * which are always edge-triggered on a PC (PIIX4 data sheet, ELCR1/ELCR2). */
    pic8259_reset(&pp->master, true, 0xf8);
    pic8259_reset(&pp->slave, false, 0xde);
    /* What a BIOS programs: ICW1 0x11, ICW2 0x08 / 0x70, ICW3 0x04 / 0x02, ICW4 0x01. */
    static const uint8_t master_init[] = { 0x11, 0x08, 0x04, 0x01 }, slave_init[] = { 0x11, 0x70, 0x02, 0x01 };
    for (unsigned i = 0; i < 4; i++) {
        pic8259_write(&pp->master, i != 0, master_init[i]);
        pic8259_write(&pp->slave, i != 0, slave_init[i]);
    }
    pp->master.imr = (uint8_t)~(1u << CASCADE_IR);
    pp->slave.imr = 0xff;
}

void pic_pair_set_irq(struct pic_pair *pp, unsigned irq, bool high)
{
    if (irq >= 16 || irq == CASCADE_IR)
        return; /* ISA IRQ 2 does not exist on a PC: IR2 carries the slave */
    if (irq < 8)
        pic8259_set_line(&pp->master, irq, high);
    else
        pic8259_set_line(&pp->slave, irq - 8, high);
    cascade(pp);
}

/* The ISA IRQ the pair would present now (0-15), or -1. */
static int pending_irq(const struct pic_pair *pp)
{
    int ir = pic8259_pending(&pp->master);
    if (ir == CASCADE_IR && !pp->master.single) {
        int sir = pic8259_pending(&pp->slave);
        return sir < 0 ? -1 : 8 + sir;
    }
    return ir;
}

static int vector_of(const struct pic_pair *pp, int irq)
{
    return irq < 8 ? pp->master.vector_base | irq : pp->slave.vector_base | (irq - 8);
}

int pic_pair_pending_vector(const struct pic_pair *pp)
{
    int irq = pending_irq(pp);
    return irq < 0 ? -1 : vector_of(pp, irq);
}

int pic_pair_intack(struct pic_pair *pp)
{
    /* The interrupt acknowledge sequence ("Interrupt sequence"): the first INTA pulse freezes
     * the highest request that is there now and sets its ISR bit, the second reads its vector.
     * A request that went away since INTR rose (an edge masked, a level dropped) leaves no
     * input to serve: the 8259 then answers with IR7's vector and sets no ISR bit, the
     * "spurious" interrupt. Through the cascade the master serves IR2 and the slave gives the
     * vector, or its own IR7 (IRQ 15) when its request is gone. */
    int vector, ir = pic8259_pending(&pp->master);
    if (ir < 0) {
        vector = pp->master.vector_base | 7;
    } else if (ir == CASCADE_IR && !pp->master.single) {
        pic8259_acknowledge(&pp->master, CASCADE_IR);
        int sir = pic8259_pending(&pp->slave);
        if (sir >= 0)
            pic8259_acknowledge(&pp->slave, (unsigned)sir);
        vector = pp->slave.vector_base | (sir >= 0 ? sir : 7);
    } else {
        pic8259_acknowledge(&pp->master, (unsigned)ir);
        vector = pp->master.vector_base | ir;
    }
    cascade(pp);
    return vector;
}

static void write_elcr(struct pic8259 *p, uint8_t value)
{
    p->elcr = value & p->elcr_mask;
    /* A line that became level-triggered requests exactly while it is high. */
    p->irr = (uint8_t)((p->irr & ~p->elcr) | (p->lines & p->elcr));
}

uint8_t pic_pair_read(struct pic_pair *pp, uint16_t port)
{
    uint8_t value;
    switch (port) {
    case 0x20: case 0x21: value = pic8259_read(&pp->master, port & 1); break;
    case 0xa0: case 0xa1: value = pic8259_read(&pp->slave, port & 1); break;
    case 0x4d0: return pp->master.elcr;
    case 0x4d1: return pp->slave.elcr;
    default: return 0xff;
    }
    cascade(pp); /* a poll read acknowledges */
    return value;
}

void pic_pair_write(struct pic_pair *pp, uint16_t port, uint8_t value)
{
    switch (port) {
    case 0x20: case 0x21: pic8259_write(&pp->master, port & 1, value); break;
    case 0xa0: case 0xa1: pic8259_write(&pp->slave, port & 1, value); break;
    case 0x4d0: write_elcr(&pp->master, value); break;
    case 0x4d1: write_elcr(&pp->slave, value); break;
    default: return;
    }
    cascade(pp);
}

/* --- The VM's device ------------------------------------------------------------------------ */

struct vpic {
    struct spinlock lock; /* any vCPU's exits and any CPU's device timers reach the PIC */
    struct pic_pair pair;
    struct vm *vm;
    int presented; /* the vector last reported through vm_pic_intr_changed (-1: none) */
};

/* After a change, under the lock: whether the vector on offer changed. INTR also drives I/O
 * APIC pin 0, as a PC's south bridge wires it (virtual-wire mode through the I/O APIC, an
 * ExtINT entry on that pin; MP spec 3.6.2.2): the pin follows the level under this lock, so
 * it never lags a change made by another CPU (the I/O APIC's lock nests inside this one and
 * its delivery never comes back to the PIC). */
static bool offer_changed(struct vpic *p)
{
    int vector = pic_pair_pending_vector(&p->pair);
    if (vector == p->presented)
        return false;
    bool was_high = p->presented >= 0;
    p->presented = vector;
    if (was_high != (vector >= 0))
        vioapic_set_pin(p->vm, PLATFORM_PIC_INTR_PIN, vector >= 0);
    return true;
}

static void tell_lapic(struct vpic *p, bool changed)
{
    if (changed)
        vm_pic_intr_changed(p->vm);
}

void vpic_set_irq(struct vm *vm, unsigned irq, bool high)
{
    struct vpic *p = vm->pic;
    if (!p)
        return;
    uint64_t flags = spin_lock_irqsave(&p->lock);
    pic_pair_set_irq(&p->pair, irq, high);
    bool changed = offer_changed(p);
    spin_unlock_irqrestore(&p->lock, flags);
    tell_lapic(p, changed);
}

int vpic_pending_vector(struct vm *vm)
{
    struct vpic *p = vm->pic;
    if (!p)
        return -1;
    uint64_t flags = spin_lock_irqsave(&p->lock);
    int vector = pic_pair_pending_vector(&p->pair);
    spin_unlock_irqrestore(&p->lock, flags);
    return vector;
}

int vpic_intack(struct vm *vm, bool take)
{
    struct vpic *p = vm->pic;
    if (!p)
        return -1;
    uint64_t flags = spin_lock_irqsave(&p->lock);
    int vector;
    if (!take) {
        vector = pic_pair_pending_vector(&p->pair);
        spin_unlock_irqrestore(&p->lock, flags);
        return vector >= 0 ? vector : p->pair.master.vector_base | 7;
    }
    vector = pic_pair_intack(&p->pair);
    bool changed = offer_changed(p);
    spin_unlock_irqrestore(&p->lock, flags);
    tell_lapic(p, changed);
    return vector;
}

/* Byte registers: the dispatcher makes a wider access a byte access to each port in turn, as
 * the ISA bus splits it (a word at 0x4d0 is both ELCRs), all under the lock. */
static uint64_t port_read(struct vcpu *v, void *state, uint64_t port, unsigned size)
{
    (void)v, (void)size;
    struct vpic *p = state;
    return pic_pair_read(&p->pair, (uint16_t)port);
}

static void port_write(struct vcpu *v, void *state, uint64_t port, unsigned size, uint64_t value)
{
    (void)v, (void)size;
    struct vpic *p = state;
    pic_pair_write(&p->pair, (uint16_t)port, (uint8_t)value);
}

/* After every access and reset: vCPU 0's local APIC hears of a new vector on offer, outside
 * the lock (it wakes or kicks the vCPU, which then asks the PIC through this lock). */
static unsigned sync(void *state, enum vdev_event event)
{
    (void)event;
    return offer_changed(state);
}

static void after(void *state, unsigned work)
{
    tell_lapic(state, work);
}

static void reset(struct vm *vm, void *state)
{
    (void)vm;
    struct vpic *p = state;
    pic_pair_reset(&p->pair);
}

static void init(struct vm *vm, void *state, uint64_t where, const void *config)
{
    (void)where, (void)config;
    struct vpic *p = state;
    p->vm = vm;
    pic_pair_reset(&p->pair);
    p->presented = -1;
    vm->pic = p;
}

static const struct vdev_range ranges[] = {
    { VDEV_PORT, 0x20, 2, VDEV_SIZE_1, port_read, port_write },
    { VDEV_PORT, 0xa0, 2, VDEV_SIZE_1, port_read, port_write },
    { VDEV_PORT, 0x4d0, 2, VDEV_SIZE_1, port_read, port_write },
};

static const struct vdev_ops vpic_ops = {
    .name = "8259 PIC pair",
    .no_memory = "the 8259 PICs",
    .state_size = sizeof(struct vpic),
    .lock = VDEV_LOCK(struct vpic, lock),
    .ranges = ranges,
    .range_count = sizeof(ranges) / sizeof(ranges[0]),
    .init = init,
    .reset = reset,
    .sync = sync,
    .after = after,
};

void vpic_attach(struct vm *vm)
{
    vdev_attach(vm, &vpic_ops, 0, NULL);
}
