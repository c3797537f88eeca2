; SPDX-License-Identifier: BSD-2-Clause
; The smallest 64-bit guest: one line on COM1, then exit status 0.
bits 64
org 0x100000
%include "mhv.inc"
MHV_HEADER 64, 0x100000, 4, 1, 0, "hello64"

guest_entry:
    lea rsi, [rel message]
.next:
    lodsb
    test al, al
    jz .done
    PUTC_AL
    jmp .next
.done:
    EXIT 0

message: db "hello from a 64-bit guest", 10, 0
