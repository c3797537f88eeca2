/* SPDX-License-Identifier: BSD-2-Clause */
/* ACPI table parsing (ACPI 6.5 chapter 5). See include/drivers/acpi.h. */
#include "drivers/acpi.h"

#include "kernel/log.h"
#include "lib/string.h"

#define SDT_HEADER_SIZE 36
#define TABLE_MAX_LENGTH (16u << 20) /* sanity bound; real tables are KiB, a DSDT < 1 MiB */
#define RSDP_V1_SIZE 20
#define RSDP_V2_SIZE 36

#define PROBLEM(info, ...)                                                                  \
    do {                                                                                    \
        (info)->problems++;                                                                 \
        log_warn("acpi: " __VA_ARGS__);                                                     \
    } while (0)

static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static uint8_t checksum(const uint8_t *p, uint32_t len)
{
    uint8_t sum = 0;
    while (len--)
        sum += *p++;
    return sum;
}

/* A valid RSDP at p: signature, ACPI 1.0 checksum, and for revision >= 2 the length and
 * extended checksum (ACPI 6.5 5.2.5.3). Returns the number of valid bytes, 0 if invalid. */
static uint32_t rsdp_valid(const uint8_t *p, uint32_t available)
{
    if (available < RSDP_V1_SIZE || memcmp(p, "RSD PTR ", 8) || checksum(p, RSDP_V1_SIZE))
        return 0;
    if (p[15] < 2)
        return RSDP_V1_SIZE;
    uint32_t len = rd32(p + 20);
    if (available < RSDP_V2_SIZE || len < RSDP_V2_SIZE || len > available || checksum(p, len))
        return 0;
    return len;
}

static uint64_t scan_for_rsdp(acpi_map_fn map, uint64_t start, uint64_t len)
{
    const uint8_t *area = map(start, len);
    if (!area)
        return 0;
    for (uint64_t off = 0; off + RSDP_V1_SIZE <= len; off += 16)
        if (rsdp_valid(area + off, (uint32_t)(len - off)))
            return start + off;
    return 0;
}

uint64_t acpi_find_rsdp_in_bios_areas(acpi_map_fn map)
{
    /* The BIOS data area word at 0x40e holds the EBDA segment. */
    const uint8_t *bda = map(0x40e, 2);
    uint64_t ebda = bda ? (uint64_t)rd16(bda) << 4 : 0;
    uint64_t found = 0;
    if (ebda >= 0x80000 && ebda < 0xa0000)
        found = scan_for_rsdp(map, ebda, 1024);
    return found ? found : scan_for_rsdp(map, 0xe0000, 0x20000);
}

struct ctx {
    acpi_map_fn map;
    struct acpi_info *info;
};

/* Maps and checks one table: readable, length sane, checksum zero. Returns it and its length,
 * or NULL after reporting what was wrong. */
static const uint8_t *checked_table(struct ctx *c, uint64_t addr, const char *found_in, uint32_t *len_out)
{
    struct acpi_info *info = c->info;
    const uint8_t *h = addr ? c->map(addr, SDT_HEADER_SIZE) : NULL;
    if (!h) {
        PROBLEM(info, "%s entry 0x%lx: not a readable address; skipped", found_in, addr);
        return NULL;
    }
    char sig[5] = { 0 };
    memcpy(sig, h, 4);
    for (int i = 0; i < 4; i++)
        if (sig[i] < ' ' || sig[i] > '~')
            sig[i] = '?';
    uint32_t len = rd32(h + 4);
    if (len < SDT_HEADER_SIZE || len > TABLE_MAX_LENGTH) {
        PROBLEM(info, "table '%s' at 0x%lx: length %u outside [%u, %u]; skipped", sig, addr, len,
                SDT_HEADER_SIZE, TABLE_MAX_LENGTH);
        return NULL;
    }
    const uint8_t *t = c->map(addr, len);
    if (!t) {
        PROBLEM(info, "table '%s' at 0x%lx: its %u bytes are not readable; skipped", sig, addr, len);
        return NULL;
    }
    if (checksum(t, len)) {
        PROBLEM(info, "table '%s' at 0x%lx (%u bytes): bad checksum; skipped", sig, addr, len);
        return NULL;
    }
    *len_out = len;
    return t;
}

static void add_cpu(struct acpi_info *info, uint32_t apic_id, uint32_t uid, uint32_t flags, bool x2apic)
{
    for (unsigned i = 0; i < info->cpu_entries; i++) {
        if (info->cpus[i].apic_id == apic_id) {
            PROBLEM(info, "MADT: APIC ID %u listed twice; the second entry is ignored", apic_id);
            return;
        }
    }
    if (info->cpu_entries == ACPI_MAX_CPU_ENTRIES) {
        PROBLEM(info, "MADT: more than %d processor entries; APIC ID %u ignored", ACPI_MAX_CPU_ENTRIES, apic_id);
        return;
    }
    info->cpus[info->cpu_entries++] = (struct acpi_cpu){
        .apic_id = apic_id,
        .acpi_uid = uid,
        .enabled = flags & 1,
        .online_capable = !(flags & 1) && (flags & 2),
        .from_x2apic_entry = x2apic,
    };
}

