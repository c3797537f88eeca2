/* Guest linear -> guest-physical translation by walking the guest's own page tables. */
#ifndef MHV_VMX_GUEST_WALK_H
#define MHV_VMX_GUEST_WALK_H

#include <stdint.h>

struct vcpu;

/* Translates with the paging mode in force (none, 32-bit, PAE, 4-level). Returns 0, or -1 when
 * the address is not mapped (or the mode is 5-level paging, which mhv does not walk). */
int guest_linear_to_gpa(struct vcpu *v, uint64_t linear, uint64_t *gpa);

/* Copies len bytes at a guest linear address (page by page); returns bytes copied. */
unsigned guest_read_linear(struct vcpu *v, uint64_t linear, void *dst, unsigned len);
unsigned guest_write_linear(struct vcpu *v, uint64_t linear, const void *src, unsigned len);

/* 16, 32 or 64: the code segment's default size (what instruction decoding needs). */
unsigned guest_cpu_mode(struct vcpu *v);

#endif
