/* SPDX-License-Identifier: BSD-2-Clause */
// sources: vmx/guest_check.c vmx/vm_error.c lib/format.c
/* The guest-state checks of SDM Vol. 3C 28.3.1 (26.3.1 in older editions): three known-good
 * guests (real mode under unrestricted guest, flat 32-bit protected mode, 64-bit long mode)
 * pass, and breaking one field at a time names that rule's field. Also the text of the
 * VM-instruction error numbers. */
#include "stubs.h"

#include <string.h>

#include "vmx/guest_check.h"
#include "vmx/vm_error.h"

#define ENTRY_LOAD_DEBUG (1u << 2)
#define ENTRY_IA32E_GUEST (1u << 9)
#define ENTRY_LOAD_PAT (1u << 14)
#define ENTRY_LOAD_EFER (1u << 15)
#define PROC2_UNRESTRICTED_GUEST (1u << 7)

#define CR0_PE 0x1ull
#define CR0_ET 0x10ull
#define CR0_NE 0x20ull
#define CR0_WP 0x10000ull
#define CR0_PG 0x80000000ull
#define CR4_PAE 0x20ull
#define CR4_VMXE 0x2000ull
#define CR4_PCIDE 0x20000ull
#define RFLAGS_TF 0x100ull
#define RFLAGS_IF 0x200ull
#define RFLAGS_VM 0x20000ull
#define AR_G 0x8000u
#define AR_UNUSABLE 0x10000u

/* What a typical VMX-capable CPU reports. */
static void base_context(struct vmx_check_context *ctx)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->cr0_fixed0 = 0x80000021;
    ctx->cr0_fixed1 = 0xffffffff;
    ctx->cr4_fixed0 = 0x2000;
    ctx->cr4_fixed1 = 0x3727ff;
    ctx->physical_address_bits = 39;
}

static void set_seg(struct vmx_segment *s, uint16_t selector, uint64_t base, uint32_t limit, uint32_t access)
{
    s->selector = selector;
    s->base = base;
    s->limit = limit;
    s->access = access;
}

/* Common to all fixtures: no LDT, no pending events, no VMCS shadowing. */
static void base_state(struct vmx_guest_state *gs)
{
    memset(gs, 0, sizeof(*gs));
    gs->dr7 = 0x400;
    gs->rflags = 0x2;
    gs->pat = 0x0007040600070406ull;
    set_seg(&gs->seg[SEG_LDTR], 0, 0, 0, AR_UNUSABLE);
    gs->vmcs_link_pointer = ~0ull;
}

/* (a) The reset state: real mode, which needs unrestricted guest. */
static void real_mode(struct vmx_guest_state *gs, struct vmx_check_context *ctx)
{
    base_context(ctx);
    ctx->secondary_active = true;
    ctx->secondary_controls = PROC2_UNRESTRICTED_GUEST;
    base_state(gs);
    gs->cr0 = CR0_NE;
    gs->cr4 = CR4_VMXE;
    gs->rip = 0xfff0;
    set_seg(&gs->seg[SEG_CS], 0, 0, 0xffff, 0x9b);
    for (int i = SEG_ES; i <= SEG_GS; i++)
        if (i != SEG_CS)
            set_seg(&gs->seg[i], 0, 0, 0xffff, 0x93);
    set_seg(&gs->seg[SEG_TR], 0, 0, 0xffff, 0x8b);
    gs->gdtr_limit = 0xffff;
    gs->idtr_limit = 0xffff;
}

/* (b) Flat 32-bit protected mode without paging; CR0_FIXED0 demands PG, so this too runs
 * under unrestricted guest. */
static void protected_mode(struct vmx_guest_state *gs, struct vmx_check_context *ctx)
{
    base_context(ctx);
    ctx->secondary_active = true;
    ctx->secondary_controls = PROC2_UNRESTRICTED_GUEST;
    base_state(gs);
    gs->cr0 = CR0_PE | CR0_NE | CR0_ET;
    gs->cr4 = CR4_VMXE;
    gs->rip = 0x100000;
    set_seg(&gs->seg[SEG_CS], 0x08, 0, 0xffffffff, 0xc09b);
    for (int i = SEG_ES; i <= SEG_GS; i++)
        if (i != SEG_CS)
            set_seg(&gs->seg[i], 0x10, 0, 0xffffffff, 0xc093);
    set_seg(&gs->seg[SEG_TR], 0x18, 0x2000, 0x67, 0x8b);
    gs->gdtr_base = 0x1000;
    gs->gdtr_limit = 0x1f;
    gs->idtr_base = 0x3000;
    gs->idtr_limit = 0x7ff;
}

