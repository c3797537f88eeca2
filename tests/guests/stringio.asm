; SPDX-License-Identifier: BSD-2-Clause
; String I/O (INS/OUTS, REP) whose memory operand faults, from 32-bit protected mode with
; paging: mhv performs these instructions itself and must raise what the CPU would: #PF with
; CR2 and the error code (not present, write, user, reserved bit, SMAP), with the elements
; before the fault done and counted in ECX/EDI/ESI; #GP(0)/#SS(0) for segment limits, types and
; null selectors; and wrap 16-bit indexes within 64 KiB and 32-bit ones (DF=1 below 0) within
; 4 GiB. Port 0x99 has nothing behind it: it reads 0xff. The UART's scratch register (0x3ff)
; gives back what OUTS sent.
bits 32
org 0x100000
%include "mhv.inc"
%include "lib32.inc"
MHV_HEADER 32, 0x100000, 4, 1, 0, "stringio"

%define LIN(x) ((x) - $$ + 0x100000)
NOPORT          equ 0x99
SCRATCH         equ COM1 + 7

CODE0           equ 0x08
DATA0           equ 0x10
CODE3           equ 0x18
DATA3           equ 0x20
TSS_SEL         equ 0x28
DS_SMALL        equ 0x30        ; limit 0xfff
DS_DOWN         equ 0x38        ; expand-down, limit 0xfff
ES_RO           equ 0x40        ; read-only data
SS_4M           equ 0x48        ; limit 0x3fffff

PD              equ 0x380000
PT              equ 0x381000
PT_TOP          equ 0x382000    ; maps 0xfffff000 to TOP_PAGE
STACK0          equ 0x390000    ; kernel stack top
STACK_RING0     equ 0x38e000    ; ESP0 for interrupts from ring 3
NP_PAGE         equ 0x3a0000    ; not present (the page before it is)
RO_PAGE         equ 0x3a1000    ; read-only
SUP_PAGE        equ 0x3a2000    ; a supervisor page
AD_PAGE         equ 0x3a3000    ; accessed and dirty flags watched
USER_CODE       equ 0x3a4000    ; user pages: ring-3 code, stack, data
USER_STACK      equ 0x3a5000
USER_DATA       equ 0x3a6000
TOP_PAGE        equ 0x3b0000
RSVD_LINEAR     equ 0x400000    ; a 4 MiB page whose PDE has reserved bit 21 set

; EXPECT resume: the next exception resumes at `resume`; last_vector/last_error record it.
%macro EXPECT 1
    mov dword [resume_eip], %1
    mov dword [last_vector], -1
    mov dword [last_error], -1
%endmacro

guest_entry:
    lgdt [gdtr]
    jmp CODE0:.flat
.flat:
    mov ax, DATA0
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov fs, ax
    mov gs, ax
    mov esp, STACK0
    call setup_idt
    call setup_paging
    mov ax, TSS_SEL
    ltr ax
    cld

; --- #PF in the middle of REP INSB / OUTSB ------------------------------------------------------
    mov edi, NP_PAGE - 4
    mov dword [edi], 0
    mov ecx, 8
    mov dx, NOPORT
    EXPECT .after_ins
    rep insb
.after_ins:
    CHECK_EQ [last_vector], 14, "REP INSB into a page not present raises #PF"
    CHECK_EQ [last_error], 2, "  error code: write, not present"
    CHECK_EQ [last_cr2], NP_PAGE, "  CR2: the first byte not written"
    CHECK_EQ ecx, 4, "  ECX counts the bytes left"
    CHECK_EQ edi, NP_PAGE, "  EDI points at the faulting byte"
    CHECK_EQ [NP_PAGE - 4], 0xffffffff, "  the bytes before the page were written"

    mov esi, NP_PAGE + 0x20
    mov ecx, 3
    mov dx, NOPORT
    EXPECT .after_outs
    rep outsb
.after_outs:
    CHECK_EQ [last_error], 0, "REP OUTSB from a page not present: #PF, read, not present"
    CHECK_EQ [last_cr2], NP_PAGE + 0x20, "  CR2 is its address"
    CHECK_EQ ecx, 3, "  and nothing was sent"

    mov edi, NP_PAGE - 1            ; a word split across the page boundary
    mov byte [edi], 0x11
    mov dx, NOPORT
    EXPECT .after_split
    insw
