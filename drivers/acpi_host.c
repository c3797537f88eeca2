/* SPDX-License-Identifier: BSD-2-Clause */
/* Glue between the ACPI parser and this machine: identity-mapped reads, the boot report. */
#include "drivers/acpi_host.h"

#include "arch/x86/paging.h"
#include "kernel/log.h"
#include "kernel/page_alloc.h"
#include "lib/format.h"
#include "lib/string.h"

struct acpi_info host_acpi;

static const void *identity_map(uint64_t addr, uint64_t len)
{
    /* Page 0 is unmapped on purpose; everything else below paging_mapped_top is readable. */
    if (addr < PAGE_SIZE || addr + len < addr || addr + len > paging_mapped_top)
        return NULL;
    return phys_to_virt(addr);
}

static void hex_dump(const char *what, uint64_t addr, uint32_t len)
{
    const uint8_t *p = identity_map(addr, len);
    if (!p)
        return;
    log_info("acpi: dump %s at 0x%lx, %u bytes", what, addr, len);
    for (uint32_t off = 0; off < len; off += 16) {
        char line[16 * 3 + 1];
        int n = 0;
        for (uint32_t i = off; i < len && i < off + 16; i++)
            n += ksnprintf(line + n, sizeof(line) - n, " %02x", p[i]);
        log_info("acpi:   %04x:%s", off, line);
    }
}

static void print_summary(const struct acpi_info *a)
{
    char names[ACPI_MAX_TABLES * 5 + 1] = "";
    int n = 0;
    for (unsigned i = 0; i < a->table_count; i++)
        n += ksnprintf(names + n, sizeof(names) - n, " %s", a->tables[i].signature);
    log_info("acpi: RSDP at 0x%lx (revision %u, OEM '%s'), %s with %u valid tables:%s", a->rsdp_address,
             a->rsdp_revision, a->oem_id, a->root_name, a->table_count, names);

    unsigned enabled = 0, capable = 0;
    for (unsigned i = 0; i < a->cpu_entries; i++) {
        enabled += a->cpus[i].enabled;
        capable += a->cpus[i].online_capable;
    }
    if (a->has_madt)
        log_info("acpi: MADT: %u processors enabled, %u hot-pluggable; %u I/O APIC%s; %u interrupt overrides; "
                 "local APIC at 0x%lx%s", enabled, capable, a->ioapic_count, a->ioapic_count == 1 ? "" : "s",
                 a->override_count, a->lapic_address, a->pcat_compat ? "; 8259 PICs present" : "");
    for (unsigned i = 0; i < a->ioapic_count; i++)
        log_info("acpi:   I/O APIC id %u at 0x%x, GSI base %u", a->ioapics[i].id, a->ioapics[i].address,
                 a->ioapics[i].gsi_base);
    if (a->has_fadt) {
        char reset[64] = "none";
        if (a->reset_supported)
            ksnprintf(reset, sizeof(reset), "%s 0x%lx value 0x%x", a->reset_register.space == 1 ? "I/O" : "memory",
                      a->reset_register.address, a->reset_value);
        log_info("acpi: FADT: PM timer %s%x (%s), reset register %s", a->pm_timer_port ? "at port 0x" : "none",
                 a->pm_timer_port, a->pm_timer_32bit ? "32-bit" : "24-bit", reset);
    }
    if (a->hpet_address)
        log_info("acpi: HPET at 0x%lx", a->hpet_address);
    if (a->problems)
        log_warn("acpi: %u problem%s worked around (see above)", a->problems, a->problems > 1 ? "s" : "");
}

int acpi_host_init(const struct boot_info *bi, bool dump)
{
    int rc = acpi_parse(bi->rsdp, identity_map, &host_acpi);
    if (rc < 0)
        return rc;
    print_summary(&host_acpi);
    if (dump) {
        hex_dump("RSDP", host_acpi.rsdp_address, host_acpi.rsdp_revision >= 2 ? 36 : 20);
        hex_dump(host_acpi.root_name, host_acpi.root_address, host_acpi.root_length);
        for (unsigned i = 0; i < host_acpi.table_count; i++)
            hex_dump(host_acpi.tables[i].signature, host_acpi.tables[i].address, host_acpi.tables[i].length);
    }
    return 0;
}