/* (c) 64-bit long mode, entered with IA-32e mode guest and load IA32_EFER; no
 * unrestricted guest. */
static void long_mode(struct vmx_guest_state *gs, struct vmx_check_context *ctx)
{
    base_context(ctx);
    ctx->entry_controls = ENTRY_IA32E_GUEST | ENTRY_LOAD_EFER;
    base_state(gs);
    gs->cr0 = CR0_PG | CR0_PE | CR0_NE | CR0_ET | CR0_WP;
    gs->cr3 = 0x1000;
    gs->cr4 = CR4_PAE | CR4_VMXE;
    gs->efer = 0x500;
    gs->rip = 0xffffffff80000000ull;
    gs->rsp = 0xffffffff80010000ull;
    set_seg(&gs->seg[SEG_CS], 0x08, 0, 0xffffffff, 0xa09b);
    for (int i = SEG_ES; i <= SEG_GS; i++)
        if (i != SEG_CS)
            set_seg(&gs->seg[i], 0x10, 0, 0xffffffff, 0xc093);
    gs->seg[SEG_GS].base = 0xffff888000000000ull;
    set_seg(&gs->seg[SEG_TR], 0x18, 0xffffffff80020000ull, 0x67, 0x8b);
    gs->gdtr_base = 0xffffffff80030000ull;
    gs->gdtr_limit = 0x2f;
    gs->idtr_base = 0xffffffff80031000ull;
    gs->idtr_limit = 0xfff;
}

/* The messages carry the caller's line, since the failure is raised here. */
#define assert_passes(gs, ctx) assert_passes_at(__LINE__, gs, ctx)
static void assert_passes_at(int line, const struct vmx_guest_state *gs, const struct vmx_check_context *ctx)
{
    char why[160];
    const char *field = vmx_check_guest_state(gs, ctx, why, sizeof(why));
    if (field)
        fail_msg("line %d: expected a valid guest state, got \"%s\": %s", line, field, why);
    assert_string_equal(why, "");
}

#define assert_fails(gs, ctx, field, why) assert_fails_at(__LINE__, gs, ctx, field, why)
static void assert_fails_at(int line, const struct vmx_guest_state *gs, const struct vmx_check_context *ctx,
                            const char *want_field, const char *want_why)
{
    char why[160];
    const char *field = vmx_check_guest_state(gs, ctx, why, sizeof(why));
    if (!field)
        fail_msg("line %d: expected \"%s\" to fail, but every rule held", line, want_field);
    if (strcmp(field, want_field) != 0 || !strstr(why, want_why))
        fail_msg("line %d: expected \"%s\" with \"%s\", got \"%s\": %s", line, want_field, want_why,
                 field, why);
}

static void test_fixtures_pass(void **state)
{
    (void)state;
    struct vmx_guest_state gs;
    struct vmx_check_context ctx;
    real_mode(&gs, &ctx);
    assert_passes(&gs, &ctx);
    protected_mode(&gs, &ctx);
    assert_passes(&gs, &ctx);
    long_mode(&gs, &ctx);
    assert_passes(&gs, &ctx);
    /* A caller that only wants the verdict may pass no buffer. */
    gs.cr0 &= ~CR0_PE;
    assert_string_equal(vmx_check_guest_state(&gs, &ctx, NULL, 0), "guest CR0");
}

