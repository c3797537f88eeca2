/* Placing a multiboot (v1) kernel in a VM (include/vm/multiboot1.h; Multiboot Specification
 * 0.6.96 section 3.2 "Machine state" and 3.3 "Boot information format"). */
#include "vm/multiboot1.h"

#include "kernel/log.h"
#include "lib/string.h"
#include "vm/vm.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs.h"

#define INFO_ADDR 0x1000
#define MMAP_ADDR 0x1100
#define CMDLINE_ADDR 0x1200
#define NAME_ADDR 0x1400
#define INFO_END 0x1500
#define TOP_RESERVED (28 * 1024) /* mhv's GDT and page tables (vm/guest_image.c) */

#define INFO_MEMORY (1u << 0)
#define INFO_CMDLINE (1u << 2)
#define INFO_MMAP (1u << 6)
#define INFO_LOADER_NAME (1u << 9)

struct __attribute__((packed)) mmap_entry {
    uint32_t size; /* of the rest of the entry */
    uint64_t base, length;
    uint32_t type;
};

int mb1_setup_vm(struct vm *vm, const uint8_t *image, const struct mb1_image *mb, const char *cmdline)
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
    char line[CMDLINE_ADDR - MMAP_ADDR];
    size_t n = strnlen(cmdline, sizeof(line) - 1);
    memcpy(line, cmdline, n);
    line[n] = '\0';
    vm_write_gpa(vm, INFO_ADDR, info, sizeof(info));
    vm_write_gpa(vm, MMAP_ADDR, map, sizeof(map));
    vm_write_gpa(vm, CMDLINE_ADDR, line, n + 1);
    vm_write_gpa(vm, NAME_ADDR, "mhv", 4);
    /* 32-bit protected mode at the entry (set by the caller's spec), EAX and EBX as the spec says. */
    struct vcpu *v = vm->vcpus[0];
    v->regs.gpr[GPR_RAX] = MB1_BOOT_MAGIC;
    v->regs.gpr[GPR_RBX] = INFO_ADDR;
    return 0;
}
