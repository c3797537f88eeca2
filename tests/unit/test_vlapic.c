/* SPDX-License-Identifier: BSD-2-Clause */
// sources: devices/vlapic.c devices/vlapic_timer.c devices/vlapic_delivery.c devices/vlapic_ipi.c devices/vlapic_regs.c
/* The local APIC's state in its virtual-APIC page, as both paths use it: the emulated one
 * (MMIO and MSR accesses decoded by mhv) and the CPU's APIC virtualisation (the CPU writes the
 * page, then an APIC-write exit; RVI/SVI, EOI-exit bitmap and TPR threshold for the VMCS). */
#include "stubs.h"

#include <stdlib.h>
#include <string.h>

#include "arch/x86/percpu.h"
#include "devices/vlapic.h"
#include "vm/vm.h"
#include "vmx/vcpu.h"

/* --- What devices/vlapic*.c need of the rest of mhv ------------------------------------------ */

static struct percpu *no_cpus[1];
struct percpu **cpus = no_cpus;
unsigned cpu_capacity = 1;
static unsigned wakes, kicks, ioapic_eois, nmis;
static uint8_t last_ioapic_eoi;

void *kzalloc(size_t size)
{
    return calloc(1, size);
}

uint64_t pages_alloc(uint64_t count)
{
    void *p = aligned_alloc(4096, count * 4096);
    return (uint64_t)(uintptr_t)p;
}

void vtimer_init(struct vtimer *t, struct sched_entity *e, void (*fire)(struct vtimer *t), void *ctx)
{
    *t = (struct vtimer){ .fire = fire, .owner = e, .ctx = ctx };
}

void vtimer_arm(struct vtimer *t, uint64_t deadline)
{
    t->deadline = deadline ? deadline : 1;
}

void vtimer_cancel(struct vtimer *t)
{
    t->deadline = 0;
}

void sched_wake(struct sched_entity *e)
{
    (void)e;
    wakes++;
}

void sched_kick(struct sched_entity *e)
{
    (void)e;
    kicks++;
}

bool sched_running_elsewhere(const struct sched_entity *e)
{
    (void)e;
    return false;
}

void smp_send_kick(unsigned cpu)
{
    (void)cpu;
    fail_msg("no vCPU runs on another CPU here");
}

void vioapic_eoi(struct vm *vm, uint8_t vector)
{
    (void)vm;
    ioapic_eois++;
    last_ioapic_eoi = vector;
}

void inject_nmi(struct vcpu *v)
{
    (void)v;
    nmis++;
}

/* What vmx/vcpu.c does besides writing the VMCS: the vCPU uses what its APIC's mode allows. */
void vcpu_apic_mode_changed(struct vcpu *v)
{
    v->lapic->assist = vlapic_assist_for_mode(v->lapic);
}


/* --- A VM with two vCPUs, neither running anywhere ------------------------------------------- */

static struct vm vm;
static struct vcpu vcpu[2];
static struct vlapic *l0, *l1;

/* Makes the chosen assist the one both vCPUs use (setup_controls does it per vCPU). */
static void use_assist(struct vlapic_assist a)
{
    vlapic_assist = a;
    for (unsigned i = 0; i < 2; i++)
        vcpu_apic_mode_changed(&vcpu[i]);
}

static int setup(void **state)
{
    (void)state;
    memset(&vm, 0, sizeof(vm));
    memset(vcpu, 0, sizeof(vcpu));
    wakes = kicks = ioapic_eois = nmis = 0;
    vlapic_assist = (struct vlapic_assist){ 0 };
    for (unsigned i = 0; i < 2; i++) {
        vcpu[i].vm = &vm;
        vcpu[i].id = i;
        vcpu[i].se.home_cpu = -1;
        vcpu[i].se.state = VCPU_RUNNABLE;
        vcpu[i].lapic = vlapic_create(&vcpu[i]);
        vm.vcpus[vm.vcpu_count++] = &vcpu[i];
    }
    l0 = vcpu[0].lapic;
    l1 = vcpu[1].lapic;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 2; i++) {
        free(vcpu[i].lapic->regs);
        free(vcpu[i].lapic);
    }
    return 0;
}

