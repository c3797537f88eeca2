; SPDX-License-Identifier: BSD-2-Clause
; Scheduler test guest. One image, three behaviours, chosen by the KIND field below (the boot
; tests patch the name, weight, slice, affinity, KIND and RUN_MS into copies of this image):
;   0 spin:     count loop iterations for RUN_MS of TSC time, then report the count
;   1 runaway:  the same with interrupts off (CLI) the whole time
;   2 sleeper:  for RUN_MS, arm a 10 ms timer (hypercall) and HLT, again and again
; Time comes from the TSC and the rate mhv reports in CPUID leaf 0x40000010.
bits 64
org 0x100000
%include "mhv.inc"
%include "lib64.inc"
    db "MHVGUEST"
    dd 2                            ; version 2: scheduling parameters follow
    dd 64
    dq 0x100000
    dq guest_entry
    dd 4                            ; MiB
    dd 1                            ; vCPUs
    dd 0                            ; flags
name: db "spin"
    times 20 - ($ - name) db 0
sched_block:                        ; offset 64: struct mhv_guest_sched
weight:   dd 1
slice_us: dd 0
affinity: times 8 dq 0
params:                             ; offset 136
kind:     dd 0
run_ms:   dd 500

HC_TIMER equ 5
TIMER_VECTOR equ 0x30

guest_entry:
    call setup_idt
    mov edi, TIMER_VECTOR
    lea rsi, [rel on_timer]
    call set_gate
    mov eax, 0x40000010
    cpuid                           ; EAX: TSC kHz
    mov ecx, [rel run_ms]
    imul rax, rcx                   ; ticks to run
    mov r12, rax
    rdtsc
    shl rdx, 32
    or rax, rdx
    add r12, rax                    ; deadline
    xor r15d, r15d                  ; work counter
    cmp dword [rel kind], 2
    je sleeper
    cmp dword [rel kind], 1
    jne .spin
    cli
.spin:
    inc r15
    test r15d, 0x3ff                ; look at the clock every 1024 iterations
    jnz .spin
    rdtsc
    shl rdx, 32
    or rax, rdx
    cmp rax, r12
    jb .spin
    sti
    PRINT {"work "}
    mov rax, r15
    call put_dec
    PRINT {10}
    EXIT 0

sleeper:
    sti
.again:
    mov eax, HC_TIMER
    mov ebx, 10000                  ; 10 ms
    mov ecx, TIMER_VECTOR
    vmcall
.wait:
    hlt                             ; woken by the timer interrupt
    cmp byte [rel fired], 0
    je .wait
    mov byte [rel fired], 0
    inc r15
    rdtsc
    shl rdx, 32
    or rax, rdx
    cmp rax, r12
    jb .again
    PRINT {"wakeups "}
    mov rax, r15
    call put_dec
    PRINT {10}
    EXIT 0

on_timer:
    mov byte [rel fired], 1
    call eoi
    iretq
fired: db 0
LIB64_CODE
