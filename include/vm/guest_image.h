/* Guest images: multiboot2 modules that start with a struct mhv_guest_header (vm/abi.h). */
#ifndef MHV_VM_GUEST_IMAGE_H
#define MHV_VM_GUEST_IMAGE_H

#include <stdint.h>

struct vm;
struct vcpu;

#include "vm/abi.h"

/* Everything needed to build a VM from an image, from its header or from a configuration. */
struct guest_spec {
    char name[21];
    unsigned mode;          /* 16, 32 or 64 */
    uint64_t load, entry;
    uint64_t memory;        /* bytes */
    unsigned vcpus;
    uint32_t flags;         /* MHV_GUEST_FLAG_* */
    struct mhv_guest_sched sched;
};

/* Checks the header of the image at [data, data + size) and fills *spec from it. Returns 0, or
 * -1 after reporting what was wrong (module named `what`). */
int guest_image_read_header(const char *what, const uint8_t *data, uint64_t size, struct guest_spec *spec);

/* Checks spec against the image; creates the VM with its devices and vCPUs, copies the image
 * to spec->load and sets vCPU 0 to start at spec->entry in spec->mode. NULL after a report. */
struct vm *guest_image_create(const char *what, const uint8_t *data, uint64_t size, const struct guest_spec *spec);

/* The VM, its devices and vCPUs for spec, vCPU 0 at spec->entry in spec->mode, nothing copied
 * into its memory (loaders that place their own data use this). NULL after a report. */
struct vm *guest_vm_create(const char *what, const struct guest_spec *spec);

/* Restart: zeroes the VM's memory, copies the image in again and puts vCPU 0 at the entry
 * (every vCPU must have been reset with vcpu_reset; vCPU 0's VMCS current here). */
void guest_image_reload(struct vm *vm, struct vcpu *v0);

/* Both, for a module that carries its own header. */
struct vm *guest_image_load(const char *what, const uint8_t *data, uint64_t size);

/* True when the module starts with the guest image magic. */
int guest_image_is(const uint8_t *data, uint64_t size);

#endif
