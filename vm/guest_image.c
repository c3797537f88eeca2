/* SPDX-License-Identifier: BSD-2-Clause */
/* The guest image loader (include/vm/guest_image.h; README.md "Guest images"). */
#include "vm/guest_image.h"

#include "arch/x86/cpu.h"
#include "arch/x86/xcall.h"
#include "devices/standard.h"
#include "kernel/heap.h"
#include "kernel/log.h"
#include "kernel/options.h"
#include "kernel/page_alloc.h"
#include "lib/string.h"
#include "sched/sched.h"
#include "vm/abi.h"
#include "vm/platform.h"
#include "vm/vm.h"
#include "vmx/exit.h"
#include "vmx/start_state.h"
#include "vmx/vcpu.h"

#define MAX_MEMORY_MIB 4096
#define PAGE_TABLES_SIZE (6 * 4096) /* PML4, PDPT, 4 PDs: identity map of 4 GiB in 2 MiB pages */
#define GDT_SIZE 4096

int guest_image_is(const uint8_t *data, uint64_t size)
{
    return size >= sizeof(struct mhv_guest_header) && !memcmp(data, MHV_GUEST_MAGIC, 8);
}

/* The checks every image passes, whether its header or a configuration describes it. */
static int check_spec(const char *what, const struct guest_spec *g, uint64_t size)
{
    const char *problem = NULL;
    if (g->mode != 16 && g->mode != 32 && g->mode != 64)
        problem = "mode must be 16, 32 or 64";
    else if (g->memory < (1u << 20) || g->memory > ((uint64_t)MAX_MEMORY_MIB << 20))
        problem = "memory must be 1 MiB to 4096 MiB";
    else if (g->vcpus == 0 || g->vcpus > VM_MAX_VCPUS)
        problem = "vcpus must be 1..64";
    else if (g->load >= g->memory || size > g->memory - g->load)
        problem = "the image does not fit in guest memory at load_address";
    else if (g->entry < g->load || g->entry >= g->load + size)
        problem = "entry is not inside the image";
    else if (g->mode == 16 && g->load + size > 0x100000)
        problem = "a real-mode image must lie below 1 MiB";
    else if (g->mode != 16 && g->load + size > g->memory - PAGE_TABLES_SIZE - GDT_SIZE)
        problem = "the image overlaps the top 28 KiB of guest memory, where mhv puts the GDT and page tables";
    else if (g->sched.weight > 100)
        problem = "weight must be 1..100";
    else if (g->sched.slice_us && (g->sched.slice_us < 100 || g->sched.slice_us > 1000000))
        problem = "slice_us must be 100..1000000";
    if (problem)
        log_err("module '%s': %s (mode %u, load 0x%lx, entry 0x%lx, %lu MiB, %u vCPUs); VM not created", what,
                problem, g->mode, g->load, g->entry, g->memory >> 20, g->vcpus);
    return problem ? -1 : 0;
}

int guest_image_read_header(const char *what, const uint8_t *data, uint64_t size, struct guest_spec *g)
{
    struct mhv_guest_header h;
    memcpy(&h, data, sizeof(h));
    memset(g, 0, sizeof(*g));
    if (h.version != MHV_GUEST_VERSION && h.version != MHV_GUEST_VERSION_SCHED) {
        log_err("module '%s': guest header: unsupported header version %u (expected 1 or 2); VM not created", what,
                h.version);
        return -1;
    }
    if (h.version == MHV_GUEST_VERSION_SCHED) {
        if (size < sizeof(h) + sizeof(g->sched)) {
            log_err("module '%s': guest header: a version 2 header needs 136 bytes; VM not created", what);
            return -1;
        }
        memcpy(&g->sched, data + sizeof(h), sizeof(g->sched));
    }
    memcpy(g->name, h.name, sizeof(h.name));
    g->mode = h.mode;
    g->load = h.load_address;
    g->entry = h.entry;
    g->memory = (uint64_t)h.memory_mib << 20;
    g->vcpus = h.vcpus;
    g->flags = h.flags;
    if (h.memory_mib == 0 || h.memory_mib > MAX_MEMORY_MIB || h.vcpus == 0 || h.vcpus > VM_MAX_VCPUS) {
        log_err("module '%s': guest header: %s; VM not created", what,
                h.vcpus == 0 || h.vcpus > VM_MAX_VCPUS ? "vcpus must be 1..64" : "memory_mib must be 1..4096");
        return -1;
    }
    return 0;
}

/* A GDT at the top of guest memory: 0x08 code (64-bit for long mode, else 32-bit), 0x10 data,
 * 0x18 32-bit code; the guest may load its own later. */
static uint64_t build_gdt(struct vm *vm, unsigned mode)
{
    uint64_t gdt = vm->mem_size - PAGE_TABLES_SIZE - GDT_SIZE;
    uint64_t entries[4] = { 0, mode == 64 ? 0x00af9b000000ffffull : 0x00cf9b000000ffffull, 0x00cf93000000ffffull,
                            0x00cf9b000000ffffull };
    vm_write_gpa(vm, gdt, entries, sizeof(entries));
    return gdt;
}

/* Identity map of the first 4 GiB with 2 MiB pages, for a guest that starts in long mode. */
static uint64_t build_page_tables(struct vm *vm)
{
    uint64_t base = vm->mem_size - PAGE_TABLES_SIZE, pml4 = base, pdpt = base + 4096;
    uint64_t e = pdpt | 3;
    vm_write_gpa(vm, pml4, &e, 8);
    for (uint64_t i = 0; i < 4; i++) {
        uint64_t pd = base + 8192 + i * 4096;
        e = pd | 3;
        vm_write_gpa(vm, pdpt + i * 8, &e, 8);
        for (uint64_t j = 0; j < 512; j++) {
            e = ((i * 512 + j) << 21) | 0x83; /* present, writable, 2 MiB */
            vm_write_gpa(vm, pd + j * 8, &e, 8);
        }
    }
    return pml4;
}

