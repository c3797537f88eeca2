; SPDX-License-Identifier: BSD-2-Clause
; INIT and STARTUP sent back to back, as Linux sends them on CPUs that need no delay: vCPU 0
; restarts vCPU 1 (broadcast to all but itself) 300 times while vCPU 1 is busy in one of three
; states, running, halted with interrupts on, halted with interrupts off, and checks that it
; ran its start-up code every time (SDM Vol. 3A 9.4: a STARTUP IPI that arrives while an INIT
; is being taken is not lost).
bits 64
org 0x100000
%include "mhv.inc"
%include "lib64.inc"
MHV_HEADER 64, 0x100000, 4, 2, 0, "initsipi"

ROUNDS  equ 300
COUNTER equ 0x9000                  ; dword: times vCPU 1 ran its start-up code
STATE   equ 0x9004                  ; byte: what vCPU 1 does next (0 spin, 1 hlt, 2 cli; hlt)

guest_entry:
    call setup_idt
    lea rsi, [rel ap_code]          ; the AP's code must sit below 1 MiB
    mov rdi, 0x8000
    mov ecx, ap_code_end - ap_code
    rep movsb
    mov r14, LAPIC
    mov dword [COUNTER], 0
    xor r12d, r12d                  ; rounds done
    xor r13d, r13d                  ; rounds in which vCPU 1 came back
.round:
    mov eax, r12d                   ; the state cycles through the three
    xor edx, edx
    mov ecx, 3
    div ecx
    mov [STATE], dl
    mov dword [r14 + 0x300], 0xc4500  ; INIT, assert, all excluding self
    mov dword [r14 + 0x300], 0xc4608  ; STARTUP, vector 8 -> 0x8000, all excluding self
    lea ebx, [r12d + 1]
    mov ecx, 20000000
.wait:
    cmp [COUNTER], ebx
    je .back
    pause
    dec ecx
    jnz .wait
    mov [COUNTER], ebx              ; lost: go on counting from here
    jmp .next
.back:
    inc r13d
    mov ecx, 2000                   ; let it settle into its state
.settle:
    pause
    dec ecx
    jnz .settle
.next:
    inc r12d
    cmp r12d, ROUNDS
    jb .round
    PRINT "vCPU 1 came back in "
    mov eax, r13d
    call put_dec
    PRINT {" of 300 rounds", 10}
    cmp r13d, ROUNDS
    CHECK e, "every INIT+STARTUP pair restarted vCPU 1"
    FINISH

bits 16
ap_code:                            ; runs at 0800:0000 in real mode
    xor ax, ax
    mov ds, ax
    lock inc dword [COUNTER]
    mov al, [STATE]
    cmp al, 1
    je .halt
    cmp al, 2
    je .halt_off
.spin:
    pause
    jmp .spin
.halt:
    sti
    hlt
    jmp .halt
.halt_off:
    cli
    hlt
    jmp .halt_off
ap_code_end:
bits 64

LIB64_CODE
