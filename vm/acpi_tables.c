/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A VM's ACPI tables (include/vm/acpi_tables.h), laid out from PLATFORM_ACPI_BASE:
 *
 *   RSDP  ACPI 2.0+ root pointer, first, so the BIOS-area scan finds it (ACPI 6.5 5.2.5.1)
 *   FACS  firmware control structure, 64-byte aligned (5.2.10); required without HW_REDUCED
 *   DSDT  AML with only \_S5, the soft-off sleep type (5.2.11.1; \_Sx in chapter 7)
 *   XSDT  and RSDT: FACP and APIC (5.2.8, 5.2.7)
 *   FACP  FADT revision 6.5: PM1a event/control blocks, PM timer, reset register (5.2.9)
 *   APIC  MADT: one local APIC per vCPU, the I/O APIC, ISA overrides, LINT1 NMI (5.2.12)
 *   HPET  the event timer block (IA-PC HPET specification 1.0a, 3.2.4), only for a VM that has
 *         one (devices/hpet.c; not with `hpet = false`)
 *
 * Nothing describes hardware the VM lacks: no MCFG, DMAR or SRAT, no GPE blocks, no
 * fixed power/sleep buttons, no 8042 keyboard controller (devices/reset.c serves only its reset line).
 * Every table sits in the BIOS area, which loaders mark reserved in the guest's memory map.
 */
#include "vm/acpi_tables.h"

#include <stdbool.h>

#include "kernel/log.h"
#include "devices/hpet.h"
#include "lib/string.h"
#include "vm/platform.h"
#include "vm/vm.h"

#define SDT_HEADER_SIZE 36
#define RSDP_SIZE 36
#define FACS_SIZE 64
#define FADT_SIZE 276 /* ACPI 6.0 onwards: up to the hypervisor vendor identity */
#define MADT_FIXED_SIZE 44
#define HPET_TABLE_SIZE 56

/* The FADT's IA-PC Boot Architecture Flags and Fixed ACPI Description Table Flags (ACPI 6.5
 * 5.2.9.3 and 5.2.9). */
#define BOOT_LEGACY_DEVICES (1u << 0) /* COM1, PIC, PIT, RTC sit on "ISA" and are not in the DSDT */
#define BOOT_VGA_NOT_PRESENT (1u << 2)
#define FADT_WBINVD (1u << 0)
#define FADT_PROC_C1 (1u << 2)
#define FADT_PWR_BUTTON (1u << 4)     /* set: no fixed-feature power button */
#define FADT_SLP_BUTTON (1u << 5)     /* set: no fixed-feature sleep button */
#define FADT_FIXED_RTC (1u << 6)      /* set: RTC wake status is not in the fixed registers */
#define FADT_RESET_REG_SUP (1u << 10)
#define FADT_HEADLESS (1u << 12)      /* no monitor, keyboard or mouse to detect */

/* MADT interrupt controller structure types and MPS INTI flags (ACPI 6.5 5.2.12, 5.2.12.5). */
enum { MADT_LAPIC = 0, MADT_IOAPIC = 1, MADT_OVERRIDE = 2, MADT_LAPIC_NMI = 4 };
#define INTI_HIGH 0x1
#define INTI_EDGE (0x1 << 2)
#define INTI_LEVEL (0x3 << 2)
#define MADT_PCAT_COMPAT 1u /* a dual 8259 pair is present (devices/pic.c) */

/* Generic Address Structure address space IDs and access sizes (ACPI 6.5 5.2.3.2). */
enum { GAS_SYSTEM_MEMORY = 0, GAS_SYSTEM_IO = 1 };
enum { GAS_BYTE = 1, GAS_WORD = 2, GAS_DWORD = 3 };

struct builder {
    uint8_t *buf;
    size_t size, used;
    uint64_t base;
    bool overflow;
};

static void put8(uint8_t *p, size_t off, uint8_t v) { p[off] = v; }
static void put16(uint8_t *p, size_t off, uint16_t v) { memcpy(p + off, &v, 2); }
static void put32(uint8_t *p, size_t off, uint32_t v) { memcpy(p + off, &v, 4); }
static void put64(uint8_t *p, size_t off, uint64_t v) { memcpy(p + off, &v, 8); }

