; SPDX-License-Identifier: BSD-2-Clause
; Interrupt and exception entry of the C test-guest runtime (trap.h): one 16-byte stub per vector
; pushes a zero where the CPU pushes no error code, then the vector, and joins the common path,
; which saves the general registers as a struct rt_frame and calls rt_trap(frame). Also the
; register half of try_call() and try_user() (fault.h).
bits 64
default rel
section .text

extern rt_trap
global rt_isr_stubs, rt_isr_stub_size, rt_try_enter, rt_try_resume, rt_user_enter, rt_user_return

STUB_SIZE equ 16

; Vectors for which the CPU pushes an error code (SDM Vol. 3A 6.3.1 table 6-1): #DF, #TS, #NP,
; #SS, #GP, #PF, #AC, #CP, #VC, #SX.
%macro STUB 1
%%start:
%if %1 = 8 || (%1 >= 10 && %1 <= 14) || %1 = 17 || %1 = 21 || %1 = 29 || %1 = 30
    push qword %1
    jmp near isr_common
%else
    push qword 0
    push qword %1
    jmp near isr_common
%endif
    times STUB_SIZE - ($ - %%start) int3
%endmacro

align 16
rt_isr_stubs:
%assign v 0
%rep 256
    STUB v
%assign v v + 1
%endrep

section .rodata
rt_isr_stub_size: dq STUB_SIZE

section .text
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
    mov rdi, rsp                    ; 16-byte aligned here: the CPU aligned it, 22 words pushed
    call rt_trap
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

; int rt_try_enter(void (*fn)(void *), void *arg, struct rt_try *ctx): saves what a fault needs
; to come back here (struct rt_try in fault.c: rbx, rbp, r12-r15, rsp), calls fn(arg), returns
; -1. trap.c makes a fault return from this function with the vector instead, through
; rt_try_resume with RSP = the saved value, so that RET pops our own return address.
rt_try_enter:
    mov [rdx + 0], rbx
    mov [rdx + 8], rbp
    mov [rdx + 16], r12
    mov [rdx + 24], r13
    mov [rdx + 32], r14
    mov [rdx + 40], r15
    mov [rdx + 48], rsp             ; points at our return address
    mov rax, rdi
    mov rdi, rsi
    sub rsp, 8                      ; the ABI's 16-byte alignment at the call
    call rax
    add rsp, 8
    mov eax, -1
    ret
rt_try_resume:
    ret

; void rt_user_enter(void (*fn)(void *), void *arg, void *user_stack_top, uint64_t rflags):
; IRETQ to CPL 3 at fn(arg), with rt_user_return as its return address; the user code and data
; selectors come from desc.c (0x2b, 0x23). Called inside rt_try_enter: it never returns here.
rt_user_enter:
    sub rdx, 8
    lea rax, [rt_user_return]
    mov [rdx], rax                  ; fn's return address (RSP = 8 mod 16 at its entry, as after a call)
    push qword 0x23                 ; SS: user data, RPL 3
    push rdx                        ; RSP
    push rcx                        ; RFLAGS
    push qword 0x2b                 ; CS: user code, RPL 3
    push rdi                        ; RIP = fn
    mov rdi, rsi
    xor eax, eax
    xor ebx, ebx
    xor ebp, ebp
    iretq

; Runs at CPL 3 when the user function returns: the DPL-3 gate of RT_VEC_USER_RETURN takes it
; back to CPL 0, where trap.c ends try_user().
rt_user_return:
    int 0xfd
    ud2