.after_split:
    CHECK_EQ [last_cr2], NP_PAGE, "INSW split into a page not present: CR2 is that page"
    movzx eax, byte [NP_PAGE - 1]
    CHECK_EQ eax, 0x11, "  and its first byte is not written either"

; --- Access rights: read-only with CR0.WP, user mode, reserved bits, SMAP -----------------------
    mov edi, RO_PAGE
    mov dx, NOPORT
    EXPECT .after_ro
    insb
.after_ro:
    CHECK_EQ [last_error], 3, "INSB into a read-only page with CR0.WP=1: #PF, write, protection"
    mov eax, cr0
    and eax, ~0x10000
    mov cr0, eax
    mov edi, RO_PAGE
    mov byte [edi], 0
    insb                            ; WP=0: supervisor writes ignore R/W
    mov eax, cr0
    or eax, 0x10000
    mov cr0, eax
    movzx eax, byte [RO_PAGE]
    CHECK_EQ eax, 0xff, "with CR0.WP=0 a supervisor INSB writes it"

    mov [saved_esp], esp            ; ring 3: OUTSB from a supervisor page
    mov dword [ring0_resume], .back_from_ring3
    mov esi, user_snippet
    mov edi, USER_CODE
    mov ecx, user_snippet_end - user_snippet
    rep movsb
    mov ax, DATA3 | 3
    mov ds, ax
    mov es, ax
    mov esi, SUP_PAGE
    mov dx, NOPORT
    EXPECT USER_CODE + (user_after_outs - user_snippet)
    push dword DATA3 | 3
    push dword USER_STACK + 0x1000
    push dword 0x3002               ; IOPL 3: ring 3 may use the port
    push dword CODE3 | 3
    push dword USER_CODE
    iret
.back_from_ring3:
    mov ax, DATA0
    mov ds, ax
    mov es, ax
    CHECK_EQ [last_error], 5, "OUTSB at CPL 3 from a supervisor page: #PF, user, protection"
    CHECK_EQ [user_esi], SUP_PAGE, "  ESI unchanged"

    mov esi, RSVD_LINEAR
    mov dx, NOPORT
    EXPECT .after_rsvd
    outsb
.after_rsvd:
    CHECK_EQ [last_error], 9, "OUTSB through a PDE with a reserved bit: #PF, RSVD"

    mov eax, 7                      ; SMAP, where CPUID offers it
    xor ecx, ecx
    cpuid
    test ebx, 1 << 20
    jz .no_smap
    mov byte [USER_DATA], 0x3c
    mov eax, cr4
    or eax, 1 << 21
    mov cr4, eax
    mov esi, USER_DATA
    mov dx, SCRATCH
    EXPECT .after_smap
    outsb
.after_smap:
    CHECK_EQ [last_error], 1, "SMAP: a supervisor OUTSB from a user page with EFLAGS.AC=0 faults"
    stac
    mov esi, USER_DATA
    mov dx, SCRATCH
    outsb
    clac
    in al, dx
    movzx eax, al
    CHECK_EQ eax, 0x3c, "SMAP: with EFLAGS.AC=1 it reads the byte"
    mov eax, cr4
    and eax, ~(1 << 21)
    mov cr4, eax
    jmp .smap_done
.no_smap:
    PRINT {"ok - SMAP: not offered (skipped)", 10}
    PRINT {"ok - SMAP: not offered (skipped)", 10}
.smap_done:

    and dword [PT + (AD_PAGE >> 12) * 4], ~0x60
    invlpg [AD_PAGE]
    mov edi, AD_PAGE
    mov ecx, 2
    mov dx, NOPORT
    rep insb
    mov eax, [PT + (AD_PAGE >> 12) * 4]
    and eax, 0x60
    CHECK_EQ eax, 0x60, "INS sets the accessed and dirty flags of the page it writes"

; --- Segments: limits, types, null selectors, overrides ----------------------------------------
    EXPECT .after_limit             ; (while DS still reaches the variables)
    mov ax, DS_SMALL
    mov ds, ax
    mov esi, 0x1000
    mov dx, NOPORT
    outsb
