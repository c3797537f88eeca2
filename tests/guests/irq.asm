; SPDX-License-Identifier: BSD-2-Clause
; Event injection: external interrupts arrive only when the guest can take them (RFLAGS.IF and
; no STI blocking), an interrupt raised under CLI waits for the interrupt window, and NMIs are
; delivered through vector 2. The events come from the MHV_HC_INJECT test hypercall.
bits 64
org 0x100000
%include "mhv.inc"
%include "lib64.inc"
MHV_HEADER 64, 0x100000, 4, 1, 0, "irq"

HC_INJECT equ 4

guest_entry:
    call setup_idt
    mov edi, 0x40
    lea rsi, [rel on_irq_40]
    call set_gate
    mov edi, 0x41
    lea rsi, [rel on_irq_41]
    call set_gate
    mov edi, 2
    lea rsi, [rel on_nmi]
    call set_gate

    sti
    mov eax, HC_INJECT
    mov ebx, 0x40
    vmcall
    nop
    cmp dword [rel irqs], 1
    CHECK e, "an interrupt with interrupts enabled arrives at once"
    cmp byte [rel last_irq_vector], 0x40
    CHECK e, "it arrives on the requested vector"

    cli
    mov eax, HC_INJECT
    mov ebx, 0x41
    vmcall
    mov ecx, 1000                   ; time passes, interrupts stay off
.spin:
    dec ecx
    jnz .spin
    cmp dword [rel irqs], 1
    CHECK e, "an interrupt raised under CLI waits"
    sti                             ; the window opens after the next instruction
    nop
    nop
    cmp dword [rel irqs], 2
    CHECK e, "it arrives once interrupts are enabled"
    cmp byte [rel last_irq_vector], 0x41
    CHECK e, "the waiting interrupt keeps its vector"

    mov eax, HC_INJECT
    mov ebx, 2
    vmcall
    nop
    cmp dword [rel nmis], 1
    CHECK e, "an NMI is delivered through vector 2"
    mov eax, HC_INJECT
    mov ebx, 5
    vmcall
    cmp rax, E_INVAL
    CHECK e, "vector 5 is refused with EINVAL"
    FINISH

on_irq_40:                          ; each vector has its own handler: it records itself
    inc dword [rel irqs]
    mov byte [rel last_irq_vector], 0x40
    call eoi                        ; the local APIC may deliver this class again
    iretq
on_irq_41:
    inc dword [rel irqs]
    mov byte [rel last_irq_vector], 0x41
    call eoi
    iretq
on_nmi:
    inc dword [rel nmis]
    iretq

align 4
irqs: dd 0
nmis: dd 0
last_irq_vector: db 0
LIB64_CODE
