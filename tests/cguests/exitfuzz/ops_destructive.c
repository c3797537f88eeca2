/* SPDX-License-Identifier: BSD-2-Clause */
/* The destructive variant (fuzz.h, arg1 bit 0): now and then, at the PRNG's word, the VM
 * resets itself every way a PC can (README "Resets and the firmware"): port 0xcf9 soft and
 * hard, port 0x92, the keyboard controller's pulse and output port, an INIT to vCPU 0. Each
 * keeps the VM's memory, so with on_reboot = "restart" the VM comes back and every vCPU goes
 * on from the operation after the one it had reached (fz_persist, at a fixed address the
 * image does not cover). At the end the VM stops one of the ways that lose memory (the debug
 * exit, STOP, ACPI S5, halting every vCPU, a triple fault, an MMIO instruction mhv does not
 * emulate): those would replay the same run forever under "restart", so the VM is
 * configured to stop on them. Every action is announced first ("# destructive: ..."), so the
 * boot test can tell a deliberate stop from mhv's doing. */
#include "fuzz.h"

#define PERSIST_ADDRESS 0x6000 /* below the trampoline (0x8000), above the BIOS data area */

struct fz_persist *fz_persist(void)
{
    uintptr_t a = PERSIST_ADDRESS;
    __asm__("" : "+r"(a)); /* the compiler would take a constant low address for a null pointer */
    return (struct fz_persist *)a;
}

/* CMOS shutdown status 0 (register 0x0f): the firmware boots instead of resuming through a
 * vector (README "Resets and the firmware"). The destructive variant writes no CMOS data
 * elsewhere (sanitize.c), so it stays 0. */
static void cmos_shutdown_code_boot(void)
{
    outb(0x70, 0x0f);
    outb(0x71, 0x00);
}

void op_destructive(struct fuzz_op *op)
{
    uint64_t every = rt_arg(5) ? rt_arg(5) : 20;
    if (fz_below(op, every))
        return; /* the kind is drawn rarely, and then acts only one time in `every` */
    static const char *const how[] = {
        "soft reset through port 0xcf9", "hard reset through port 0xcf9", "reset through port 0x92",
        "keyboard controller reset pulse", "keyboard controller output port reset", "INIT to vCPU 0",
    };
    unsigned which = (unsigned)fz_below(op, sizeof(how) / sizeof(how[0]));
    fz_note(op, "destructive", which, 0, 0);
    struct fz_persist *p = fz_persist();
    fz_critical_enter();
    ksnprintf(p->last, sizeof(p->last), "%s by vCPU %u at op %lu", how[which], op->cpu, op->index);
    fz_printf("# destructive: %s (vCPU %u op %lu, seed 0x%lx)\n", how[which], op->cpu, op->index, fz_cfg.seed);
    cmos_shutdown_code_boot();
    switch (which) {
    case 0: outb(0xcf9, 0x04); break;                  /* RST_CPU */
    case 1: outb(0xcf9, 0x06); break;                  /* RST_CPU | SYS_RST */
    case 2:
        outb(0x92, inb(0x92) & ~1u);
        outb(0x92, inb(0x92) | 1u);                    /* bit 0 from 0 to 1 */
        break;
    case 3: outb(0x64, 0xfe); break;                   /* pulse the reset line */
    case 4: outb(0x64, 0xd1); outb(0x60, 0xfe); break; /* output port, bit 0 clear */
    default: apic_send_ipi(0, ICR_INIT | ICR_LEVEL_ASSERT); break;
    }
    /* The reset takes the VM at the next exit at the latest; give it time to. */
    delay_us(100000);
    check(false, "%s reset the VM", how[which]);
    fz_critical_exit();
}

void fz_destructive_end(void)
{
    struct fuzz_op op = { .cpu = 0, .index = fz_cfg.ops_per_cpu };
    prng_seed(&op.rng, fuzz_op_seed(fz_cfg.seed, 0, op.index));
    static const char *const how[] = {
        "exit through the debug-exit port", "the STOP hypercall", "ACPI S5 through PM1a_CNT",
        "halting every vCPU with interrupts off", "a triple fault", "an MMIO instruction mhv does not emulate",
        "the runtime's own exit",
    };
    unsigned which = (unsigned)fz_below(&op, sizeof(how) / sizeof(how[0]));
    if (which == 6)
        return; /* guest_main returns: the runtime prints its "done:" and exits */
    fz_persist()->magic = 0; /* whatever comes next starts afresh */
    fz_printf("done: %u checks, %u failed\n", check_count(), check_failures());
    fz_printf("# destructive: the VM ends with %s (seed 0x%lx)\n", how[which], fz_cfg.seed);
    irq_disable();
    switch (which) {
    case 0: outb(0xf4 + (uint16_t)fz_below(&op, 4), 0); break;
    case 1: hc_stop(0); break;
    case 2: outw(0x604, (5u << 10) | (1u << 13)); break; /* SLP_TYP 5, SLP_EN */
    case 3: for (;;) halt();                             /* the other vCPUs are parked that way */
    case 4: {
        struct __attribute__((packed)) { uint16_t limit; uint64_t base; } empty = { 0, 0 };
        __asm__ volatile("lidt %0\n\tint3" : : "m"(empty)); /* #BP, #GP, #DF: no IDT for any */
        break;
    }
    case 5: __asm__ volatile("shll $1, (%0)" : : "r"(0xfebf0008ull) : "memory"); break; /* shifts: README */
    default: break;
    }
    for (;;)
        halt();
}
