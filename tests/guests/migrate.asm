; SPDX-License-Identifier: BSD-2-Clause
; One vCPU that mhv moves to another physical CPU after every short slice (header flag
; FLAG_MIGRATE). The guest keeps values in general registers, SSE registers and memory and
; checks them all the time: a migration that lost any state would show here.
bits 64
org 0x100000
%include "mhv.inc"
%include "lib64.inc"
MHV_HEADER 64, 0x100000, 4, 1, FLAG_MIGRATE, "migrate"

ITERATIONS equ 1000000

guest_entry:
    call setup_idt
    mov rax, cr4
    bts rax, 9                      ; OSFXSR: SSE on
    mov cr4, rax
    mov rax, cr0
    btr rax, 2                      ; EM off
    bts rax, 1                      ; MP on
    mov cr0, rax
    xor r15d, r15d                  ; iteration counter
    mov r8, 0x0123456789abcdef
    mov r9, r8
    not r9
    movq xmm0, r8
    movq xmm1, r9
.loop:
    ; r10 and xmm2 are derived from the counter; memory holds the same value.
    mov r10, r15
    imul r10, r10, 0x3779b1
    movq xmm2, r10
    mov [rel cell + 8 * 0], r10
    mov [rel cell + 8 * 7], r15
    ; a little work so slices end anywhere in the loop
    mov r11, r10
    ror r11, 13
    xor r11, r8
    rol r11, 13
    ; checks
    mov rax, r8
    xor rax, r9
    cmp rax, -1
    jne .broken
    movq rax, xmm0
    cmp rax, r8
    jne .broken
    movq rax, xmm1
    cmp rax, r9
    jne .broken
    movq rax, xmm2
    cmp rax, [rel cell + 8 * 0]
    jne .broken
    cmp r15, [rel cell + 8 * 7]
    jne .broken
    inc r15
    cmp r15, ITERATIONS
    jb .loop
    PRINT {"ok - registers, SSE registers and memory intact after "}
    mov rax, r15
    call put_dec
    PRINT {" iterations", 10}
    FINISH
.broken:
    PRINT {"not ok - state changed under the guest at iteration "}
    mov rax, r15
    call put_dec
    PRINT {10}
    mov al, 1
    out DEBUG_EXIT, al
    hlt

align 8
cell: times 8 dq 0
LIB64_CODE