/* Reserves len zeroed bytes at the next multiple of align; NULL (and overflow) when they do
 * not fit. *gpa gets their guest-physical address. */
static uint8_t *reserve(struct builder *b, size_t len, size_t align, uint64_t *gpa)
{
    size_t start = (b->used + align - 1) & ~(align - 1);
    if (b->overflow || start > b->size || len > b->size - start) {
        b->overflow = true;
        return NULL;
    }
    memset(b->buf + b->used, 0, start + len - b->used);
    b->used = start + len;
    *gpa = b->base + start;
    return b->buf + start;
}

static uint8_t checksum(const uint8_t *p, size_t len)
{
    uint8_t sum = 0;
    while (len--)
        sum += *p++;
    return (uint8_t)-sum;
}

/* The common header of every system description table (ACPI 6.5 5.2.6); the checksum is set
 * once the body is filled (seal). */
static void header(uint8_t *t, const char *signature, uint32_t length, uint8_t revision)
{
    memcpy(t, signature, 4);
    put32(t, 4, length);
    put8(t, 8, revision);
    memcpy(t + 10, "MHV   ", 6);   /* OEMID */
    memcpy(t + 16, "MHVVM   ", 8); /* OEM table ID: the same in every table, as the FADT's must
                                    * match the RSDT's (5.2.9) */
    put32(t, 24, 1);               /* OEM revision */
    memcpy(t + 28, "MHV ", 4);     /* creator ID */
    put32(t, 32, 1);               /* creator revision */
}

static void seal(uint8_t *t)
{
    uint32_t len;
    memcpy(&len, t + 4, 4);
    t[9] = 0;
    t[9] = checksum(t, len);
}

/* A generic address structure for a system I/O register (ACPI 6.5 5.2.3.2). */
static void gas_io(uint8_t *p, size_t off, uint8_t bit_width, uint8_t access_size, uint16_t port)
{
    put8(p, off, GAS_SYSTEM_IO);
    put8(p, off + 1, bit_width);
    put8(p, off + 2, 0); /* bit offset */
    put8(p, off + 3, access_size);
    put64(p, off + 4, port);
}

/* FACS (ACPI 6.5 5.2.10): no waking vector (no sleep state but S5) and a global
 * lock that no firmware ever takes. It has no checksum. */
static void build_facs(uint8_t *t)
{
    memcpy(t, "FACS", 4);
    put32(t, 4, FACS_SIZE);
    put8(t, 32, 2); /* version */
}

/*
 * DSDT: a definition block whose AML is the one statement
 *     Name (\_S5, Package (4) { 5, 5, 0, 0 })
 * encoded as the AML grammar of ACPI 6.5 chapter 20 gives it: DefName (20.2.5.1), NameString
 * (20.2.2), DefPackage (20.2.5.4), PkgLength (20.2.4), ByteConst and ZeroOp (20.2.3). \_S5's
 * package holds the PM1a_CNT.SLP_TYP and PM1b_CNT.SLP_TYP values for soft-off, then two
 * reserved entries ("\_Sx (System States)", chapter 7). Revision 2: integers are 64-bit
 * (5.2.11.1).
 */
static const uint8_t s5_aml[] = {
    0x08,                         /* NameOp */
    '\\', '_', 'S', '5', '_',     /* RootChar, NameSeg "_S5_" */
    0x12,                         /* PackageOp */
    0x08,                         /* PkgLength: one byte; itself + 7 following bytes */
    0x04,                         /* NumElements */
    0x0a, ACPI_S5_SLP_TYP,        /* BytePrefix, SLP_TYPa */
    0x0a, ACPI_S5_SLP_TYP,        /* BytePrefix, SLP_TYPb (there is no PM1b block; same value) */
    0x00,                         /* ZeroOp: reserved */
    0x00,                         /* ZeroOp: reserved */
};

