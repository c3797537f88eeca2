/* SPDX-License-Identifier: BSD-2-Clause */
/* VMXON / VMXOFF on each CPU (SDM Vol. 3C 25.7 "Enabling and Entering VMX Operation",
 * 25.8 "Restrictions on VMX Operation"). */
#include "vmx/vmxon.h"

#include "arch/x86/cpu.h"
#include "arch/x86/msr.h"
#include "arch/x86/percpu.h"
#include "arch/x86/smp.h"
#include "arch/x86/xcall.h"
#include "kernel/heap.h"
#include "kernel/log.h"
#include "kernel/page_alloc.h"
#include "lib/string.h"
#include "vmx/caps.h"
#include "vmx/preflight.h"
#include "vmx/vmx_cpu.h"

static uint64_t read_msr(uint32_t msr)
{
    return rdmsr(msr);
}

/* VMXON sets CF on VMfailInvalid (bad region) and ZF on VMfailValid (SDM Vol. 3C 31.2). */
static int vmxon(uint64_t region)
{
    uint8_t cf, zf;
    __asm__ volatile("vmxon %2; setc %0; setz %1" : "=r"(cf), "=r"(zf) : "m"(region) : "cc", "memory");
    return cf ? -1 : zf ? -2 : 0;
}

static const char *enter_vmx(struct vmx_cpu *p)
{
    if (!(cpuid(1, 0).ecx & (1u << 5)))
        return "CPUID.1:ECX.VMX is 0 on this CPU";
    uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL), new_fc;
    switch (vmx_feature_control_plan(fc, &new_fc)) {
    case VMX_FC_LOCKED_OFF:
        return "IA32_FEATURE_CONTROL is locked with VMX off on this CPU";
    case VMX_FC_WRITE:
        wrmsr(MSR_IA32_FEATURE_CONTROL, new_fc);
        break;
    case VMX_FC_OK:
        break;
    }
    /* mhv computes every VMCS control from the boot CPU's capabilities: all must match. */
    struct vmx_caps caps;
    vmx_caps_read(&caps, read_msr);
    if (memcmp(&caps, &vmx_boot_caps, sizeof(caps)))
        return "its VMX capability MSRs differ from the boot CPU's";
    /* Guests' SSE/AVX state is switched with XSAVE/XRSTOR, which need these in the host CR4
     * (SDM Vol. 1 13.3); mhv itself never touches that state. */
    if (cpuid(1, 0).ecx & (1u << 26))
        write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_OSXSAVE);
    uint64_t cr4 = read_cr4();
    if (cr4 & CR4_VMXE)
        return "CR4.VMXE is already set (another hypervisor owns VMX here?)";

    /* CR0 and CR4 must honour the VMX fixed bits (SDM Vol. 3D A.7, A.8): CR0.NE among them. */
    write_cr0((read_cr0() | caps.cr0_fixed0) & caps.cr0_fixed1);
    write_cr4(((cr4 | CR4_VMXE) | caps.cr4_fixed0) & caps.cr4_fixed1);

    uint64_t region = p->vmxon_region ? p->vmxon_region : pages_alloc(1);
    if (!region) {
        write_cr4(cr4);
        return "no memory for the VMXON region";
    }
    /* The VMXON region starts with the VMCS revision identifier, bit 31 clear (SDM 25.11.5). */
    memset(phys_to_virt(region), 0, PAGE_SIZE);
    *(uint32_t *)phys_to_virt(region) = caps.revision;
    p->vmxon_region = region;
    int rc = vmxon(region);
    if (rc) {
        write_cr4(cr4);
        return rc == -1 ? "VMXON failed: VMfailInvalid (VMXON region or revision rejected)"
                        : "VMXON failed: VMfailValid (already in VMX operation)";
    }
    return NULL;
}

static void vmx_on_this_cpu(void *unused)
{
    (void)unused;
    struct vmx_cpu *p = this_vmx_cpu();
    if (!p)
        return; /* no memory for its state (vmx_enable_all said so) */
    p->failure = enter_vmx(p);
    p->state = p->failure ? VMX_CPU_FAILED : VMX_CPU_ON;
    if (p->failure)
        log_err("vmx: kept out of VMX work: %s", p->failure);
    else
        log_info("vmx: in VMX root operation (VMXON region at 0x%lx)", p->vmxon_region);
}

static void vmx_off_this_cpu(void *unused)
{
    (void)unused;
    struct vmx_cpu *p = this_vmx_cpu();
    if (!p || p->state != VMX_CPU_ON)
        return;
    __asm__ volatile("vmxoff" ::: "cc", "memory");
    write_cr4(read_cr4() & ~CR4_VMXE);
    p->state = VMX_CPU_OFF;
    p->current_vmcs = 0;
}

unsigned vmx_enable_all(void)
{
    for (unsigned i = 0; i < cpu_count; i++)
        if (cpus[i] && !cpus[i]->vmx && !(cpus[i]->vmx = kzalloc(sizeof(struct vmx_cpu))))
            log_err("vmx: cpu%u: no memory for its VMX state; kept out of VMX work", i);
    xcall_all(vmx_on_this_cpu, NULL, true);
    unsigned on = 0;
    for (unsigned i = 0; i < cpu_count; i++) {
        struct percpu *p = cpus[i];
        if (!p || !p->online || !p->vmx)
            continue;
        if (p->vmx->state == VMX_CPU_ON)
            on++;
        else if (!p->vmx->failure)
            log_err("vmx: cpu%u (APIC id %u) did not answer the cross-CPU call; kept out of VMX work", i,
                    p->apic_id);
    }
    status_line("ready: %u of %u CPUs in VMX root operation", on, smp_cpus_wanted);
    return on;
}

bool vmx_cpu_usable(unsigned c)
{
    const struct percpu *p = per_cpu(c);
    return c < cpu_count && p && p->online && p->vmx && p->vmx->state == VMX_CPU_ON;
}

void vmx_disable_all(void)
{
    xcall_all(vmx_off_this_cpu, NULL, true);
    unsigned still_on = 0;
    for (unsigned i = 0; i < cpu_count; i++)
        still_on += cpus[i] && cpus[i]->vmx && cpus[i]->vmx->state == VMX_CPU_ON;
    if (still_on)
        log_err("vmx: %u CPU%s did not leave VMX operation", still_on, still_on > 1 ? "s" : "");
    else
        log_info("vmx: VMX operation left on every CPU");
}
