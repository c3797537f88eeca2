/* SPDX-License-Identifier: BSD-2-Clause */
// sources: vmx/start_state.c vmx/guest_check.c lib/format.c
/* vCPU start states (include/vmx/start_state.h): each common mode, as vcpu_apply_start_state
 * puts it into the VMCS, passes the guest-state checks of SDM Vol. 3C 28.3.1 under mhv's
 * controls, and holds exactly the values the loaders and the RESET/INIT/STARTUP paths gave
 * their vCPUs before they shared these helpers. */
#include "stubs.h"

#include <string.h>

#include "arch/x86/cpu.h"
#include "arch/x86/msr.h"
#include "vmx/start_state.h"

#define ENTRY_IA32E_GUEST (1u << 9)
#define ENTRY_LOAD_EFER (1u << 15)
#define PROC2_UNRESTRICTED_GUEST (1u << 7)
#define CR0_FIXED0 0x80000021ull /* PG, NE, PE: what VMX-capable CPUs and Bochs report */
#define CR4_FIXED0 0x2000ull     /* VMXE */

/* The guest-state area as vmx/vcpu_start.c writes it for s, over a reset vCPU's other fields
 * (vmx/vcpu.c), and the controls mhv runs it with. */
static void as_vmcs(const struct vcpu_start_state *s, struct vmx_guest_state *gs, struct vmx_check_context *ctx)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->cr0_fixed0 = CR0_FIXED0;
    ctx->cr0_fixed1 = 0xffffffff;
    ctx->cr4_fixed0 = CR4_FIXED0;
    ctx->cr4_fixed1 = 0x3727ff;
    ctx->physical_address_bits = 39;
    ctx->secondary_active = true;
    ctx->secondary_controls = PROC2_UNRESTRICTED_GUEST;
    ctx->entry_controls = ENTRY_LOAD_EFER | (s->mode == VCPU_START_LONG64 ? ENTRY_IA32E_GUEST : 0);
    memset(gs, 0, sizeof(*gs));
    gs->cr0 = s->cr0 | (CR0_FIXED0 & ~(CR0_PE | CR0_PG));
    gs->cr3 = s->cr3;
    gs->cr4 = s->cr4 | CR4_FIXED0;
    gs->efer = s->efer;
    gs->dr7 = 0x400;
    gs->pat = 0x0007040600070406ull;
    gs->rip = s->rip;
    gs->rsp = s->rsp;
    gs->rflags = s->rflags;
    memcpy(gs->seg, s->seg, sizeof(gs->seg));
    gs->gdtr_base = s->gdtr_base;
    gs->gdtr_limit = s->gdtr_limit;
    gs->idtr_base = s->idtr_base;
    gs->idtr_limit = s->idtr_limit;
    gs->vmcs_link_pointer = ~0ull;
}

static void assert_enters(const struct vcpu_start_state *s)
{
    struct vmx_guest_state gs;
    struct vmx_check_context ctx;
    char why[160] = "";
    as_vmcs(s, &gs, &ctx);
    const char *field = vmx_check_guest_state(&gs, &ctx, why, sizeof(why));
    if (field)
        fail_msg("%s: %s", field, why);
}

static void assert_segment(const struct vcpu_start_state *s, unsigned seg, uint16_t selector, uint64_t base,
                           uint32_t limit, uint32_t access)
{
    assert_int_equal(s->seg[seg].selector, selector);
    assert_int_equal(s->seg[seg].base, base);
    assert_int_equal(s->seg[seg].limit, limit);
    assert_int_equal(s->seg[seg].access, access);
}

/* A state filled over garbage: every field the helpers leave alone must be 0. */
static void dirty(struct vcpu_start_state *s)
{
    memset(s, 0xa5, sizeof(*s));
}

static void test_real_mode(void **state)
{
    (void)state;
    struct vcpu_start_state s;
    dirty(&s);
    start_state_real_mode(&s, 0xf000, 0xfff0); /* the reset vector after INIT */
    assert_int_equal(s.mode, VCPU_START_REAL);
    assert_segment(&s, SEG_CS, 0xf000, 0xf0000, 0xffff, 0x9b);
    for (unsigned i = SEG_ES; i <= SEG_GS; i++)
        if (i != SEG_CS)
            assert_segment(&s, i, 0, 0, 0xffff, 0x93);
    assert_segment(&s, SEG_LDTR, 0, 0, 0, 1u << 16);
    assert_segment(&s, SEG_TR, 0, 0, 0xffff, 0x8b);
    assert_int_equal(s.gdtr_base, 0);
    assert_int_equal(s.gdtr_limit, 0xffff);
    assert_int_equal(s.idtr_base, 0);
    assert_int_equal(s.idtr_limit, 0x3ff);
    assert_int_equal(s.cr0, CR0_ET);
    assert_int_equal(s.cr3, 0);
    assert_int_equal(s.cr4, 0);
    assert_int_equal(s.efer, 0);
    assert_int_equal(s.rip, 0xfff0);
    assert_int_equal(s.rsp, 0);
    assert_int_equal(s.rflags, 2);
    for (unsigned i = 0; i < GPR_COUNT; i++)
        assert_int_equal(s.gpr[i], 0);
    assert_enters(&s);

    start_state_real_mode(&s, 0x9a00, 0); /* a STARTUP IPI with vector 0x9a */
    assert_segment(&s, SEG_CS, 0x9a00, 0x9a000, 0xffff, 0x9b);
    assert_int_equal(s.rip, 0);
    assert_enters(&s);
}

