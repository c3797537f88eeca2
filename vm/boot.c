/* VMs from multiboot2 modules (a configuration file format comes with the VM configuration work). */
#include <stddef.h>

#include "vm/boot.h"

#include "kernel/log.h"
#include "kernel/options.h"
#include "lib/string.h"
#include "vmx/vmcs.h"
#include "kernel/page_alloc.h"
#include "vm/guest_image.h"
#include "vm/vm.h"
#include "vmx/vcpu.h"

/* selftest=vmentry-*: make the first VM's first entry fail, to show the diagnosis. */
static void break_first_vm_for_selftest(struct vm *vm)
{
    struct vcpu *v = vm->vcpus[0];
    if (!strcmp(boot_options.selftest, "vmentry-guest-state")) {
        /* RFLAGS bit 1 must be 1 (SDM Vol. 3C 28.3.1.4). */
        vmcs_writenat(v, VMCS_GUEST_RFLAGS, 0);
        log_info("selftest: vm %s: guest RFLAGS set to 0 (bit 1 must be 1)", vm->name);
    } else if (!strcmp(boot_options.selftest, "vmentry-control")) {
        /* A CR3-target count above 4 is an invalid control field (SDM Vol. 3C 28.2.1.1). */
        vmcs_write32(v, VMCS_CR3_TARGET_COUNT, 100);
        log_info("selftest: vm %s: CR3-target count set to 100", vm->name);
    }
}

unsigned vm_boot_from_modules(const struct boot_info *bi)
{
    unsigned created = 0;
    for (unsigned i = 0; i < bi->module_count; i++) {
        const struct boot_module *m = &bi->modules[i];
        const uint8_t *data = phys_to_virt(m->start);
        if (!guest_image_is(data, m->end - m->start)) {
            log_info("module '%s' is not a guest image; ignored", m->name);
            continue;
        }
        struct vm *vm = guest_image_load(m->name, data, m->end - m->start);
        if (!vm)
            continue;
        if (created == 0)
            break_first_vm_for_selftest(vm);
        /* Leave every VMCS clear so whichever CPU runs a vCPU can load it directly. */
        for (unsigned j = 0; j < vm->vcpu_count; j++)
            vcpu_vmclear_here(vm->vcpus[j]);
        created++;
    }
    return created;
}
