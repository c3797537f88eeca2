/* SPDX-License-Identifier: BSD-2-Clause */
/* Small-object heap for kernel objects (VM and vCPU structures, tables). Page-aligned things
 * (VMCS, page tables, guest memory) come from the page allocator instead. */
#ifndef MHV_KERNEL_HEAP_H
#define MHV_KERNEL_HEAP_H

#include <stddef.h>

/* 16-byte aligned; NULL when memory is exhausted. */
void *kmalloc(size_t size);
void *kzalloc(size_t size);
/* Panics on a pointer kmalloc did not return or on a double free. */
void kfree(void *p);

#endif
