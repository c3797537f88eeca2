; SPDX-License-Identifier: BSD-2-Clause
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
; load the operating system again; here mhv does that (devices/reset.c), asked through a soft
; reset at port 0xcf9 (RST_CPU without SYS_RST), with the code it found in BL.
;
; Position-independent 16-bit code (relative jumps, absolute addresses only in page 0);
; it needs no stack and no memory of its own.
;
; After it come the interrupt handlers that the real-mode interrupt vector table of a VM
; started "as after a BIOS" points at (vm/firmware.c, firmware_bios_data: multiboot kernels),
; so that a kernel which enables interrupts in real mode before it has vectors of its own
; sees what a PC BIOS does with them: the timer tick counted in the BIOS data area, every
; hardware interrupt acknowledged at the 8259s, every other vector a plain IRET. There are no
; BIOS services behind INT 0x10-0x1A. They run on the interrupted code's stack and keep every
; register; the EOIs are specific (OCW2 0x60 | IR, 8259A data sheet), so a spurious IRQ 7 or
; 15, which sets no in-service bit, ends nothing else.
section .rodata

global firmware_stub, firmware_stub_end
global firmware_irq0, firmware_irq8, firmware_iret
global firmware_irq1, firmware_irq9

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
;
; IRQ 0 (vector 0x08), the PIT's channel 0 at 18.2 Hz: the PC BIOS's timer tick. It counts the
; ticks since midnight in the BIOS data area (the dword at 40:6C; at 0x1800B0, a day of ticks,
; back to 0 with the midnight flag at 40:70 set), calls INT 0x1C (the user timer hook, an IRET
; unless the program took it) and acknowledges the interrupt.
BDA_SEGMENT     equ 0x40
BDA_TICKS       equ 0x6c
BDA_MIDNIGHT    equ 0x70
TICKS_PER_DAY   equ 0x1800b0
SPECIFIC_EOI    equ 0x60                ; OCW2: specific EOI of the IR in bits 2-0
CASCADE_EOI     equ SPECIFIC_EOI | 2    ; the master's IR2, where the slave is wired

firmware_irq0:
    push ds
    push ax
    mov ax, BDA_SEGMENT
    mov ds, ax
    add word [BDA_TICKS], 1
    adc word [BDA_TICKS + 2], 0
    cmp word [BDA_TICKS + 2], TICKS_PER_DAY >> 16
    jb .counted
    ja .midnight
    cmp word [BDA_TICKS], TICKS_PER_DAY & 0xffff
    jb .counted
.midnight:
    mov word [BDA_TICKS], 0
    mov word [BDA_TICKS + 2], 0
    mov byte [BDA_MIDNIGHT], 1
.counted:
    int 0x1c
    mov al, SPECIFIC_EOI | 0
    out PIC1_COMMAND, al
    pop ax
    pop ds
    iret

; IRQ 1-7 (vectors 0x09-0x0F): nothing of the BIOS's behind them (no keyboard, no floppy); the
; interrupt is acknowledged at the master. Entries of 5 bytes each (vm/firmware.c relies on
; it): IRQ n at firmware_irq1 + 5 * (n - 1).
%macro MASTER_IRQ 1
    push ax
    mov al, SPECIFIC_EOI | %1
    jmp short master_eoi
%endmacro
firmware_irq1:
%assign ir 1
%rep 7
    MASTER_IRQ ir
%assign ir ir + 1
%endrep
%if $ - firmware_irq1 != 7 * 5
%error "master IRQ entries must be 5 bytes each"
%endif
master_eoi:
    out PIC1_COMMAND, al
    pop ax
    iret

; IRQ 8 (vector 0x70), the CMOS clock: register C is read, which clears its flags and lowers
; the line (the index and NMI mask at port 0x70, which mhv's CMOS reads back, are put back as
; they were), then both 8259s are acknowledged.
firmware_irq8:
    push ax
    in al, CMOS_INDEX
    push ax
    and al, NMI_OFF
    or al, 0x0c
    out CMOS_INDEX, al
    in al, CMOS_DATA
    pop ax
    out CMOS_INDEX, al
    mov al, SPECIFIC_EOI | 0
    jmp short slave_eoi

; IRQ 9-15 (vectors 0x71-0x77): acknowledged at the slave and at the master's cascade input.
; Entries of 5 bytes each: IRQ n at firmware_irq9 + 5 * (n - 9).
%macro SLAVE_IRQ 1
    push ax
    mov al, SPECIFIC_EOI | %1
    jmp short slave_eoi
%endmacro
firmware_irq9:
%assign ir 1
%rep 7
    SLAVE_IRQ ir
%assign ir ir + 1
%endrep
%if $ - firmware_irq9 != 7 * 5
%error "slave IRQ entries must be 5 bytes each"
%endif
slave_eoi:
    out PIC2_COMMAND, al
    mov al, CASCADE_EOI
    out PIC1_COMMAND, al
    pop ax
    iret

; Every other vector, INT 0x1C among them.
firmware_iret:
    iret
firmware_stub_end:
