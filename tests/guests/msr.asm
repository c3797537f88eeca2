; SPDX-License-Identifier: BSD-2-Clause
; MSRs: emulated ones, passed-through ones, #GP for unknown MSRs, reserved bits and bad values;
; and VMX instructions, which a guest cannot use, raise #UD.
bits 64
org 0x100000
%include "mhv.inc"
%include "lib64.inc"
MHV_HEADER 64, 0x100000, 4, 1, 0, "msr"

guest_entry:
    call setup_idt
    mov ecx, 0x12345678
    EXPECT_FAULT 13, {rdmsr}
    CHECK e, "RDMSR of an unknown MSR raises #GP"
    mov ecx, 0x12345678
    xor eax, eax
    xor edx, edx
    EXPECT_FAULT 13, {wrmsr}
    CHECK e, "WRMSR of an unknown MSR raises #GP"

    mov ecx, 0xc0000080             ; EFER: bit 1 is reserved
    rdmsr
    or eax, 2
    EXPECT_FAULT 13, {wrmsr}
    CHECK e, "EFER with a reserved bit raises #GP"
    mov ecx, 0xc0000080
    rdmsr
    test eax, 1 << 10
    CHECK nz, "EFER.LMA reads 1 in long mode"

    mov ecx, 0x277                  ; PAT: memory type 2 is reserved
    mov eax, 0x00070402
    xor edx, edx
    EXPECT_FAULT 13, {wrmsr}
    CHECK e, "PAT with a reserved memory type raises #GP"
    mov ecx, 0x277
    mov eax, 0x00070406
    mov edx, 0x00070106
    wrmsr
    xor edx, edx
    rdmsr
    cmp edx, 0x00070106
    CHECK e, "PAT reads back what was written"

    mov ecx, 0x3a                   ; IA32_FEATURE_CONTROL: locked, VMX off
    rdmsr
    cmp eax, 1
    CHECK e, "IA32_FEATURE_CONTROL reads locked with VMX off"

    mov ecx, 0xc0000102             ; KERNEL_GS_BASE: passed through
    mov eax, 0x12345000
    mov edx, 0x7f
    wrmsr
    xor eax, eax
    xor edx, edx
    rdmsr
    cmp edx, 0x7f
    CHECK e, "KERNEL_GS_BASE keeps its value"
    mov ecx, 0xc0000100             ; FS_BASE: a non-canonical value raises #GP
    xor eax, eax
    mov edx, 0x00800000
    EXPECT_FAULT 13, {wrmsr}
    CHECK e, "FS_BASE with a non-canonical address raises #GP"

    mov ecx, 0x10                   ; TSC: writing it moves the guest's TSC
    xor eax, eax
    xor edx, edx
    wrmsr
    rdtsc
    cmp edx, 0
    CHECK e, "writing the TSC MSR moves the guest's TSC"

    EXPECT_FAULT 6, {vmxoff}
    CHECK e, "VMXOFF raises #UD"
    EXPECT_FAULT 6, {vmptrst [rel scratch]}
    CHECK e, "VMPTRST raises #UD"
    FINISH

scratch: dq 0
LIB64_CODE
