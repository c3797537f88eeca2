/* SPDX-License-Identifier: BSD-2-Clause */
/* The VMs of this boot: from a VM configuration file (a module named by config=, or one whose
 * name ends in .cfg), else one VM per module that is a guest image, else the built-in demo. */
#include <stddef.h>

#include "vm/boot.h"

#include "kernel/log.h"
#include "kernel/options.h"
#include "lib/string.h"
#include "kernel/page_alloc.h"
#include "vm/config.h"
#include "vm/demo.h"
#include "vm/guest_image.h"
#include "vm/linux.h"
#include "vm/multiboot1.h"
#include "vm/platform.h"
#include "vm/vm.h"
#include "vmx/run.h"
#include "vmx/vcpu.h"

static const struct boot_module *find_module(const struct boot_info *bi, const char *name)
{
    for (unsigned i = 0; i < bi->module_count; i++)
        if (!strcmp(bi->modules[i].name, name))
            return &bi->modules[i];
    return NULL;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

/* The configuration's name and scheduling parameters, which win over an image's own. */
static void apply_config(const struct vm_config *c, struct guest_spec *g)
{
    memcpy(g->name, c->name, sizeof(g->name) - 1);
    g->name[sizeof(g->name) - 1] = '\0';
    if (c->type != GUEST_MHV || c->weight != 1)
        g->sched.weight = c->weight;
    if (c->slice_us)
        g->sched.slice_us = c->slice_us;
    g->serial_ports = c->serial_ports;
    g->no_hpet = !c->hpet;
    if (c->affinity != ~0ull) {
        for (unsigned i = 0; i < MHV_GUEST_AFFINITIES; i++)
            g->sched.affinity[i] = c->affinity;
        g->affinity_rest = c->affinity;
    }
}

static void set_cmdline(struct guest_boot *b, const char *cmdline)
{
    size_t n = strnlen(cmdline, sizeof(b->cmdline) - 1);
    memcpy(b->cmdline, cmdline, n);
    b->cmdline[n] = '\0';
}

static int place_multiboot(struct vm *vm, const struct guest_boot *b, struct vcpu_start_state *start)
{
    const struct mb1_module module = { b->ramdisk, b->ramdisk_size, b->ramdisk_name };
    return mb1_setup_vm(vm, b->kernel, &b->mb, b->cmdline, b->ramdisk ? &module : NULL, start);
}

static int place_linux(struct vm *vm, const struct guest_boot *b, struct vcpu_start_state *start)
{
    return linux_setup_vm(vm, b->kernel, &b->li, b->cmdline, b->ramdisk, b->ramdisk_size, start);
}

static struct vm *create_multiboot(const char *file, const struct vm_config *c, const struct boot_info *bi,
                                   const uint8_t *data, uint64_t size)
{
    static struct guest_boot b; /* large; the VM keeps its own copy */
    char why[160];
    memset(&b, 0, sizeof(b));
    if (mb1_parse(data, size, &b.mb, why, sizeof(why)) < 0) {
        log_err("%s:%u: VM '%s': multiboot kernel '%s': %s; VM not started", file, c->line, c->name, c->kernel, why);
        return NULL;
    }
    /* The ramdisk is the kernel's one module (spec 3.3), as QEMU's -initrd is. */
    const struct boot_module *rd = c->ramdisk[0] ? find_module(bi, c->ramdisk) : NULL;
    if (c->ramdisk[0] && !rd) {
        log_err("%s:%u: VM '%s': ramdisk '%s' is not among the modules; VM not started", file, c->line, c->name,
                c->ramdisk);
        return NULL;
    }
    if (rd) {
        b.ramdisk = phys_to_virt(rd->start);
        b.ramdisk_size = rd->end - rd->start;
        memcpy(b.ramdisk_name, c->ramdisk, sizeof(b.ramdisk_name) - 1);
    }
    /* Started as after a BIOS, as GRUB and QEMU's -kernel leave a kernel (spec 3.2: "the boot
     * loader must leave the PIC programmed with the normal BIOS/DOS values"). */
    b.spec = (struct guest_spec){ .mode = 32, .entry = b.mb.entry, .memory = c->memory, .vcpus = c->vcpus,
                                  .bios = true };
    apply_config(c, &b.spec);
    if (b.spec.memory > pages_free_count() * PAGE_SIZE || b.mb.end > b.spec.memory) {
        log_err("%s:%u: VM '%s': memory %lu MiB is too small for the kernel or more than mhv has free; VM not "
                "started", file, c->line, c->name, b.spec.memory >> 20);
        return NULL;
    }
    b.place = place_multiboot;
    b.kernel = data;
    b.kernel_size = size;
    set_cmdline(&b, c->cmdline);
    struct vm *vm = guest_boot_create(c->kernel, &b);
    if (vm)
        log_info("vm %s: multiboot kernel '%s', %u segment%s, entry 0x%lx, command line \"%s\"", vm->name,
                 c->kernel, b.mb.segment_count, b.mb.segment_count > 1 ? "s" : "", b.mb.entry, c->cmdline);
    return vm;
}

static struct vm *create_linux(const char *file, const struct vm_config *c, const struct boot_info *bi,
                               const uint8_t *data, uint64_t size)
{
    static struct guest_boot b;
    char why[160];
    memset(&b, 0, sizeof(b));
    if (linux_parse(data, size, &b.li, why, sizeof(why)) < 0) {
        log_err("%s:%u: VM '%s': Linux kernel '%s': %s; VM not started", file, c->line, c->name, c->kernel, why);
        return NULL;
    }
    const struct boot_module *rd = c->ramdisk[0] ? find_module(bi, c->ramdisk) : NULL;
    if (c->ramdisk[0] && !rd) {
        log_err("%s:%u: VM '%s': ramdisk '%s' is not among the modules; VM not started", file, c->line, c->name,
                c->ramdisk);
        return NULL;
    }
    b.spec = (struct guest_spec){ .mode = b.li.entry64 ? 64 : 32, .entry = b.li.load_address, .memory = c->memory,
                                  .vcpus = c->vcpus };
    apply_config(c, &b.spec);
    if (b.spec.memory > pages_free_count() * PAGE_SIZE) {
        log_err("%s:%u: VM '%s': memory %lu MiB is more than mhv has free; VM not started", file, c->line, c->name,
                b.spec.memory >> 20);
        return NULL;
    }
    b.place = place_linux;
    b.kernel = data;
    b.kernel_size = size;
    if (rd) {
        b.ramdisk = phys_to_virt(rd->start);
        b.ramdisk_size = rd->end - rd->start;
    }
    set_cmdline(&b, c->cmdline);
    return guest_boot_create(c->kernel, &b);
}

/* One VM of the configuration; every refusal names the file and the line of its [vm]. */
static struct vm *create_from_config(const char *file, const struct vm_config *c, const struct boot_info *bi)
{
    const struct boot_module *m = find_module(bi, c->kernel);
    if (!m) {
        log_err("%s:%u: VM '%s': kernel '%s' is not among the modules; VM not started", file, c->line, c->name,
                c->kernel);
        return NULL;
    }
    const uint8_t *data = phys_to_virt(m->start);
    uint64_t size = m->end - m->start;
    struct guest_spec g;
    switch (c->type) {
    case GUEST_MHV:
        if (!guest_image_is(data, size)) {
            log_err("%s:%u: VM '%s': module '%s' has no MHVGUEST header (type = raw16/raw32/raw64 for plain "
                    "images); VM not started", file, c->line, c->name, c->kernel);
            return NULL;
        }
        if (guest_image_read_header(c->kernel, data, size, &g) < 0)
            return NULL;
        break;
    case GUEST_RAW16: case GUEST_RAW32: case GUEST_RAW64:
        memset(&g, 0, sizeof(g));
        g.mode = c->type == GUEST_RAW16 ? 16 : c->type == GUEST_RAW32 ? 32 : 64;
        g.load = c->load;
        g.entry = c->entry;
        g.memory = c->memory;
        g.vcpus = c->vcpus;
        break;
    case GUEST_MULTIBOOT:
        return create_multiboot(file, c, bi, data, size);
    case GUEST_LINUX:
        return create_linux(file, c, bi, data, size);
    default:
        log_err("%s:%u: VM '%s': type %s is not supported yet; VM not started", file, c->line, c->name,
                guest_type_name(c->type));
        return NULL;
    }
    apply_config(c, &g);
    uint64_t free_bytes = pages_free_count() * PAGE_SIZE;
    if (g.memory > free_bytes) {
        log_err("%s:%u: VM '%s': memory %lu MiB is more than the %lu MiB mhv has free; VM not started", file,
                c->line, c->name, g.memory >> 20, free_bytes >> 20);
        return NULL;
    }
    return guest_image_create(c->kernel, data, size, &g);
}

/* A VM just built: the vmentry-* self-tests act on the first one, and every VMCS is left
 * clear so whichever CPU runs a vCPU can load it directly. */
static void admit(struct vm *vm, unsigned *created)
{
    if (*created == 0)
        vmx_selftest_break_entry(vm->vcpus[0]);
    for (unsigned j = 0; j < vm->vcpu_count; j++)
        vcpu_vmclear_here(vm->vcpus[j]);
    (*created)++;
}

unsigned vm_boot_config(const struct boot_module *cfg, const struct boot_info *bi)
{
    static struct vm_config configs[CONFIG_MAX_VMS];
    unsigned n = config_parse(cfg->name, phys_to_virt(cfg->start), cfg->end - cfg->start, configs, CONFIG_MAX_VMS);
    unsigned created = 0, invalid = 0;
    for (unsigned i = 0; i < n; i++) {
        struct vm *vm = configs[i].valid ? create_from_config(cfg->name, &configs[i], bi) : NULL;
        if (vm) {
            vm->on_poweroff = (uint8_t)configs[i].on_poweroff;
            vm->on_crash = (uint8_t)configs[i].on_crash;
            vm->on_reboot = (uint8_t)configs[i].on_reboot;
            vm->console_focus_wanted = configs[i].console;
            vm->unclaimed_stop = configs[i].unclaimed_stop;
            if (configs[i].testdev) /* before any vCPU runs: admit comes next */
                pc_testdev_attach(vm);
            admit(vm, &created);
        }
        else
            invalid++;
    }
    status_line("config %s: %u VM%s defined, %u started, %u not started (see above)", cfg->name, n, n == 1 ? "" : "s",
                created, invalid);
    return created;
}

unsigned vm_boot_from_modules(const struct boot_info *bi)
{
    const struct boot_module *cfg = NULL;
    if (boot_options.config[0]) {
        cfg = find_module(bi, boot_options.config);
        if (!cfg)
            log_err("config=%s: no module of that name; falling back to guest image modules", boot_options.config);
    }
    for (unsigned i = 0; !cfg && !boot_options.config[0] && i < bi->module_count; i++)
        if (ends_with(bi->modules[i].name, ".cfg"))
            cfg = &bi->modules[i];
    if (cfg)
        return vm_boot_config(cfg, bi);

    unsigned created = 0, images = 0;
    for (unsigned i = 0; i < bi->module_count; i++) {
        const struct boot_module *m = &bi->modules[i];
        const uint8_t *data = phys_to_virt(m->start);
        if (!guest_image_is(data, m->end - m->start)) {
            log_info("module '%s' is not a guest image; ignored", m->name);
            continue;
        }
        images++;
        struct vm *vm = guest_image_load(m->name, data, m->end - m->start);
        if (vm)
            admit(vm, &created);
    }
    return images ? created : vm_boot_demo(bi);
}