/* MADT interrupt controller structure types and their minimum lengths (ACPI 6.5 5.2.12). */
enum { MADT_LAPIC = 0, MADT_IOAPIC = 1, MADT_OVERRIDE = 2, MADT_LAPIC_OVERRIDE = 5, MADT_X2APIC = 9 };

static void parse_madt(struct ctx *c, const uint8_t *t, uint32_t len, uint64_t addr)
{
    struct acpi_info *info = c->info;
    if (len < 44) {
        PROBLEM(info, "MADT at 0x%lx: length %u is below 44; skipped", addr, len);
        return;
    }
    info->has_madt = true;
    info->lapic_address = rd32(t + 36);
    info->pcat_compat = rd32(t + 40) & 1;

    static const uint8_t min_len[16] = { [MADT_LAPIC] = 8, [MADT_IOAPIC] = 12, [MADT_OVERRIDE] = 10,
                                         [MADT_LAPIC_OVERRIDE] = 12, [MADT_X2APIC] = 16 };
    for (uint32_t off = 44; off < len;) {
        if (len - off < 2) {
            PROBLEM(info, "MADT at 0x%lx: %u stray bytes at offset %u; ignored", addr, len - off, off);
            break;
        }
        const uint8_t *e = t + off;
        uint8_t type = e[0], elen = e[1];
        /* A zero length would loop forever, a long one reads past the table: stop walking. */
        if (elen < 2) {
            PROBLEM(info, "MADT at 0x%lx: entry at offset %u (type %u) has length %u; rest of MADT ignored", addr,
                    off, type, elen);
            break;
        }
        if (elen > len - off) {
            PROBLEM(info, "MADT at 0x%lx: entry at offset %u (type %u, length %u) runs past the table end (%u); "
                    "rest of MADT ignored", addr, off, type, elen, len);
            break;
        }
        if (type < 16 && min_len[type] && elen < min_len[type]) {
            PROBLEM(info, "MADT at 0x%lx: entry at offset %u (type %u) has length %u, needs %u; skipped", addr, off,
                    type, elen, min_len[type]);
            off += elen;
            continue;
        }
        switch (type) {
        case MADT_LAPIC:
            /* APIC ID 0xff is not a processor (xAPIC broadcast); x2APIC entries list those. */
            if (e[3] != 0xff)
                add_cpu(info, e[3], e[2], rd32(e + 4), false);
            break;
        case MADT_X2APIC:
            add_cpu(info, rd32(e + 4), rd32(e + 12), rd32(e + 8), true);
            break;
        case MADT_IOAPIC:
            if (info->ioapic_count < ACPI_MAX_IOAPICS)
                info->ioapics[info->ioapic_count++] = (struct acpi_ioapic){ e[2], rd32(e + 4), rd32(e + 8) };
            else
                PROBLEM(info, "MADT: more than %d I/O APICs; ID %u ignored", ACPI_MAX_IOAPICS, e[2]);
            break;
        case MADT_OVERRIDE:
            if (info->override_count < ACPI_MAX_OVERRIDES)
                info->overrides[info->override_count++] = (struct acpi_override){ e[2], e[3], rd32(e + 4), rd16(e + 8) };
            else
                PROBLEM(info, "MADT: more than %d interrupt overrides; IRQ %u ignored", ACPI_MAX_OVERRIDES, e[3]);
            break;
        case MADT_LAPIC_OVERRIDE:
            info->lapic_address = rd64(e + 4);
            break;
        default:
            break; /* NMI sources, GIC entries, ...: not needed on this platform yet */
        }
        off += elen;
    }
}

static struct acpi_gas read_gas(const uint8_t *p)
{
    return (struct acpi_gas){ p[0], p[1], p[2], p[3], rd64(p + 4) };
}

/* FADT fields (ACPI 6.5 5.2.9, table 5.9); each is used only when the table is long enough. */
static void parse_fadt(struct ctx *c, const uint8_t *t, uint32_t len)
{
    struct acpi_info *info = c->info;
    info->has_fadt = true;
    if (len >= 92 && t[91] == 4) /* PM_TMR_LEN must be 4 when the timer exists */
        info->pm_timer_port = rd32(t + 76);
    if (len >= 68)
        info->pm1a_control_port = rd32(t + 64);
    uint32_t flags = len >= 116 ? rd32(t + 112) : 0;
    info->pm_timer_32bit = flags & (1u << 8); /* TMR_VAL_EXT */
    if (len >= 111)
        info->boot_arch_flags = rd16(t + 109);
    if (len >= 129 && (flags & (1u << 10))) { /* RESET_REG_SUP */
        info->reset_supported = true;
        info->reset_register = read_gas(t + 116);
        info->reset_value = t[128];
    }
    /* X_PM_TMR_BLK supersedes PM_TMR_BLK when it is a non-zero system I/O address. */
    if (len >= 220) {
        struct acpi_gas x = read_gas(t + 208);
        if (x.space == 1 && x.address && x.address <= 0xffff)
            info->pm_timer_port = (uint32_t)x.address;
    }
}

