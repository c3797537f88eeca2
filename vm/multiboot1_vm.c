/* SPDX-License-Identifier: BSD-2-Clause */
/* Placing a multiboot (v1) kernel in a VM (include/vm/multiboot1.h; Multiboot Specification
 * 0.6.96 section 3.2 "Machine state" and 3.3 "Boot information format"). */
#include "vm/multiboot1.h"

#include "kernel/log.h"
#include "lib/string.h"
#include "vm/config.h"
#include "vm/vm.h"
#include "vmx/start_state.h"

/* The information, below 0x2000: the page at 0x2000 is the kernel's (kvm-unit-tests' init
 * test keeps its state there across resets). */
#define INFO_ADDR 0x1000
#define MMAP_ADDR 0x1100
#define CMDLINE_ADDR 0x1200 /* CONFIG_CMDLINE_MAX characters and the NUL */
#define NAME_ADDR 0x1a00
#define MODS_ADDR 0x1a10    /* one module: mod_start, mod_end, string, reserved */
#define MOD_NAME_ADDR 0x1a20
#define INFO_END 0x1a68     /* the module's name: CONFIG_MODULE_MAX characters and the NUL */
_Static_assert(NAME_ADDR - CMDLINE_ADDR >= CONFIG_CMDLINE_MAX + 1, "the command line must fit below the name");
_Static_assert(INFO_END - MOD_NAME_ADDR >= CONFIG_MODULE_MAX + 1, "the module's name must fit");
#define TOP_RESERVED (28 * 1024) /* mhv's GDT and page tables (vm/guest_image.c) */

#define INFO_MEMORY (1u << 0)
#define INFO_CMDLINE (1u << 2)
#define INFO_MODS (1u << 3)
#define INFO_MMAP (1u << 6)
#define INFO_LOADER_NAME (1u << 9)

struct __attribute__((packed)) mmap_entry {
    uint32_t size; /* of the rest of the entry */
    uint64_t base, length;
    uint32_t type;
};

/* The module (a ramdisk, or kvm-unit-tests' environment) on the first page boundary after the
 * kernel, as QEMU puts it; its place and name in the information at MODS_ADDR. */
static int place_module(struct vm *vm, const struct mb1_image *mb, const struct mb1_module *m, uint32_t *info)
{
    uint64_t start = (mb->end + 0xfff) & ~0xfffull;
    if (m->size > vm->mem_size - TOP_RESERVED || start > vm->mem_size - TOP_RESERVED - m->size) {
        log_err("vm %s: no room for the %lu KiB module '%s' between the kernel's end (0x%lx) and %lu KiB below the "
                "top of its %lu MiB", vm->name, m->size >> 10, m->name, mb->end, (uint64_t)TOP_RESERVED >> 10,
                vm->mem_size >> 20);
        return -1;
    }
    vm_write_gpa(vm, start, m->data, m->size);
    uint32_t entry[4] = { (uint32_t)start, (uint32_t)(start + m->size), MOD_NAME_ADDR, 0 };
    size_t n = strnlen(m->name, INFO_END - MOD_NAME_ADDR - 1);
    vm_write_gpa(vm, MODS_ADDR, entry, sizeof(entry));
    vm_write_gpa(vm, MOD_NAME_ADDR, m->name, n);
    vm_write_gpa(vm, MOD_NAME_ADDR + n, "", 1);
    info[0] |= INFO_MODS;
    info[5] = 1;         /* mods_count */
    info[6] = MODS_ADDR; /* mods_addr */
    return 0;
}

int mb1_setup_vm(struct vm *vm, const uint8_t *image, const struct mb1_image *mb, const char *cmdline,
                 const struct mb1_module *module, struct vcpu_start_state *start)
{
    for (unsigned i = 0; i < mb->segment_count; i++) {
        const struct mb1_segment *s = &mb->segments[i];
        if (s->addr < INFO_END || s->addr + s->mem_size > vm->mem_size - TOP_RESERVED) {
            log_err("vm %s: kernel segment [0x%lx, 0x%lx) must lie between 0x%x and %lu KiB below the top of "
                    "its %lu MiB", vm->name, s->addr, s->addr + s->mem_size, INFO_END, (uint64_t)TOP_RESERVED >> 10,
                    vm->mem_size >> 20);
            return -1;
        }
        vm_write_gpa(vm, s->addr, image + s->file_offset, s->file_size);
        /* The BSS is the loader's to clear (spec 3.1.3, bss_end_addr; ELF's memsz): a reboot
         * keeps the VM's memory, so it is not zero already. */
        static const uint8_t zeros[4096];
        for (uint64_t at = s->file_size; at < s->mem_size; at += sizeof(zeros)) {
            uint64_t n = s->mem_size - at < sizeof(zeros) ? s->mem_size - at : sizeof(zeros);
            vm_write_gpa(vm, s->addr + at, zeros, n);
        }
    }
    /* Memory as a PC shows it: conventional memory, the legacy hole, then the rest. */
    struct mmap_entry map[3] = {
        { 20, 0, 0x9fc00, 1 },
        { 20, 0x9fc00, 0x100000 - 0x9fc00, 2 },
        { 20, 0x100000, vm->mem_size - 0x100000, 1 },
    };
    uint32_t info[18] = { 0 };
    info[0] = INFO_MEMORY | INFO_CMDLINE | INFO_MMAP | INFO_LOADER_NAME;
    info[1] = 639;                                   /* mem_lower, KiB */
    info[2] = (uint32_t)((vm->mem_size - 0x100000) >> 10); /* mem_upper, KiB above 1 MiB */
    info[4] = CMDLINE_ADDR;
    info[11] = sizeof(map);                          /* mmap_length */
    info[12] = MMAP_ADDR;
    info[16] = NAME_ADDR;                            /* boot_loader_name (offset 64) */
    if (module && place_module(vm, mb, module, info) < 0)
        return -1;
    size_t n = strnlen(cmdline, NAME_ADDR - CMDLINE_ADDR - 1);
    vm_write_gpa(vm, INFO_ADDR, info, sizeof(info));
    vm_write_gpa(vm, MMAP_ADDR, map, sizeof(map));
    vm_write_gpa(vm, CMDLINE_ADDR, cmdline, n);
    vm_write_gpa(vm, CMDLINE_ADDR + n, "", 1);
    vm_write_gpa(vm, NAME_ADDR, "mhv", 4);
    /* 32-bit protected mode at the entry (set by the caller's spec), EAX and EBX as the spec says. */
    start->gpr[GPR_RAX] = MB1_BOOT_MAGIC;
    start->gpr[GPR_RBX] = INFO_ADDR;
    return 0;
}