static void test_control_registers(void **state)
{
    (void)state;
    struct vmx_guest_state gs;
    struct vmx_check_context ctx;

    real_mode(&gs, &ctx);
    gs.cr0 |= CR0_PG;
    assert_fails(&gs, &ctx, "guest CR0", "CR0.PG is 1 but CR0.PE is 0");

    long_mode(&gs, &ctx);
    gs.cr0 &= ~CR0_NE;
    assert_fails(&gs, &ctx, "guest CR0", "IA32_VMX_CR0_FIXED0");

    /* Without unrestricted guest, PE and PG fall under CR0_FIXED0 again. */
    real_mode(&gs, &ctx);
    ctx.secondary_active = false;
    assert_fails(&gs, &ctx, "guest CR0", "lacks bits 0x80000001");

    long_mode(&gs, &ctx);
    gs.cr0 |= 1ull << 32;
    assert_fails(&gs, &ctx, "guest CR0", "IA32_VMX_CR0_FIXED1");

    long_mode(&gs, &ctx);
    gs.cr4 &= ~CR4_VMXE;
    assert_fails(&gs, &ctx, "guest CR4", "IA32_VMX_CR4_FIXED0");

    long_mode(&gs, &ctx);
    gs.cr4 &= ~CR4_PAE;
    assert_fails(&gs, &ctx, "guest CR4", "CR4.PAE is 0");

    protected_mode(&gs, &ctx);
    gs.cr4 |= CR4_PCIDE;
    assert_fails(&gs, &ctx, "guest CR4", "CR4.PCIDE is 1");

    long_mode(&gs, &ctx);
    gs.cr3 = 1ull << 39 | 0x1000;
    assert_fails(&gs, &ctx, "guest CR3", "physical-address width (39)");
}

static void test_debug_registers_and_msrs(void **state)
{
    (void)state;
    struct vmx_guest_state gs;
    struct vmx_check_context ctx;

    long_mode(&gs, &ctx);
    gs.dr7 |= 1ull << 32;
    assert_passes(&gs, &ctx); /* DR7 is not loaded without load debug controls */
    ctx.entry_controls |= ENTRY_LOAD_DEBUG;
    assert_fails(&gs, &ctx, "guest DR7", "bits 63:32");

    long_mode(&gs, &ctx);
    gs.sysenter_eip = 0x0000800000000000ull;
    assert_fails(&gs, &ctx, "guest IA32_SYSENTER_EIP", "not canonical");

    long_mode(&gs, &ctx);
    ctx.entry_controls |= ENTRY_LOAD_PAT;
    assert_passes(&gs, &ctx);
    gs.pat = 0x0007040600020406ull;
    assert_fails(&gs, &ctx, "guest IA32_PAT", "entry 2 is 0x2");

    long_mode(&gs, &ctx);
    gs.efer = 0x100; /* LME without LMA */
    assert_fails(&gs, &ctx, "guest IA32_EFER", "LMA is 0 but the IA-32e mode guest entry control is 1");

    long_mode(&gs, &ctx);
    gs.efer = 0x400; /* LMA without LME, paging on */
    assert_fails(&gs, &ctx, "guest IA32_EFER", "LME is 0 but LMA is 1");

    long_mode(&gs, &ctx);
    gs.efer |= 0x2;
    assert_fails(&gs, &ctx, "guest IA32_EFER", "reserved bits 0x2");
}

static void test_segment_selectors_and_bases(void **state)
{
    (void)state;
    struct vmx_guest_state gs;
    struct vmx_check_context ctx;

    long_mode(&gs, &ctx);
    gs.seg[SEG_TR].selector |= 4;
    assert_fails(&gs, &ctx, "guest TR selector", "TI 1");

    long_mode(&gs, &ctx);
    gs.seg[SEG_SS].selector = 0x13;
    assert_fails(&gs, &ctx, "guest SS selector", "SS.RPL 3 differs from CS.RPL 0");
    /* Unrestricted guest lifts the RPL rules. */
    protected_mode(&gs, &ctx);
    gs.seg[SEG_SS].selector = 0x13;
    assert_passes(&gs, &ctx);

    long_mode(&gs, &ctx);
    gs.seg[SEG_TR].base = 0x0000800000000000ull;
    assert_fails(&gs, &ctx, "guest TR base", "not canonical");

    protected_mode(&gs, &ctx);
    gs.seg[SEG_DS].base = 1ull << 32;
    assert_fails(&gs, &ctx, "guest DS base", "sets bits 63:32");
    gs.seg[SEG_DS].access |= AR_UNUSABLE; /* an unusable DS's base is not checked */
    assert_passes(&gs, &ctx);
}

