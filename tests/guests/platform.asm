; SPDX-License-Identifier: BSD-2-Clause
; The virtual platform from the inside: the ACPI tables a guest finds by scanning the BIOS
; area, the PM timer the FADT names, PCI configuration space through ports 0xcf8/0xcfc and
; QEMU's fw_cfg at 0x510. Then it leaves the way an OS does, not through the debug-exit port:
; by default ACPI S5 (SLP_TYP from \_S5 with SLP_EN in PM1a_CNT). The dword at offset 64
; (after the header) picks another way out, for tests that patch a copy:
;   0  ACPI S5 power off           1  reset: 0x02 then 0x06 to port 0xcf9
;   2  reset: keyboard controller command 0xFE at port 0x64
; A guest with a failed check exits through the debug-exit port with the number of failures.
bits 64
org 0x100000
%include "mhv.inc"
%include "lib64.inc"
MHV_HEADER 64, 0x100000, 4, 1, 0, "platform"
exit_mode: dd 0                             ; offset 64

S5_SLP_TYP      equ 5                       ; the value in mhv's \_S5 package
SLP_EN          equ 1 << 13

guest_entry:
    call setup_idt

    ; --- RSDP: "RSD PTR " on a 16-byte boundary of 0xE0000-0xFFFFF, ACPI 1.0 checksum over
    ; 20 bytes; revision 2 adds a 36-byte extended checksum.
    mov rsi, 0xe0000
    mov rax, 'RSD PTR '
scan:
    cmp [rsi], rax
    jne scan_next
    mov ecx, 20
    call checksum
    test al, al
    jz scan_found
scan_next:
    add rsi, 16
    cmp rsi, 0x100000
    jb scan
    PRINT {"not ok - RSDP found in 0xE0000-0xFFFFF", 10}
    inc dword [rel failures]
    jmp devices                             ; nothing else of ACPI can be checked
scan_found:
    mov [rel rsdp], rsi
    PRINT {"ok - RSDP found in 0xE0000-0xFFFFF with a valid checksum", 10}
    cmp byte [rsi + 15], 2
    CHECK ae, "RSDP revision 2 (ACPI 2.0+)"
    mov ecx, [rsi + 20]
    call checksum
    test al, al
    CHECK z, "RSDP extended checksum"

    ; --- XSDT: signature, checksum; its entries name a FACP and an APIC table.
    mov rsi, [rsi + 24]
    mov [rel xsdt], rsi
    cmp dword [rsi], 'XSDT'
    CHECK e, "XSDT signature"
    mov ecx, [rsi + 4]
    call checksum
    test al, al
    CHECK z, "XSDT checksum"
    mov ecx, [rsi + 4]
    sub ecx, 36
    shr ecx, 3                              ; 8-byte entries
    lea rbx, [rsi + 36]
entries:
    test ecx, ecx
    jz entries_done
    mov rsi, [rbx]
    cmp dword [rsi], 'FACP'
    jne not_facp
    mov [rel fadt], rsi
not_facp:
    cmp dword [rsi], 'APIC'
    jne not_apic
    mov [rel madt], rsi
not_apic:
    add rbx, 8
    dec ecx
    jmp entries
entries_done:
    mov rsi, [rel fadt]
    mov al, 1                               ; not found: fails like a bad checksum
    test rsi, rsi
    jz fadt_summed
    mov ecx, [rsi + 4]
    call checksum
fadt_summed:
    test al, al
    CHECK z, "XSDT lists a FACP (FADT) with a valid checksum"
    mov rsi, [rel madt]
    mov al, 1
    test rsi, rsi
    jz madt_summed
    mov ecx, [rsi + 4]
    call checksum
madt_summed:
    test al, al
    CHECK z, "XSDT lists an APIC table (MADT) with a valid checksum"

    ; --- MADT: exactly one enabled processor local APIC (type 0, flags bit 0) for one vCPU.
    xor edx, edx
    mov rsi, [rel madt]
    test rsi, rsi
    jz madt_done
    mov ecx, [rsi + 4]
    lea rdi, [rsi + rcx]                    ; end
    add rsi, 44
madt_walk:
    cmp rsi, rdi
    jae madt_done
    cmp byte [rsi], 0
    jne madt_next
    test byte [rsi + 4], 1
    jz madt_next
    inc edx
madt_next:
    movzx eax, byte [rsi + 1]
    test eax, eax
    jz madt_done                            ; a zero length would loop forever
    add rsi, rax
    jmp madt_walk
madt_done:
    cmp edx, 1
    CHECK e, "MADT has exactly one enabled processor"

    ; --- The PM timer (FADT PM_TMR_BLK) counts between two reads, within 24 bits.
    mov rsi, [rel fadt]
    test rsi, rsi
    jz devices
    mov edx, [rsi + 76]
    in eax, dx
    mov ebx, eax
    mov ecx, 10000
