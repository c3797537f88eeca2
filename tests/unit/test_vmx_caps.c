/* SPDX-License-Identifier: BSD-2-Clause */
// sources: vmx/caps.c lib/format.c
/* VMX capability decoding and mhv's go/no-go decision, fed with the capability MSRs that
 * Bochs 2.7 (corei7_skylake_x) reports (captured with loglevel=debug) and variations of them. */
#include "stubs.h"

#include <string.h>

#include "arch/x86/msr.h"
#include "vmx/caps.h"

struct msr_value {
    uint32_t msr;
    uint64_t value;
};

/* Bochs 2.7 corei7_skylake_x. */
static const struct msr_value bochs_skylake_x[] = {
    { MSR_IA32_VMX_BASIC, 0x00d810000000002bull },
    { MSR_IA32_VMX_TRUE_PINBASED_CTLS, 0x0000007f00000016ull },
    { MSR_IA32_VMX_TRUE_PROCBASED_CTLS, 0xf7f9fffe04006172ull },
    { MSR_IA32_VMX_PROCBASED_CTLS2, 0x02177fff00000000ull },
    { MSR_IA32_VMX_TRUE_EXIT_CTLS, 0x007fffff00036dfbull },
    { MSR_IA32_VMX_TRUE_ENTRY_CTLS, 0x0000ffff000011fbull },
    { MSR_IA32_VMX_EPT_VPID_CAP, 0x00000f0106334141ull },
    { MSR_IA32_VMX_MISC, 0x00000000600401e0ull },
    { MSR_IA32_VMX_CR0_FIXED0, 0x80000021ull },
    { MSR_IA32_VMX_CR0_FIXED1, 0xffffffffull },
    { MSR_IA32_VMX_CR4_FIXED0, 0x2000ull },
    { MSR_IA32_VMX_CR4_FIXED1, 0x3727ffull },
};

static struct msr_value machine[32];
static unsigned machine_count;
static uint32_t msrs_read[64];
static unsigned reads;

static uint64_t fake_rdmsr(uint32_t msr)
{
    msrs_read[reads++ & 63] = msr;
    for (unsigned i = 0; i < machine_count; i++)
        if (machine[i].msr == msr)
            return machine[i].value;
    fail_msg("decoder read MSR 0x%x, which this machine does not have (#GP on hardware)", msr);
    return 0;
}

static void set_msr(uint32_t msr, uint64_t value)
{
    for (unsigned i = 0; i < machine_count; i++) {
        if (machine[i].msr == msr) {
            machine[i].value = value;
            return;
        }
    }
    machine[machine_count++] = (struct msr_value){ msr, value };
}

static bool was_read(uint32_t msr)
{
    for (unsigned i = 0; i < reads && i < 64; i++)
        if (msrs_read[i] == msr)
            return true;
    return false;
}

static int setup(void **state)
{
    (void)state;
    memcpy(machine, bochs_skylake_x, sizeof(bochs_skylake_x));
    machine_count = sizeof(bochs_skylake_x) / sizeof(bochs_skylake_x[0]);
    reads = 0;
    return 0;
}

static void test_bochs_is_accepted(void **state)
{
    (void)state;
    struct vmx_caps c;
    vmx_caps_read(&c, fake_rdmsr);
    assert_int_equal(c.revision, 0x2b);
    assert_int_equal(c.vmcs_size, 4096);
    assert_int_equal(c.vmcs_memtype, 6);
    assert_true(c.true_controls);
    char missing[256], optional[512], present[512];
    assert_int_equal(vmx_caps_check(&c, missing, sizeof(missing), optional, sizeof(optional)), 0);
    assert_string_equal(missing, "");
    assert_string_equal(optional, "posted-interrupts"); /* Bochs lacks only this one */
    vmx_caps_describe(&c, present, sizeof(present));
    assert_non_null(strstr(present, "ept "));
    assert_non_null(strstr(present, "vpid "));
    assert_non_null(strstr(present, "unrestricted-guest "));
    assert_non_null(strstr(present, "preemption-timer "));
    assert_non_null(strstr(present, "ept-1g "));
}

static void test_true_msrs_only_when_advertised(void **state)
{
    (void)state;
    /* Without IA32_VMX_BASIC[55] the TRUE MSRs do not exist (#GP on hardware): the decoder
     * must use the original ones. */
    set_msr(MSR_IA32_VMX_BASIC, 0x00d810000000002bull & ~(1ull << 55));
    set_msr(MSR_IA32_VMX_PINBASED_CTLS, 0x0000007f00000016ull);
    set_msr(MSR_IA32_VMX_PROCBASED_CTLS, 0xf7f9fffe0401e172ull);
    set_msr(MSR_IA32_VMX_EXIT_CTLS, 0x007fffff00036dffull);
    set_msr(MSR_IA32_VMX_ENTRY_CTLS, 0x0000ffff000011ffull);
    struct vmx_caps c;
    vmx_caps_read(&c, fake_rdmsr);
    assert_false(c.true_controls);
    assert_false(was_read(MSR_IA32_VMX_TRUE_PINBASED_CTLS));
    assert_true(was_read(MSR_IA32_VMX_PINBASED_CTLS));
    assert_int_equal(c.must_be_one[CTL_PROC], 0x0401e172);
}

static void test_no_secondary_controls(void **state)
{
    (void)state;
    /* Primary bit 31 cannot be 1: PROCBASED_CTLS2 and EPT_VPID_CAP must not be read. */
    set_msr(MSR_IA32_VMX_TRUE_PROCBASED_CTLS, 0x77f9fffe04006172ull);
    struct vmx_caps c;
    vmx_caps_read(&c, fake_rdmsr);
    assert_false(was_read(MSR_IA32_VMX_PROCBASED_CTLS2));
    assert_false(was_read(MSR_IA32_VMX_EPT_VPID_CAP));
    char missing[256];
    int n = vmx_caps_check(&c, missing, sizeof(missing), NULL, 0);
    assert_int_equal(n, 6);
    assert_string_equal(missing, "ept ept-4-level ept-wb invept unrestricted-guest secondary-controls");
}

static void test_missing_unrestricted_guest(void **state)
{
    (void)state;
    set_msr(MSR_IA32_VMX_PROCBASED_CTLS2, 0x02177f7f00000000ull); /* bit 7 cleared */
    struct vmx_caps c;
    vmx_caps_read(&c, fake_rdmsr);
    char missing[256], optional[512];
    assert_int_equal(vmx_caps_check(&c, missing, sizeof(missing), optional, sizeof(optional)), 1);
    assert_string_equal(missing, "unrestricted-guest");
}

static void test_optional_features_do_not_block(void **state)
{
    (void)state;
    set_msr(MSR_IA32_VMX_TRUE_PINBASED_CTLS, 0x0000003f00000016ull);   /* no preemption timer */
    set_msr(MSR_IA32_VMX_PROCBASED_CTLS2, 0x02177fdf00000000ull);      /* no VPID */
    struct vmx_caps c;
    vmx_caps_read(&c, fake_rdmsr);
    char missing[256], optional[512];
    assert_int_equal(vmx_caps_check(&c, missing, sizeof(missing), optional, sizeof(optional)), 0);
    assert_non_null(strstr(optional, "vpid"));
    assert_non_null(strstr(optional, "preemption-timer"));
}

static void test_vmcs_memory_type_and_address_width(void **state)
{
    (void)state;
    set_msr(MSR_IA32_VMX_BASIC, (0x00d810000000002bull & ~(0xfull << 50)) | (1ull << 48));
    struct vmx_caps c;
    vmx_caps_read(&c, fake_rdmsr);
    char missing[256];
    assert_int_equal(vmx_caps_check(&c, missing, sizeof(missing), NULL, 0), 2);
    assert_string_equal(missing, "vmcs-write-back 64-bit-vmx-addresses");
}

static void test_feature_control_plan(void **state)
{
    (void)state;
    uint64_t v = 0;
    assert_int_equal(vmx_feature_control_plan(0x5, &v), VMX_FC_OK);          /* Bochs */
    assert_int_equal(vmx_feature_control_plan(0x1, &v), VMX_FC_LOCKED_OFF);   /* locked off */
    assert_int_equal(vmx_feature_control_plan(0x3, &v), VMX_FC_LOCKED_OFF);   /* SMX only */
    assert_int_equal(vmx_feature_control_plan(0x0, &v), VMX_FC_WRITE);        /* unlocked */
    assert_int_equal(v, 0x5);
    assert_int_equal(vmx_feature_control_plan(0x100, &v), VMX_FC_WRITE);      /* keeps other bits */
    assert_int_equal(v, 0x105);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_bochs_is_accepted, setup),
        cmocka_unit_test_setup(test_true_msrs_only_when_advertised, setup),
        cmocka_unit_test_setup(test_no_secondary_controls, setup),
        cmocka_unit_test_setup(test_missing_unrestricted_guest, setup),
        cmocka_unit_test_setup(test_optional_features_do_not_block, setup),
        cmocka_unit_test_setup(test_vmcs_memory_type_and_address_width, setup),
        cmocka_unit_test_setup(test_feature_control_plan, setup),
    };
    return cmocka_run_group_tests_name("vmx_caps", tests, NULL, NULL);
}
