/* Virtual machines: guest-physical memory, EPT, I/O and MMIO device registries, vCPUs. */
#ifndef MHV_VM_VM_H
#define MHV_VM_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/spinlock.h"

struct vcpu;

#define VM_MAX_VCPUS 8
#define VM_MAX_SLOTS 16
#define VM_MAX_IO 16
#define VM_MAX_MMIO 8

/* A contiguous run of guest-physical memory backed by contiguous host memory. */
struct mem_slot {
    uint64_t gpa, size, hpa;
};

struct io_handler {
    uint16_t base, count;
    uint32_t (*read)(struct vcpu *v, void *ctx, uint16_t port, unsigned size);
    void (*write)(struct vcpu *v, void *ctx, uint16_t port, unsigned size, uint32_t value);
    void *ctx;
};

struct mmio_handler {
    uint64_t base, size;
    uint64_t (*read)(struct vcpu *v, void *ctx, uint64_t offset, unsigned size);
    void (*write)(struct vcpu *v, void *ctx, uint64_t offset, unsigned size, uint64_t value);
    void *ctx;
};

enum vm_state { VM_RUNNING, VM_STOPPED };

struct vm {
    char name[32];
    unsigned index;
    uint64_t mem_size;
    struct mem_slot slots[VM_MAX_SLOTS];
    unsigned slot_count;

    uint64_t eptp;       /* EPT pointer for the VMCS */
    uint64_t ept_root;
    uint64_t io_bitmaps; /* two pages: ports 0-0x7fff, 0x8000-0xffff; a set bit exits */
    uint64_t msr_bitmap; /* one page */

    struct io_handler io[VM_MAX_IO];
    unsigned io_count;
    struct mmio_handler mmio[VM_MAX_MMIO];
    unsigned mmio_count;

    struct vcpu *vcpus[VM_MAX_VCPUS];
    unsigned vcpu_count;

    struct spinlock lock;
    volatile enum vm_state state;
    int status;          /* exit status once stopped */
    char console[128];   /* the guest's COM1 line being assembled */
    unsigned console_len;
};

/* Creates a VM with `mem_size` bytes of zeroed guest memory at guest-physical 0, mapped by EPT
 * with write-back caching and the largest pages that fit. NULL (reported) when out of memory. */
struct vm *vm_create(const char *name, uint64_t mem_size);

/* Host pointer to [gpa, gpa + len) when it lies wholly in one run of guest RAM, else NULL. */
void *vm_gpa_to_hva(struct vm *vm, uint64_t gpa, uint64_t len);

/* Copies between guest-physical memory and mhv; 0, or -1 if any byte is outside guest RAM. */
int vm_read_gpa(struct vm *vm, uint64_t gpa, void *dst, uint64_t len);
int vm_write_gpa(struct vm *vm, uint64_t gpa, const void *src, uint64_t len);

void vm_register_io(struct vm *vm, const struct io_handler *h);
void vm_register_mmio(struct vm *vm, const struct mmio_handler *h);

/* Stops the VM (all its vCPUs) with an exit status and prints
 * "mhv: vm <name>: stopped: <reason>". Later calls keep the first reason. */
void vm_stop(struct vm *vm, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* All VMs created so far. */
#define MAX_VMS 16
extern struct vm *vms[MAX_VMS];
extern unsigned vm_count;
unsigned vm_running_count(void);

#endif