#define PAGE(l, offset) ((l)->regs[(offset) / 4])

static uint32_t mmio_read(struct vcpu *v, uint32_t offset)
{
    return (uint32_t)vlapic_mmio_read(v, NULL, offset, 4);
}

static void mmio_write(struct vcpu *v, uint32_t offset, uint32_t value)
{
    vlapic_mmio_write(v, NULL, offset, 4, value);
}

/* What the CPU does with APIC-register virtualization: the value lands in the page, then the
 * APIC-write exit. */
static void cpu_write(struct vcpu *v, uint32_t offset, uint32_t value)
{
    v->lapic->regs[offset / 4] = value;
    vlapic_apic_write(v, offset);
}

static bool irr_bit(struct vlapic *l, unsigned n)
{
    return PAGE(l, 0x200 + n / 32 * 16) >> (n % 32) & 1;
}

/* --- Tests ------------------------------------------------------------------------------------ */

static void test_reset_state_is_in_the_page(void **state)
{
    (void)state;
    /* What the CPU serves without exits must be in place from the start. */
    assert_int_equal(PAGE(l0, 0x20), 0);
    assert_int_equal(PAGE(l1, 0x20), 1u << 24);
    assert_int_equal(PAGE(l1, 0x30), 0x50014);
    assert_int_equal(PAGE(l0, 0xe0), 0xffffffffu);
    assert_int_equal(PAGE(l0, 0xf0), 0x1ff);     /* the boot vCPU: enabled, virtual wire */
    assert_int_equal(PAGE(l0, 0x350), 0x700);    /* LINT0 ExtINT */
    assert_int_equal(PAGE(l0, 0x360), 0x400);    /* LINT1 NMI */
    assert_int_equal(PAGE(l1, 0xf0), 0xff);      /* the others: software-disabled */
    assert_int_equal(PAGE(l1, 0x350), 1u << 16); /* every LVT masked */
    assert_true(vlapic_accepts_pic(l0));
    assert_false(vlapic_accepts_pic(l1));
    assert_int_equal(mmio_read(&vcpu[1], 0x20), 1u << 24);
}

static void test_posted_vectors_reach_irr_on_the_owner(void **state)
{
    (void)state;
    vlapic_set_irq(&vcpu[0], 0x41, false);
    /* Posted, not yet in the page (the CPU may be delivering from it). */
    assert_false(irr_bit(l0, 0x41));
    assert_true(l0->entry_work);
    assert_int_equal(vlapic_pending_vector(l0), 0x41);
    assert_true(irr_bit(l0, 0x41));
    assert_int_equal(mmio_read(&vcpu[0], 0x220), 1u << 1);
    vlapic_acknowledge(l0, 0x41);
    assert_int_equal(mmio_read(&vcpu[0], 0x120), 1u << 1); /* ISR */
    assert_int_equal(mmio_read(&vcpu[0], 0xa0), 0x40);     /* PPR: the class in service */
    vlapic_refresh_entry_work(l0);
    assert_false(l0->entry_work);
    /* An illegal vector is an error the receiver logs, seen after the next ESR write. */
    vlapic_set_irq(&vcpu[0], 7, false);
    assert_int_equal(mmio_read(&vcpu[0], 0x280), 0);
    mmio_write(&vcpu[0], 0x280, 0);
    assert_int_equal(mmio_read(&vcpu[0], 0x280), 1u << 6);
    mmio_write(&vcpu[0], 0x280, 0);
    assert_int_equal(mmio_read(&vcpu[0], 0x280), 0);
}

