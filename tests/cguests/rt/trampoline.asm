; SPDX-License-Identifier: BSD-2-Clause
; Real-mode start of the other vCPUs (smp.h). smp.c copies [rt_trampoline_start,
; rt_trampoline_end) to RT_TRAMPOLINE and fills the parameters at its end; a STARTUP IPI with
; vector RT_TRAMPOLINE >> 12 starts a vCPU here at CS:IP = 0800:0000. The usual path to long
; mode (SDM Vol. 3A 10.8.5): protected mode through the runtime's 32-bit code segment, PAE,
; CR3, EFER.LME, then paging, then a far jump into the 64-bit code segment.
bits 16
section .rodata
global rt_trampoline_start, rt_trampoline_end, rt_trampoline_params

BASE equ 0x8000                     ; RT_TRAMPOLINE in smp.h
%define HERE(label) (BASE + (label) - rt_trampoline_start)

align 16
rt_trampoline_start:
    cli
    cld
    mov ax, cs
    mov ds, ax
    o32 lgdt [p_gdtr - rt_trampoline_start]
    mov eax, cr0
    or eax, 1                       ; PE
    mov cr0, eax
    jmp dword 0x18:HERE(protected)  ; SEL_KERNEL_CODE32

bits 32
protected:
    mov ax, 0x10                    ; SEL_KERNEL_DATA
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov eax, cr4
    or eax, 1 << 5                  ; PAE
    mov cr4, eax
    mov eax, [HERE(p_cr3)]
    mov cr3, eax
    mov ecx, 0xc0000080             ; IA32_EFER
    rdmsr
    or eax, 1 << 8                  ; LME
    wrmsr
    mov eax, cr0
    or eax, (1 << 31) | (1 << 16)   ; PG, WP
    mov cr0, eax
    jmp 0x08:HERE(long_mode)        ; SEL_KERNEL_CODE

bits 64
long_mode:
    mov rsp, [HERE(p_stack)]
    mov edi, [HERE(p_cpu)]
    mov rax, [HERE(p_entry)]
    call rax                        ; rt_ap_main(cpu): does not return
.park:
    cli
    hlt
    jmp .park

align 8
rt_trampoline_params:               ; struct trampoline_params in smp.c
p_gdtr: dw 0                        ; limit
        dd 0                        ; base
        dw 0
p_cr3:  dq 0
p_stack: dq 0
p_entry: dq 0
p_cpu:  dq 0
rt_trampoline_end:
