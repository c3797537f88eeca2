; SPDX-License-Identifier: BSD-2-Clause
; MMIO to mhv's emulated test device through the MOV forms guests use, decoded by mhv.
bits 64
org 0x100000
%include "mhv.inc"
%include "lib64.inc"
MHV_HEADER 64, 0x100000, 4, 1, 0, "mmio"

guest_entry:
    call setup_idt
    mov eax, [qword TESTDEV]                ; a1 moffs64
    cmp eax, 0x7476686d
    CHECK e, "32-bit moffs load of the device ID"
    mov r14, TESTDEV
    mov rbx, 0x1122334455667788
    mov [r14 + 8], rbx                      ; REX.W store
    mov rcx, [r14 + 8]
    cmp rcx, rbx
    CHECK e, "64-bit store and load of the scratch register"
    movzx edx, byte [r14 + 8]
    cmp edx, 0x88
    CHECK e, "MOVZX byte load"
    mov r9, [r14 + 8]                       ; REX.R/REX.B, base register + disp8
    cmp r9, rbx
    CHECK e, "load into R9 through R14 + disp8"
    mov word [r14 + 8], 0xbeef              ; 66 c7 store of an immediate
    mov ax, [r14 + 8]
    cmp ax, 0xbeef
    CHECK e, "16-bit immediate store and load"
    mov eax, [r14 + 0x10]                   ; the read counter increments per read
    mov ecx, [r14 + 0x10]
    inc eax
    cmp eax, ecx
    CHECK e, "each read of the counter register is one device access"
    FINISH

LIB64_CODE
