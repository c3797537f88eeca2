; SPDX-License-Identifier: BSD-2-Clause
; 32-bit entry from a multiboot2 boot loader, switch to 64-bit long mode, call kernel_main.
;
; State on entry (multiboot2 spec 3.3): protected mode, paging off, EAX = magic 0x36D76289,
; EBX = physical address of the boot information, no valid stack, interrupts off.
; We build an identity map of the first 4 GiB with 2 MiB pages (enough to reach the kernel, the
; boot information and the modules, which GRUB places below 4 GiB), enable PAE + long mode
; (SDM Vol. 3A 10.8.5 "Initializing IA-32e Mode"), and jump to 64-bit code. paging_init() later
; replaces these tables with the final ones (W^X, NX, a hole at page 0).

MB2_BOOT_MAGIC   equ 0x36D76289
COM1             equ 0x3F8
CR0_PE           equ 1 << 0
CR0_WP           equ 1 << 16
CR0_PG           equ 1 << 31
CR4_PAE          equ 1 << 5
MSR_EFER         equ 0xC0000080
EFER_LME         equ 1 << 8
EFER_NXE         equ 1 << 11
PTE_P_RW         equ 0x3
PTE_PS           equ 0x80
BOOT_STACK_SIZE  equ 16384

global _start
global boot_stack_guard, boot_stack_bottom, boot_stack_top
extern kernel_main

section .boot.text
bits 32
_start:
    cli
    cld
    mov esp, boot_stack_top
    mov edi, eax                    ; keep magic and info pointer for kernel_main(magic, info)
    mov esi, ebx

    cmp edi, MB2_BOOT_MAGIC
    jne .bad_magic

    ; Long mode needs CPUID leaf 0x80000001 EDX.LM[29] (SDM Vol. 2A CPUID).
    mov eax, 0x80000000
    cpuid
    cmp eax, 0x80000001
    jb .no_long_mode
    mov eax, 0x80000001
    cpuid
    test edx, 1 << 29
    jz .no_long_mode
    mov ebp, edx                    ; EDX.NX[20] decides whether EFER.NXE may be set

    ; Zero the six page-table pages (GRUB zero-fills .bss, but the spec does not promise it).
    push edi
    mov edi, boot_pml4
    mov ecx, 6 * 4096 / 4
    xor eax, eax
    rep stosd
    pop edi

    mov eax, boot_pdpt
    or eax, PTE_P_RW
    mov [boot_pml4], eax

    ; PDPT[0..3] -> four page directories, each mapping 1 GiB with 512 2-MiB pages.
    xor ecx, ecx
.fill_pdpt:
    mov eax, ecx
    shl eax, 12
    add eax, boot_pd
    or eax, PTE_P_RW
    mov [boot_pdpt + ecx * 8], eax
    inc ecx
    cmp ecx, 4
    jb .fill_pdpt

    ; 2048 PDEs: entry i maps physical i * 2 MiB. Entries above 4 GiB need no high dword.
    xor ecx, ecx
.fill_pd:
    mov eax, ecx
    shl eax, 21
    or eax, PTE_P_RW | PTE_PS
    mov [boot_pd + ecx * 8], eax
    mov dword [boot_pd + ecx * 8 + 4], 0
    inc ecx
    cmp ecx, 2048
    jb .fill_pd

    mov eax, cr4
    or eax, CR4_PAE
    mov cr4, eax
    mov eax, boot_pml4
    mov cr3, eax

    mov ecx, MSR_EFER
    rdmsr
    or eax, EFER_LME
    test ebp, 1 << 20
    jz .no_nx
    or eax, EFER_NXE
.no_nx:
    wrmsr

    mov eax, cr0
    or eax, CR0_PE | CR0_PG | CR0_WP
    mov cr0, eax

    lgdt [boot_gdt_ptr]
    jmp 0x08:long_mode_entry

.no_long_mode:
    mov ebx, msg_no_long_mode
    jmp .fatal32
.bad_magic:
    mov ebx, msg_bad_magic
.fatal32:
    call serial_init32
    call serial_puts32
    ; Emulators: QEMU isa-debug-exit (status 1 -> exit code 3), Bochs shutdown port.
    mov dx, 0xF4
    mov eax, 1
    out dx, eax
    mov ebx, msg_shutdown
    mov dx, 0x8900
.bochs_shutdown:
    mov al, [ebx]
    test al, al
    jz .halt32
    out dx, al
    inc ebx
    jmp .bochs_shutdown
.halt32:
    hlt
    jmp .halt32

; 115200 8N1 on COM1, FIFOs on (same programming as drivers/uart16550.c).
serial_init32:
    mov dx, COM1 + 1
    xor al, al
    out dx, al                      ; IER = 0: no interrupts
    mov dx, COM1 + 3
    mov al, 0x80
    out dx, al                      ; LCR.DLAB = 1
    mov dx, COM1 + 0
    mov al, 1
    out dx, al                      ; divisor low = 1 (115200 baud)
    mov dx, COM1 + 1
    xor al, al
    out dx, al                      ; divisor high = 0
    mov dx, COM1 + 3
    mov al, 0x03
    out dx, al                      ; 8N1, DLAB = 0
    mov dx, COM1 + 2
    mov al, 0xC7
    out dx, al                      ; FIFO on, cleared
    ret

; EBX = NUL-terminated string.
serial_puts32:
    mov al, [ebx]
    test al, al
    jz .done
    mov ah, al
    mov dx, COM1 + 5
.wait:
    in al, dx
    test al, 0x20                   ; LSR.THRE
    jz .wait
    mov dx, COM1
    mov al, ah
    out dx, al
    inc ebx
    jmp serial_puts32
.done:
    ret

bits 64
long_mode_entry:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor eax, eax
    mov fs, ax
    mov gs, ax
    mov rsp, boot_stack_top
    xor ebp, ebp                    ; end of the frame-pointer chain for stack traces
    ; EDI = magic, ESI = info address (32-bit moves zeroed the upper halves).
    call kernel_main
.hang:
    cli
    hlt
    jmp .hang

section .boot.data
align 8
boot_gdt:
    dq 0
    dq 0x00AF9A000000FFFF           ; 0x08: 64-bit code, DPL 0
    dq 0x00CF92000000FFFF           ; 0x10: data, DPL 0
boot_gdt_ptr:
    dw boot_gdt_ptr - boot_gdt - 1
    dq boot_gdt

msg_bad_magic:
    db "mhv: fatal: not started by a multiboot2 boot loader (bad magic in EAX)", 13, 10, 0
msg_no_long_mode:
    db "mhv: fatal: CPU lacks 64-bit long mode (CPUID 0x80000001 EDX.LM = 0)", 13, 10, 0
msg_shutdown:
    db "Shutdown", 0

section .boot.bss nobits
align 4096
global boot_pml4
boot_pml4:  resb 4096
boot_pdpt:  resb 4096
boot_pd:    resb 4 * 4096
; The guard page stays unmapped once paging_init() runs: a stack overflow faults (#PF, then
; #DF on its own IST stack) instead of silently overwriting the page tables above.
boot_stack_guard:  resb 4096
boot_stack_bottom: resb BOOT_STACK_SIZE
boot_stack_top:
