; SPDX-License-Identifier: BSD-2-Clause
; Control registers through mhv's masks and read shadows: the guest reads back what it wrote,
; never sees VMX's bits, and gets #GP for reserved bits and illegal combinations. XSETBV is
; validated the same way.
bits 64
org 0x100000
%include "mhv.inc"
%include "lib64.inc"
MHV_HEADER 64, 0x100000, 4, 1, 0, "cr"

guest_entry:
    call setup_idt
    mov rax, cr4
    bt rax, 13
    CHECK nc, "CR4 reads without VMXE"
    mov rax, cr0
    bt rax, 5
    CHECK nc, "CR0 reads NE as the guest left it"
    mov rbx, cr4
    mov rax, rbx
    bts rax, 13
    EXPECT_FAULT 13, {mov cr4, rax}
    CHECK e, "setting CR4.VMXE raises #GP"
    mov rax, rbx
    bts rax, 31
    EXPECT_FAULT 13, {mov cr4, rax}
    CHECK e, "a reserved CR4 bit raises #GP"
    mov rax, rbx
    btr rax, 5
    EXPECT_FAULT 13, {mov cr4, rax}
    CHECK e, "clearing CR4.PAE in long mode raises #GP"
    mov rax, cr0
    mov rbx, rax
    bts rax, 32
    EXPECT_FAULT 13, {mov cr0, rax}
    CHECK e, "a CR0 bit above 31 raises #GP"
    mov rax, rbx
    btr rax, 31
    EXPECT_FAULT 13, {mov cr0, rax}
    CHECK e, "clearing CR0.PG in 64-bit code raises #GP"
    mov rax, rbx
    bts rax, 29
    EXPECT_FAULT 13, {mov cr0, rax}
    CHECK e, "CR0.NW without CR0.CD raises #GP"
    mov rax, rbx
    bts rax, 30
    mov cr0, rax                    ; CD: accepted, shown, not applied to the host
    mov rcx, cr0
    bt rcx, 30
    CHECK c, "CR0.CD reads back as written"
    mov cr0, rbx
    mov eax, 5
    mov cr8, rax
    mov rcx, cr8
    cmp rcx, 5
    CHECK e, "CR8 reads back 5"
    mov eax, 16
    EXPECT_FAULT 13, {mov cr8, rax}
    CHECK e, "CR8 above 15 raises #GP"

    xor ecx, ecx
    mov eax, 3
    xor edx, edx
    EXPECT_FAULT 6, {xsetbv}
    CHECK e, "XSETBV before CR4.OSXSAVE raises #UD"
    mov eax, 1
    cpuid
    bt ecx, 26
    jnc .done
    mov rax, cr4
    bts rax, 18
    mov cr4, rax
    xor ecx, ecx
    mov eax, 3                      ; x87 + SSE
    xor edx, edx
    xsetbv
    xor ecx, ecx
    xgetbv
    cmp eax, 3
    CHECK e, "XSETBV of x87+SSE takes effect"
    xor ecx, ecx
    xor eax, eax
    xor edx, edx
    EXPECT_FAULT 13, {xsetbv}
    CHECK e, "XSETBV without x87 raises #GP"
    xor ecx, ecx
    mov eax, 5                      ; AVX without SSE
    xor edx, edx
    EXPECT_FAULT 13, {xsetbv}
    CHECK e, "XSETBV of AVX without SSE raises #GP"
    mov ecx, 1
    mov eax, 3
    xor edx, edx
    EXPECT_FAULT 13, {xsetbv}
    CHECK e, "XSETBV of XCR1 raises #GP"
    mov eax, 0xd                    ; with AVX-512: only all three of its components at once
    xor ecx, ecx
    cpuid
    test eax, 1 << 5
    jz .done
    xor ecx, ecx
    mov eax, 0x27                   ; x87, SSE, AVX, opmask but not ZMM_Hi256/Hi16_ZMM
    xor edx, edx
    EXPECT_FAULT 13, {xsetbv}
    CHECK e, "XSETBV with part of the AVX-512 state raises #GP"
.done:
    FINISH

LIB64_CODE
