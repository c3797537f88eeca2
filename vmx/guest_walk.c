/* SPDX-License-Identifier: BSD-2-Clause */
/* A vCPU's memory accesses through its segmentation and paging (see include/vmx/guest_walk.h):
 * the VMCS's guest state feeds the pure walker of vmx/paging.c and the checks of
 * vmx/segment.c; guest RAM is reached through the VM's memory slots. */
#include "vmx/guest_walk.h"

#include "arch/x86/cpu.h"
#include "arch/x86/msr.h"
#include "vm/vm.h"
#include "vmx/inject.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs.h"


unsigned guest_cpu_mode(struct vcpu *v)
{
    uint32_t cs = vmcs_read32(v, VMCS_GUEST_CS_ACCESS);
    if ((vmcs_read64(v, VMCS_GUEST_EFER) & EFER_LMA) && (cs & SEG_AR_L))
        return 64;
    return (v->cr0 & CR0_PE) && (cs & SEG_AR_DB) ? 32 : 16;
}

unsigned guest_user_access(struct vcpu *v)
{
    return SEG_AR_DPL(vmcs_read32(v, VMCS_GUEST_SS_ACCESS)) == 3 ? PAGING_USER : 0;
}

/* Guest segment fields are laid out ES, CS, SS, DS, FS, GS, LDTR, TR, 2 apart (appendix B). */
void guest_segment(struct vcpu *v, unsigned seg, struct vmx_segment *s)
{
    s->selector = (uint16_t)vmcs_read_checked(v, VMCS_GUEST_ES_SELECTOR + 2 * seg);
    s->base = vmcs_read_checked(v, VMCS_GUEST_ES_BASE + 2 * seg);
    s->limit = (uint32_t)vmcs_read_checked(v, VMCS_GUEST_ES_LIMIT + 2 * seg);
    s->access = (uint32_t)vmcs_read_checked(v, VMCS_GUEST_ES_ACCESS + 2 * seg);
}

void guest_set_segment(struct vcpu *v, unsigned seg, const struct vmx_segment *s)
{
    vmcs_write_checked(v, VMCS_GUEST_ES_SELECTOR + 2 * seg, s->selector);
    vmcs_write_checked(v, VMCS_GUEST_ES_BASE + 2 * seg, s->base);
    vmcs_write_checked(v, VMCS_GUEST_ES_LIMIT + 2 * seg, s->limit);
    vmcs_write_checked(v, VMCS_GUEST_ES_ACCESS + 2 * seg, s->access);
}

enum seg_addressing guest_addressing(struct vcpu *v)
{
    if (guest_cpu_mode(v) == 64)
        return SEG_ADDR_64;
    return (v->cr0 & CR0_PE) ? SEG_ADDR_PROTECTED : SEG_ADDR_REAL; /* PE is mhv's: v->cr0 has it */
}

unsigned guest_va_bits(struct vcpu *v)
{
    return (vmcs_readnat(v, VMCS_GUEST_CR4) & CR4_LA57) ? 57 : 48;
}

/* PKRU lives in the register while the vCPU's extended state is loaded here (vmx/vcpu.c keeps
 * it lazily with the rest of XSAVE state); RDPKRU needs CR4.PKE, which mhv sets only around
 * the read. Called only when the guest set CR4.PKE, so the CPU has protection keys. */
static uint32_t guest_pkru(void)
{
    uint64_t cr4 = read_cr4();
    uint32_t eax, edx;
    if (!(cr4 & CR4_PKE))
        write_cr4(cr4 | CR4_PKE);
    __asm__ volatile(".byte 0x0f, 0x01, 0xee" : "=a"(eax), "=d"(edx) : "c"(0)); /* RDPKRU */
    if (!(cr4 & CR4_PKE))
        write_cr4(cr4);
    return eax;
}

void guest_paging_state(struct vcpu *v, struct paging_state *s)
{
    /* The CPU's own answers (the walk is the hardware's, whatever CPUID tells the guest);
     * asked once, by whichever CPU comes first. */
    static unsigned maxphyaddr;
    static bool gbpages;
    if (!__atomic_load_n(&maxphyaddr, __ATOMIC_ACQUIRE)) {
        gbpages = (cpuid(0x80000001, 0).edx >> 26) & 1;
        __atomic_store_n(&maxphyaddr, cpuid(0x80000008, 0).eax & 0xff, __ATOMIC_RELEASE);
    }
    /* Read only what the mode in force uses: this is on the MMIO path. */
    s->cr0 = vmcs_readnat(v, VMCS_GUEST_CR0);
    s->cr3 = vmcs_readnat(v, VMCS_GUEST_CR3);
    s->cr4 = vmcs_readnat(v, VMCS_GUEST_CR4);
    s->efer = vmcs_read64(v, VMCS_GUEST_EFER);
    bool pae = paging_mode_of(s) == PAGING_PAE;
    for (unsigned i = 0; i < 4; i++)
        s->pdpte[i] = pae ? vmcs_read_checked(v, VMCS_GUEST_PDPTE0 + 2 * i) : 0;
    s->pkru = (s->cr4 & CR4_PKE) ? guest_pkru() : 0;
    s->maxphyaddr = maxphyaddr;
    s->gbpages = gbpages;
    s->rflags_ac = (s->cr4 & CR4_SMAP) && (vmcs_readnat(v, VMCS_GUEST_RFLAGS) & RFLAGS_AC);
}

