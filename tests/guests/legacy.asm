; SPDX-License-Identifier: BSD-2-Clause
; The legacy PC devices from inside a VM, through their ports: the 8259 PIC pair (initialisation,
; IMR, IRR/ISR reads), the 8254 PIT (latched counts, read-back status, channel 2's OUT on port
; 0x61) and the MC146818 CMOS clock (UIP, date, seconds advancing, register D, RAM, the NMI
; mask bit of port 0x70, the memory size a BIOS would store). Interrupt delivery is not tested
; here: every PIC line stays masked and interrupts stay off. Every wait is bounded, so a broken
; device fails a check instead of hanging the guest.
bits 64
org 0x100000
%include "mhv.inc"
%include "lib64.inc"
MHV_HEADER 64, 0x100000, 4, 1, 0, "legacy"

POLLS equ 0x100000                  ; bound of every busy wait on a device

guest_entry:
    call setup_idt

; --- 8259A PIC pair -------------------------------------------------------------------------
    mov al, 0x11                    ; ICW1: edge, cascade, ICW4 follows
    out 0x20, al
    out 0xa0, al
    mov al, 0x20                    ; ICW2: vector bases 0x20 and 0x28
    out 0x21, al
    mov al, 0x28
    out 0xa1, al
    mov al, 0x04                    ; ICW3: slave on IR2 / slave ID 2
    out 0x21, al
    mov al, 0x02
    out 0xa1, al
    mov al, 0x01                    ; ICW4: 8086 mode
    out 0x21, al
    out 0xa1, al
    mov al, 0xff                    ; Linux's probe: mask all, then all but the cascade
    out 0x21, al
    mov al, 0xfb
    out 0x21, al
    in al, 0x21
    cmp al, 0xfb
    CHECK e, "PIC: the master's IMR reads back 0xfb"
    mov al, 0xa5
    out 0xa1, al
    in al, 0xa1
    cmp al, 0xa5
    CHECK e, "PIC: the slave's IMR reads back what was written"
    mov al, 0xff                    ; from here on every line is masked
    out 0x21, al
    out 0xa1, al
    mov al, 0x0a                    ; OCW3: read IRR
    out 0x20, al
    in al, 0x20
    test al, al
    CHECK z, "PIC: IRR reads 0 with nothing pending"
    mov al, 0x0b                    ; OCW3: read ISR
    out 0x20, al
    in al, 0x20
    mov bl, al
    mov al, 0x0b
    out 0xa0, al
    in al, 0xa0
    or al, bl
    CHECK z, "PIC: ISR reads 0 on both chips with nothing in service"

; --- 8254 PIT ---------------------------------------------------------------------------------
    mov al, 0x34                    ; channel 0, LSB then MSB, mode 2, binary
    out 0x43, al
    xor al, al
    out 0x40, al
    mov al, 0xc0                    ; count 0xc000
    out 0x40, al
    call pit0_latch
    mov r12d, eax
    mov ecx, 2000
.pit_spin:
    pause
    dec ecx
    jnz .pit_spin
    call pit0_latch
    mov r13d, eax
    cmp r12d, 0xc000
    CHECK be, "PIT: a latched count is within the programmed count"
    cmp r13d, r12d
    CHECK b, "PIT: channel 0 counts down between two latches"
    mov al, 0xe2                    ; read-back: status of channel 0 only
    out 0x43, al
    in al, 0x40
    and al, 0x7f                    ; OUT (bit 7) depends on the moment
    cmp al, 0x34
    CHECK e, "PIT: the read-back status shows mode 2, LSB/MSB access, count loaded"
    mov al, 0x30                    ; channel 0 to mode 0 without a count: stopped
    out 0x43, al

    in al, 0x61
    and al, 0xfc                    ; channel 2 gate low, speaker off
    out 0x61, al
    mov al, 0xb0                    ; channel 2, LSB then MSB, mode 0
    out 0x43, al
    mov al, 0xa9                    ; 1193: 1 ms
    out 0x42, al
    mov al, 0x04
    out 0x42, al
    in al, 0x61
    test al, 0x20
    CHECK z, "PIT: OUT2 is low while channel 2 waits for its gate"
    in al, 0x61
    or al, 0x01                     ; gate high: counting starts
    out 0x61, al
    mov ecx, POLLS
.out2_wait:
    in al, 0x61
    test al, 0x20
    jnz .out2_done
    dec ecx
    jnz .out2_wait
.out2_done:
    test al, 0x20
    CHECK nz, "PIT: OUT2 on port 0x61 rises once channel 2's count has elapsed"
    and al, 0xfc
    out 0x61, al

