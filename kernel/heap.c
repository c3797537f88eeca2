/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Size-class heap. Objects of up to 2 KiB come from slab pages: each 4 KiB page serves one
 * size class and starts with a small header naming it, so kfree() finds the class from the
 * page address alone. Larger objects get whole pages behind the same header.
 */
#include "kernel/heap.h"

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/spinlock.h"
#include "kernel/page_alloc.h"
#include "kernel/panic.h"
#include "lib/string.h"

#define SLAB_MAGIC 0x6d68762d736c6162ull  /* "mhv-slab" */
#define LARGE_MAGIC 0x6d68762d6c617267ull /* "mhv-larg" */
#define FREE_MARK 0xdeadf4eedeadf4eeull   /* first word of a free small object */
#define HEADER_SIZE 64
#define MIN_CLASS_SHIFT 5 /* 32 bytes */
#define NUM_CLASSES 7     /* 32 .. 2048 */

struct page_header {
    uint64_t magic;
    uint64_t value; /* size class index, or page count for a large object */
};

struct free_object {
    uint64_t mark;
    struct free_object *next;
};

static struct free_object *free_lists[NUM_CLASSES];
static struct spinlock heap_lock = SPINLOCK_INIT;

static int size_class(size_t size)
{
    for (int c = 0; c < NUM_CLASSES; c++)
        if (size <= (1u << (MIN_CLASS_SHIFT + c)))
            return c;
    return -1;
}

static int refill(int c)
{
    uint64_t page = pages_alloc(1);
    if (!page)
        return -1;
    uint8_t *base = phys_to_virt(page);
    *(struct page_header *)base = (struct page_header){ SLAB_MAGIC, (uint64_t)c };
    size_t size = 1u << (MIN_CLASS_SHIFT + c);
    /* The header takes the first 64 bytes (or the first object slot, when larger). */
    size_t first = size > HEADER_SIZE ? size : HEADER_SIZE;
    for (size_t off = first; off + size <= PAGE_SIZE; off += size) {
        struct free_object *o = (struct free_object *)(base + off);
        o->mark = FREE_MARK;
        o->next = free_lists[c];
        free_lists[c] = o;
    }
    return 0;
}

void *kmalloc(size_t size)
{
    if (size == 0)
        size = 1;
    int c = size_class(size);
    if (c < 0) {
        uint64_t count = (size + HEADER_SIZE + PAGE_SIZE - 1) / PAGE_SIZE;
        uint64_t page = pages_alloc(count);
        if (!page)
            return NULL;
        struct page_header *h = phys_to_virt(page);
        *h = (struct page_header){ LARGE_MAGIC, count };
        return (uint8_t *)h + HEADER_SIZE;
    }
    uint64_t flags = spin_lock_irqsave(&heap_lock);
    struct free_object *o = NULL;
    if (free_lists[c] || refill(c) == 0) {
        o = free_lists[c];
        free_lists[c] = o->next;
        o->mark = 0;
    }
    spin_unlock_irqrestore(&heap_lock, flags);
    return o;
}

void *kzalloc(size_t size)
{
    void *p = kmalloc(size);
    if (p)
        memset(p, 0, size);
    return p;
}

void kfree(void *p)
{
    if (!p)
        return;
    uintptr_t addr = (uintptr_t)p;
    struct page_header *h = (struct page_header *)(addr & ~(uintptr_t)(PAGE_SIZE - 1));
    if (h->magic == LARGE_MAGIC && addr == (uintptr_t)h + HEADER_SIZE) {
        h->magic = 0;
        pages_free(virt_to_phys(h), h->value);
        return;
    }
    if (h->magic != SLAB_MAGIC || h->value >= NUM_CLASSES)
        panic("kfree(%p): not a heap object", p);
    int c = (int)h->value;
    size_t size = 1u << (MIN_CLASS_SHIFT + c);
    size_t first = size > HEADER_SIZE ? size : HEADER_SIZE;
    if ((addr - (uintptr_t)h) < first || (addr - (uintptr_t)h - first) % size)
        panic("kfree(%p): not the start of a %zu-byte object", p, size);
    struct free_object *o = p;
    uint64_t flags = spin_lock_irqsave(&heap_lock);
    bool double_free = o->mark == FREE_MARK;
    if (!double_free) {
        o->mark = FREE_MARK;
        o->next = free_lists[c];
        free_lists[c] = o;
    }
    spin_unlock_irqrestore(&heap_lock, flags);
    if (double_free)
        panic("kfree(%p): double free", p);
}
