; SPDX-License-Identifier: BSD-2-Clause
; The virtual 16550A at COM1, register by register, as a driver sees it (Linux's 8250 probe
; and startup, PC16550D data sheet). Interrupts are judged by what IIR reports, not by their
; delivery. Every check runs with the UART back in normal mode before its line is printed:
; in loopback or with DLAB set, the line would go into the UART instead of to the console.
bits 64
org 0x100000
%include "mhv.inc"
%include "lib64.inc"
MHV_HEADER 64, 0x100000, 4, 1, 0, "uart"

RBR equ 0
THR equ 0
DLL equ 0
IER equ 1
DLM equ 1
IIR equ 2
FCR equ 2
LCR equ 3
MCR equ 4
LSR equ 5
MSR equ 6
SCR equ 7

%macro OUTB 2                       ; OUTB register, value (AL and DX are clobbered)
    mov dx, COM1 + %1
    mov al, %2
    out dx, al
%endmacro

%macro INB 1                        ; INB register -> AL
    mov dx, COM1 + %1
    in al, dx
%endmacro

guest_entry:
    call setup_idt

    INB LSR
    cmp al, 0x60
    CHECK e, "LSR reads 0x60 when idle: THR empty, transmitter empty, no data"
    INB IIR
    cmp al, 0x01
    CHECK e, "IIR reads 0x01 after reset: no interrupt pending, FIFOs off"

    OUTB SCR, 0x5a
    INB SCR
    mov bl, al
    OUTB SCR, 0xa5
    INB SCR
    mov bh, al
    cmp bx, 0xa55a
    CHECK e, "scratch register keeps 0x5a and 0xa5"

    ; Divisor latch: 0x010c (DLAB on), then back to 115200 baud and 8N1 before printing.
    OUTB LCR, 0x83
    OUTB DLL, 0x0c
    OUTB DLM, 0x01
    INB DLL
    mov bl, al
    INB DLM
    mov bh, al
    INB LCR
    mov cl, al
    OUTB DLL, 0x01
    OUTB DLM, 0x00
    OUTB LCR, 0x03
    cmp bx, 0x010c
    CHECK e, "divisor latch reads back DLL 0x0c, DLM 0x01 while LCR.DLAB is set"
    cmp cl, 0x83
    CHECK e, "LCR reads back 0x83"
    INB IER
    cmp al, 0
    CHECK e, "with DLAB clear again, offset 1 is IER (0), not DLM"

    ; IER keeps its four bits; bits 4-7 read 0 (Linux's probe writes 0x0f and 0xff).
    OUTB IER, 0x0f
    INB IER
    mov bl, al
    OUTB IER, 0xf0
    INB IER
    mov bh, al
    OUTB IER, 0x00
    cmp bx, 0x000f
    CHECK e, "IER reads back 0x0f, and 0 after writing 0xf0"

    ; Linux's autoconfig: MCR = LOOP | OUT2 | RTS must give MSR 0x90 in the high nibble
    ; (DCD <- OUT2, CTS <- RTS); LOOP with all four outputs gives 0xf0.
    OUTB MCR, 0x1a
    INB MSR
    mov bl, al
    OUTB MCR, 0x1f
    INB MSR
    mov bh, al
    OUTB MCR, 0x10
    INB MSR
    mov cl, al
    INB MCR
    mov ch, al
    OUTB MCR, 0x03
    INB MSR
    mov r8b, al
    and bx, 0xf0f0
    cmp bx, 0xf090
    CHECK e, "loopback MSR: MCR 0x1a gives 0x9X, MCR 0x1f gives 0xfX"
    and cl, 0xf0
    cmp cl, 0
    CHECK e, "loopback MSR with no outputs set: high nibble 0"
    cmp ch, 0x10
    CHECK e, "MCR reads back 0x10"
    cmp r8b, 0xbb
    CHECK e, "out of loopback MSR shows the line's CTS, DSR, DCD and their deltas (0xbb)"
    INB MSR
    cmp al, 0xb0
    CHECK e, "reading MSR cleared its delta bits"

    ; Loopback data path: a byte written to THR arrives in RBR with LSR.DR, not on the line.
    OUTB MCR, 0x10
    OUTB THR, 'Q'
    INB LSR
    mov bl, al
    INB RBR
    mov bh, al
    INB LSR
    mov cl, al
    INB MSR
    OUTB MCR, 0x00
    INB MSR
    cmp bl, 0x61
    CHECK e, "loopback: LSR shows data ready (0x61) after writing THR"
    cmp bh, 'Q'
    CHECK e, "loopback: RBR returns the byte written"
    cmp cl, 0x60
    CHECK e, "loopback: LSR.DR clears once RBR is read"

    ; Overrun without FIFOs: a second byte replaces the first and sets LSR.OE, which clears on
    ; reading LSR.
    OUTB MCR, 0x10
    OUTB THR, 'a'
    OUTB THR, 'b'
    INB LSR
    mov bl, al
    INB LSR
    mov bh, al
    INB RBR
    mov cl, al
    INB MSR
    OUTB MCR, 0x00
    INB MSR
    cmp bx, 0x6163
    CHECK e, "overrun sets LSR.OE (0x63), reading LSR clears it (0x61)"
    cmp cl, 'b'
    CHECK e, "overrun without FIFOs: RBR holds the newer byte"

    ; FIFOs: FCR bit 0 makes IIR bits 6-7 read 11 (a 16550A to Linux's probe).
    OUTB FCR, 0x07
    INB IIR
    mov bl, al
    OUTB FCR, 0x00
    INB IIR
    mov bh, al
    cmp bx, 0x01c1
    CHECK e, "FCR 0x07 makes IIR read 0xc1; FCR 0 makes it 0x01 again"

    ; The receive FIFO holds 16 bytes in order; the 17th is an overrun and is lost.
    OUTB FCR, 0x07
    OUTB MCR, 0x10
    xor ecx, ecx
.fill:
    mov dx, COM1 + THR
    lea eax, [rcx + 'A']
    out dx, al
    inc ecx
    cmp ecx, 17
    jb .fill
    INB LSR
    mov bl, al
    xor ecx, ecx                    ; count the bytes and check their order
    xor r8d, r8d                    ; 1 if one is out of order
.drain:
    INB LSR
    test al, 1
    jz .drained
    INB RBR
    lea edx, [rcx + 'A']
    cmp al, dl
    je .in_order
    mov r8d, 1
.in_order:
    inc ecx
    cmp ecx, 64
    jb .drain
.drained:
    INB MSR
    OUTB MCR, 0x00
    INB MSR
    cmp bl, 0x63
    CHECK e, "FIFO mode: the 17th byte sets LSR.OE"
    cmp ecx, 16
    CHECK e, "the receive FIFO held 16 bytes"
    cmp r8d, 0
    CHECK e, "the FIFO gave them back in order"

    ; Received-data interrupts by trigger level: with the 4-byte trigger, one byte reports a
    ; character timeout (0xcc), four report data available (0xc4); reading empties it (0xc1).
    OUTB FCR, 0x47
    OUTB MCR, 0x10
    OUTB IER, 0x01
    OUTB THR, '1'
    INB IIR
    mov bl, al
    OUTB THR, '2'
    OUTB THR, '3'
    OUTB THR, '4'
    INB IIR
    mov bh, al
    INB RBR
    INB IIR
    mov cl, al
    INB RBR
    INB RBR
    INB RBR
    INB IIR
    mov ch, al
    OUTB IER, 0x00
    INB MSR
    OUTB MCR, 0x00
    INB MSR
    OUTB FCR, 0x00
    cmp bx, 0xc4cc
    CHECK e, "IIR: character timeout (0xcc) below the trigger level, data available (0xc4) at it"
    cmp cl, 0xcc
    CHECK e, "IIR: back to character timeout once below the trigger again"
    cmp ch, 0xc1
    CHECK e, "IIR: nothing pending once the FIFO is read empty"

    ; THR empty interrupt: enabling ETBEI with THR empty raises it; reading IIR while it is the
    ; source clears it; enabling again raises it again (Linux's startup THRE test); writing THR
    ; (a CR, which the console drops) clears it and the transmitted byte raises it anew.
    OUTB IER, 0x02
    INB IIR
    mov bl, al
    INB IIR
    mov bh, al
    OUTB IER, 0x00
    OUTB IER, 0x02
    INB IIR
    mov cl, al
    INB IIR
    OUTB THR, 13
    INB IIR
    mov ch, al
    OUTB IER, 0x00
    cmp bx, 0x0102
    CHECK e, "enabling ETBEI raises THRE (IIR 0x02); reading IIR clears it (0x01)"
    cmp cl, 0x02
    CHECK e, "disabling and enabling ETBEI raises THRE again"
    cmp ch, 0x02
    CHECK e, "a byte written to THR raises THRE again once sent"

    ; Modem status: entering loopback with MCR 0x10 drops CTS, DSR and DCD, so MSR has deltas
    ; and, with EDSSI, IIR reports 0x00 until MSR is read.
    OUTB IER, 0x08
    OUTB MCR, 0x10
    INB IIR
    mov bl, al
    INB MSR
    mov bh, al
    INB IIR
    mov cl, al
    OUTB MCR, 0x00
    INB MSR
    OUTB IER, 0x00
    cmp bx, 0x0b00
    CHECK e, "IIR 0x00 reports modem status; MSR shows delta CTS, DSR and DCD (0x0b)"
    cmp cl, 0x01
    CHECK e, "reading MSR clears the modem status interrupt"

    ; Priorities: line status > received data > THR empty > modem status, each cleared by its
    ; own action.
    OUTB IER, 0x0f
    OUTB MCR, 0x10
    OUTB THR, 'x'
    OUTB THR, 'y'                   ; overrun (no FIFOs)
    INB IIR
    mov bl, al
    INB LSR
    INB IIR
    mov bh, al
    INB RBR
    INB IIR
    mov cl, al
    INB IIR
    mov ch, al
    INB MSR
    INB IIR
    mov r8b, al
    OUTB IER, 0x00
    OUTB MCR, 0x00
    INB MSR
    cmp bx, 0x0406
    CHECK e, "priority: line status (0x06) first, then received data (0x04)"
    cmp cx, 0x0002
    CHECK e, "then THR empty (0x02), then modem status (0x00)"
    cmp r8b, 0x01
    CHECK e, "and nothing once each source was served"

    ; Wider accesses reach consecutive registers, as on the ISA bus: a 16-bit read at LCR
    ; gives LCR and MCR.
    OUTB MCR, 0x03
    mov dx, COM1 + LCR
    in ax, dx
    mov bx, ax
    OUTB MCR, 0x00
    cmp bx, 0x0303
    CHECK e, "a 16-bit read at LCR returns LCR (0x03) and MCR (0x03)"

    INB LSR
    cmp al, 0x60
    CHECK e, "LSR is back to 0x60 at the end"
    FINISH

LIB64_CODE