static void test_priorities_and_cr8(void **state)
{
    (void)state;
    vlapic_set_cr8(l0, 5);
    assert_int_equal(PAGE(l0, 0x80), 0x50);
    assert_int_equal(vlapic_get_cr8(l0), 5);
    vlapic_set_irq(&vcpu[0], 0x52, false);
    assert_int_equal(vlapic_pending_vector(l0), -1); /* class 5 is not above TPR 5 */
    mmio_write(&vcpu[0], 0x80, 0x40);
    assert_int_equal(vlapic_get_cr8(l0), 4);
    assert_int_equal(vlapic_pending_vector(l0), 0x52);
    /* A software-disabled APIC delivers nothing. */
    mmio_write(&vcpu[0], 0xf0, 0xff);
    assert_int_equal(vlapic_pending_vector(l0), -1);
    assert_int_equal(PAGE(l0, 0x350) & (1u << 16), 1u << 16); /* and masks its LVT */
}

static void test_tpr_threshold_without_vid(void **state)
{
    (void)state;
    struct vlapic_entry_state s;
    use_assist((struct vlapic_assist){ .tpr_shadow = true });
    vlapic_set_cr8(l0, 6);
    vlapic_set_irq(&vcpu[0], 0x61, false);
    vlapic_entry_state(l0, true, &s);
    assert_int_equal(s.tpr_threshold, 6); /* held back by the TPR: exit once CR8 drops below 6 */
    vlapic_set_irq(&vcpu[0], 0x71, false);
    vlapic_entry_state(l0, true, &s);
    assert_int_equal(s.tpr_threshold, 0); /* deliverable: no threshold */
    vlapic_set_cr8(l0, 0);
    vlapic_acknowledge(l0, 0x71);
    vlapic_entry_state(l0, true, &s);
    assert_int_equal(s.tpr_threshold, 0); /* never above VTPR[7:4] */
    vlapic_refresh_entry_work(l0);
    assert_true(l0->entry_work); /* 0x61 still waits: the entry path keeps looking */
}

static void test_virtual_interrupt_delivery_state(void **state)
{
    (void)state;
    struct vlapic_entry_state s;
    use_assist((struct vlapic_assist){ .tpr_shadow = true, .apic_regs = true, .vid = true });
    vlapic_entry_state(l0, true, &s);
    assert_int_equal(s.interrupt_status, 0);
    assert_true(s.eoi_exit_changed); /* written once after reset */
    vlapic_set_irq(&vcpu[0], 0x35, false);
    vlapic_set_irq(&vcpu[0], 0x92, true); /* level-triggered, from the I/O APIC */
    /* The guest cannot take it now: RVI says so, the entry path arms the window. */
    vlapic_entry_state(l0, false, &s);
    assert_int_equal(s.interrupt_status, 0x92);
    assert_true(s.deliverable);
    assert_true(s.eoi_exit_changed);
    assert_int_equal(s.eoi_exit[2], 1ull << (0x92 - 128));
    assert_int_equal(s.eoi_exit[0] | s.eoi_exit[1] | s.eoi_exit[3], 0);
    /* It can: 0x92 goes in and 0x35 waits behind it, so every EOI exits for now. */
    vlapic_entry_state(l0, true, &s);
    assert_true(s.eoi_exit_changed);
    assert_int_equal(s.eoi_exit[0] & s.eoi_exit[1] & s.eoi_exit[2] & s.eoi_exit[3], ~0ull);
    /* While a deliverable vector waits the entry path keeps looking. */
    vlapic_refresh_entry_work(l0);
    assert_true(l0->entry_work);
    /* The CPU delivers 0x92 (IRR -> ISR, as it does in the page), the guest EOIs it
     * virtually: the EOI-induced exit tells the I/O APIC. */
    PAGE(l0, 0x240) &= ~(1u << (0x92 % 32));
    PAGE(l0, 0x140) |= 1u << (0x92 % 32);
    vlapic_entry_state(l0, true, &s);
    assert_int_equal(s.interrupt_status, 0x9235);
    assert_false(s.deliverable); /* 0x35 is below the class in service */
    assert_true(s.eoi_exit_changed); /* back to the level-triggered vectors alone */
    assert_int_equal(s.eoi_exit[0] | s.eoi_exit[1] | s.eoi_exit[3], 0);
    vlapic_refresh_entry_work(l0);
    assert_false(l0->entry_work);
    PAGE(l0, 0x140) = 0;
    vlapic_eoi_exit(&vcpu[0], 0x92);
    assert_int_equal(ioapic_eois, 1);
    assert_int_equal(last_ioapic_eoi, 0x92);
    assert_true(l0->entry_work); /* 0x35 may go in now */
    vlapic_eoi_exit(&vcpu[0], 0x35); /* an edge vector: nothing more */
    assert_int_equal(ioapic_eois, 1);
    /* An EOI mhv performs (x2APIC MSR, say) changes SVI: the entry path must write it. */
    vlapic_acknowledge(l0, 0x35);
    vlapic_refresh_entry_work(l0);
    assert_false(l0->entry_work);
    mmio_write(&vcpu[0], 0xb0, 0);
    assert_true(l0->entry_work);
    vlapic_entry_state(l0, true, &s);
    assert_int_equal(s.interrupt_status, 0);
    /* Software-disabled: RVI stays 0 whatever IRR holds. */
    vlapic_set_irq(&vcpu[0], 0x50, false);
    mmio_write(&vcpu[0], 0xf0, 0xff);
    vlapic_entry_state(l0, true, &s);
    assert_int_equal(s.interrupt_status, 0);
}

