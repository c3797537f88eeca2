/* VMs from multiboot2 modules (a configuration file format comes with the VM configuration work). */
#include <stddef.h>

#include "vm/boot.h"

#include "kernel/log.h"
#include "kernel/page_alloc.h"
#include "vm/guest_image.h"
#include "vm/vm.h"
#include "vmx/vcpu.h"

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
        /* Leave every VMCS clear so whichever CPU runs a vCPU can load it directly. */
        for (unsigned j = 0; j < vm->vcpu_count; j++)
            vcpu_vmclear_here(vm->vcpus[j]);
        created++;
    }
    return created;
}
