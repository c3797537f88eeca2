; SPDX-License-Identifier: BSD-2-Clause
; String I/O in 64-bit mode: canonical checks (#GP), FS's base, and the
; 32-bit address size (ESI, zero-extended into RSI as every 32-bit register write is). The
; UART's scratch register (0x3ff) gives back what OUTS sent. (An SS override would make a
; non-canonical address #SS, but Bochs's decoder drops SS overrides in 64-bit mode, so its
; exits never report SS there; the 32-bit guest checks #SS.)
bits 64
org 0x100000
%include "mhv.inc"
%include "lib64.inc"
MHV_HEADER 64, 0x100000, 4, 1, 0, "stringio64"

SCRATCH equ COM1 + 7
NOPORT  equ 0x99

guest_entry:
    call setup_idt
    mov rsi, 0x0000800000000000
    mov dx, NOPORT
    EXPECT_FAULT 13, {outsb}
    CHECK e, "OUTSB from a non-canonical address raises #GP"
    mov rdi, 0xffff7ffffffffffe
    mov dx, NOPORT
    EXPECT_FAULT 13, {insw}
    CHECK e, "INSW to a non-canonical address raises #GP"

    mov ecx, 0xc0000100             ; FS.base
    lea rax, [rel fs_data]
    mov rdx, rax
    shr rdx, 32
    wrmsr
    xor esi, esi
    mov dx, SCRATCH
    db 0x64, 0x6e                   ; FS-relative OUTSB
    in al, dx
    cmp al, 0x5a
    CHECK e, "FS-relative OUTSB reads at FS.base + RSI"

    mov byte [0x10], 0xa7
    mov rsi, 0xffffffff00000010
    mov dx, SCRATCH
    db 0x67, 0x6e                   ; OUTSB with a 32-bit address size
    in al, dx
    cmp al, 0xa7
    CHECK e, "a32 OUTSB in 64-bit mode reads at ESI"
    cmp rsi, 0x11
    CHECK e, "and leaves ESI + 1 zero-extended in RSI"

    mov rdi, 0x300000
    mov rcx, 16
    mov dx, NOPORT
    std
    add rdi, 15
    rep insb
    cld
    cmp rdi, 0x300000 - 1
    CHECK e, "DF=1 REP INSB in 64-bit mode counts RDI down"
    cmp qword [0x300008], -1
    CHECK e, "  writing the bytes below its start"
    FINISH

fs_data: db 0x5a
    LIB64_CODE