/* Paging-structure entries in guest RAM; their flags updated with a locked compare-exchange,
 * as other vCPUs (and the guest's own walks on other CPUs) may change them meanwhile. */
static int read_entry(void *ctx, uint64_t gpa, unsigned size, uint64_t *entry)
{
    void *p = vm_gpa_to_hva(ctx, gpa, size);
    if (!p)
        return -1;
    *entry = size == 8 ? __atomic_load_n((uint64_t *)p, __ATOMIC_RELAXED)
                       : __atomic_load_n((uint32_t *)p, __ATOMIC_RELAXED);
    return 0;
}

static int set_bits(void *ctx, uint64_t gpa, unsigned size, uint64_t expected, uint64_t bits)
{
    void *p = vm_gpa_to_hva(ctx, gpa, size);
    if (!p)
        return -1;
    if (size == 8)
        return __atomic_compare_exchange_n((uint64_t *)p, &expected, expected | bits, false, __ATOMIC_SEQ_CST,
                                           __ATOMIC_RELAXED) ? 0 : -1;
    uint32_t old = (uint32_t)expected;
    return __atomic_compare_exchange_n((uint32_t *)p, &old, old | (uint32_t)bits, false, __ATOMIC_SEQ_CST,
                                       __ATOMIC_RELAXED) ? 0 : -1;
}

enum guest_access_result guest_translate_in(struct vcpu *v, const struct paging_state *s, uint64_t linear,
                                           unsigned access, uint64_t *gpa, struct guest_fault *f)
{
    struct paging_memory mem = { read_entry, set_bits, v->vm };
    struct paging_walk w;
    switch (paging_translate(s, &mem, linear, access, &w)) {
    case PAGING_OK:
        *gpa = w.gpa;
        return GUEST_OK;
    case PAGING_FAULT:
        *f = (struct guest_fault){ .vector = VEC_PF, .error_code = w.error_code, .cr2 = linear };
        return GUEST_FAULT;
    default:
        *f = (struct guest_fault){ .gpa = w.bad_gpa };
        return GUEST_NOT_RAM;
    }
}

enum guest_access_result guest_translate(struct vcpu *v, uint64_t linear, unsigned access, uint64_t *gpa,
                                         struct guest_fault *f)
{
    struct paging_state s;
    guest_paging_state(v, &s);
    return guest_translate_in(v, &s, linear, access, gpa, f);
}

/* Translates every page of [linear, linear + len) before any byte moves, then copies. */
static enum guest_access_result access_linear(struct vcpu *v, uint64_t linear, uint8_t *buf, unsigned len,
                                              unsigned access, bool write, struct guest_fault *f)
{
    struct paging_state s;
    guest_paging_state(v, &s);
    bool wraps_at_4g = paging_mode_of(&s) != PAGING_4LEVEL && paging_mode_of(&s) != PAGING_5LEVEL;
    uint64_t gpa[2], at[2];
    unsigned chunk[2], pages = 0;
    if (len > 4096)
        len = 4096;
    for (unsigned done = 0; done < len; pages++) {
        at[pages] = wraps_at_4g ? (linear + done) & 0xffffffffull : linear + done;
        chunk[pages] = 4096 - (at[pages] & 0xfff);
        if (chunk[pages] > len - done)
            chunk[pages] = len - done;
        enum guest_access_result r = guest_translate_in(v, &s, at[pages], access | (write ? PAGING_WRITE : 0),
                                                    &gpa[pages], f);
        if (r != GUEST_OK)
            return r;
        done += chunk[pages];
    }
    for (unsigned i = 0, done = 0; i < pages; done += chunk[i], i++) {
        int rc = write ? vm_write_gpa(v->vm, gpa[i], buf + done, chunk[i])
                       : vm_read_gpa(v->vm, gpa[i], buf + done, chunk[i]);
        if (rc < 0) {
            *f = (struct guest_fault){ .gpa = gpa[i] };
            return GUEST_NOT_RAM;
        }
    }
    return GUEST_OK;
}

enum guest_access_result guest_read(struct vcpu *v, uint64_t linear, void *dst, unsigned len, unsigned access,
                                    struct guest_fault *f)
{
    return access_linear(v, linear, dst, len, access & ~PAGING_WRITE, false, f);
}

enum guest_access_result guest_write(struct vcpu *v, uint64_t linear, const void *src, unsigned len,
                                     unsigned access, struct guest_fault *f)
{
    return access_linear(v, linear, (uint8_t *)(uintptr_t)src, len, access, true, f); /* only read */
}

void guest_inject_fault(struct vcpu *v, const struct guest_fault *f)
{
    if (f->vector == VEC_PF)
        inject_page_fault(v, f->cr2, f->error_code);
    else
        inject_exception(v, f->vector, f->error_code);
}
