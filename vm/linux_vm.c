/* SPDX-License-Identifier: BSD-2-Clause */
/* Placing a Linux kernel in a VM: the zero page, the command line, the ramdisk, the entry state
 * (Linux boot protocol: "32-bit boot protocol" and "64-bit boot protocol"). */
#include "vm/linux.h"

#include "kernel/log.h"
#include "lib/string.h"
#include "vm/platform.h"
#include "vm/vm.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs.h"

#define ZERO_PAGE 0x7000
#define CMDLINE 0x8000
#define LINUX_GDT 0x9000
#define TOP_RESERVED (28 * 1024) /* mhv's page tables and GDT (vm/guest_image.c) */
#define BOOT_CS 0x10
#define BOOT_DS 0x18

struct __attribute__((packed)) e820_entry {
    uint64_t addr, size;
    uint32_t type;
};

int linux_setup_vm(struct vm *vm, const uint8_t *img, const struct linux_image *li, const char *cmdline,
                   const uint8_t *ramdisk, uint64_t ramdisk_size)
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

    /* The zero page: all zero, then the setup header from the image, then what the loader fills. */
    uint8_t zp[4096];
    memset(zp, 0, sizeof(zp));
    memcpy(zp + 0x1f1, img + 0x1f1, 0x202 + li->header_end - 0x1f1);
    zp[0x210] = 0xff;                                 /* type_of_loader: undefined loader */
    uint32_t v32 = CMDLINE;
    memcpy(zp + 0x228, &v32, 4);                      /* cmd_line_ptr */
    v32 = (uint32_t)initrd;
    memcpy(zp + 0x218, &v32, 4);                      /* ramdisk_image */
    v32 = (uint32_t)ramdisk_size;
    memcpy(zp + 0x21c, &v32, 4);                      /* ramdisk_size */
    struct e820_entry map[4] = {
        { 0, 0x9fc00, 1 },
        { 0x9fc00, 0x100000 - 0x9fc00, 2 },
        { 0x100000, usable_end - 0x100000, 1 },
        { usable_end, TOP_RESERVED, 2 },              /* the page tables the kernel starts on */
    };
    memcpy(zp + 0x2d0, map, sizeof(map));             /* e820_table */
    zp[0x1e8] = 4;                                    /* e820_entries */
    uint64_t rsdp = PLATFORM_ACPI_BASE;               /* acpi_rsdp_addr: where vm/acpi_tables.c puts it */
    memcpy(zp + 0x070, &rsdp, 8);
    vm_write_gpa(vm, ZERO_PAGE, zp, sizeof(zp));
    vm_write_gpa(vm, CMDLINE, cmdline, cmdline_len + 1);

    /* __BOOT_CS and __BOOT_DS at 0x10 and 0x18, as the protocol asks. */
    uint64_t gdt[4] = { 0, 0, li->entry64 ? 0x00af9b000000ffffull : 0x00cf9b000000ffffull, 0x00cf93000000ffffull };
    vm_write_gpa(vm, LINUX_GDT, gdt, sizeof(gdt));
    struct vcpu *v = vm->vcpus[0];
    vmcs_writenat(v, VMCS_GUEST_GDTR_BASE, LINUX_GDT);
    vmcs_write32(v, VMCS_GUEST_GDTR_LIMIT, sizeof(gdt) - 1);
    vmcs_write16(v, VMCS_GUEST_CS_SELECTOR, BOOT_CS);
    static const uint32_t data_selectors[] = { VMCS_GUEST_DS_SELECTOR, VMCS_GUEST_ES_SELECTOR, VMCS_GUEST_SS_SELECTOR };
    for (unsigned i = 0; i < 3; i++)
        vmcs_write_checked(v, data_selectors[i], BOOT_DS);
    vmcs_writenat(v, VMCS_GUEST_RIP, li->load_address + (li->entry64 ? 0x200 : 0));
    memset(v->regs.gpr, 0, sizeof(v->regs.gpr)); /* EBP, EDI, EBX zero */
    v->regs.gpr[GPR_RSI] = ZERO_PAGE;
    log_info("vm %s: Linux (boot protocol %u.%u), kernel %lu KiB at 0x%lx, %s entry, ramdisk %lu KiB, command "
             "line \"%s\"", vm->name, li->version >> 8, li->version & 0xff, li->kernel_size >> 10, li->load_address,
             li->entry64 ? "64-bit" : "32-bit", ramdisk_size >> 10, cmdline);
    return 0;
}
