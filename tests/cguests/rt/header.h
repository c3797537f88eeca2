/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The guest image header of a C test guest: mhv's MHVGUEST header, version 2 (README "Guest
 * images", include/vm/abi.h), followed by the runtime's own parameter block. A guest declares
 * it once, in its C file, overriding only what differs from the defaults:
 *
 *     MHV_GUEST(.name = "smp4", .vcpus = 4, .memory_mib = 16, .affinity = { 2, 2, 2, 2 });
 *
 * Defaults: 8 MiB, 1 vCPU, weight 1, the default slice, any CPU, seed 0 (see rt_seed()).
 * tests/cguests/mkvariant patches copies of a built image (name, weight, slice, affinity,
 * seed, args), so one guest serves many boot-test variants without a rebuild.
 */
#ifndef RT_HEADER_H
#define RT_HEADER_H

#include <stddef.h>
#include <stdint.h>

#include "vm/abi.h"

#define RT_LOAD_ADDRESS 0x100000
#define RT_PARAMS_MAGIC "MHVCARGS"
#define RT_ARGS 6

/* Flat, so a guest's MHV_GUEST() names fields directly; laid out exactly as struct
 * mhv_guest_header + struct mhv_guest_sched (checked below), then the parameters. */
struct rt_header {
    char magic[8];
    uint32_t version;
    uint32_t mode;
    uint64_t load_address;
    uint64_t entry;
    uint32_t memory_mib;
    uint32_t vcpus;
    uint32_t flags;
    char name[20];
    /* offset 64: scheduling (header version 2) */
    uint32_t weight;
    uint32_t slice_us;
    uint64_t affinity[8];
    /* offset 136: the runtime's parameters, for tests to patch (not read by mhv) */
    char params_magic[8];
    uint64_t seed;         /* offset 144: the PRNG seed; 0: see rt_seed() */
    uint64_t args[RT_ARGS]; /* offset 152: guest-defined (rt_arg()) */
};

_Static_assert(offsetof(struct rt_header, version) == offsetof(struct mhv_guest_header, version), "header layout");
_Static_assert(offsetof(struct rt_header, memory_mib) == offsetof(struct mhv_guest_header, memory_mib), "header layout");
_Static_assert(offsetof(struct rt_header, name) == offsetof(struct mhv_guest_header, name), "header layout");
_Static_assert(offsetof(struct rt_header, weight) == sizeof(struct mhv_guest_header), "header layout");
_Static_assert(offsetof(struct rt_header, affinity) ==
                   sizeof(struct mhv_guest_header) + offsetof(struct mhv_guest_sched, affinity), "header layout");
_Static_assert(offsetof(struct rt_header, params_magic) ==
                   sizeof(struct mhv_guest_header) + sizeof(struct mhv_guest_sched), "header layout");
_Static_assert(offsetof(struct rt_header, seed) == 144 && offsetof(struct rt_header, args) == 152, "mkvariant offsets");
_Static_assert(sizeof(struct rt_header) == 200, "guest.ld checks this size");

extern void rt_entry(void);            /* entry.asm: vCPU 0's first instruction */
extern const struct rt_header rt_header; /* the image's own header, as loaded */

/* Later designated initializers override the defaults before them (C11 6.7.9p19). */
#define MHV_GUEST(...)                                                                             \
    _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Woverride-init\"")           \
    __attribute__((section(".mhv_header"), used)) const struct rt_header rt_header = {             \
        .magic = MHV_GUEST_MAGIC, .version = MHV_GUEST_VERSION_SCHED, .mode = 64,                  \
        .load_address = RT_LOAD_ADDRESS, .entry = (uint64_t)(uintptr_t)rt_entry,                   \
        .memory_mib = 8, .vcpus = 1, .weight = 1, .params_magic = RT_PARAMS_MAGIC, __VA_ARGS__     \
    };                                                                                             \
    _Pragma("GCC diagnostic pop")

#endif
