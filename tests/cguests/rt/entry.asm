; SPDX-License-Identifier: BSD-2-Clause
; vCPU 0's first instruction (the header's entry). mhv starts it in long mode with its own page
; tables and GDT in the top 28 KiB of guest memory and RSP just below them (README "Entry
; state"). The image's .bss is not in the file: check that it ends below that area, clear it,
; and move to vCPU 0's own stack (percpu.h) before any C code runs.
bits 64
default rel
section .text.rt_entry
global rt_entry
extern rt_header, rt_start, rt_stacks, __rt_bss_start, __rt_bss_end

MHV_RESERVED equ 28 * 1024           ; page tables and GDT at the top of guest memory
RT_STACK_SIZE equ 16384               ; percpu.h
DEBUG_EXIT equ 0xf4
RT_STATUS_CRASH equ 222               ; check.h

rt_entry:
    cli
    cld
    mov eax, [rt_header + 32]       ; memory_mib
    shl rax, 20
    sub rax, MHV_RESERVED + 4096    ; and a page for the stack mhv gave us, still in use
    lea rdi, [__rt_bss_end]
    cmp rdi, rax
    ja .too_small
    lea rdi, [__rt_bss_start]
    lea rcx, [__rt_bss_end]
    sub rcx, rdi
    xor eax, eax
    rep stosb
    lea rsp, [rt_stacks + RT_STACK_SIZE]
    xor ebp, ebp
    call rt_start                   ; does not return
.too_small:
    lea rsi, [too_small_text]
    mov dx, 0x3f8
.print:
    lodsb
    test al, al
    jz .exit
    out dx, al
    jmp .print
.exit:
    mov al, RT_STATUS_CRASH
    out DEBUG_EXIT, al
    hlt
    jmp .exit

section .rodata
too_small_text: db "not ok - the image and its .bss do not fit in memory_mib (raise it in MHV_GUEST)", 10, 0