/* FADT (ACPI 6.5 5.2.9), revision 6 minor 5. The fixed hardware register blocks (4.8): PM1a
 * event at PLATFORM_PM_BASE (status and enable, 2 bytes each), PM1a control at +4 (2 bytes),
 * the 24-bit PM timer at +8 (4 bytes), in both the 32-bit and the X_ (GAS) fields, which must
 * agree. SMI_CMD 0: no SMM, the platform is always in ACPI mode (PM1_CNT.SCI_EN reads 1). */
static void build_fadt(uint8_t *t, uint64_t facs, uint64_t dsdt)
{
    header(t, "FACP", FADT_SIZE, 6);
    put32(t, 36, (uint32_t)facs);                 /* FIRMWARE_CTRL (X_FIRMWARE_CTRL stays 0) */
    put32(t, 40, (uint32_t)dsdt);                 /* DSDT */
    put8(t, 45, 0);                               /* Preferred_PM_Profile: unspecified */
    put16(t, 46, PLATFORM_SCI_IRQ);               /* SCI_INT */
    put32(t, 48, 0);                              /* SMI_CMD: none */
    put32(t, 56, PLATFORM_PM_BASE);               /* PM1a_EVT_BLK */
    put32(t, 64, PLATFORM_PM_BASE + 4);           /* PM1a_CNT_BLK */
    put32(t, 76, PLATFORM_PM_BASE + 8);           /* PM_TMR_BLK */
    put8(t, 88, 4);                               /* PM1_EVT_LEN */
    put8(t, 89, 2);                               /* PM1_CNT_LEN */
    put8(t, 91, 4);                               /* PM_TMR_LEN */
    put16(t, 96, 101);                            /* P_LVL2_LAT > 100: no C2 */
    put16(t, 98, 1001);                           /* P_LVL3_LAT > 1000: no C3 */
    put8(t, 106, 0);                              /* DAY_ALRM, MON_ALRM: the RTC has neither */
    put8(t, 107, 0);
    put8(t, 108, 0x32);                           /* CENTURY: CMOS index of devices/rtc.c's century */
    put16(t, 109, BOOT_LEGACY_DEVICES | BOOT_VGA_NOT_PRESENT); /* IAPC_BOOT_ARCH: no 8042 */
    put32(t, 112, FADT_WBINVD | FADT_PROC_C1 | FADT_PWR_BUTTON | FADT_SLP_BUTTON | FADT_FIXED_RTC |
                      FADT_RESET_REG_SUP | FADT_HEADLESS);
    /* RESET_REG: writing 0x06 to port 0xcf9 (SYS_RST | RST_CPU) resets the machine. */
    gas_io(t, 116, 8, GAS_BYTE, PLATFORM_RESET_PORT);
    put8(t, 128, 0x06);                           /* RESET_VALUE */
    put8(t, 131, 5);                              /* FADT minor version: ACPI 6.5 */
    put64(t, 140, dsdt);                          /* X_DSDT */
    gas_io(t, 148, 32, GAS_WORD, PLATFORM_PM_BASE);       /* X_PM1a_EVT_BLK: two 16-bit registers */
    gas_io(t, 172, 16, GAS_WORD, PLATFORM_PM_BASE + 4);   /* X_PM1a_CNT_BLK */
    gas_io(t, 208, 32, GAS_DWORD, PLATFORM_PM_BASE + 8);  /* X_PM_TMR_BLK */
    /* X_PM1b_*, X_PM2_CNT_BLK, X_GPE0/1_BLK, the sleep registers (hardware-reduced only) and
     * the hypervisor vendor identity stay zero. */
    seal(t);
}

/* MADT (ACPI 6.5 5.2.12), revision 5 (the layout with the Online Capable flag, clear here). */
static size_t madt_size(unsigned vcpus)
{
    return MADT_FIXED_SIZE + 8 * (size_t)vcpus + 12 + 2 * 10 + 6;
}

