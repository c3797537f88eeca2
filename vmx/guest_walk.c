/* Guest page-table walks (SDM Vol. 3A 5.3 32-bit, 5.4 PAE, 5.5 4-level paging). */
#include "vmx/guest_walk.h"

#include "arch/x86/cpu.h"
#include "vm/vm.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs.h"

#define PTE_P 1ull
#define PTE_PS (1ull << 7)
#define ADDR_MASK 0x000ffffffffff000ull
#define EFER_LMA (1ull << 10)
#define CR4_PAE (1ull << 5)
#define CR4_LA57 (1ull << 12)

unsigned guest_cpu_mode(struct vcpu *v)
{
    uint32_t cs = vmcs_read32(v, VMCS_GUEST_CS_ACCESS);
    if ((vmcs_read64(v, VMCS_GUEST_EFER) & EFER_LMA) && (cs & (1u << 13)))
        return 64;
    return (v->cr0 & CR0_PE) && (cs & (1u << 14)) ? 32 : 16;
}

static int read_entry(struct vcpu *v, uint64_t addr, unsigned size, uint64_t *e)
{
    *e = 0;
    return vm_read_gpa(v->vm, addr, e, size);
}

int guest_linear_to_gpa(struct vcpu *v, uint64_t linear, uint64_t *gpa)
{
    uint64_t cr0 = vmcs_readnat(v, VMCS_GUEST_CR0), cr3 = vmcs_readnat(v, VMCS_GUEST_CR3);
    uint64_t cr4 = vmcs_readnat(v, VMCS_GUEST_CR4), e;
    if (!(cr0 & CR0_PG)) {
        *gpa = linear & 0xffffffffull;
        return 0;
    }
    if (!(cr4 & CR4_PAE)) { /* 32-bit paging: 2 levels, 4 MiB pages with PSE */
        if (read_entry(v, (cr3 & 0xfffff000) + ((linear >> 22) & 1023) * 4, 4, &e) || !(e & PTE_P))
            return -1;
        if ((e & PTE_PS) && (cr4 & CR4_PSE)) {
            *gpa = (e & 0xffc00000) + (linear & 0x3fffff);
            return 0;
        }
        if (read_entry(v, (e & 0xfffff000) + ((linear >> 12) & 1023) * 4, 4, &e) || !(e & PTE_P))
            return -1;
        *gpa = (e & 0xfffff000) + (linear & 0xfff);
        return 0;
    }
    int levels, shift;
    uint64_t table;
    if (vmcs_read64(v, VMCS_GUEST_EFER) & EFER_LMA) {
        if (cr4 & CR4_LA57)
            return -1;
        levels = 4, shift = 39, table = cr3 & ADDR_MASK;
    } else { /* PAE: the PDPTE, then two levels */
        if (read_entry(v, (cr3 & 0xffffffe0) + ((linear >> 30) & 3) * 8, 8, &e) || !(e & PTE_P))
            return -1;
        levels = 2, shift = 21, table = e & ADDR_MASK;
    }
    for (; levels; levels--, shift -= 9) {
        if (read_entry(v, table + ((linear >> shift) & 511) * 8, 8, &e) || !(e & PTE_P))
            return -1;
        if ((e & PTE_PS) && shift <= 30 && levels > 1) {
            uint64_t page = 1ull << shift;
            *gpa = (e & ADDR_MASK & ~(page - 1)) + (linear & (page - 1));
            return 0;
        }
        table = e & ADDR_MASK;
    }
    *gpa = table + (linear & 0xfff);
    return 0;
}

static unsigned copy_linear(struct vcpu *v, uint64_t linear, uint8_t *buf, unsigned len, bool write)
{
    unsigned done = 0;
    while (done < len) {
        uint64_t gpa;
        if (guest_linear_to_gpa(v, linear + done, &gpa) < 0)
            break;
        unsigned chunk = 4096 - ((linear + done) & 0xfff);
        if (chunk > len - done)
            chunk = len - done;
        int rc = write ? vm_write_gpa(v->vm, gpa, buf + done, chunk) : vm_read_gpa(v->vm, gpa, buf + done, chunk);
        if (rc < 0)
            break;
        done += chunk;
    }
    return done;
}

unsigned guest_read_linear(struct vcpu *v, uint64_t linear, void *dst, unsigned len)
{
    return copy_linear(v, linear, dst, len, false);
}

unsigned guest_write_linear(struct vcpu *v, uint64_t linear, const void *src, unsigned len)
{
    return copy_linear(v, linear, (uint8_t *)src, len, true);
}