static void test_apic_write_exits_sanitize_the_page(void **state)
{
    (void)state;
    use_assist((struct vlapic_assist){ .tpr_shadow = true, .apic_regs = true });
    cpu_write(&vcpu[0], 0x20, 0x12345678);       /* ID: read-only here */
    assert_int_equal(PAGE(l0, 0x20), 0);
    cpu_write(&vcpu[0], 0xd0, 0x030000ff);       /* LDR: bits 31:24 */
    assert_int_equal(PAGE(l0, 0xd0), 0x03000000);
    cpu_write(&vcpu[0], 0xe0, 0x0);              /* DFR: cluster model, bits 27:0 read as ones */
    assert_int_equal(PAGE(l0, 0xe0), 0x0fffffff);
    cpu_write(&vcpu[0], 0x330, 0xffffffff);      /* thermal LVT: what it keeps */
    assert_int_equal(PAGE(l0, 0x330), 0x107ff);
    cpu_write(&vcpu[0], 0x280, 0x1234);          /* ESR: latches the (no) errors */
    assert_int_equal(PAGE(l0, 0x280), 0);
    /* The timer: periodic, started by the initial count; a mode change disarms it even though
     * the page already holds the new LVT value when the exit comes. */
    cpu_write(&vcpu[0], 0x3e0, 0xb);
    cpu_write(&vcpu[0], 0x320, (1u << 17) | 0xef);
    cpu_write(&vcpu[0], 0x380, 1000);
    assert_int_equal(PAGE(l0, 0x380), 1000);
    assert_true(l0->timer.deadline != 0);
    cpu_write(&vcpu[0], 0x320, (2u << 17) | 0xef); /* TSC-deadline mode */
    assert_int_equal(PAGE(l0, 0x380), 0);
    assert_int_equal(l0->timer.deadline, 0);
    cpu_write(&vcpu[0], 0x380, 1000);            /* ignored in TSC-deadline mode */
    assert_int_equal(PAGE(l0, 0x380), 0);
    /* ICR: a fixed IPI to vCPU 1 (physical destination 1), the EOI of a vector in service. */
    cpu_write(&vcpu[0], 0x310, 1u << 24);
    cpu_write(&vcpu[0], 0x300, 0x1044);          /* delivery status bit set by the guest: cleared */
    assert_int_equal(PAGE(l0, 0x300), 0x44);
    assert_int_equal(vlapic_pending_vector(l1), -1); /* vCPU 1 is software-disabled */
    mmio_write(&vcpu[1], 0xf0, 0x1ff);
    assert_int_equal(vlapic_pending_vector(l1), 0x44);
    vlapic_set_irq(&vcpu[0], 0x60, true);
    assert_int_equal(vlapic_pending_vector(l0), 0x60);
    vlapic_acknowledge(l0, 0x60);
    cpu_write(&vcpu[0], 0xb0, 0);
    assert_int_equal(ioapic_eois, 1);
    assert_int_equal(mmio_read(&vcpu[0], 0x160), 0);
}