static void build_madt(uint8_t *t, unsigned vcpus)
{
    size_t len = madt_size(vcpus);
    header(t, "APIC", (uint32_t)len, 5);
    put32(t, 36, (uint32_t)PLATFORM_LAPIC_BASE);
    put32(t, 40, MADT_PCAT_COMPAT);
    size_t off = MADT_FIXED_SIZE;
    /* Processor local APICs (5.2.12.2), in vCPU order: vCPU 0 boots first (5.2.12.1). */
    for (unsigned i = 0; i < vcpus; i++, off += 8) {
        put8(t, off, MADT_LAPIC);
        put8(t, off + 1, 8);
        put8(t, off + 2, (uint8_t)i); /* ACPI processor UID */
        put8(t, off + 3, (uint8_t)i); /* APIC ID */
        put32(t, off + 4, 1);         /* enabled */
    }
    /* The I/O APIC (5.2.12.3): its ID follows the CPUs' so none collide. */
    put8(t, off, MADT_IOAPIC);
    put8(t, off + 1, 12);
    put8(t, off + 2, (uint8_t)vcpus);
    put32(t, off + 4, (uint32_t)PLATFORM_IOAPIC_BASE);
    put32(t, off + 8, 0);             /* GSI base */
    off += 12;
    /* Interrupt source overrides (5.2.12.5): the PIT's IRQ 0 is I/O APIC pin 2, as on PCs
     * (vm/irq.c wires it so); the SCI, IRQ 9, is level-triggered and, as on QEMU's PIIX4,
     * active high. Linux takes the SCI's polarity and trigger from this entry and would
     * otherwise assume level, active low. */
    static const struct { uint8_t irq, gsi; uint16_t flags; } overrides[2] = {
        { 0, 2, INTI_EDGE | INTI_HIGH },
        { PLATFORM_SCI_IRQ, PLATFORM_SCI_IRQ, INTI_LEVEL | INTI_HIGH },
    };
    for (unsigned i = 0; i < 2; i++, off += 10) {
        put8(t, off, MADT_OVERRIDE);
        put8(t, off + 1, 10);
        put8(t, off + 2, 0);          /* bus: ISA */
        put8(t, off + 3, overrides[i].irq);
        put32(t, off + 4, overrides[i].gsi);
        put16(t, off + 8, overrides[i].flags);
    }
    /* Local APIC NMI (5.2.12.7): every processor's LINT1 takes NMI, edge, active high. */
    put8(t, off, MADT_LAPIC_NMI);
    put8(t, off + 1, 6);
    put8(t, off + 2, 0xff);           /* all processors */
    put16(t, off + 3, INTI_EDGE | INTI_HIGH);
    put8(t, off + 5, 1);              /* LINT1 */
    seal(t);
}

/* The HPET description table (IA-PC HPET 1.0a, 3.2.4 "The ACPI 2.0 HPET Description Table"):
 * the event timer block ID (the capabilities register's low half), its base address as a
 * system-memory GAS, HPET number 0, the minimum periodic tick (devices/hpet.c does not
 * interrupt faster), and page protection 1: the block alone in its 4 KiB page. */
static void build_hpet(uint8_t *t)
{
    header(t, "HPET", HPET_TABLE_SIZE, 1);
    put32(t, 36, (uint32_t)(HPET_CAP_REV_ID | (HPET_TIMERS - 1) << 8 | HPET_CAP_COUNT_SIZE | HPET_CAP_LEG_RT |
                            HPET_CAP_VENDOR_ID << 16));
    put8(t, 40, GAS_SYSTEM_MEMORY);
    put8(t, 41, 64);                  /* register bit width */
    put8(t, 42, 0);                   /* bit offset */
    put8(t, 43, 0);                   /* access size: undefined (32 and 64 bits both work) */
    put64(t, 44, PLATFORM_HPET_BASE);
    put8(t, 52, 0);                   /* HPET number */
    put16(t, 53, (uint16_t)HPET_MIN_PERIOD);
    put8(t, 55, 1);                   /* 4 KiB page protection */
    seal(t);
}