; --- MC146818 CMOS clock ----------------------------------------------------------------------
    call rtc_wait_uip
    CHECK nz, "RTC: register A's UIP clears"
    mov dil, 0x0d
    call cmos_read
    cmp al, 0x80
    CHECK e, "RTC: register D reads VRT (valid time and RAM)"
    mov dil, 0x0b
    call cmos_read
    mov [rel reg_b], al
    mov dil, 0x32
    call cmos_read
    call to_binary
    imul ebx, eax, 100
    mov dil, 0x09
    call cmos_read
    call to_binary
    add ebx, eax
    cmp ebx, 2024
    CHECK ae, "RTC: the year (century and year registers) is 2024 or later"
    cmp ebx, 2200
    CHECK b, "RTC: the year is before 2200"
    mov dil, 0x08
    call cmos_read
    call to_binary
    lea ecx, [rax - 1]
    cmp ecx, 12
    CHECK b, "RTC: the month is 1-12"
    mov dil, 0x07
    call cmos_read
    call to_binary
    lea ecx, [rax - 1]
    cmp ecx, 31
    CHECK b, "RTC: the day is 1-31"

    call rtc_wait_uip               ; seconds now ...
    mov dil, 0x00
    call cmos_read
    call to_binary
    mov r12d, eax
    mov eax, 0x40000010             ; ... and 1.2 s of TSC later
    cpuid                           ; EAX: TSC kHz
    imul rax, rax, 1200
    mov r14, rax
    rdtsc
    shl rdx, 32
    or rax, rdx
    add r14, rax
.second_wait:
    pause
    rdtsc
    shl rdx, 32
    or rax, rdx
    cmp rax, r14
    jb .second_wait
    call rtc_wait_uip
    mov dil, 0x00
    call cmos_read
    call to_binary
    sub eax, r12d                   ; elapsed seconds, modulo a minute
    add eax, 60
    xor edx, edx
    mov ecx, 60
    div ecx
    mov eax, edx
    dec eax
    cmp eax, 2                      ; 1 or 2 seconds later
    CHECK b, "RTC: the seconds advance by 1-2 after 1.2 s of TSC time"

    mov dil, 0x50                   ; CMOS RAM
    mov sil, 0xa5
    call cmos_write
    mov dil, 0x51
    mov sil, 0x3c
    call cmos_write
    mov dil, 0x50
    call cmos_read
    cmp al, 0xa5
    CHECK e, "RTC: a CMOS RAM byte reads back what was written"
    mov al, 0xd0                    ; index 0x50 with the NMI mask bit set
    out 0x70, al
    in al, 0x71
    cmp al, 0xa5
    CHECK e, "RTC: the NMI mask bit of port 0x70 does not change the register selected"
    in al, 0x70
    cmp al, 0xd0
    CHECK e, "RTC: port 0x70 reads back the index and the NMI mask"
    mov al, 0x51                    ; NMIs enabled again
    out 0x70, al
    in al, 0x71
    cmp al, 0x3c
    CHECK e, "RTC: the next RAM byte keeps its own value"
    mov dil, 0x17
    call cmos_read
    mov bl, al
    mov dil, 0x18
    call cmos_read
    mov bh, al
    cmp bx, 3 * 1024                ; 4 MiB VM: 3072 KiB above 1 MiB
    CHECK e, "RTC: CMOS 0x17/0x18 give the VM's extended memory (3072 KiB)"
    FINISH

; Latches channel 0's count and reads it: EAX.
pit0_latch:
    xor al, al                      ; counter latch command, channel 0
    out 0x43, al
    in al, 0x40
    movzx edx, al
    in al, 0x40
    movzx eax, al
    shl eax, 8
    or eax, edx
    ret

; DIL: register -> AL.
cmos_read:
    mov al, dil
    out 0x70, al
    in al, 0x71
    ret

; DIL: register, SIL: value.
cmos_write:
    mov al, dil
    out 0x70, al
    mov al, sil
    out 0x71, al
    ret

; Waits (bounded) for register A's UIP to read 0: ZF clear when it did.
rtc_wait_uip:
    push rcx
    mov ecx, POLLS
.poll:
    mov dil, 0x0a
    call cmos_read
    test al, 0x80
    jz .clear
    dec ecx
    jnz .poll
    pop rcx
    xor eax, eax                    ; ZF set: it never cleared
    ret
.clear:
    pop rcx
    or eax, 1                       ; ZF clear
    ret

; AL: a clock register in register B's format -> EAX binary.
to_binary:
    movzx eax, al
    test byte [rel reg_b], 0x04     ; DM: binary already
    jnz .done
    mov ecx, eax
    shr ecx, 4
    imul ecx, ecx, 10
    and eax, 0x0f
    add eax, ecx
.done:
    ret

reg_b: db 0

    LIB64_CODE
