/* SPDX-License-Identifier: BSD-2-Clause */
// sources: vmx/exit_table.c
/* The VM-exit table and the typed exit qualifications. The table: every basic reason has a
 * name and a handler, a reason beyond the table (any 16-bit value a CPU could report) lands
 * on the row that stops the VM, never on a missing handler, and each row asks for the exit
 * information its kind of exit has: IDT-vectoring information exactly for the exits that can
 * interrupt event delivery (SDM Vol. 3C 29.2.4). The qualifications: each format's fields
 * decoded from values built by the SDM's tables 29-2 to 29-7, and the instruction
 * information of INS/OUTS and RDRAND/RDSEED (tables 29-8 and 29-15). */
#include "stubs.h"

#include "vmx/exit.h"
#include "vmx/exit_qual.h"

/* --- The handlers the table names: each one a distinct stand-in ------------------------------ */

#define STAND_IN(name)                                                                      \
    enum exit_action name(struct vcpu *v)                                                   \
    {                                                                                       \
        (void)v;                                                                            \
        return EXIT_RESUME;                                                                 \
    }
STAND_IN(handle_unexpected)
STAND_IN(handle_raise_ud)
STAND_IN(handle_skip_only)
STAND_IN(handle_exception_nmi)
STAND_IN(handle_external_interrupt)
STAND_IN(handle_triple_fault)
STAND_IN(handle_init_sipi)
STAND_IN(handle_window)
STAND_IN(handle_hlt)
STAND_IN(handle_tpr_below_threshold)
STAND_IN(handle_apic_access)
STAND_IN(handle_virtualized_eoi)
STAND_IN(handle_apic_write)
STAND_IN(handle_pause)
STAND_IN(handle_rdpmc)
STAND_IN(handle_preemption_timer)
STAND_IN(handle_entry_failure)
STAND_IN(handle_xsetbv)
STAND_IN(handle_random)
STAND_IN(handle_cpuid)
STAND_IN(handle_rdmsr)
STAND_IN(handle_wrmsr)
STAND_IN(handle_io)
STAND_IN(handle_cr_access)
STAND_IN(handle_vmcall)
STAND_IN(handle_ept_violation)
STAND_IN(handle_ept_misconfig)
STAND_IN(handle_task_switch)
STAND_IN(handle_invalid_guest_state)

static void test_every_row_has_a_handler(void **state)
{
    (void)state;
    for (unsigned r = 0; r <= EXIT_REASON_COUNT; r++) {
        assert_non_null(exit_table[r].handler);
        assert_non_null(exit_table[r].name);
        assert_true(exit_table[r].name[0] != '\0');
    }
    assert_string_equal(exit_reason_name(EXIT_CPUID), "CPUID");
    assert_ptr_equal(exit_table[EXIT_CPUID].handler, handle_cpuid);
    assert_ptr_equal(exit_table[EXIT_IO].handler, handle_io);
    assert_ptr_equal(exit_table[EXIT_EPT_VIOLATION].handler, handle_ept_violation);
}

static void test_reasons_beyond_the_table(void **state)
{
    (void)state;
    /* The basic reason is 16 bits: every value past the table reaches the stopping row. */
    for (uint32_t basic = EXIT_REASON_COUNT; basic <= 0xffff; basic++) {
        const struct exit_entry *row = exit_table_row(basic);
        assert_ptr_equal(row, &exit_table[EXIT_REASON_COUNT]);
        assert_ptr_equal(row->handler, handle_unexpected);
    }
    assert_ptr_equal(exit_table_row(0xffffffffu), &exit_table[EXIT_REASON_COUNT]);
    assert_string_equal(exit_reason_name(70), "unknown");
    assert_string_equal(exit_reason_name(0x12345), "unknown");
    /* ... and that row reads every field, for the dump of the VM it stops. */
    assert_int_equal(exit_table[EXIT_REASON_COUNT].fields, EXIT_ALL_FIELDS);
    for (uint32_t basic = 0; basic < EXIT_REASON_COUNT; basic++)
        assert_ptr_equal(exit_table_row(basic), &exit_table[basic]);
}