static void test_segment_access_rights(void **state)
{
    (void)state;
    struct vmx_guest_state gs;
    struct vmx_check_context ctx;

    long_mode(&gs, &ctx);
    gs.seg[SEG_CS].access = 0xa090; /* type 0: a data segment */
    assert_fails(&gs, &ctx, "guest CS access rights", "CS type 0");

    long_mode(&gs, &ctx);
    gs.seg[SEG_SS].access = 0xc0f3; /* SS.DPL 3 under CS.DPL 0 */
    assert_fails(&gs, &ctx, "guest CS access rights", "CS.DPL 0 differs from SS.DPL 3");

    long_mode(&gs, &ctx);
    gs.seg[SEG_CS].access |= 1u << 14; /* L and D */
    assert_fails(&gs, &ctx, "guest CS access rights", "CS.L and CS.D are both 1");

    long_mode(&gs, &ctx);
    gs.seg[SEG_SS].access = 0xc09b; /* code */
    assert_fails(&gs, &ctx, "guest SS access rights", "SS type 11");

    /* In real mode the CPL is 0; CS.DPL goes along so that the CS rule holds. */
    real_mode(&gs, &ctx);
    gs.seg[SEG_CS].access = 0xfb;
    gs.seg[SEG_SS].access = 0xf3;
    assert_fails(&gs, &ctx, "guest SS access rights", "must be 0 when CR0.PE is 0");

    long_mode(&gs, &ctx);
    gs.seg[SEG_FS].access = 0xc092; /* not accessed */
    assert_fails(&gs, &ctx, "guest FS access rights", "not accessed");

    long_mode(&gs, &ctx);
    gs.seg[SEG_ES].access = 0xc013; /* not present */
    assert_fails(&gs, &ctx, "guest ES access rights", "ES.P is 0");

    long_mode(&gs, &ctx);
    gs.seg[SEG_GS].access |= 0x100;
    assert_fails(&gs, &ctx, "guest GS access rights", "reserved bits 0x100");

    long_mode(&gs, &ctx);
    gs.seg[SEG_TR].access = 0x83; /* a 16-bit busy TSS */
    assert_fails(&gs, &ctx, "guest TR access rights", "TR type 3");
    protected_mode(&gs, &ctx);
    gs.seg[SEG_TR].access = 0x83; /* allowed outside IA-32e mode */
    assert_passes(&gs, &ctx);

    long_mode(&gs, &ctx);
    gs.seg[SEG_TR].access |= AR_UNUSABLE;
    assert_fails(&gs, &ctx, "guest TR access rights", "unusable");

    long_mode(&gs, &ctx);
    set_seg(&gs.seg[SEG_LDTR], 0x20, 0, 0xffff, 0x89); /* a TSS, not an LDT */
    assert_fails(&gs, &ctx, "guest LDTR access rights", "LDTR type 9");
    gs.seg[SEG_LDTR].access = 0x82;
    assert_passes(&gs, &ctx);
}

static void test_limit_granularity(void **state)
{
    (void)state;
    struct vmx_guest_state gs;
    struct vmx_check_context ctx;

    /* The limit field is in bytes: 0xffff0 cannot be a 4-KByte-granular limit. */
    long_mode(&gs, &ctx);
    gs.seg[SEG_DS].limit = 0xffff0;
    assert_fails(&gs, &ctx, "guest DS access rights", "G is 1 but limit bits 11:0 are not all 1");

    /* A 4-GByte limit needs G=1. */
    long_mode(&gs, &ctx);
    gs.seg[SEG_DS].access &= ~AR_G;
    assert_fails(&gs, &ctx, "guest DS access rights", "G is 0 but limit bits 31:20 are not all 0");

    /* 0xfffff bytes fits either way. */
    long_mode(&gs, &ctx);
    gs.seg[SEG_DS].limit = 0xfffff;
    assert_passes(&gs, &ctx);
    gs.seg[SEG_DS].access &= ~AR_G;
    assert_passes(&gs, &ctx);
}

