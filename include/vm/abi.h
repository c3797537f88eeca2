/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What guests see of mhv (documented in README.md "Guests"): the guest image header, the
 * hypercall ABI, and the fixed devices every VM has. tests/guests/mhv.inc mirrors it for nasm.
 */
#ifndef MHV_VM_ABI_H
#define MHV_VM_ABI_H

#include <stdint.h>

/* Guest image header, at offset 0 of a multiboot2 module. */
#define MHV_GUEST_MAGIC "MHVGUEST"
#define MHV_GUEST_VERSION 1        /* 64-byte header */
#define MHV_GUEST_VERSION_SCHED 2  /* adds struct mhv_guest_sched right after it */
#define MHV_GUEST_FLAG_MIGRATE (1u << 0) /* testing: move vCPU 0 to another CPU every slice */

struct mhv_guest_header {
    char magic[8];
    uint32_t version;
    uint32_t mode;         /* 16 (real mode), 32 (flat protected mode), 64 (long mode) */
    uint64_t load_address; /* guest-physical address the whole image is copied to */
    uint64_t entry;        /* guest-physical address of the first instruction */
    uint32_t memory_mib;   /* guest RAM, from guest-physical 0 */
    uint32_t vcpus;        /* 1..64; vCPUs 1.. wait for INIT/SIPI */
    uint32_t flags;
    char name[20];         /* the VM's name (console prefix) */
};
_Static_assert(sizeof(struct mhv_guest_header) == 64, "guest header is 64 bytes");

/* Version 2: scheduling parameters, at offset 64 of the image. */
struct mhv_guest_sched {
    uint32_t weight;      /* share of CPU time relative to other VMs: 1-100 (0: 1) */
    uint32_t slice_us;    /* time slice in microseconds: 100-1000000 (0: 10000) */
    uint64_t affinity[8]; /* vCPUs 0-7: bit i allows physical CPU i (0: any CPU); the rest: any */
};
#define MHV_GUEST_AFFINITIES 8
_Static_assert(sizeof(struct mhv_guest_sched) == 72, "sched block is 72 bytes");

/* Hypercalls: VMCALL with the number in RAX, arguments in RBX, RCX, RDX; the result in RAX
 * (negative: an error below). Only CPL 0 may call. Pointers are guest-physical. */
enum mhv_hypercall {
    MHV_HC_VERSION = 0,       /* -> RAX 0, RBX ABI version, RCX 0x76686d ("mhv") */
    MHV_HC_CONSOLE_WRITE = 1, /* RBX buffer, RCX length (<= 4096) -> bytes written */
    MHV_HC_STOP = 2,          /* RBX status: stops the VM, like the debug-exit port */
    MHV_HC_NOP = 3,           /* -> 0; for measuring the round trip */
    MHV_HC_INJECT = 4,        /* RBX vector 32-255 (external interrupt) or 2 (NMI) for the calling
                               * vCPU, delivered when it can take it; for testing delivery */
    MHV_HC_TIMER = 5,         /* RBX microseconds (0: cancel), RCX vector: one-shot timer
                               * interrupt for the calling vCPU (wakes it from HLT) */
    MHV_HC_SEND_IPI = 6,      /* RBX vector 32-255, RCX target vCPU of the same VM: wakes it */
};
#define MHV_HC_ABI_VERSION 1
#define MHV_ENOSYS (-1) /* unknown hypercall number */
#define MHV_EFAULT (-2) /* a pointer outside guest RAM */
#define MHV_EINVAL (-3) /* a bad argument */
#define MHV_EPERM (-4)  /* called from CPL > 0 */

/* Fixed devices. */
#define MHV_COM1_PORT 0x3f8          /* 16550 transmit path: lines go to mhv's console */
#define MHV_DEBUG_EXIT_PORT 0xf4     /* a write stops the VM with that status (as QEMU's isa-debug-exit) */
#define MHV_POST_PORT 0x80           /* POST code port: remembered, shown when a VM stops */
#define MHV_TESTDEV_BASE 0xfebf0000ull /* MMIO test device (devices/testdev.c), 4 KiB */
#define MHV_LAPIC_BASE 0xfee00000ull   /* minimal local APIC: ID, version, ICR for INIT/SIPI */

#endif