/* Where vCPU 0 starts: real mode at the entry's segment:offset, or flat protected or long mode
 * on the GDT (and, for long mode, page tables) mhv writes at the top of guest memory, with a
 * stack just below them. */
static void start_at_entry(struct vm *vm, const struct guest_spec *g, struct vcpu_start_state *s)
{
    if (g->mode == 16) {
        start_state_real_mode(s, (uint16_t)((g->entry >> 4) & 0xf000), (uint16_t)(g->entry & 0xffff));
        return;
    }
    struct start_gdt gdt = { .base = build_gdt(vm, g->mode), .limit = 31, .code = 0x08, .data = 0x10 };
    if (g->mode == 64)
        start_state_long64(s, &gdt, build_page_tables(vm), g->entry, gdt.base);
    else
        start_state_flat32(s, &gdt, g->entry, gdt.base);
}

static void clear_memory(struct vm *vm)
{
    /* Hundreds of MiB with interrupts off: a MiB at a time, answering other CPUs' calls in
     * between (a remote VMCLEAR must not wait for the whole VM). */
    for (unsigned i = 0; i < vm->slot_count; i++) {
        uint8_t *host = phys_to_virt(vm->slots[i].hpa);
        for (uint64_t done = 0; done < vm->slots[i].size; done += VM_COPY_CHUNK) {
            uint64_t n = vm->slots[i].size - done;
            memset(host + done, 0, n < VM_COPY_CHUNK ? n : VM_COPY_CHUNK);
            xcall_poll();
        }
    }
}

int guest_boot_rebuild(struct vm *vm, struct vcpu *v0)
{
    if (!vm_restart_keeps_memory(vm)) /* a power cycle; a reset keeps memory, as on a PC */
        clear_memory(vm);
    vm_platform_place(vm);
    struct vcpu_start_state s;
    start_at_entry(vm, &vm->boot->spec, &s);
    int placed = vm->boot->place(vm, vm->boot, &s);
    vcpu_apply_start_state(v0, &s);
    return placed;
}

int guest_image_place(struct vm *vm, const struct guest_boot *b, struct vcpu_start_state *s)
{
    (void)s; /* the image starts where its spec says */
    return vm_write_gpa(vm, b->spec.load, b->kernel, b->kernel_size);
}

struct vm *guest_image_load(const char *what, const uint8_t *data, uint64_t size)
{
    struct guest_spec g;
    if (guest_image_read_header(what, data, size, &g) < 0)
        return NULL;
    return guest_image_create(what, data, size, &g);
}

struct vm *guest_image_create(const char *what, const uint8_t *data, uint64_t size, const struct guest_spec *spec)
{
    if (check_spec(what, spec, size) < 0)
        return NULL;
    struct guest_boot b = { .spec = *spec, .place = guest_image_place, .kernel = data, .kernel_size = size };
    return guest_boot_create(what, &b);
}

struct vm *guest_boot_create(const char *what, const struct guest_boot *b)
{
    struct guest_spec g = b->spec;
    char name[sizeof(g.name)];
    memcpy(name, g.name, sizeof(name));
    name[sizeof(name) - 1] = '\0';
    for (char *c = name; *c; c++)
        if (*c < '!' || *c > '~')
            *c = '_'; /* the name prefixes console lines: printable, no spaces */
    struct vm *vm = vm_create(name[0] ? name : what, g.memory);
    if (!vm)
        return NULL;
    struct vcpu_start_state start = { 0 }; /* vCPU 0's, filled with it below */
    msr_setup_bitmap(vm);
    vm_add_standard_devices(vm);
    for (unsigned i = 0; i < g.vcpus; i++) {
        struct vcpu *v = vcpu_create(vm, i);
        if (!v) {
            vm_stop(vm, STOP_CRASH, 253, "out of memory for vCPU %u", i);
            return vm;
        }
        v->se.weight = g.sched.weight ? g.sched.weight : 1;
        v->se.slice_us = g.sched.slice_us ? g.sched.slice_us
                       : boot_options.slice_us ? boot_options.slice_us : SCHED_DEFAULT_SLICE_US;
        uint64_t affinity = i < MHV_GUEST_AFFINITIES ? g.sched.affinity[i] : g.affinity_rest;
        v->se.affinity = affinity ? affinity : ~0ull;
        if (i == 0) {
            v->se.migrate_stress = g.flags & MHV_GUEST_FLAG_MIGRATE;
            start_at_entry(vm, &g, &start);
        }
    }
    /* After the vCPUs: device timers belong to vCPU 0, the MADT lists every vCPU. */
    vm->bios = g.bios;
    vm->no_hpet = g.no_hpet;
    vm_add_platform(vm, g.serial_ports ? g.serial_ports : 1);
    log_info("vm %s: %u-bit guest from module '%s', entry 0x%lx, %u vCPU%s", vm->name, g.mode, what, g.entry, g.vcpus,
             g.vcpus > 1 ? "s" : "");
    vm->boot = kzalloc(sizeof(*vm->boot));
    if (!vm->boot) {
        vm_stop(vm, STOP_CRASH, 253, "out of memory for its boot description");
        return vm;
    }
    *vm->boot = *b;
    vm_platform_place(vm);
    int placed = b->place(vm, vm->boot, &start); /* the loader adds what its boot protocol asks */
    vcpu_load(vm->vcpus[0]);
    vcpu_apply_start_state(vm->vcpus[0], &start);
    if (placed < 0)
        vm_stop(vm, STOP_CRASH, 253, "its kernel could not be placed (see above)");
    return vm;
}