.after_limit:
    mov ax, DATA0
    mov ds, ax
    CHECK_EQ [last_vector], 13, "OUTSB beyond DS's limit raises #GP"
    CHECK_EQ [last_error], 0, "  #GP(0)"

    EXPECT .after_down
    mov ax, DS_DOWN
    mov ds, ax
    mov esi, 0x800
    outsb
.after_down:
    mov ax, DATA0
    mov ds, ax
    CHECK_EQ [last_vector], 13, "OUTSB at or below an expand-down DS's limit raises #GP"
    mov ax, DS_DOWN
    mov ds, ax
    mov esi, 0x100000               ; above the limit: valid
    mov dx, NOPORT
    outsb
    mov ax, DATA0
    mov ds, ax
    CHECK_EQ esi, 0x100001, "OUTSB above an expand-down DS's limit reads"

    mov ax, ES_RO
    mov es, ax
    mov edi, 0x200000
    EXPECT .after_es_ro
    insb
.after_es_ro:
    CHECK_EQ [last_vector], 13, "INSB through a read-only ES raises #GP"
    xor eax, eax
    mov es, ax
    EXPECT .after_es_null
    insb
.after_es_null:
    mov ax, DATA0
    mov es, ax
    CHECK_EQ [last_vector], 13, "INSB through a null ES raises #GP"

    mov ax, SS_4M
    mov ss, ax
    mov esi, 0x500000
    EXPECT .after_ss
    ss outsb
.after_ss:
    mov ax, DATA0
    mov ss, ax
    CHECK_EQ [last_vector], 12, "SS-relative OUTSB beyond SS's limit raises #SS"
    CHECK_EQ [last_error], 0, "  #SS(0)"

    mov ax, DS_SMALL
    mov fs, ax
    mov esi, 0x2000
    EXPECT .after_fs
    fs outsb
.after_fs:
    mov ax, DATA0
    mov fs, ax
    CHECK_EQ [last_vector], 13, "OUTSB uses its segment override (FS's limit here)"

; --- Address sizes: 16-bit indexes wrap at 64 KiB, 32-bit ones at 4 GiB ------------------------
    mov byte [0x10000], 0x22
    mov word [0xfffe], 0
    mov word [0], 0
    mov edi, 0xabcdffff
    mov ecx, 0x12340003
    mov dx, NOPORT
    a16 rep insb
    CHECK_EQ edi, 0xabcd0002, "a16 REP INSB wraps DI within 64 KiB and keeps EDI's upper half"
    CHECK_EQ ecx, 0x12340000, "  CX counts down to 0, ECX's upper half kept"
    movzx eax, word [0]
    CHECK_EQ eax, 0xffff, "  bytes 0 and 1 written after 0xffff"
    movzx eax, byte [0x10000]
    CHECK_EQ eax, 0x22, "  and 0x10000 untouched"

    mov dword [TOP_PAGE + 0xffc], 0
    mov edi, 1
    mov ecx, 4
    mov dx, NOPORT
    std
    rep insb
    cld
    CHECK_EQ edi, 0xfffffffd, "DF=1: REP INSB runs below address 0 and wraps EDI"
    CHECK_EQ [TOP_PAGE + 0xffc], 0xffff0000, "  writing the top bytes of the 4 GiB"

    FINISH

