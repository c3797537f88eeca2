/* SPDX-License-Identifier: BSD-2-Clause */
/* Virtual machines: guest-physical memory, EPT, I/O and MMIO device registries, vCPUs. */
#ifndef MHV_VM_VM_H
#define MHV_VM_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/spinlock.h"

struct vcpu;
struct vm;
struct guest_boot;

#define VM_MAX_VCPUS 64
#define VM_MAX_SLOTS 16
#define VM_MAX_IO 32
#define VM_MAX_MMIO 8
#define VM_MAX_DEVICES 24
#define VM_UNCLAIMED_LOG_PAGES 8

/* A contiguous run of guest-physical memory backed by contiguous host memory. */
struct mem_slot {
    uint64_t gpa, size, hpa;
};

struct io_handler {
    uint16_t base, count;
    uint64_t (*read)(struct vcpu *v, void *ctx, uint64_t port, unsigned size);
    void (*write)(struct vcpu *v, void *ctx, uint64_t port, unsigned size, uint64_t value);
    void *ctx;
};

struct mmio_handler {
    uint64_t base, size;
    uint64_t (*read)(struct vcpu *v, void *ctx, uint64_t offset, unsigned size);
    void (*write)(struct vcpu *v, void *ctx, uint64_t offset, unsigned size, uint64_t value);
    void *ctx;
};

/* A device's way back to its power-on state, for a VM restart. */
struct device_reset {
    void (*reset)(struct vm *vm, void *ctx);
    void *ctx;
};

enum vm_state { VM_RUNNING, VM_STOPPED };

/* The virtual platform's devices (include/vm/platform.h), each defined in its own file. */
struct vpic;
struct vioapic;
struct vuart;
struct vpit;
struct vrtc;
struct vpm;
struct vpci;
struct fw_cfg;
struct vhpet;

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
    struct device_reset resets[VM_MAX_DEVICES];
    unsigned reset_count;

    struct vcpu *vcpus[VM_MAX_VCPUS];
    unsigned vcpu_count;

    struct spinlock lock;
    volatile enum vm_state state;
    int status;          /* exit status once stopped */
    uint8_t stop_kind;   /* enum stop_kind of that stop: what a restart keeps */

    /* Lifecycle (vm/lifecycle.c): what to do on each kind of stop, and what a restart
     * rebuilds the VM from. */
    uint8_t on_poweroff, on_crash, on_reboot; /* enum vm_action (vm/config.h) */
    struct guest_boot *boot;
    volatile bool restart_pending;
    volatile bool restart_busy; /* a CPU is rebuilding it (vm_restart_if_ready) */
    unsigned restarts;
    uint64_t restart_window_start;       /* TSC of the first restart in the current burst */
    /* Devices of the virtual platform (NULL where a VM has none). */
    struct vpic *pic;
    struct vioapic *ioapic;
    struct vuart *uart[4];
    struct vpit *pit;
    struct vrtc *rtc;
    struct vpm *pm;
    struct vpci *pci;
    struct fw_cfg *fw_cfg;
    bool console_focus_wanted;  /* `console = true`: gets the serial input first */
    bool bios;                  /* starts as a PC BIOS leaves a boot loader (vm/firmware.c) */
    struct vhpet *hpet;         /* devices/hpet.c; NULL with `hpet = false` */
    bool no_hpet;               /* `hpet = false`: vm_add_platform leaves the HPET out */

    char console[128];   /* the guest's COM1 line being assembled */
    unsigned console_len;

    /* Memory neither RAM nor a device claims (vmx/exit_ept.c): reads all-ones, writes dropped,
     * the first pages logged once each; with `unclaimed = stop` the first access stops the VM. */
    bool unclaimed_stop;
    bool unclaimed_log_full;                          /* more pages touched than logged */
    uint64_t unclaimed_logged[VM_UNCLAIMED_LOG_PAGES]; /* each page logged + 1; 0: a free slot */
};

/* Creates a VM with `mem_size` bytes of zeroed guest memory at guest-physical 0, mapped by EPT
 * with write-back caching and the largest pages that fit. NULL (reported) when out of memory. */
struct vm *vm_create(const char *name, uint64_t mem_size);

/* Host pointer to [gpa, gpa + len) when it lies wholly in one run of guest RAM, else NULL. */
void *vm_gpa_to_hva(struct vm *vm, uint64_t gpa, uint64_t len);