static void test_virtual_8086(void **state)
{
    (void)state;
    struct vmx_guest_state gs;
    struct vmx_check_context ctx;

    protected_mode(&gs, &ctx);
    gs.rflags |= RFLAGS_VM;
    assert_fails(&gs, &ctx, "guest ES base", "not selector 0x10 << 4");
    for (int i = SEG_ES; i <= SEG_GS; i++)
        set_seg(&gs.seg[i], 0x1234, 0x12340, 0xffff, 0xf3);
    assert_passes(&gs, &ctx);
    gs.seg[SEG_SS].limit = 0xfffff;
    assert_fails(&gs, &ctx, "guest SS limit", "not 0xffff");
    gs.seg[SEG_SS].limit = 0xffff;
    gs.seg[SEG_CS].access = 0xfb;
    assert_fails(&gs, &ctx, "guest CS access rights", "not 0xf3");

    real_mode(&gs, &ctx);
    gs.rflags |= RFLAGS_VM;
    assert_fails(&gs, &ctx, "guest RFLAGS", "RFLAGS.VM is 1 but CR0.PE is 0");
}

static void test_descriptor_tables(void **state)
{
    (void)state;
    struct vmx_guest_state gs;
    struct vmx_check_context ctx;

    long_mode(&gs, &ctx);
    gs.gdtr_limit = 0x10000;
    assert_fails(&gs, &ctx, "guest GDTR limit", "bits 31:16");

    long_mode(&gs, &ctx);
    gs.idtr_base = 0x00fff00000000000ull;
    assert_fails(&gs, &ctx, "guest IDTR base", "not canonical");
}

static void test_rip_and_rflags(void **state)
{
    (void)state;
    struct vmx_guest_state gs;
    struct vmx_check_context ctx;

    protected_mode(&gs, &ctx);
    gs.rip = 0x100100000ull;
    assert_fails(&gs, &ctx, "guest RIP", "bits 63:32");

    long_mode(&gs, &ctx);
    gs.rip = 0x0000800000000000ull;
    assert_fails(&gs, &ctx, "guest RIP", "not canonical");
    gs.seg[SEG_CS].access = 0xc09b; /* compatibility mode: a 32-bit RIP */
    assert_fails(&gs, &ctx, "guest RIP", "bits 63:32");

    long_mode(&gs, &ctx);
    gs.rflags = 0;
    assert_fails(&gs, &ctx, "guest RFLAGS", "bit 1 clear");

    long_mode(&gs, &ctx);
    gs.rflags |= 1ull << 15;
    assert_fails(&gs, &ctx, "guest RFLAGS", "reserved bits 0x8000");

    long_mode(&gs, &ctx);
    gs.rflags |= RFLAGS_VM;
    assert_fails(&gs, &ctx, "guest RFLAGS", "RFLAGS.VM is 1 in an IA-32e mode guest");

    /* Injecting an external interrupt (valid, type 0, vector 0x20) needs IF=1. */
    long_mode(&gs, &ctx);
    gs.entry_interruption_info = 0x80000020;
    assert_fails(&gs, &ctx, "guest RFLAGS", "RFLAGS.IF is 0");
    gs.rflags |= RFLAGS_IF;
    assert_passes(&gs, &ctx);
}

static void test_activity_and_interruptibility(void **state)
{
    (void)state;
    struct vmx_guest_state gs;
    struct vmx_check_context ctx;

    long_mode(&gs, &ctx);
    gs.activity_state = 4;
    assert_fails(&gs, &ctx, "guest activity state", "activity state 4");

    /* HLT at CPL 3 (CS.DPL = SS.DPL = 3 under unrestricted guest). */
    protected_mode(&gs, &ctx);
    gs.seg[SEG_CS].access = 0xc0fb;
    gs.seg[SEG_SS].access = 0xc0f3;
    assert_passes(&gs, &ctx);
    gs.activity_state = 1;
    assert_fails(&gs, &ctx, "guest activity state", "SS.DPL is 3");

    long_mode(&gs, &ctx);
    gs.activity_state = 3; /* wait-for-SIPI takes no events */
    assert_passes(&gs, &ctx);
    gs.entry_interruption_info = 0x80000202; /* NMI */
    assert_fails(&gs, &ctx, "guest activity state", "cannot take the injected event");

    long_mode(&gs, &ctx);
    gs.interruptibility = 0x3;
    assert_fails(&gs, &ctx, "guest interruptibility state", "STI and by MOV SS are both 1");

    long_mode(&gs, &ctx);
    gs.interruptibility = 0x1;
    assert_fails(&gs, &ctx, "guest interruptibility state", "RFLAGS.IF is 0");
    gs.rflags |= RFLAGS_IF;
    assert_passes(&gs, &ctx);

    long_mode(&gs, &ctx);
    gs.interruptibility = 0x20;
    assert_fails(&gs, &ctx, "guest interruptibility state", "reserved bits 31:5");

    long_mode(&gs, &ctx);
    gs.interruptibility = 0x2;
    gs.activity_state = 1;
    assert_fails(&gs, &ctx, "guest activity state", "needs it active");
}

