; SPDX-License-Identifier: BSD-2-Clause
; A multiboot (v1) kernel written the way one writes for QEMU's -kernel: a.out kludge header,
; 16550 output on 0x3f8 with LSR polling, and the exit status to isa-debug-exit at 0xf4. It
; checks what a multiboot loader must hand over and exits 0 when all of it holds: the boot
; information, then the machine "as initialized by the BIOS" (spec 3.2), as QEMU (SeaBIOS)
; and GRUB leave it: back in real mode with interrupts on, the BIOS's timer tick (the PIT on
; IRQ 0, the master 8259 at vector 8 with IRQ 0 open, the BIOS's handler in the interrupt
; vector table) must advance the tick count at 40:6C at least twice (so the handler ends each
; interrupt at the 8259).
bits 32
org 0x200000

MB_MAGIC equ 0x1badb002
MB_FLAGS equ (1 << 0) | (1 << 1) | (1 << 16)   ; aligned modules, memory info, address fields

header:
    dd MB_MAGIC
    dd MB_FLAGS
    dd -(MB_MAGIC + MB_FLAGS)
    dd header                       ; header_addr
    dd header                       ; load_addr
    dd end_of_image                 ; load_end_addr
    dd end_of_bss                   ; bss_end_addr
    dd start                        ; entry_addr

start:
    mov esp, stack_top
    mov [boot_eax], eax
    mov [boot_ebx], ebx
    mov esi, hello
    call puts
    mov bl, 1
    cmp dword [boot_eax], 0x2badb002
    jne fail
    mov ebx, [boot_ebx]
    mov bl, 2
    mov edx, [boot_ebx]
    test dword [edx], 1             ; mem_lower/mem_upper present
    jz fail
    mov bl, 3
    cmp dword [edx + 4], 639
    jb fail
    mov bl, 4
    cmp dword [edx + 8], 1024       ; at least 1 MiB above 1 MiB
    jb fail
    mov bl, 5
    test dword [edx], 1 << 2        ; command line present
    jz fail
    mov edi, [edx + 16]             ; loaders put the kernel's path first (QEMU, GRUB legacy):
    xor eax, eax                    ; check that the line ends with the arguments
    mov ecx, 4096
    repne scasb                     ; EDI: one past the NUL
    sub edi, expected_end - expected_args + 1
    mov esi, expected_args
    mov ecx, expected_end - expected_args
    repe cmpsb
    jne fail
    mov bl, 6
    cmp dword [bss_probe], 0        ; the loader zeroed the BSS
    jne fail
    mov esi, passed
    call puts

    ; The BIOS's state, last (its real-mode code and stack overwrite low memory).
    mov bl, 7
    in al, 0x21
    test al, 1                      ; IRQ 0 open at the master 8259
    jnz fail
    mov bl, 8
    call bios_tick
    cmp byte [REAL_BASE + (rm_ticks - rm_start)], 2
    jb fail
    mov esi, ticked
    call puts
    xor eax, eax
    out 0xf4, al
    hlt

fail:
    mov esi, failed
    call puts
    mov al, bl
    out 0xf4, al
    hlt

puts:
    mov dx, 0x3fd
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    lodsb
    test al, al
    jz .done
    mov dx, 0x3f8
    out dx, al
    mov dx, 0x3fd
    jmp .wait
.done:
    ret

; Copies the real-mode part to REAL_BASE (below 1 MiB), goes there through a 16-bit
; protected-mode segment (Intel SDM Vol. 3A 10.9.2, "Switching back to real-address mode")
; and comes back with the number of ticks seen in [REAL_BASE + rm_ticks - rm_start].
REAL_BASE equ 0x7000                ; conventional memory: the real-mode code, its stack below
SPIN_LIMIT equ 0x10000000           ; about a second of QEMU TCG, 30 s of Bochs: then give up

bios_tick:
    pushad
    mov esi, rm_start
    mov edi, REAL_BASE
    mov ecx, rm_end - rm_start
    rep movsb
    lgdt [gdt_descr]                ; the loader's GDT may be gone (spec 3.2): our own
    jmp 0x08:.flat
.flat:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov [saved_esp], esp
    jmp 0x18:REAL_BASE + (rm_pm16 - rm_start)
.back:                              ; from rm_real, in 32-bit protected mode again
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, [saved_esp]
    popad
    ret

bits 16
rm_start:
rm_pm16:                            ; 16-bit protected mode, segments of 64 KiB at 0
    mov ax, 0x20
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov eax, cr0
    and eax, ~1
    mov cr0, eax
    jmp 0:REAL_BASE + (rm_real - rm_start)
rm_real:
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, REAL_BASE
    lidt [REAL_BASE + (rm_ivt - rm_start)]
    mov byte [REAL_BASE + (rm_ticks - rm_start)], 0
    mov dx, [0x46c]                 ; the BIOS data area's tick count, low word
    mov ecx, SPIN_LIMIT
    sti
.wait:
    mov ax, [0x46c]
    cmp ax, dx
    je .same
    mov dx, ax
    inc byte [REAL_BASE + (rm_ticks - rm_start)]
    cmp byte [REAL_BASE + (rm_ticks - rm_start)], 2
    jae .done
.same:
    dec ecx
    jnz .wait
.done:
    cli
    mov eax, cr0
    or eax, 1
    mov cr0, eax
    jmp dword 0x08:bios_tick.back
rm_ivt:
    dw 0x3ff                        ; the real-mode interrupt vector table at 0
    dd 0
rm_ticks:
    db 0
rm_end:
bits 32

align 8
gdt:
    dq 0
    dq 0x00cf9a000000ffff           ; 0x08: 32-bit code, flat
    dq 0x00cf92000000ffff           ; 0x10: 32-bit data, flat
    dq 0x00009a000000ffff           ; 0x18: 16-bit code, base 0, 64 KiB
    dq 0x000092000000ffff           ; 0x20: 16-bit data, base 0, 64 KiB
gdt_descr:
    dw gdt_descr - gdt - 1
    dd gdt
saved_esp:
    dd 0

hello:  db "mbkernel: started by a multiboot loader", 10, 0
passed: db "mbkernel: magic, memory sizes, command line and BSS are right", 10, 0
ticked: db "mbkernel: the BIOS's timer tick reaches real mode", 10, 0
failed: db "mbkernel: a boot check failed", 10, 0
expected_args: db "test=1"
expected_end:
end_of_image:

section .bss
boot_eax:  resd 1
boot_ebx:  resd 1
bss_probe: resd 1
           resb 4096
stack_top:
end_of_bss:
