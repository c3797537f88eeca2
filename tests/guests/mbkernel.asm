; A multiboot (v1) kernel written the way one writes for QEMU's -kernel: a.out kludge header,
; 16550 output on 0x3f8 with LSR polling, and the exit status to isa-debug-exit at 0xf4. It
; checks what a multiboot loader must hand over and exits 0 when all of it holds.
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

hello:  db "mbkernel: started by a multiboot loader", 10, 0
passed: db "mbkernel: magic, memory sizes, command line and BSS are right", 10, 0
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