static void test_fields_per_reason(void **state)
{
    (void)state;
    /* IDT-vectoring information: exactly the exits that can occur during event delivery. */
    static const unsigned during_event[] = { EXIT_EXCEPTION_NMI, EXIT_TASK_SWITCH, EXIT_APIC_ACCESS,
                                             EXIT_EPT_VIOLATION, EXIT_EPT_MISCONFIG, EXIT_PML_FULL, EXIT_SPP };
    for (unsigned r = 0; r < EXIT_REASON_COUNT; r++) {
        bool expected = false;
        for (unsigned i = 0; i < sizeof(during_event) / sizeof(during_event[0]); i++)
            expected |= during_event[i] == r;
        if (((exit_table[r].fields & EXIT_VECTORING) != 0) != expected)
            fail_msg("reason %u (%s): IDT-vectoring information %s", r, exit_table[r].name,
                     expected ? "missing" : "read for nothing");
        /* A handler that retires an instruction needs RIP with the length. */
        if (exit_table[r].fields & EXIT_LENGTH)
            assert_true(exit_table[r].fields & EXIT_RIP);
    }
    /* The common exits need nothing beyond RIP, length and qualification. */
    assert_int_equal(exit_table[EXIT_CPUID].fields, EXIT_RIP | EXIT_LENGTH);
    assert_int_equal(exit_table[EXIT_VMCALL].fields, EXIT_RIP | EXIT_LENGTH);
    assert_int_equal(exit_table[EXIT_IO].fields, EXIT_RIP | EXIT_LENGTH | EXIT_QUALIFICATION);
    assert_int_equal(exit_table[EXIT_EXTERNAL_INTERRUPT].fields, 0);
    assert_int_equal(exit_table[EXIT_PREEMPTION_TIMER].fields, 0);
    assert_true(exit_table[EXIT_EXCEPTION_NMI].fields & EXIT_INTERRUPTION);
    assert_true(exit_table[EXIT_EPT_VIOLATION].fields & EXIT_PHYSICAL);
    assert_true(exit_table[EXIT_EPT_VIOLATION].fields & EXIT_LINEAR);
    assert_true(exit_table[EXIT_RDRAND].fields & EXIT_INSTRUCTION_INFO);
}

/* --- Qualifications --------------------------------------------------------------------------- */

static void test_io(void **state)
{
    (void)state;
    /* OUT DX, AL to 0x80: size 0 (1 byte), OUT, DX. */
    struct exit_qual_io q = exit_qual_io(0x80ull << 16);
    assert_int_equal(q.port, 0x80);
    assert_int_equal(q.size, 1);
    assert_false(q.in || q.string || q.rep || q.immediate);
    /* REP INSD from 0xcfc: size 3 (4 bytes), IN, string, REP. */
    q = exit_qual_io((0xcfcull << 16) | 3 | QUAL_IO_IN | QUAL_IO_STRING | QUAL_IO_REP);
    assert_int_equal(q.port, 0xcfc);
    assert_int_equal(q.size, 4);
    assert_true(q.in && q.string && q.rep);
    assert_false(q.immediate);
    /* IN AX, 0x71: size 1 (2 bytes), IN, immediate; reserved bits above 31 ignored. */
    q = exit_qual_io((0xffull << 40) | (0x71ull << 16) | 1 | QUAL_IO_IN | QUAL_IO_IMMEDIATE);
    assert_int_equal(q.port, 0x71);
    assert_int_equal(q.size, 2);
    assert_true(q.in && q.immediate);
    assert_false(q.string || q.rep);
    assert_int_equal(exit_qual_io(0xffffull << 16).port, 0xffff);
}

static void test_cr(void **state)
{
    (void)state;
    /* MOV CR0, RAX (type 0, register 0). */
    struct exit_qual_cr q = exit_qual_cr(0);
    assert_int_equal(q.cr, 0);
    assert_int_equal(q.type, CR_MOV_TO);
    assert_int_equal(q.gpr, 0);
    /* MOV R13, CR8 (type 1, register 13). */
    q = exit_qual_cr(8 | (1 << QUAL_CR_TYPE_SHIFT) | (13 << QUAL_CR_GPR_SHIFT));
    assert_int_equal(q.cr, 8);
    assert_int_equal(q.type, CR_MOV_FROM);
    assert_int_equal(q.gpr, 13);
    /* CLTS. */
    assert_int_equal(exit_qual_cr(2 << QUAL_CR_TYPE_SHIFT).type, CR_CLTS);
    /* LMSW [mem] with source 0x000b. */
    q = exit_qual_cr((3 << QUAL_CR_TYPE_SHIFT) | QUAL_CR_LMSW_MEMORY | (0xbull << QUAL_CR_LMSW_SOURCE_SHIFT));
    assert_int_equal(q.type, CR_LMSW);
    assert_true(q.lmsw_memory);
    assert_int_equal(q.lmsw_source, 0xb);
    assert_false(exit_qual_cr(3 << QUAL_CR_TYPE_SHIFT).lmsw_memory);
}

