/* SPDX-License-Identifier: BSD-2-Clause */
/* Placing a Linux kernel in a VM: the zero page, the command line, the ramdisk, the entry state
 * (Linux boot protocol: "32-bit boot protocol" and "64-bit boot protocol"). */
#include "vm/linux.h"

#include "kernel/log.h"
#include "lib/string.h"
#include "vm/linux_boot_params.h"
#include "vm/platform.h"
#include "vm/vm.h"
#include "vmx/start_state.h"

#define ZERO_PAGE 0x7000
#define CMDLINE 0x8000
#define LINUX_GDT 0x9000
#define TOP_RESERVED (28 * 1024) /* mhv's page tables and GDT (vm/guest_image.c) */
#define BOOT_CS 0x10
#define BOOT_DS 0x18

int linux_setup_vm(struct vm *vm, const uint8_t *img, const struct linux_image *li, const char *cmdline,
                   const uint8_t *ramdisk, uint64_t ramdisk_size, struct vcpu_start_state *start)
{
    uint64_t usable_end = vm->mem_size - TOP_RESERVED;
    if (li->load_address + li->init_size > usable_end) {
        log_err("vm %s: the kernel needs [0x%lx, 0x%lx) but the VM's usable memory ends at 0x%lx", vm->name,
                li->load_address, li->load_address + li->init_size, usable_end);
        return -1;
    }
    size_t cmdline_len = strlen(cmdline);
    if (cmdline_len > li->cmdline_max || cmdline_len >= LINUX_GDT - CMDLINE) {
        log_err("vm %s: the command line has %zu characters; the kernel takes %u", vm->name, cmdline_len,
                li->cmdline_max);
        return -1;
    }
    /* The ramdisk goes as high as allowed, page aligned, above the kernel's working area. */
    uint64_t initrd = 0;
    if (ramdisk_size) {
        uint64_t top = usable_end < (uint64_t)li->initrd_addr_max + 1 ? usable_end : (uint64_t)li->initrd_addr_max + 1;
        initrd = (top - ramdisk_size) & ~0xfffull;
        if (ramdisk_size > top || initrd < li->load_address + li->init_size) {
            log_err("vm %s: no room for a %lu KiB ramdisk below 0x%lx", vm->name, ramdisk_size >> 10, top);
            return -1;
        }
        vm_write_gpa(vm, initrd, ramdisk, ramdisk_size);
    }
    vm_write_gpa(vm, li->load_address, img + li->setup_size, li->kernel_size);

    /* The zero page: all zero, then the setup header from the image (as long as its length
     * byte says, which may reach past the fields named), then what the loader fills. */
    struct linux_boot_params zp;
    memset(&zp, 0, sizeof(zp));
    memcpy((uint8_t *)&zp + LINUX_SETUP_HEADER_OFFSET, img + LINUX_SETUP_HEADER_OFFSET,
           LINUX_SETUP_HEADER_LENGTH_BASE + li->header_end - LINUX_SETUP_HEADER_OFFSET);
    zp.hdr.type_of_loader = 0xff;                     /* undefined loader */
    zp.hdr.cmd_line_ptr = CMDLINE;
    zp.hdr.ramdisk_image = (uint32_t)initrd;
    zp.hdr.ramdisk_size = (uint32_t)ramdisk_size;
    const struct linux_e820_entry map[] = {
        { 0, 0x9fc00, 1 },
        { 0x9fc00, 0x100000 - 0x9fc00, 2 },
        { 0x100000, usable_end - 0x100000, 1 },
        { usable_end, TOP_RESERVED, 2 },              /* the page tables the kernel starts on */
    };
    memcpy(zp.e820_table, map, sizeof(map));
    zp.e820_entries = sizeof(map) / sizeof(map[0]);
    zp.acpi_rsdp_addr = PLATFORM_ACPI_BASE;           /* where vm/acpi_tables.c puts it */
    vm_write_gpa(vm, ZERO_PAGE, &zp, sizeof(zp));
    vm_write_gpa(vm, CMDLINE, cmdline, cmdline_len + 1);

    /* __BOOT_CS and __BOOT_DS at 0x10 and 0x18, as the protocol asks; the rest of the start
     * state (flat segments, for a 64-bit entry paging on the tables at the top of memory) is
     * what the spec's mode gave it. */
    uint64_t gdt[4] = { 0, 0, li->entry64 ? 0x00af9b000000ffffull : 0x00cf9b000000ffffull, 0x00cf93000000ffffull };
    vm_write_gpa(vm, LINUX_GDT, gdt, sizeof(gdt));
    start->gdtr_base = LINUX_GDT;
    start->gdtr_limit = sizeof(gdt) - 1;
    start->seg[SEG_CS].selector = BOOT_CS;
    start->seg[SEG_DS].selector = start->seg[SEG_ES].selector = start->seg[SEG_SS].selector = BOOT_DS;
    start->rip = li->load_address + (li->entry64 ? 0x200 : 0);
    memset(start->gpr, 0, sizeof(start->gpr)); /* EBP, EDI, EBX zero */
    start->gpr[GPR_RSI] = ZERO_PAGE;
    log_info("vm %s: Linux (boot protocol %u.%u), kernel %lu KiB at 0x%lx, %s entry, ramdisk %lu KiB, command "
             "line \"%s\"", vm->name, li->version >> 8, li->version & 0xff, li->kernel_size >> 10, li->load_address,
             li->entry64 ? "64-bit" : "32-bit", ramdisk_size >> 10, cmdline);
    return 0;
}
