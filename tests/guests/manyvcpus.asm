; SPDX-License-Identifier: BSD-2-Clause
; 32 vCPUs (bochs_many runs them on 2 CPUs): vCPU 0 starts the other 31 with INIT and STARTUP,
; one APIC ID at a time as firmware does. Each of them spins through some work in real mode,
; arrives at a barrier and waits there until all 31 have arrived, then counts itself done and
; halts. The barrier needs every vCPU to have run while the others wait: a scheduler that
; loses or starves one never lets the guest finish.
bits 64
org 0x100000
%include "mhv.inc"
%include "lib64.inc"
MHV_HEADER 64, 0x100000, 4, 32, 0, "many"

APS equ 31
ARRIVED equ 0x9000                  ; words the APs count up (real mode: DS = 0)
DONE equ 0x9002

guest_entry:
    call setup_idt
    lea rsi, [rel ap_code]          ; the APs' code must sit below 1 MiB
    mov rdi, 0x8000
    mov ecx, ap_code_end - ap_code
    rep movsb
    mov r14, LAPIC
    mov ebx, 1
.start:
    mov eax, ebx
    shl eax, 24
    mov [r14 + 0x310], eax          ; destination: APIC ID ebx
    mov dword [r14 + 0x300], 0x4500 ; INIT, assert
    mov [r14 + 0x310], eax
    mov dword [r14 + 0x300], 0x4608 ; STARTUP, vector 8 -> 0x8000
    inc ebx
    cmp ebx, APS
    jbe .start
    mov rcx, 2000000000
.wait:
    cmp word [DONE], APS
    je .done
    pause
    dec rcx
    jnz .wait
.done:
    PRINT "many: APs done: "
    movzx eax, word [DONE]
    call put_dec
    PRINT {10}
    cmp word [DONE], APS
    CHECK e, "all 31 APs passed the barrier"
    FINISH

bits 16
ap_code:                            ; runs at 0800:0000 in real mode
    xor ax, ax
    mov ds, ax
    mov cx, 20000
.work:
    dec cx
    jnz .work
    lock inc word [ARRIVED]
.barrier:
    pause
    cmp word [ARRIVED], APS
    jne .barrier
    lock inc word [DONE]
.park:
    sti
    hlt
    jmp .park
ap_code_end:
bits 64

LIB64_CODE
