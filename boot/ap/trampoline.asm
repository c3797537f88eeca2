; SPDX-License-Identifier: BSD-2-Clause
; AP start-up trampoline: real mode -> protected mode -> long mode -> mhv's ap_main.
;
; Assembled as a flat binary and copied by arch/x86/smp.c to a free page below 1 MiB; the
; STARTUP IPI's vector names that page, and the AP begins at CS = page << 8, IP = 0 in real
; mode (SDM Vol. 3A 9.4.4 "MP initialization example"). The code is position-independent: it
; computes its linear base from CS and patches the far pointers itself. The boot CPU fills the
; parameter block (offsets shared with struct ap_params in arch/x86/smp.c) for one AP at a time.

bits 16
org 0

start:
    jmp short real_mode_entry

align 8
gdtr:               dw gdt_end - gdt - 1
                    dd 0                    ; linear base of gdt, patched below
align 8
pm_far:             dd 0                    ; offset patched below
                    dw 0x08
align 8
lm_far:             dd 0
                    dw 0x18
align 8
; ---- parameter block, offset 0x20: struct ap_params ----
param_cr3:          dq 0
param_stack:        dq 0
param_percpu:       dq 0
param_entry:        dq 0
param_efer:         dq 0
align 8
gdt:                dq 0
                    dq 0x00CF9A000000FFFF   ; 0x08: 32-bit code
                    dq 0x00CF92000000FFFF   ; 0x10: data
                    dq 0x00AF9A000000FFFF   ; 0x18: 64-bit code
gdt_end:

real_mode_entry:
    cli
    cld
    mov ax, cs
    mov ds, ax
    xor ebx, ebx
    mov bx, ax
    shl ebx, 4                              ; EBX = linear base of this page, kept to the end
    lea eax, [ebx + gdt]
    mov [gdtr + 2], eax
    lea eax, [ebx + protected_mode_entry]
    mov [pm_far], eax
    lea eax, [ebx + long_mode_entry]
    mov [lm_far], eax
    o32 lgdt [gdtr]
    mov eax, cr0
    or eax, 1                               ; CR0.PE
    mov cr0, eax
    jmp dword far [pm_far]

bits 32
protected_mode_entry:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov eax, cr4
    or eax, 1 << 5                          ; CR4.PAE
    mov cr4, eax
    mov eax, [ebx + param_cr3]              ; mhv's PML4 (below 4 GiB)
    mov cr3, eax
    mov ecx, 0xC0000080                     ; IA32_EFER: LME, and NXE when the BSP uses NX
    rdmsr
    or eax, [ebx + param_efer]
    wrmsr
    mov eax, cr0
    or eax, (1 << 31) | (1 << 16)           ; CR0.PG | CR0.WP
    mov cr0, eax
    jmp far [ebx + lm_far]

bits 64
long_mode_entry:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov ebx, ebx                            ; upper halves are undefined after the switch
    mov rsp, [rbx + param_stack]
    mov rdi, [rbx + param_percpu]
    xor ebp, ebp                            ; ends the frame-pointer chain for stack traces
    mov rax, [rbx + param_entry]
    call rax                                ; ap_main(percpu) does not return
.hang:
    cli
    hlt
    jmp .hang
