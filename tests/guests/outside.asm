; SPDX-License-Identifier: BSD-2-Clause
; Touches guest-physical memory it does not have: mhv stops this VM, and only this VM.
bits 64
org 0x100000
%include "mhv.inc"
MHV_HEADER 64, 0x100000, 4, 1, 0, "outside"

guest_entry:
    lea rsi, [rel message]
.next:
    lodsb
    test al, al
    jz .touch
    PUTC_AL
    jmp .next
.touch:
    mov rax, [0x40000000]           ; 1 GiB: mapped by the guest's page tables, not by EPT
    EXIT 0                          ; never reached

message: db "outside: reading guest-physical 0x40000000", 10, 0