static void test_x2apic_msrs(void **state)
{
    (void)state;
    uint64_t value;
    assert_true(vlapic_msr_write(&vcpu[1], 0x1b, 0xfee00000ull | (1u << 11) | (1u << 10)));
    assert_true(vlapic_msr_read(&vcpu[1], 0x802, &value));
    assert_int_equal(value, 1);                    /* the full APIC ID */
    assert_true(vlapic_msr_read(&vcpu[1], 0x80d, &value));
    assert_int_equal(value, (0u << 16) | (1u << 1)); /* LDR derived from the ID */
    assert_false(vlapic_msr_write(&vcpu[1], 0x80b, 1)); /* non-zero EOI: #GP */
    assert_true(vlapic_msr_write(&vcpu[1], 0x808, 0x30));
    assert_int_equal(PAGE(l1, 0x80), 0x30);       /* the one TPR, CR8 included */
    assert_int_equal(vlapic_get_cr8(l1), 3);
    assert_true(vlapic_msr_write(&vcpu[1], 0x80f, 0x1ff));
    assert_true(vlapic_msr_write(&vcpu[1], 0x83f, 0x55)); /* self IPI */
    assert_int_equal(vlapic_pending_vector(l1), 0x55);
    /* The ICR reaches vCPU 0 by its x2APIC ID. */
    assert_true(vlapic_msr_write(&vcpu[1], 0x830, (0ull << 32) | 0x66));
    assert_int_equal(vlapic_pending_vector(l0), 0x66);
}


/* x2APIC mode's access rules (SDM Vol. 3A 12.12.1.2-3): absent registers, reads of write-only
 * and writes of read-only ones, and any reserved bit set by a WRMSR raise #GP. */
