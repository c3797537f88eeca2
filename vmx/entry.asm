; SPDX-License-Identifier: BSD-2-Clause
; VM entry and exit (SDM Vol. 3C 28 "VM Entries", 29 "VM Exits").
;
; int vmx_enter(struct vcpu *v)
;   Loads the guest's general registers from v->regs, then VMLAUNCH (v->launched == 0)
;   or VMRESUME. On a VM exit the CPU jumps to vmx_exit_entry (HOST_RIP) with RSP = HOST_RSP,
;   which points at the saved vcpu pointer; the guest registers are stored in v->regs and
;   vcpu_exit(v) (vmx/run.c) handles the exit. While it answers 1 the guest goes on at once:
;   its registers are loaded again and VMRESUME runs on the same stack, so the common exit
;   neither returns to vmx_enter's caller nor saves and restores the host's callee-saved
;   registers (they stay on the stack for the whole run, as in KVM's and NOVA's exit paths).
;   When it answers 0, vmx_enter returns 0. If VMLAUNCH/VMRESUME itself fails: 1 for
;   VMfailInvalid, 2 for VMfailValid.
; CR2 is not switched here: mhv never changes it, so the guest's value stays in the register;
; vcpu_load/VMCLEAR switch it with the other lazily held state when another vCPU needs this CPU.

bits 64
section .text

VMCS_HOST_RSP   equ 0x6c14
LAUNCHED        equ 17 * 8          ; offsetof(struct vcpu, launched), checked in vmx/vcpu.c
HOST_RSP_CACHE  equ 18 * 8          ; offsetof(struct vcpu, host_rsp), likewise
R_RAX equ 0
R_RCX equ 8
R_RDX equ 16
R_RBX equ 24
R_RBP equ 40
R_RSI equ 48
R_RDI equ 56
R_R8  equ 64
R_R9  equ 72
R_R10 equ 80
R_R11 equ 88
R_R12 equ 96
R_R13 equ 104
R_R14 equ 112
R_R15 equ 120
R_CR2 equ 128

global vmx_enter, vmx_exit_entry

; The guest's general registers from the vcpu at RDI (RDI itself last). Flags are kept.
%macro LOAD_GUEST_REGISTERS 0
    mov rax, [rdi + R_RAX]
    mov rcx, [rdi + R_RCX]
    mov rdx, [rdi + R_RDX]
    mov rbx, [rdi + R_RBX]
    mov rbp, [rdi + R_RBP]
    mov rsi, [rdi + R_RSI]
    mov r8,  [rdi + R_R8]
    mov r9,  [rdi + R_R9]
    mov r10, [rdi + R_R10]
    mov r11, [rdi + R_R11]
    mov r12, [rdi + R_R12]
    mov r13, [rdi + R_R13]
    mov r14, [rdi + R_R14]
    mov r15, [rdi + R_R15]
    mov rdi, [rdi + R_RDI]
%endmacro
extern vcpu_exit

vmx_enter:
    push rbp
    push rbx
    push r12
    push r13
    push r14
    push r15
    push rdi                        ; the vcpu, at [HOST_RSP] during the guest's run

    ; HOST_RSP in this VMCS changes only when the stack does (another CPU, another call
    ; depth): skip the VMWRITE when the vcpu's cached value still holds.
    cmp rsp, [rdi + HOST_RSP_CACHE]
    je .rsp_done
    mov [rdi + HOST_RSP_CACHE], rsp
    mov rax, VMCS_HOST_RSP
    vmwrite rax, rsp
.rsp_done:
    cmp byte [rdi + LAUNCHED], 0    ; flags survive the MOVs below
    mov byte [rdi + LAUNCHED], 1    ; the exit path resumes; a failed VMLAUNCH takes it back
    LOAD_GUEST_REGISTERS
    jne .resume
    vmlaunch
    mov rdi, [rsp]
    mov byte [rdi + LAUNCHED], 0
    jmp .failed
.resume:
    vmresume
.failed:
    ; Still in root operation with the guest's registers loaded; RFLAGS tells why.
    mov eax, 1
    mov ecx, 2
    cmovz eax, ecx                  ; ZF: VMfailValid (error number in the VMCS)
    jmp vmx_return

vmx_exit_entry:
    push rdi                        ; guest RDI
    mov rdi, [rsp + 8]              ; the vcpu
    mov [rdi + R_RAX], rax
    mov [rdi + R_RCX], rcx
    mov [rdi + R_RDX], rdx
    mov [rdi + R_RBX], rbx
    mov [rdi + R_RBP], rbp
    mov [rdi + R_RSI], rsi
    mov [rdi + R_R8],  r8
    mov [rdi + R_R9],  r9
    mov [rdi + R_R10], r10
    mov [rdi + R_R11], r11
    mov [rdi + R_R12], r12
    mov [rdi + R_R13], r13
    mov [rdi + R_R14], r14
    mov [rdi + R_R15], r15
    pop qword [rdi + R_RDI]         ; guest RDI, straight from the stack
    ; A frame for backtraces: RBP -> vmx_enter's saved RBP, with its return address above.
    lea rbp, [rsp + 6 * 8]
    call vcpu_exit                  ; RSP is HOST_RSP again: 16-byte aligned, as at the entry
    mov rdi, [rsp]                  ; the vcpu
    test eax, eax
    jz .leave
    LOAD_GUEST_REGISTERS
    vmresume
    jmp vmx_enter.failed            ; RFLAGS (and still the guest's registers) say why
.leave:                             ; EAX = 0
vmx_return:
    add rsp, 8                      ; the vcpu pointer
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    ret
