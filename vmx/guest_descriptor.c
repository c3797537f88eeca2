/* SPDX-License-Identifier: BSD-2-Clause */
/* Guest descriptor-table lookups and updates (see include/vmx/guest_descriptor.h). */
#include "vmx/guest_descriptor.h"

#include "vm/vm.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs.h"

void descriptor_tables_of(struct vcpu *v, struct descriptor_tables *t)
{
    t->gdt_base = vmcs_readnat(v, VMCS_GUEST_GDTR_BASE);
    t->gdt_limit = vmcs_read32(v, VMCS_GUEST_GDTR_LIMIT);
    guest_segment(v, SEG_LDTR, &t->ldt);
}

enum descriptor_lookup descriptor_read(struct vcpu *v, const struct descriptor_tables *t, uint16_t selector,
                                       uint64_t *descriptor, uint64_t *linear, enum guest_access_result *result,
                                       struct guest_fault *f)
{
    uint64_t base = t->gdt_base, limit = t->gdt_limit, offset = selector & ~7u;
    if (selector & SELECTOR_TI) {
        if (t->ldt.access & SEG_AR_UNUSABLE)
            return DESCRIPTOR_BEYOND_LIMIT;
        base = t->ldt.base;
        limit = t->ldt.limit;
    }
    if (offset + 7 > limit)
        return DESCRIPTOR_BEYOND_LIMIT;
    *linear = base + offset;
    *result = guest_read(v, *linear, descriptor, 8, PAGING_IMPLICIT, f);
    return *result == GUEST_OK ? DESCRIPTOR_FOUND : DESCRIPTOR_ACCESS_FAILED;
}

enum guest_access_result descriptor_update_type(struct vcpu *v, uint64_t linear, uint8_t set, uint8_t clear,
                                                struct guest_fault *f)
{
    uint64_t gpa;
    enum guest_access_result r = guest_translate(v, linear + 5, PAGING_WRITE | PAGING_IMPLICIT, &gpa, f);
    if (r != GUEST_OK)
        return r;
    uint8_t *type = vm_gpa_to_hva(v->vm, gpa, 1);
    if (!type) {
        f->gpa = gpa;
        return GUEST_NOT_RAM;
    }
    /* The CPU updates descriptors with locked read-modify-writes (SDM Vol. 3A 9.1.2.1). */
    uint8_t old = __atomic_load_n(type, __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(type, &old, (uint8_t)((old | set) & ~clear), false, __ATOMIC_SEQ_CST,
                                        __ATOMIC_RELAXED))
        ;
    return GUEST_OK;
}
