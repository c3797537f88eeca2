/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Hostile guest: port I/O sweep. IN of every port 0-0xffff in all three sizes, then OUT of 0 and
 * of all-ones in all three sizes, except the ports listed in skip_write() (they would end the
 * test by stopping or resetting this VM, or garble the console). Port I/O at CPL 0 never faults
 * (SDM Vol. 1 19.5), so every access must complete: no exception, and mhv must not stop the VM
 * (README "What every VM has": ports nobody claims read all-ones and ignore writes). The ports
 * whose byte reads are not all-ones (the devices mhv emulates) are printed. Interrupts stay off:
 * what the writes make the PIC, PIT or RTC raise is never taken. bochs_chostile runs it next to
 * the canary.
 */
#include "rt.h"

MHV_GUEST(.name = "hostile_io", .memory_mib = 8);

/* Ports whose writes stop or reset this VM (README "The virtual platform"), or reach mhv's
 * console as raw bytes. An access is skipped when any byte of it falls in one of these. */
static const struct { uint16_t first, last; const char *why; } skipped[] = {
    { 0xf4, 0xf7, "debug exit: any of its 4 ports stops the VM" },
    { 0x64, 0x64, "keyboard controller: command 0xfe resets the VM" },
    { 0x92, 0x92, "system control port A: bit 0 resets the VM" },
    { 0xcf9, 0xcf9, "reset control: bit 2 resets the VM" },
    { 0x604, 0x605, "ACPI PM1a control: SLP_EN powers the VM off" },
    { 0x3f8, 0x3ff, "COM1: the console (bytes would reach mhv's serial line)" },
};

static bool skip_write(uint32_t port, unsigned size)
{
    for (unsigned i = 0; i < sizeof(skipped) / sizeof(skipped[0]); i++)
        if (port <= skipped[i].last && port + size - 1 >= skipped[i].first)
            return true;
    return false;
}

static unsigned faults, accesses;
static int first_fault_vector = -1;
static uint32_t first_fault_port;

static void note(int v, uint32_t port)
{
    accesses++;
    if (v < 0)
        return;
    if (faults++ == 0) {
        first_fault_vector = v;
        first_fault_port = port;
    }
}

/* Claimed ports as ranges, a few per line. */
static void print_claimed(const uint8_t *claimed)
{
    char line[110]; /* mhv's console breaks longer lines */
    unsigned len = (unsigned)ksnprintf(line, sizeof(line), "# ports that do not read 0xff:");
    for (uint32_t p = 0; p < 0x10000;) {
        if (!claimed[p]) {
            p++;
            continue;
        }
        uint32_t q = p;
        while (q + 1 < 0x10000 && claimed[q + 1])
            q++;
        char item[24];
        unsigned k = p == q ? (unsigned)ksnprintf(item, sizeof(item), " 0x%x", p)
                            : (unsigned)ksnprintf(item, sizeof(item), " 0x%x-0x%x", p, q);
        if (len + k + 1 >= sizeof(line)) {
            printf("%s\n", line);
            len = (unsigned)ksnprintf(line, sizeof(line), "#  ");
        }
        memcpy(line + len, item, k + 1);
        len += k;
        p = q + 1;
    }
    printf("%s\n", line);
}

static uint8_t claimed[0x10000];

void guest_main(void)
{
    for (uint32_t port = 0; port < 0x10000; port++) {
        uint8_t b;
        uint16_t w;
        uint32_t l;
        note(try_inb((uint16_t)port, &b), port);
        claimed[port] = b != 0xff;
        note(try_inw((uint16_t)port, &w), port);
        note(try_inl((uint16_t)port, &l), port);
    }
    print_claimed(claimed);
    unsigned skips = 0;
    for (uint32_t port = 0; port < 0x10000; port++) {
        for (unsigned size = 1; size <= 4; size *= 2) {
            if (skip_write(port, size)) {
                skips++;
                continue;
            }
            for (unsigned k = 0; k < 2; k++) {
                uint32_t v = k ? 0xffffffffu : 0;
                int r = size == 1 ? try_outb((uint16_t)port, (uint8_t)v)
                      : size == 2 ? try_outw((uint16_t)port, (uint16_t)v)
                                  : try_outl((uint16_t)port, v);
                note(r, port);
            }
        }
        if ((port & 0xfff) == 0xfff)
            printf("# wrote ports up to 0x%x\n", port);
    }
    for (unsigned i = 0; i < sizeof(skipped) / sizeof(skipped[0]); i++)
        printf("# not written: 0x%x-0x%x (%s)\n", skipped[i].first, skipped[i].last, skipped[i].why);
    if (faults)
        check(false, "%u port accesses at CPL 0 completed without an exception (%u raised one, the first %s at port 0x%x)",
              accesses, faults, exception_name((unsigned)first_fault_vector), first_fault_port);
    else
        check(true, "%u port accesses at CPL 0 completed without an exception (%u writes skipped)", accesses, skips);
    check_eq(apic_id(), 0, "the local APIC still answers (ID 0)");
    check_eq((uint64_t)hc_nop(), 0, "hypercalls still work");
}
