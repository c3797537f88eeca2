/* SPDX-License-Identifier: BSD-2-Clause */
/* mhv's built-in demo (README.md "The built-in demo"): what a boot without a configuration and
 * without guest images runs. The configuration (vm/demo.cfg) and the guests it names are in
 * mhv's image (vm/demo_images.asm); Linux joins (vm/demo-linux.cfg) when GRUB passed a module
 * named "vmlinuz", with the one named "initrd" as its ramdisk. */
#include "vm/demo.h"

#include "kernel/log.h"
#include "kernel/page_alloc.h"
#include "lib/string.h"
#include "vm/boot.h"

#define BLOB(sym) extern const char sym[], sym##_end[]
BLOB(demo_cfg);
BLOB(demo_linux_cfg);
BLOB(demo_hello64);
BLOB(demo_real16);
BLOB(demo_cpuid);
BLOB(demo_smp);
BLOB(demo_mmio);

static const struct {
    const char *name;
    const char *start, *end;
} images[] = {
    { "demo/hello64.bin", demo_hello64, demo_hello64_end },
    { "demo/real16.bin", demo_real16, demo_real16_end },
    { "demo/cpuid.bin", demo_cpuid, demo_cpuid_end },
    { "demo/smp.bin", demo_smp, demo_smp_end },
    { "demo/mmio.bin", demo_mmio, demo_mmio_end },
};

static bool has_module(const struct boot_info *bi, const char *name)
{
    for (unsigned i = 0; i < bi->module_count; i++)
        if (!strcmp(bi->modules[i].name, name))
            return true;
    return false;
}

static void add_module(struct boot_info *bi, const char *name, const void *start, const void *end)
{
    if (bi->module_count == BOOT_MAX_MODULES) {
        log_err("demo: no room for module '%s' (%d modules at most)", name, BOOT_MAX_MODULES);
        return;
    }
    bi->modules[bi->module_count++] = (struct boot_module){ virt_to_phys(start), virt_to_phys(end), name };
}

unsigned vm_boot_demo(const struct boot_info *bi)
{
    /* The boot's own modules (Linux's images among them) plus the demo's guests. */
    static struct boot_info demo;
    static char text[4096];
    demo = *bi;
    for (unsigned i = 0; i < sizeof(images) / sizeof(images[0]); i++)
        add_module(&demo, images[i].name, images[i].start, images[i].end);

    size_t len = (size_t)(demo_cfg_end - demo_cfg);
    memcpy(text, demo_cfg, len);
    bool with_linux = has_module(bi, "vmlinuz");
    if (with_linux) {
        size_t extra = (size_t)(demo_linux_cfg_end - demo_linux_cfg);
        memcpy(text + len, demo_linux_cfg, extra);
        len += extra;
        if (has_module(bi, "initrd")) {
            static const char ramdisk[] = "ramdisk = \"initrd\"\n";
            memcpy(text + len, ramdisk, sizeof(ramdisk) - 1);
            len += sizeof(ramdisk) - 1;
        }
    }
    status_line("no configuration and no guest images: booting the built-in demo%s",
                with_linux ? " with Linux (modules vmlinuz, initrd)" : "");
    struct boot_module cfg = { virt_to_phys(text), virt_to_phys(text + len), "demo.cfg" };
    return vm_boot_config(&cfg, &demo);
}