static void test_x2apic_access_rules(void **state)
{
    (void)state;
    uint64_t value;
    assert_true(vlapic_msr_write(&vcpu[1], 0x1b, 0xfee00000ull | (1u << 11) | (1u << 10)));
    static const uint32_t readable[] = { 0x802, 0x803, 0x808, 0x80a, 0x80d, 0x80f, 0x828, 0x830, 0x832, 0x833,
                                         0x834, 0x835, 0x836, 0x837, 0x838, 0x839, 0x83e };
    static const uint32_t writable[] = { 0x808, 0x80b, 0x80f, 0x828, 0x830, 0x832, 0x833, 0x834, 0x835, 0x836,
                                         0x837, 0x838, 0x83e, 0x83f };
    for (uint32_t msr = 0x800; msr <= 0x8ff; msr++) {
        bool r = (msr >= 0x810 && msr <= 0x827), w = false;
        for (unsigned i = 0; i < sizeof(readable) / sizeof(readable[0]); i++)
            r |= readable[i] == msr;
        for (unsigned i = 0; i < sizeof(writable) / sizeof(writable[0]); i++)
            w |= writable[i] == msr;
        if (vlapic_msr_read(&vcpu[1], msr, &value) != r)
            fail_msg("RDMSR 0x%x: %s, expected %s", msr, r ? "#GP" : "no #GP", r ? "a value" : "#GP");
        if (!w && vlapic_msr_write(&vcpu[1], msr, 0))
            fail_msg("WRMSR 0x%x, 0: accepted, expected #GP", msr);
        /* Bits 63:32 are reserved in every register but the ICR. */
        if (msr != 0x830 && vlapic_msr_write(&vcpu[1], msr, 1ull << 32))
            fail_msg("WRMSR 0x%x with bit 32: accepted, expected #GP", msr);
    }
    assert_false(vlapic_msr_write(&vcpu[1], 0x808, 0x100)); /* TPR[31:8] */
    assert_false(vlapic_msr_write(&vcpu[1], 0x828, 1));     /* ESR: only 0 */
    assert_true(vlapic_msr_write(&vcpu[1], 0x828, 0));
    assert_false(vlapic_msr_write(&vcpu[1], 0x83f, 0x100)); /* SELF IPI[31:8] */
    assert_false(vlapic_msr_write(&vcpu[1], 0x80f, 0x1000)); /* no EOI-broadcast suppression */
    assert_false(vlapic_msr_write(&vcpu[1], 0x832, 3u << 17)); /* timer mode 3 */
    assert_false(vlapic_msr_write(&vcpu[1], 0x832, 1u << 20));
    assert_false(vlapic_msr_write(&vcpu[1], 0x83e, 4));      /* divide bit 2 */
    assert_false(vlapic_msr_write(&vcpu[1], 0x830, 1u << 13)); /* ICR reserved bits */
    assert_false(vlapic_msr_write(&vcpu[1], 0x830, 1u << 20));
    assert_true(vlapic_msr_write(&vcpu[1], 0x835, (1u << 16) | (1u << 12) | (1u << 14))); /* status bits as read */
    assert_true(vlapic_msr_read(&vcpu[1], 0x835, &value));
    assert_int_equal(value, 1u << 16);
    /* Read-only registers read with bits 63:32 clear. */
    assert_true(vlapic_msr_read(&vcpu[1], 0x803, &value));
    assert_int_equal(value >> 32, 0);
}

/* IA32_APIC_BASE's transitions (12.12.5) and reserved bits. */
static void test_apic_base_transitions(void **state)
{
    (void)state;
    const uint64_t base = 0xfee00000ull, en = 1u << 11, x2 = 1u << 10, bsp = 1u << 8;
    uint64_t value;
    assert_true(vlapic_msr_read(&vcpu[0], 0x1b, &value));
    assert_int_equal(value, base | en | bsp);
    assert_false(vlapic_msr_write(&vcpu[0], 0x1b, base | x2));          /* EXTD without EN */
    assert_false(vlapic_msr_write(&vcpu[0], 0x1b, base | en | 1));      /* reserved bit 0 */
    assert_false(vlapic_msr_write(&vcpu[0], 0x1b, base | en | (1u << 9)));
    assert_false(vlapic_msr_write(&vcpu[0], 0x1b, (1ull << 63) | base | en)); /* beyond MAXPHYADDR */
    assert_true(vlapic_msr_write(&vcpu[0], 0x1b, base | en | x2));      /* xAPIC -> x2APIC */
    assert_false(vlapic_msr_write(&vcpu[0], 0x1b, base | en));          /* x2APIC -> xAPIC */
    assert_true(vlapic_msr_write(&vcpu[0], 0x1b, base));                /* -> disabled */
    assert_false(vlapic_msr_write(&vcpu[0], 0x1b, base | en | x2));     /* disabled -> x2APIC */
    assert_true(vlapic_msr_write(&vcpu[0], 0x1b, base | en));           /* -> xAPIC */
    assert_true(vlapic_msr_read(&vcpu[0], 0x1b, &value));
    assert_int_equal(value, base | en | bsp);                           /* BSP is the CPU's */
    assert_true(vlapic_msr_write(&vcpu[1], 0x1b, base | en | bsp));
    assert_true(vlapic_msr_read(&vcpu[1], 0x1b, &value));
    assert_int_equal(value, base | en);
}

