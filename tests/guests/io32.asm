; SPDX-License-Identifier: BSD-2-Clause
; Port I/O from 32-bit protected mode: unclaimed ports read all-ones, string forms with REP
; move the right bytes and update ESI/EDI/ECX, also backwards (DF=1).
bits 32
org 0x100000
%include "mhv.inc"
MHV_HEADER 32, 0x100000, 4, 1, 0, "io32"

%macro FAIL_IF 2                    ; FAIL_IF cc, code: exit with status code when cc holds
    j%-1 %%ok
    mov al, %2
    out DEBUG_EXIT, al
    hlt
%%ok:
%endmacro

guest_entry:
    mov esi, hello
    mov ecx, hello_end - hello
    mov dx, COM1
    cld
    rep outsb                       ; a whole line through one REP OUTSB
    cmp ecx, 0
    FAIL_IF ne, 1
    cmp esi, hello_end
    FAIL_IF ne, 2

    in al, 0x99                     ; nothing there
    cmp al, 0xff
    FAIL_IF ne, 3
    mov dx, 0x99
    in ax, dx
    cmp ax, 0xffff
    FAIL_IF ne, 4
    in eax, dx
    cmp eax, 0xffffffff
    FAIL_IF ne, 5

    mov edi, buffer
    mov ecx, 16
    rep insb
    cmp edi, buffer + 16
    FAIL_IF ne, 6
    cmp dword [buffer], 0xffffffff
    FAIL_IF ne, 7
    cmp dword [buffer + 12], 0xffffffff
    FAIL_IF ne, 8
    cmp byte [buffer + 16], 0x5a    ; the byte after stays untouched
    FAIL_IF ne, 9

    std                             ; backwards: the line comes out reversed
    mov esi, backwards_end - 1
    mov ecx, backwards_end - backwards
    mov dx, COM1
    rep outsb
    cld
    cmp esi, backwards - 1
    FAIL_IF ne, 10

    mov esi, buffer                 ; 16-bit elements to a port with nothing behind it
    mov ecx, 4
    mov dx, 0x99
    rep outsw
    cmp ecx, 0
    FAIL_IF ne, 11
    cmp esi, buffer + 8
    FAIL_IF ne, 12
    mov esi, done
    mov ecx, done_end - done
    mov dx, COM1
    rep outsb
    mov al, 0x42
    out 0x80, al                    ; POST code port
    EXIT 0

hello: db "io32: REP OUTSB from 32-bit protected mode", 10
hello_end:
backwards: db 10, "desrever :BSTUO PER"
backwards_end:
done: db "io32: all port I/O checks passed", 10
done_end:
buffer: times 16 db 0
        db 0x5a