static void parse_table(struct ctx *c, uint64_t addr, const char *found_in)
{
    struct acpi_info *info = c->info;
    uint32_t len;
    const uint8_t *t = checked_table(c, addr, found_in, &len);
    if (!t)
        return;
    if (info->table_count < ACPI_MAX_TABLES) {
        struct acpi_table_ref *r = &info->tables[info->table_count++];
        memcpy(r->signature, t, 4);
        r->signature[4] = '\0';
        r->address = addr;
        r->length = len;
    }
    if (!memcmp(t, "APIC", 4) && !info->has_madt)
        parse_madt(c, t, len, addr);
    else if (!memcmp(t, "FACP", 4) && !info->has_fadt)
        parse_fadt(c, t, len);
    else if (!memcmp(t, "HPET", 4) && len >= 52)
        info->hpet_address = rd64(t + 44);
}

/* Walks the XSDT (8-byte entries) or RSDT (4-byte entries). Returns -1 if the root is unusable. */
static int parse_root(struct ctx *c, uint64_t addr, bool xsdt)
{
    struct acpi_info *info = c->info;
    const char *name = xsdt ? "XSDT" : "RSDT";
    uint32_t len;
    const uint8_t *t = checked_table(c, addr, xsdt ? "RSDP XsdtAddress" : "RSDP RsdtAddress", &len);
    if (!t)
        return -1;
    if (memcmp(t, name, 4)) {
        PROBLEM(info, "%s at 0x%lx: signature is not '%s'; not used", name, addr, name);
        return -1;
    }
    unsigned width = xsdt ? 8 : 4;
    if ((len - SDT_HEADER_SIZE) % width) {
        PROBLEM(info, "%s at 0x%lx: length %u leaves a partial entry (entries are %u bytes); not used", name,
                addr, len, width);
        return -1;
    }
    info->root_name = name;
    info->root_address = addr;
    info->root_length = len;
    for (uint32_t off = SDT_HEADER_SIZE; off < len; off += width)
        parse_table(c, xsdt ? rd64(t + off) : rd32(t + off), name);
    return 0;
}

int acpi_parse(uint64_t rsdp_addr, acpi_map_fn map, struct acpi_info *info)
{
    memset(info, 0, sizeof(*info));
    struct ctx c = { map, info };

    const uint8_t *rsdp = rsdp_addr ? map(rsdp_addr, RSDP_V1_SIZE) : NULL;
    uint32_t rsdp_len = 0;
    if (rsdp) {
        const uint8_t *full = map(rsdp_addr, RSDP_V2_SIZE);
        rsdp_len = rsdp_valid(full ? full : rsdp, full ? RSDP_V2_SIZE : RSDP_V1_SIZE);
        if (!rsdp_len)
            PROBLEM(info, "RSDP at 0x%lx (from the boot loader): bad signature or checksum; searching the BIOS areas",
                    rsdp_addr);
    }
    if (!rsdp_len) {
        rsdp_addr = acpi_find_rsdp_in_bios_areas(map);
        if (!rsdp_addr) {
            log_warn("acpi: no valid RSDP found");
            return -1;
        }
        rsdp = map(rsdp_addr, RSDP_V1_SIZE);
        const uint8_t *full = map(rsdp_addr, RSDP_V2_SIZE);
        rsdp_len = rsdp_valid(full ? full : rsdp, full ? RSDP_V2_SIZE : RSDP_V1_SIZE);
        if (full)
            rsdp = full;
    }
    info->rsdp_address = rsdp_addr;
    info->rsdp_revision = rsdp[15];
    memcpy(info->oem_id, rsdp + 9, 6);

    /* ACPI 2.0+: prefer the XSDT; fall back to the RSDT if the XSDT is unusable. */
    int rc = -1;
    if (rsdp_len >= RSDP_V2_SIZE && rd64(rsdp + 24))
        rc = parse_root(&c, rd64(rsdp + 24), true);
    if (rc < 0 && rd32(rsdp + 16))
        rc = parse_root(&c, rd32(rsdp + 16), false);
    if (rc < 0) {
        log_warn("acpi: neither an XSDT nor an RSDT could be used");
        return -1;
    }
    return 0;
}
