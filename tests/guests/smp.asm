; SPDX-License-Identifier: BSD-2-Clause
; Two vCPUs: vCPU 0 starts vCPU 1 the way firmware starts an AP, INIT then STARTUP through the
; local APIC's ICR. vCPU 1 runs real-mode code at 0x8000, reports, and raises a flag.
bits 64
org 0x100000
%include "mhv.inc"
%include "lib64.inc"
MHV_HEADER 64, 0x100000, 4, 2, 0, "smp"

FLAG equ 0x9000

guest_entry:
    call setup_idt
    lea rsi, [rel ap_code]          ; the AP's code must sit below 1 MiB
    mov rdi, 0x8000
    mov ecx, ap_code_end - ap_code
    rep movsb
    mov r14, LAPIC
    mov eax, [r14 + 0x20]
    shr eax, 24
    cmp eax, 0
    CHECK e, "vCPU 0 reads APIC ID 0"
    mov dword [r14 + 0x310], 1 << 24  ; destination: APIC ID 1
    mov dword [r14 + 0x300], 0x4500   ; INIT, assert
    mov dword [r14 + 0x310], 1 << 24
    mov dword [r14 + 0x300], 0x4608   ; STARTUP, vector 8 -> 0x8000
    mov ecx, 200000000
.wait:
    cmp byte [FLAG], 0xa5
    je .started
    pause
    dec ecx
    jnz .wait
.started:
    cmp byte [FLAG], 0xa5
    CHECK e, "vCPU 1 ran its start-up code after INIT/SIPI"
    FINISH

bits 16
ap_code:                            ; runs at 0800:0000 in real mode
    mov dx, COM1
    xor si, si
.print:
    mov al, [cs:si + ap_text - ap_code]
    test al, al
    jz .flag
    out dx, al
    inc si
    jmp .print
.flag:
    xor ax, ax
    mov ds, ax
    mov byte [FLAG], 0xa5
.park:
    sti
    hlt
    jmp .park
ap_text: db "smp: vCPU 1 started in real mode at 0x8000", 10, 0
ap_code_end:
bits 64

LIB64_CODE