static void test_pending_debug_and_link_pointer(void **state)
{
    (void)state;
    struct vmx_guest_state gs;
    struct vmx_check_context ctx;

    long_mode(&gs, &ctx);
    gs.pending_debug = 0x10;
    assert_fails(&gs, &ctx, "guest pending debug exceptions", "reserved bits 0x10");

    /* Single-stepping over a MOV SS: the pending single step must be in BS. */
    long_mode(&gs, &ctx);
    gs.rflags |= RFLAGS_TF;
    gs.interruptibility = 0x2;
    assert_fails(&gs, &ctx, "guest pending debug exceptions", "BS is 0 but RFLAGS.TF is 1");
    gs.pending_debug = 1ull << 14;
    assert_passes(&gs, &ctx);
    gs.rflags &= ~RFLAGS_TF;
    assert_fails(&gs, &ctx, "guest pending debug exceptions", "BS is 1 but RFLAGS.TF is 0");

    long_mode(&gs, &ctx);
    gs.vmcs_link_pointer = 0;
    assert_fails(&gs, &ctx, "guest VMCS link pointer", "not 0xffffffffffffffff");
}

static void test_why_truncates(void **state)
{
    (void)state;
    struct vmx_guest_state gs;
    struct vmx_check_context ctx;
    char why[8];
    real_mode(&gs, &ctx);
    gs.cr0 |= CR0_PG;
    assert_string_equal(vmx_check_guest_state(&gs, &ctx, why, sizeof(why)), "guest CR0");
    assert_string_equal(why, "CR0.PG ");
}

static void test_instruction_error_text(void **state)
{
    (void)state;
    assert_string_equal(vmx_instruction_error_text(7), "VM entry with invalid control field(s)");
    assert_string_equal(vmx_instruction_error_text(8), "VM entry with invalid host-state field(s)");
    assert_string_equal(vmx_instruction_error_text(28), "Invalid operand to INVEPT/INVVPID");
    assert_string_equal(vmx_instruction_error_text(26), "VM entry with events blocked by MOV SS");
    /* 0, the gaps the SDM leaves (14, 21, 27) and anything past the table are unknown. */
    static const unsigned unknown[] = { 0, 14, 21, 27, 29, 1000, ~0u };
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
        assert_string_equal(vmx_instruction_error_text(unknown[i]), "unknown VM-instruction error");
    for (unsigned n = 1; n <= 28; n++)
        if (n != 14 && n != 21 && n != 27)
            assert_string_not_equal(vmx_instruction_error_text(n), "unknown VM-instruction error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixtures_pass),
        cmocka_unit_test(test_control_registers),
        cmocka_unit_test(test_debug_registers_and_msrs),
        cmocka_unit_test(test_segment_selectors_and_bases),
        cmocka_unit_test(test_segment_access_rights),
        cmocka_unit_test(test_limit_granularity),
        cmocka_unit_test(test_virtual_8086),
        cmocka_unit_test(test_descriptor_tables),
        cmocka_unit_test(test_rip_and_rflags),
        cmocka_unit_test(test_activity_and_interruptibility),
        cmocka_unit_test(test_pending_debug_and_link_pointer),
        cmocka_unit_test(test_why_truncates),
        cmocka_unit_test(test_instruction_error_text),
    };
    return cmocka_run_group_tests_name("guest_check", tests, NULL, NULL);
}