/* A globally disabled APIC is gone (12.4.3): no registers at its page, no x2APIC MSRs, no
 * interrupts taken, the PIC's INTR straight to the CPU; re-enabled, it is in its power-up
 * state, not as firmware left it. */
static void test_disabled_apic_is_gone(void **state)
{
    (void)state;
    uint64_t value;
    vlapic_set_irq(&vcpu[0], 0x40, false);
    assert_int_equal(vlapic_pending_vector(l0), 0x40);
    assert_true(vlapic_msr_write(&vcpu[0], 0x1b, 0xfee00000ull));
    assert_false(vlapic_hw_enabled(l0));
    assert_int_equal(mmio_read(&vcpu[0], 0x30), 0xffffffffu);  /* version */
    mmio_write(&vcpu[0], 0x80, 0x20);
    assert_int_equal(mmio_read(&vcpu[0], 0x80), 0xffffffffu);
    assert_false(vlapic_msr_read(&vcpu[0], 0x803, &value));
    vlapic_set_irq(&vcpu[0], 0x41, false);
    assert_int_equal(vlapic_pending_vector(l0), -1);
    assert_true(vlapic_accepts_pic(l0));
    assert_true(vlapic_msr_write(&vcpu[0], 0x1b, 0xfee00000ull | (1u << 11)));
    assert_int_equal(mmio_read(&vcpu[0], 0x350), 1u << 16);  /* LINT0 masked, no longer ExtINT */
    assert_int_equal(mmio_read(&vcpu[0], 0x360), 1u << 16);  /* LINT1 */
    assert_int_equal(mmio_read(&vcpu[0], 0xf0), 0xff);       /* software-disabled */
    assert_int_equal(mmio_read(&vcpu[0], 0x200 + 0x40 / 32 * 16), 0); /* IRR empty */
    assert_false(vlapic_accepts_pic(l0));
    assert_int_equal(mmio_read(&vcpu[0], 0x2f0), 0);         /* no CMCI LVT (max LVT 5) */
}

/* ExtINT: the I/O APIC's message bypasses IRR (12.8.1) and waits at the vCPU it names for the
 * 8259's acknowledge, waking it; delivery mode 111 is reserved in the ICR (12.6.1). LINT0
 * passes the 8259's INTR only while the APIC is software-enabled (12.4.7.2: the LVT is masked
 * otherwise). */
static void test_extint(void **state)
{
    (void)state;
    assert_true(vlapic_accepts_pic(l0)); /* vCPU 0: virtual-wire mode, as firmware leaves it */
    assert_false(vlapic_accepts_pic(l1)); /* vCPU 1: LINT0 masked at reset */
    vcpu[1].se.state = VCPU_BLOCKED;
    unsigned before = wakes;
    vlapic_deliver(&vm, NULL, 1, false, 7, 0x99, false, 0);
    assert_true(vcpu[1].extint_pending);
    assert_false(vcpu[0].extint_pending);
    assert_int_equal(wakes, before + 1);
    assert_false(irr_bit(l1, 0x99));
    vcpu[1].extint_pending = false;
    vcpu[1].se.state = VCPU_RUNNABLE;
    mmio_write(&vcpu[0], 0x310, 1u << 24);
    mmio_write(&vcpu[0], 0x300, 0x799); /* an IPI in mode 111 */
    assert_false(vcpu[1].extint_pending);
    assert_false(irr_bit(l1, 0x99));
    mmio_write(&vcpu[0], 0xf0, 0xff); /* software-disabled */
    assert_false(vlapic_accepts_pic(l0));
}

/* The timer's mode switches (12.5.4.1): only to or from TSC-deadline mode disarm it; between
 * one-shot and periodic the count goes on. A divide change keeps the count where it is. */