spin:
    loop spin
    in eax, dx
    cmp eax, ebx
    CHECK ne, "PM timer advances between two reads"
    cmp eax, 0x1000000
    CHECK b, "PM timer is 24 bits wide"
    mov edx, [rsi + 64]                     ; PM1a_CNT_BLK
    in ax, dx
    test ax, 1
    CHECK nz, "PM1a_CNT.SCI_EN reads 1 (always in ACPI mode)"

devices:
    ; --- PCI configuration mechanism #1.
    mov dx, 0xcf8
    mov eax, 0x80000000
    out dx, eax
    in eax, dx
    cmp eax, 0x80000000
    CHECK e, "PCI CONFIG_ADDRESS reads back"
    mov dx, 0xcfc
    in eax, dx
    cmp eax, 0x12378086
    CHECK e, "PCI 00:00.0 is the host bridge 8086:1237"
    mov dx, 0xcf8
    mov eax, 0x80000008
    out dx, eax
    mov dx, 0xcfe
    in ax, dx                               ; word access at offset 2 of the dword
    cmp ax, 0x0600
    CHECK e, "PCI 00:00.0 class is host bridge (06/00)"
    mov dx, 0xcf8
    mov eax, 0x80000800
    out dx, eax
    mov dx, 0xcfc
    in eax, dx
    cmp eax, 0xffffffff
    CHECK e, "PCI 00:01.0 reads all-ones (no device)"

    ; --- fw_cfg: the signature, the vCPU count, the RAM size, an empty command line.
    mov dx, 0x510
    xor eax, eax                            ; FW_CFG_SIGNATURE
    out dx, ax
    inc dx
    lea rdi, [rel buffer]
    mov ecx, 4
    rep insb
    cmp dword [rel buffer], 'QEMU'
    CHECK e, "fw_cfg signature reads QEMU"
    mov dx, 0x510
    mov ax, 5                               ; FW_CFG_NB_CPUS
    out dx, ax
    inc dx
    in al, dx
    mov bl, al
    in al, dx
    mov bh, al
    cmp bx, 1
    CHECK e, "fw_cfg NB_CPUS is 1"
    mov dx, 0x510
    mov ax, 3                               ; FW_CFG_RAM_SIZE
    out dx, ax
    inc dx
    lea rdi, [rel buffer]
    mov ecx, 9                              ; one byte past the 8-byte item
    rep insb
    cmp qword [rel buffer], 4 << 20
    CHECK e, "fw_cfg RAM_SIZE is 4 MiB"
    cmp byte [rel buffer + 8], 0
    CHECK e, "fw_cfg reads 0 past the end of an item"
    mov dx, 0x510
    mov ax, 0x14                            ; FW_CFG_CMDLINE_SIZE
    out dx, ax
    inc dx
    lea rdi, [rel buffer]
    mov ecx, 4
    rep insb
    cmp dword [rel buffer], 1
    CHECK e, "fw_cfg CMDLINE_SIZE is 1 (an empty command line and its NUL)"

    ; --- The way out.
    cmp dword [rel failures], 0
    jne finish
    mov eax, [rel exit_mode]
    cmp eax, 1
    je reset_cf9
    cmp eax, 2
    je reset_kbc
    mov rsi, [rel fadt]
    mov edx, [rsi + 64]
    in ax, dx
    and ax, ~((7 << 10) | SLP_EN)
    or ax, S5_SLP_TYP << 10
    out dx, ax                              ; SLP_TYP first, as ACPICA does
    or ax, SLP_EN
    out dx, ax
    PRINT {"not ok - ACPI S5 powers the VM off", 10}
    jmp give_up
reset_cf9:
    PRINT {"platform: resetting through port 0xcf9", 10}
    mov dx, 0xcf9
    mov al, 0x02                            ; hard reset chosen...
    out dx, al
    mov al, 0x06                            ; ...and started
    out dx, al
    PRINT {"not ok - writing 0x06 to port 0xcf9 resets the VM", 10}
    jmp give_up
reset_kbc:
    PRINT {"platform: resetting through the keyboard controller", 10}
    in al, 0x64
    test al, 2
    CHECK z, "keyboard controller input buffer reads empty"
    mov al, 0xfe
    out 0x64, al
    PRINT {"not ok - keyboard controller command 0xFE resets the VM", 10}
give_up:
    inc dword [rel failures]
finish:
    FINISH

checksum:                                   ; RSI table, ECX length -> AL byte sum (0: valid)
    push rsi
    push rcx
    xor eax, eax
checksum_loop:
    add al, [rsi]
    inc rsi
    dec ecx
    jnz checksum_loop
    pop rcx
    pop rsi
    ret

align 8
rsdp:   dq 0
xsdt:   dq 0
fadt:   dq 0
madt:   dq 0
buffer: times 16 db 0

LIB64_CODE
