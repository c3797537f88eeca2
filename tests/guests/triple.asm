; SPDX-License-Identifier: BSD-2-Clause
; Triple fault: no usable IDT, then an exception. mhv stops this VM and keeps running.
bits 32
org 0x100000
%include "mhv.inc"
MHV_HEADER 32, 0x100000, 4, 1, 0, "triple"

guest_entry:
    mov dx, COM1
    mov esi, message
.next:
    lodsb
    test al, al
    jz .crash
    out dx, al
    jmp .next
.crash:
    lidt [empty_idt]
    ud2                             ; #UD -> #GP (no gate) -> #DF -> triple fault

empty_idt: dw 0
           dd 0
message: db "triple: about to triple fault", 10, 0
