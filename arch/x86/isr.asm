; SPDX-License-Identifier: BSD-2-Clause
; Interrupt and exception entry stubs for all 256 vectors. Each stub makes the stack look the
; same (SDM Vol. 3A 7.12.1: the CPU pushes an error code only for vectors 8, 10-14, 17, 21,
; 29, 30), pushes its vector, and jumps to a common path that saves every general register into
; a struct trap_frame (include/arch/x86/trap.h) and calls trap_dispatch(frame).

bits 64
section .text

extern trap_dispatch
global isr_stub_table

%macro ISR_STUB 1
isr_stub_%1:
%if %1 = 8 || (%1 >= 10 && %1 <= 14) || %1 = 17 || %1 = 21 || %1 = 29 || %1 = 30
%else
    push 0                          ; no error code from the CPU: keep the frame uniform
%endif
    push %1
    jmp isr_common
%endmacro

%assign v 0
%rep 256
ISR_STUB v
%assign v v + 1
%endrep

isr_common:
    push rax
    push rbx
    push rcx
    push rdx
    push rsi
    push rdi
    push rbp
    push r8
    push r9
    push r10
    push r11
    push r12
    push r13
    push r14
    push r15
    cld
    mov rdi, rsp
    ; Align the stack for the C ABI; RBX is callee-saved and holds the frame address.
    mov rbx, rsp
    and rsp, ~0xF
    call trap_dispatch
    mov rsp, rbx
    pop r15
    pop r14
    pop r13
    pop r12
    pop r11
    pop r10
    pop r9
    pop r8
    pop rbp
    pop rdi
    pop rsi
    pop rdx
    pop rcx
    pop rbx
    pop rax
    add rsp, 16                     ; vector and error code
    iretq

section .rodata
align 8
isr_stub_table:
%assign v 0
%rep 256
    dq isr_stub_ %+ v
%assign v v + 1
%endrep
