; The VMs' firmware at the reset vector (vm/firmware.c copies it to F000:E05B, the PC BIOS's
; POST entry, and puts a far jump to it at F000:FFF0). A vCPU gets here after an INIT (the
; bootstrap vCPU's reset, SDM Vol. 3A 9.1.4: real mode at F000:FFF0) or when the guest jumps
; to FFFF:0000 itself, and does what an IBM PC/AT BIOS does with the CMOS shutdown status
; byte (register 0x0F) before anything else (IBM PC AT Technical Reference, BIOS "shutdown"
; codes; SeaBIOS handles the same codes): it reads and clears it, then
;   0x05  sends an EOI to both 8259s and jumps far through the vector at 40:67
;   0x0A  jumps far through the vector at 40:67
;   0x0B  loads SS:SP from 40:67 and returns with IRET
;   0x0C  loads SS:SP from 40:67 and returns with RETF
; all without touching memory, so a program that set the code and the vector resumes where
; it wanted with its memory as it left it (the 286's way back from protected mode, and
; kvm-unit-tests' init test). Any other code is a boot: a PC's BIOS would run its POST and
; load the operating system again; here mhv does that (vm/reset.c), asked through a soft
; reset at port 0xcf9 (RST_CPU without SYS_RST), with the code it found in BL.
;
; Position-independent 16-bit code (relative jumps, absolute addresses only in page 0);
; it needs no stack and no memory of its own.
section .rodata

global firmware_stub, firmware_stub_end

CMOS_INDEX      equ 0x70
CMOS_DATA       equ 0x71
NMI_OFF         equ 0x80            ; port 0x70 bit 7: NMIs masked while we touch the CMOS
SHUTDOWN_STATUS equ 0x0f
CMOS_REG_D      equ 0x0d
PIC1_COMMAND    equ 0x20
PIC2_COMMAND    equ 0xa0
PIC_EOI         equ 0x20
RESET_CONTROL   equ 0xcf9
RST_CPU         equ 0x04
RESUME_VECTOR   equ 0x467           ; 40:67 (offset, then segment; SP, then SS for 0x0B/0x0C)

bits 16
firmware_stub:
    cli
    cld
    mov al, NMI_OFF | SHUTDOWN_STATUS
    out CMOS_INDEX, al
    in al, CMOS_DATA
    mov bl, al                      ; the code
    mov al, NMI_OFF | SHUTDOWN_STATUS
    out CMOS_INDEX, al
    xor al, al
    out CMOS_DATA, al               ; cleared: a later reset boots unless told otherwise
    mov al, CMOS_REG_D              ; the index on register D, NMIs unmasked, as POST leaves it
    out CMOS_INDEX, al
    xor ax, ax
    mov ds, ax
    cmp bl, 0x05
    je .eoi_and_jump
    cmp bl, 0x0a
    je .jump
    cmp bl, 0x0b
    je .iret
    cmp bl, 0x0c
    je .retf
.boot:
    mov dx, RESET_CONTROL
    mov al, RST_CPU
    out dx, al                      ; mhv reboots the VM here
.halt:
    hlt
    jmp .halt
.eoi_and_jump:
    mov al, PIC_EOI
    out PIC2_COMMAND, al
    out PIC1_COMMAND, al
.jump:
    jmp far [RESUME_VECTOR]
.iret:
    lss sp, [RESUME_VECTOR]
    iret
.retf:
    lss sp, [RESUME_VECTOR]
    retf
firmware_stub_end:
