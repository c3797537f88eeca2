; SPDX-License-Identifier: BSD-2-Clause
; Reads lines from COM1 by polling (LSR.DR, then RBR) and prints each back as "got: <line>",
; control characters shown as ^X; the line "quit" ends the guest with status 0. The boot
; tests type into mhv's serial line and watch where the lines come back.
bits 64
org 0x100000
%include "mhv.inc"
%include "lib64.inc"
MHV_HEADER 64, 0x100000, 4, 1, 0, "echo"

LSR equ 5
LSR_DATA_READY equ 1
LINE_MAX equ 64

guest_entry:
    call setup_idt
    PRINT {"echo: ready", 10}
new_line:
    lea rdi, [rel line]
    xor ecx, ecx                    ; bytes in the line
next_byte:
    mov dx, COM1 + LSR
.wait:
    in al, dx
    test al, LSR_DATA_READY
    jz .wait
    mov dx, COM1
    in al, dx
    cmp al, 13                      ; a line ends with CR (a terminal's Enter) or LF
    je end_of_line
    cmp al, 10
    je end_of_line
    cmp ecx, LINE_MAX
    jae next_byte                   ; too long: the rest of the line is dropped
    mov [rdi + rcx], al
    inc ecx
    jmp next_byte

end_of_line:
    test ecx, ecx
    jz next_byte                    ; CR LF, or an empty line: nothing to say
    cmp ecx, 4
    jne .print
    cmp dword [rdi], 'quit'
    jne .print
    PRINT {"echo: bye", 10}
    EXIT 0
.print:
    PRINT "got: "
    xor ebx, ebx
.char:
    mov al, [rdi + rbx]
    cmp al, ' '
    jae .plain
    push rax                        ; a control character: ^ and the letter
    mov al, '^'
    PUTC_AL
    pop rax
    add al, '@'
.plain:
    PUTC_AL
    inc ebx
    cmp ebx, ecx
    jb .char
    mov al, 10
    PUTC_AL
    jmp new_line

LIB64_CODE

line: times LINE_MAX db 0