size_t acpi_build(uint8_t *buf, size_t size, uint64_t base, const struct acpi_vm_layout *l)
{
    /* APIC IDs are one byte and 0xff is the broadcast ID; the I/O APIC takes ID `vcpus`. */
    if (!l->vcpus || l->vcpus > 254 || (base & 15) || base + size > 0x100000000ull)
        return 0;
    struct builder b = { buf, size, 0, base, false };
    uint64_t rsdp_gpa, facs_gpa, dsdt_gpa, xsdt_gpa, rsdt_gpa, fadt_gpa, madt_gpa, hpet_gpa = 0;
    unsigned entries = l->hpet ? 3 : 2; /* FACP, APIC, and HPET when there is one */
    uint8_t *rsdp = reserve(&b, RSDP_SIZE, 16, &rsdp_gpa);
    uint8_t *facs = reserve(&b, FACS_SIZE, 64, &facs_gpa);
    uint8_t *dsdt = reserve(&b, SDT_HEADER_SIZE + sizeof(s5_aml), 16, &dsdt_gpa);
    uint8_t *xsdt = reserve(&b, SDT_HEADER_SIZE + entries * 8, 16, &xsdt_gpa);
    uint8_t *rsdt = reserve(&b, SDT_HEADER_SIZE + entries * 4, 16, &rsdt_gpa);
    uint8_t *fadt = reserve(&b, FADT_SIZE, 16, &fadt_gpa);
    uint8_t *madt = reserve(&b, madt_size(l->vcpus), 16, &madt_gpa);
    uint8_t *hpet = l->hpet ? reserve(&b, HPET_TABLE_SIZE, 16, &hpet_gpa) : NULL;
    if (b.overflow)
        return 0;

    build_facs(facs);

    header(dsdt, "DSDT", SDT_HEADER_SIZE + sizeof(s5_aml), 2);
    memcpy(dsdt + SDT_HEADER_SIZE, s5_aml, sizeof(s5_aml));
    seal(dsdt);

    build_fadt(fadt, facs_gpa, dsdt_gpa);
    build_madt(madt, l->vcpus);
    if (hpet)
        build_hpet(hpet);

    /* XSDT (5.2.8) with 64-bit entries, RSDT (5.2.7) with 32-bit ones for ACPI 1.0 guests. */
    const uint64_t entry[3] = { fadt_gpa, madt_gpa, hpet_gpa };
    header(xsdt, "XSDT", SDT_HEADER_SIZE + entries * 8, 1);
    header(rsdt, "RSDT", SDT_HEADER_SIZE + entries * 4, 1);
    for (unsigned i = 0; i < entries; i++) {
        put64(xsdt, SDT_HEADER_SIZE + 8 * i, entry[i]);
        put32(rsdt, SDT_HEADER_SIZE + 4 * i, (uint32_t)entry[i]);
    }
    seal(xsdt);
    seal(rsdt);

    /* RSDP (5.2.5.3): the first checksum covers the ACPI 1.0 part (20 bytes), the extended
     * one the whole structure. */
    memcpy(rsdp, "RSD PTR ", 8);
    memcpy(rsdp + 9, "MHV   ", 6);
    put8(rsdp, 15, 2);                /* revision: ACPI 2.0 or later */
    put32(rsdp, 16, (uint32_t)rsdt_gpa);
    put32(rsdp, 20, RSDP_SIZE);
    put64(rsdp, 24, xsdt_gpa);
    rsdp[8] = checksum(rsdp, 20);
    rsdp[32] = checksum(rsdp, RSDP_SIZE);
    return b.used;
}

int acpi_tables_write(struct vm *vm)
{
    /* Under 2 KiB for VM_MAX_VCPUS processors (the MADT grows by 8 bytes a vCPU): the stack
     * holds it. */
    uint8_t buf[2048];
    struct acpi_vm_layout l = { .vcpus = vm->vcpu_count, .hpet = vm->hpet != NULL };
    size_t len = acpi_build(buf, sizeof(buf), PLATFORM_ACPI_BASE, &l);
    if (!len) {
        log_err("vm %s: no ACPI tables for %u vCPUs", vm->name, vm->vcpu_count);
        return -1;
    }
    if (vm_write_gpa(vm, PLATFORM_ACPI_BASE, buf, len) < 0) {
        log_err("vm %s: no ACPI tables: guest memory does not reach 0x%lx", vm->name,
                (uint64_t)(PLATFORM_ACPI_BASE + len));
        return -1;
    }
    return 0;
}
