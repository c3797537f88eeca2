; SPDX-License-Identifier: BSD-2-Clause
; A real-mode guest (unrestricted guest): prints, asks CPUID for the hypervisor bit, exits.
bits 16
org 0x7c00
%include "mhv.inc"
MHV_HEADER 16, 0x7c00, 1, 1, 0, "real16"

guest_entry:
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7c00
    mov si, hello
    call puts16
    mov eax, 1
    cpuid
    bt ecx, 31
    jnc .fail
    mov si, ok
    call puts16
    EXIT 0
.fail:
    EXIT 1

puts16:
    mov dx, COM1
.next:
    lodsb
    test al, al
    jz .done
    out dx, al
    jmp .next
.done:
    ret

hello: db "real16: hello from real mode", 10, 0
ok:    db "real16: CPUID reports a hypervisor", 10, 0