static const struct start_gdt gdt = { .base = 0x3f9000, .limit = 31, .code = 0x08, .data = 0x10 };

static void test_flat32(void **state)
{
    (void)state;
    struct vcpu_start_state s;
    dirty(&s);
    start_state_flat32(&s, &gdt, 0x100040, 0x3f9000);
    assert_int_equal(s.mode, VCPU_START_PROTECTED32);
    assert_segment(&s, SEG_CS, 0x08, 0, 0xffffffff, 0xc09b);
    for (unsigned i = SEG_ES; i <= SEG_GS; i++)
        if (i != SEG_CS)
            assert_segment(&s, i, 0x10, 0, 0xffffffff, 0xc093);
    assert_segment(&s, SEG_LDTR, 0, 0, 0, 1u << 16);
    assert_segment(&s, SEG_TR, 0, 0, 0x67, 0x8b);
    assert_int_equal(s.gdtr_base, 0x3f9000);
    assert_int_equal(s.gdtr_limit, 31);
    assert_int_equal(s.idtr_base, 0);
    assert_int_equal(s.idtr_limit, 0);
    assert_int_equal(s.cr0, CR0_PE | CR0_ET);
    assert_int_equal(s.cr3, 0);
    assert_int_equal(s.cr4, 0);
    assert_int_equal(s.efer, 0);
    assert_int_equal(s.rip, 0x100040);
    assert_int_equal(s.rsp, 0x3f9000);
    assert_int_equal(s.rflags, 2);
    for (unsigned i = 0; i < GPR_COUNT; i++)
        assert_int_equal(s.gpr[i], 0);
    assert_enters(&s);
}

static void test_long64(void **state)
{
    (void)state;
    struct vcpu_start_state s;
    dirty(&s);
    start_state_long64(&s, &gdt, 0x3fa000, 0x1000200, 0x3f9000);
    assert_int_equal(s.mode, VCPU_START_LONG64);
    assert_segment(&s, SEG_CS, 0x08, 0, 0xffffffff, 0xa09b);
    for (unsigned i = SEG_ES; i <= SEG_GS; i++)
        if (i != SEG_CS)
            assert_segment(&s, i, 0x10, 0, 0xffffffff, 0xc093);
    assert_segment(&s, SEG_TR, 0, 0, 0x67, 0x8b);
    assert_int_equal(s.cr0, CR0_PE | CR0_ET | CR0_PG | CR0_WP);
    assert_int_equal(s.cr3, 0x3fa000);
    assert_int_equal(s.cr4, CR4_PAE);
    assert_int_equal(s.efer, EFER_LME | EFER_LMA);
    assert_int_equal(s.rip, 0x1000200);
    assert_int_equal(s.rsp, 0x3f9000);
    assert_enters(&s);
}

/* What the Linux loader makes of a long-mode start (vm/linux_vm.c): __BOOT_CS and __BOOT_DS
 * from its own GDT; the selectors change, the cached descriptors are the same flat ones. */
static void test_linux_selectors_enter(void **state)
{
    (void)state;
    struct vcpu_start_state s;
    start_state_long64(&s, &gdt, 0x3fa000, 0x1000000, 0x3f9000);
    s.gdtr_base = 0x9000;
    s.seg[SEG_CS].selector = 0x10;
    s.seg[SEG_DS].selector = s.seg[SEG_ES].selector = s.seg[SEG_SS].selector = 0x18;
    s.rip = 0x1000200;
    s.gpr[GPR_RSI] = 0x7000;
    assert_enters(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_mode),
        cmocka_unit_test(test_flat32),
        cmocka_unit_test(test_long64),
        cmocka_unit_test(test_linux_selectors_enter),
    };
    return cmocka_run_group_tests_name("start_state", tests, NULL, NULL);
}