/* Copies between guest-physical memory and mhv; 0, or -1 if any byte is outside guest RAM. */
int vm_read_gpa(struct vm *vm, uint64_t gpa, void *dst, uint64_t len);
/* Bulk work on guest memory (clearing, copying images) goes in pieces this large, with
 * xcall_poll() in between, so that no other CPU waits on this one for long. */
#define VM_COPY_CHUNK (1ull << 20)

int vm_write_gpa(struct vm *vm, uint64_t gpa, const void *src, uint64_t len);

void vm_register_io(struct vm *vm, const struct io_handler *h);
void vm_register_mmio(struct vm *vm, const struct mmio_handler *h);
/* Devices with state register how to reset it; vm_reset_devices calls them all (restart). */
void vm_register_reset(struct vm *vm, void (*reset)(struct vm *vm, void *ctx), void *ctx);
void vm_reset_devices(struct vm *vm);
/* A port write made by the VM's firmware (vm/firmware.c programming a device as a BIOS's POST
 * does), served by the port's handler as vCPU 0's OUT would be; unclaimed ports drop it. */
void vm_port_write(struct vm *vm, uint16_t port, unsigned size, uint32_t value);

/* How a VM ended: the guest powered off (debug-exit port, STOP hypercall, HLT with interrupts
 * off, ACPI S5), asked for a reset (port 0xcf9, the keyboard controller's reset line), or it
 * crashed (triple fault, an access or exit mhv cannot serve, a failed entry). The three kinds
 * of reboot differ in what a restart keeps (devices/reset.c), as on a PC, where only a power cycle
 * loses the memory: a soft reset (INIT#: port 0x92, the keyboard controller, 0xcf9 without
 * SYS_RST, a warm boot by the firmware) keeps memory and port 0x92; a hard reset (0xcf9 with
 * SYS_RST) keeps memory; a power cycle (0xcf9 with FULL_RST), like a power-off or a crash,
 * keeps nothing. Each is an on_reboot event. */
enum stop_kind { STOP_POWEROFF, STOP_CRASH, STOP_REBOOT, STOP_REBOOT_SOFT, STOP_REBOOT_POWER_CYCLE };

/* Stops the VM (all its vCPUs) with an exit status, prints "mhv: vm <name>: stopped: <reason>",
 * and applies the configured action for that kind of stop (on_poweroff, on_crash, on_reboot:
 * stop, restart, power off the machine). Later calls keep the first reason. */
void vm_stop(struct vm *vm, enum stop_kind kind, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Whether the restart after the VM's last stop keeps its memory (a reboot short of a power
 * cycle): the loaders then place the kernel over what the guest left. */
static inline bool vm_restart_keeps_memory(const struct vm *vm)
{
    return vm->stop_kind == STOP_REBOOT || vm->stop_kind == STOP_REBOOT_SOFT;
}

/* Once no vCPU of a VM waiting for a restart runs anywhere: rebuild its memory and vCPUs from
 * the image and start it again (vm/lifecycle.c; the scheduler calls it). */
void vm_restart_if_ready(struct vm *vm);
/* The scheduling entity whose CPU keeps the timers of the VM's platform devices (PIT, RTC):
 * its bootstrap vCPU's. The vCPUs exist before the platform. */
struct sched_entity *vm_platform_timer_owner(struct vm *vm);
/* Sets up the host work that restarts VMs (before the first VM is created: one may stop and
 * ask for its restart before scheduling starts). */
void vm_lifecycle_init(void);
/* Hands every VM's vCPUs to the scheduler (a VM with a vCPU that may run on no CPU in VMX
 * operation is stopped), with the host work of the VMs (restarts, the serial console) on the
 * first CPU in VMX operation, and starts scheduling. */
void vm_start_all(void);
/* vm_stop's second half (vm/lifecycle.c): restart, power off, or leave the VM stopped. */
void vm_apply_stop_action(struct vm *vm, unsigned action);

/* Set when a VM with on_poweroff/on_crash = poweroff stopped: every VM is stopped and the boot
 * CPU powers the machine off once the CPUs have wound down. */
extern volatile bool machine_poweroff_requested;

/* All VMs created so far. */
#define MAX_VMS 64
extern struct vm *vms[MAX_VMS];
extern unsigned vm_count;
unsigned vm_running_count(void);

#endif