static void test_ept_violation(void **state)
{
    (void)state;
    /* A data write to an unmapped page, linear address valid and the access's own. */
    struct exit_qual_ept q = exit_qual_ept(QUAL_EPT_WRITE | QUAL_EPT_LINEAR_VALID | QUAL_EPT_FINAL);
    assert_true(q.write && q.linear_valid && q.final);
    assert_false(q.read || q.fetch || q.readable || q.writable || q.executable || q.nmi_unblocked);
    /* A read during a page walk: bit 7 without bit 8. */
    q = exit_qual_ept(QUAL_EPT_READ | QUAL_EPT_LINEAR_VALID);
    assert_true(q.read && q.linear_valid);
    assert_false(q.final);
    /* Bit 8 means nothing without bit 7. */
    assert_false(exit_qual_ept(QUAL_EPT_READ | QUAL_EPT_FINAL).final);
    /* A fetch from a readable, writable but not executable page, after an IRET that unblocked NMIs. */
    q = exit_qual_ept(QUAL_EPT_FETCH | QUAL_EPT_READABLE | QUAL_EPT_WRITABLE | QUAL_NMI_UNBLOCKED_BY_IRET);
    assert_true(q.fetch && q.readable && q.writable && q.nmi_unblocked);
    assert_false(q.executable || q.linear_valid);
    assert_int_equal(QUAL_NMI_UNBLOCKED_BY_IRET, 1u << 12);
    assert_int_equal(QUAL_EPT_LINEAR_VALID | QUAL_EPT_FINAL, 0x180);
}

static void test_apic_access(void **state)
{
    (void)state;
    /* A write to the ICR's low half (offset 0x300). */
    struct exit_qual_apic_access q = exit_qual_apic_access(0x300 | (1 << QUAL_APIC_TYPE_SHIFT));
    assert_int_equal(q.offset, 0x300);
    assert_int_equal(q.type, APIC_LINEAR_WRITE);
    assert_true(q.data && q.write);
    /* A read of the PPR (0xa0). */
    q = exit_qual_apic_access(0xa0);
    assert_int_equal(q.type, APIC_LINEAR_READ);
    assert_true(q.data);
    assert_false(q.write);
    /* Fetches, event delivery and guest-physical accesses are no data access. */
    assert_false(exit_qual_apic_access(2 << QUAL_APIC_TYPE_SHIFT).data);
    assert_false(exit_qual_apic_access(3 << QUAL_APIC_TYPE_SHIFT).data);
    assert_int_equal(exit_qual_apic_access(10 << QUAL_APIC_TYPE_SHIFT).type, APIC_PHYSICAL_EVENT);
    assert_false(exit_qual_apic_access(15 << QUAL_APIC_TYPE_SHIFT).data);
}

static void test_task_switch(void **state)
{
    (void)state;
    struct exit_qual_task_switch q = exit_qual_task_switch(0x28 | (3ull << QUAL_TASK_SOURCE_SHIFT));
    assert_int_equal(q.selector, 0x28);
    assert_int_equal(q.source, TASK_FROM_GATE);
    q = exit_qual_task_switch(0x1234 | (1ull << QUAL_TASK_SOURCE_SHIFT));
    assert_int_equal(q.selector, 0x1234);
    assert_int_equal(q.source, TASK_FROM_IRET);
    assert_int_equal(exit_qual_task_switch(0).source, TASK_FROM_CALL);
    assert_int_equal(exit_qual_task_switch(2ull << QUAL_TASK_SOURCE_SHIFT).source, TASK_FROM_JMP);
}

static void test_instruction_info(void **state)
{
    (void)state;
    /* OUTS with a 32-bit address and an FS override (segment 4). */
    struct exit_insn_info_io io =
        exit_insn_info_io((1u << INSN_INFO_IO_ADDRESS_SIZE_SHIFT) | (4u << INSN_INFO_IO_SEGMENT_SHIFT));
    assert_int_equal(io.address_size, 1);
    assert_int_equal(io.segment, 4);
    /* RDRAND R9 with a 64-bit operand; RDSEED AX (16-bit). */
    struct exit_insn_info_rand r =
        exit_insn_info_rand((9u << INSN_INFO_RAND_REGISTER_SHIFT) | (2u << INSN_INFO_RAND_SIZE_SHIFT));
    assert_int_equal(r.reg, 9);
    assert_int_equal(r.size, 8);
    r = exit_insn_info_rand(0);
    assert_int_equal(r.reg, 0);
    assert_int_equal(r.size, 2);
    assert_int_equal(exit_insn_info_rand(1u << INSN_INFO_RAND_SIZE_SHIFT).size, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_row_has_a_handler),
        cmocka_unit_test(test_reasons_beyond_the_table),
        cmocka_unit_test(test_fields_per_reason),
        cmocka_unit_test(test_io),
        cmocka_unit_test(test_cr),
        cmocka_unit_test(test_ept_violation),
        cmocka_unit_test(test_apic_access),
        cmocka_unit_test(test_task_switch),
        cmocka_unit_test(test_instruction_info),
    };
    return cmocka_run_group_tests_name("exit", tests, NULL, NULL);
}
