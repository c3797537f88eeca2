/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Instruction emulation on a vCPU (vmx/emulate_vcpu.c): vmx/emulate.c's executor given the
 * vCPU's registers, its memory through its segmentation and paging (vmx/segment.c,
 * vmx/guest_walk.c) down to RAM or an emulated device, and its system state (CR0, segment
 * registers and their descriptors, TR, the XMM and MMX registers).
 */
#ifndef MHV_VMX_EMULATE_VCPU_H
#define MHV_VMX_EMULATE_VCPU_H

#include <stdbool.h>
#include <stdint.h>

#include "vmx/decode.h"
#include "vmx/exit.h"

struct vcpu;
struct mmio_handler;

/* Performs a decoded instruction that exited (EPT violation or APIC access) and retires it,
 * or gives the guest the fault it raises, or stops the VM when it cannot be done. cpu_mode as
 * for decode_mmio_insn. */
enum exit_action emulate_vcpu_insn(struct vcpu *v, const struct mmio_insn *insn, unsigned cpu_mode);

/* What serves guest-physical gpa outside RAM (vmx/exit_ept.c): a VM's MMIO handler, its moved
 * local APIC, or, where nothing claims gpa, the handler that reads all-ones and drops writes
 * (both filled into *scratch); NULL for RAM, and for unclaimed memory of a VM with
 * `unclaimed = stop`. */
const struct mmio_handler *mmio_lookup(struct vcpu *v, uint64_t gpa, struct mmio_handler *scratch);

/* len bytes at guest-physical gpa, all in one page, from or to RAM or a device (in accesses of
 * at most 8 bytes), unclaimed memory included. Returns 0, or -1 when the page is neither RAM
 * nor a device and the VM stops at unclaimed accesses. */
int guest_phys_access(struct vcpu *v, uint64_t gpa, void *buf, unsigned len, bool write);

#endif