static void test_timer_mode_switches(void **state)
{
    (void)state;
    mmio_write(&vcpu[1], 0xf0, 0x1ff);
    mmio_write(&vcpu[1], 0x3e0, 0xb);                        /* divide by 1 */
    mmio_write(&vcpu[1], 0x320, 0x40);                       /* one-shot, vector 0x40 */
    mmio_write(&vcpu[1], 0x380, 0xf0000000u);
    assert_int_not_equal(mmio_read(&vcpu[1], 0x390), 0);
    mmio_write(&vcpu[1], 0x320, 0x40 | (1u << 17));          /* periodic: goes on */
    assert_int_equal(mmio_read(&vcpu[1], 0x380), 0xf0000000u);
    uint32_t c1 = mmio_read(&vcpu[1], 0x390);
    assert_int_not_equal(c1, 0);
    mmio_write(&vcpu[1], 0x3e0, 0xa);                        /* divide by 128 */
    uint32_t c2 = mmio_read(&vcpu[1], 0x390);
    assert_true(c2 <= c1 && c1 - c2 < 0x10000000u);          /* from where it was, not restarted */
    mmio_write(&vcpu[1], 0x320, 0x40);                       /* back to one-shot: goes on */
    assert_int_not_equal(mmio_read(&vcpu[1], 0x390), 0);
    mmio_write(&vcpu[1], 0x320, 0x40 | (2u << 17));          /* TSC-deadline: disarmed */
    assert_int_equal(mmio_read(&vcpu[1], 0x380), 0);
    assert_int_equal(mmio_read(&vcpu[1], 0x390), 0);
    assert_int_equal(l1->timer.deadline, 0);
    /* An expired one-shot count stays 0 when the mode becomes periodic. */
    mmio_write(&vcpu[1], 0x320, 0x40);
    mmio_write(&vcpu[1], 0x3e0, 0xb);
    mmio_write(&vcpu[1], 0x380, 1);
    l1->timer.deadline = 0;                                  /* the device timer fired... */
    l1->timer.fire(&l1->timer);
    mmio_write(&vcpu[1], 0x320, 0x40 | (1u << 17));
    assert_int_equal(mmio_read(&vcpu[1], 0x390), 0);
}

/* A divide change through an APIC-write exit: the CPU has already put the new divide value in
 * the page, but the count until the write ran at the old rate, and it goes on from there. */
static void test_divide_change_on_the_apic_write_path(void **state)
{
    (void)state;
    use_assist((struct vlapic_assist){ .tpr_shadow = true, .apic_regs = true, .vid = true });
    cpu_write(&vcpu[1], 0xf0, 0x1ff);
    cpu_write(&vcpu[1], 0x3e0, 0xb);                         /* divide by 1 */
    cpu_write(&vcpu[1], 0x320, 0x40);                        /* one-shot */
    cpu_write(&vcpu[1], 0x380, 0xf0000000u);
    l1->timer_start -= 0x10000000u;                          /* as if 2^28 ticks went by */
    uint32_t c1 = mmio_read(&vcpu[1], 0x390);
    assert_true(c1 <= 0xe0000000u && c1 > 0xd0000000u);
    cpu_write(&vcpu[1], 0x3e0, 0xa);                         /* divide by 128 */
    uint32_t c2 = mmio_read(&vcpu[1], 0x390);
    assert_true(c2 <= c1 && c1 - c2 < 0x01000000u);          /* not counted again at 1/128 from the start */
    /* The device timer now ends the remaining count at the new rate: c2 * 128 ticks away. */
    assert_true(l1->timer.deadline - l1->timer_start == 0xf0000000ull * 128);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reset_state_is_in_the_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_posted_vectors_reach_irr_on_the_owner, setup, teardown),
        cmocka_unit_test_setup_teardown(test_priorities_and_cr8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tpr_threshold_without_vid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_virtual_interrupt_delivery_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apic_write_exits_sanitize_the_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_x2apic_msrs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_x2apic_access_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apic_base_transitions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disabled_apic_is_gone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_extint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timer_mode_switches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_divide_change_on_the_apic_write_path, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