; --- Runtime -----------------------------------------------------------------------------------
; Ring 3 runs this from USER_CODE: OUTSB from DS:ESI (a supervisor page: #PF), then back.
user_snippet:
    outsb
user_after_outs:
    mov [ss:USER_STACK + 0xffc], esi
    int 0x31
user_snippet_end:

to_ring0:                           ; INT 0x31 from ring 3: back to the kernel's code and stack
    mov ax, DATA0
    mov ds, ax
    mov eax, [USER_STACK + 0xffc]
    mov [user_esi], eax
    mov esp, [saved_esp]
    jmp [ring0_resume]

setup_idt:
    xor ecx, ecx
.gate:
    mov eax, ecx
    shl eax, 4
    add eax, fault_stubs
    mov [idt + ecx * 8], ax
    mov word [idt + ecx * 8 + 2], CODE0
    mov word [idt + ecx * 8 + 4], 0x8e00
    shr eax, 16
    mov [idt + ecx * 8 + 6], ax
    inc ecx
    cmp ecx, 32
    jb .gate
    mov eax, to_ring0
    mov [idt + 0x31 * 8], ax
    mov word [idt + 0x31 * 8 + 2], CODE0
    mov word [idt + 0x31 * 8 + 4], 0xee00 ; DPL 3: ring 3 may INT 0x31
    shr eax, 16
    mov [idt + 0x31 * 8 + 6], ax
    lidt [idtr]
    ret

setup_paging:
    mov edi, PT                     ; identity, supervisor, writable
    mov eax, 3
.pte:
    stosd
    add eax, 0x1000
    cmp edi, PT + 4096
    jb .pte
    xor eax, eax
    mov edi, PD
    mov ecx, 1024
    rep stosd
    mov edi, PT_TOP
    mov ecx, 1024
    rep stosd
    mov dword [PD], PT | 7          ; user allowed below; the PTEs decide
    mov dword [PD + 1 * 4], RSVD_LINEAR | (1 << 21) | 0x83
    mov dword [PD + 1023 * 4], PT_TOP | 3
    mov dword [PT_TOP + 1023 * 4], TOP_PAGE | 3
    and dword [PT + (NP_PAGE >> 12) * 4], ~1
    and dword [PT + (RO_PAGE >> 12) * 4], ~2
    or dword [PT + (USER_CODE >> 12) * 4], 4
    or dword [PT + (USER_STACK >> 12) * 4], 4
    or dword [PT + (USER_DATA >> 12) * 4], 4
    mov eax, PD
    mov cr3, eax
    mov eax, cr4
    or eax, 0x10                    ; PSE
    mov cr4, eax
    mov eax, cr0
    or eax, 0x80010000              ; PG, WP
    mov cr0, eax
    ret

; 32 stubs of 16 bytes: vector pushed (with a dummy error code where the CPU pushes none).
align 16
fault_stubs:
%assign v 0
%rep 32
stub_ %+ v:
%if v = 8 || (v >= 10 && v <= 14) || v = 17
    push dword v
%else
    push dword 0
    push dword v
%endif
    jmp fault_common
    times 16 - ($ - stub_ %+ v) nop
%assign v v + 1
%endrep

fault_common:                       ; [esp] vector, [esp + 4] error code, [esp + 8] EIP
    push eax
    push ds                         ; the test may have left DS small or null
    mov ax, DATA0
    mov ds, ax
    mov eax, [esp + 8]
    mov [last_vector], eax
    mov eax, [esp + 12]
    mov [last_error], eax
    mov eax, cr2
    mov [last_cr2], eax
    mov eax, [resume_eip]
    test eax, eax
    jz .unexpected
    mov [esp + 16], eax
    mov dword [resume_eip], 0
    pop ds
    pop eax
    add esp, 8
    iret
.unexpected:
    PRINT {"not ok - unexpected exception "}
    mov eax, [last_vector]
    call put_hex
    PRINT {10}
    mov al, 0xee
    out DEBUG_EXIT, al
    hlt

    LIB32_CODE

align 8
gdt:
    dq 0
    dq 0x00cf9b000000ffff           ; 0x08 code, ring 0
    dq 0x00cf93000000ffff           ; 0x10 data, ring 0
    dq 0x00cffb000000ffff           ; 0x18 code, ring 3
    dq 0x00cff3000000ffff           ; 0x20 data, ring 3
    dw 0x67, LIN(tss) & 0xffff      ; 0x28 TSS
    db (LIN(tss) >> 16) & 0xff, 0x89, 0, (LIN(tss) >> 24) & 0xff
    dq 0x0040930000000fff           ; 0x30 data, limit 0xfff
    dq 0x0040970000000fff           ; 0x38 data, expand-down, limit 0xfff
    dq 0x00cf91000000ffff           ; 0x40 data, read-only
    dq 0x00c09300000003ff           ; 0x48 data, limit 0x3fffff
gdt_end:
gdtr:
    dw gdt_end - gdt - 1
    dd gdt

align 8
idtr:
    dw 256 * 8 - 1
    dd idt
idt: times 256 * 8 db 0

align 16
tss:
    dd 0, STACK_RING0, DATA0        ; link, ESP0, SS0
    times 0x68 - 12 db 0

align 4
resume_eip: dd 0
last_vector: dd 0
last_error: dd 0
last_cr2: dd 0
saved_esp: dd 0
ring0_resume: dd 0
user_esi: dd 0
