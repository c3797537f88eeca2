/* Guest images: multiboot2 modules that start with a struct mhv_guest_header (vm/abi.h). */
#ifndef MHV_VM_GUEST_IMAGE_H
#define MHV_VM_GUEST_IMAGE_H

#include <stdint.h>

struct vm;

/* Checks the header of the image at [data, data + size); creates the VM with its devices and
 * vCPUs, copies the image in, and sets vCPU 0 to start at the entry point in the header's mode.
 * Returns the VM, or NULL after reporting what was wrong with the image (module named `what`). */
struct vm *guest_image_load(const char *what, const uint8_t *data, uint64_t size);

/* True when the module starts with the guest image magic. */
int guest_image_is(const uint8_t *data, uint64_t size);

#endif
