; SPDX-License-Identifier: BSD-2-Clause
; Hardware task switches in a 32-bit protected-mode guest with paging: JMP and CALL to a TSS,
; CALL through a task gate in the GDT, IRET with NT=1, INT n, exceptions (with and without an
; error code), an external interrupt and NMIs through task gates in the IDT, a #DF task that
; survives a stack overflow, a 16-bit TSS, an LDT, a CR3 switch, the T flag, CR0.TS and DR7,
; and the faults of a task switch before its commit point (old task) and after it (new task,
; caught by #TS/#NP/#SS handler tasks). Under VMX every one of them is a task-switch exit that
; mhv emulates (vmx/exit_task_switch.c). Nothing here needs mhv: the interrupts and NMIs are
; IPIs of the local APIC, so the guest runs on bare Bochs as well (its checks were compared).
bits 32
org 0x100000
%include "mhv.inc"
%include "lib32.inc"
MHV_HEADER 32, 0x100000, 4, 1, 0, "tasks"

%define LIN(x) ((x) - $$ + 0x100000)   ; a label as a number nasm can shift and mask

; Selectors.
CODE0           equ 0x08
DATA0           equ 0x10
DATA3           equ 0x20
TSS_A           equ 0x28        ; the main task
TSS_B           equ 0x30        ; JMP target
TSS_C           equ 0x38        ; CALL target
GATE_C          equ 0x40        ; task gate in the GDT for TSS_C
TSS_INT         equ 0x48        ; INT 0x40
TSS_UD          equ 0x50        ; fault handler tasks, one per vector
TSS_GP          equ 0x58
TSS_PF          equ 0x60
TSS_DF          equ 0x68
TSS_TS          equ 0x70
TSS_NP          equ 0x78
TSS_SS          equ 0x80
TSS_IRQ         equ 0x88
TSS_NMI         equ 0x90
TSS_BAD         equ 0x98        ; a task whose TSS each fault test breaks
TSS_16          equ 0xa0        ; a 16-bit TSS
CODE_T16        equ 0xa8        ; its code segment (base task16_code)
LDT_SEL         equ 0xb0
STACK16         equ 0xb8        ; a 16-bit stack segment
TSS_SMALL       equ 0xc0        ; limit below 0x67
TSS_ABSENT      equ 0xc8        ; not present
DATA_ABSENT     equ 0xd0
CODE_ABSENT     equ 0xd8
TSS_DB          equ 0xe0        ; T flag set
TSS_CR3         equ 0xe8        ; another page directory
TSS_LDT         equ 0xf0        ; an LDT, DS from it, EFLAGS from its TSS
TSS_PFT         equ 0xf8        ; its TSS on a page that is not present at first

; Memory (identity-mapped with 4 KiB pages, but for the pages named here).
PD1             equ 0x380000
PT1             equ 0x381000
PD2             equ 0x382000
PT2             equ 0x383000
STACKS          equ 0x390000    ; stack k: [STACKS + k * 0x1000, + 0x1000)
PF_PAGE         equ 0x3a0000    ; not present: a write faults, the #PF task maps it
PFT_PAGE        equ 0x3a1000    ; TSS_PFT's TSS, not present at first
GUARD_PAGE      equ 0x3a2000    ; never present: the stack below 0x3a3000 overflows into it
CR3_PAGE        equ 0x3a4000    ; PD1 maps it to itself, PD2 to CR3_OTHER
CR3_OTHER       equ 0x3a5000
%define STACK(k) (STACKS + ((k) + 1) * 0x1000)

; TSS32 eip, esp, eflags, cs, ds (also es, ss), ldt, eax, cr3
%macro TSS32 8
    dd 0                            ; 0x00 previous task link
    dd 0, 0, 0, 0, 0, 0             ; 0x04 ESP0, SS0, ESP1, SS1, ESP2, SS2
    dd %8                           ; 0x1c CR3
    dd %1, %3                       ; 0x20 EIP, EFLAGS
    dd %7, 0, 0, 0                  ; 0x28 EAX, ECX, EDX, EBX
    dd %2, 0, 0, 0                  ; 0x38 ESP, EBP, ESI, EDI
    dd %5, %4, %5, %5, 0, 0         ; 0x48 ES, CS, SS, DS, FS, GS
    dd %6                           ; 0x60 LDT
    dw 0, 0x68                      ; 0x64 T flag, I/O map base
%endmacro
%macro TASK 3                       ; TASK eip, stack number, eax: a ring-0 flat task
    TSS32 %1, STACK(%2), 2, CODE0, DATA0, 0, %3, PD1
%endmacro
; DESC base, limit, access byte (P DPL S type), flags nibble (G D/B L AVL)
%macro DESC 4
    dw (%2) & 0xffff
    dw (%1) & 0xffff
    db ((%1) >> 16) & 0xff
    db %3
    db (((%2) >> 16) & 0x0f) | ((%4) << 4)
    db ((%1) >> 24) & 0xff
%endmacro
%macro TSSDESC 1
    DESC LIN(%1), 0x67, 0x89, 0
%endmacro

; SET_TASK_GATE vector, selector / SET_INT_GATE vector, handler: IDT entries.
%macro SET_TASK_GATE 2
    mov dword [idt + (%1) * 8], (%2) << 16
    mov dword [idt + (%1) * 8 + 4], 0x8500
%endmacro
%macro SET_INT_GATE 2
    mov eax, %2
    mov [idt + (%1) * 8], ax
    mov word [idt + (%1) * 8 + 2], CODE0
    mov word [idt + (%1) * 8 + 4], 0x8e00
    shr eax, 16
    mov [idt + (%1) * 8 + 6], ax
%endmacro

; EXPECT_FAULT resume: the next fault goes to a handler task that resumes its task at `resume`
; (0: retry the instruction) with flat ring-0 selectors.
%macro EXPECT_FAULT 1
    mov dword [expect_fault], 1
    mov dword [resume_eip], %1
    mov dword [last_vector], -1
    mov dword [last_error], -1
    mov dword [last_link], -1
%endmacro

%macro BUSY 1                       ; ZF=0 when the TSS descriptor's busy flag is set
    test dword [gdt + (%1) + 4], 0x200
%endmacro

guest_entry:
    lgdt [gdtr]
    jmp CODE0:.flat
.flat:
    mov ax, DATA0
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor eax, eax
    mov fs, ax
    mov gs, ax
    mov esp, STACK(0)
    call setup_idt
    call setup_paging
    mov ax, TSS_A
    ltr ax
    mov dword [LAPIC + 0xf0], 0x1ff ; the local APIC enabled (spurious vector 0xff)
    mov al, 0xff                    ; the 8259s masked (a BIOS leaves the timer on vector 8)
    out 0x21, al
    out 0xa1, al
    PRINT {"tasks: 32-bit task switches under mhv", 10}

; --- JMP to a TSS and back --------------------------------------------------------------------
    jmp TSS_B:0
    CHECK_EQ [b_runs], 1, "JMP to a TSS runs its task, whose JMP back resumes after the JMP"
    CHECK_EQ [b_tr], TSS_B, "the task register names the new TSS"
    mov eax, [b_eflags]
    and eax, 0x4000
    CHECK_EQ eax, 0, "a JMP leaves NT clear"
    BUSY TSS_A
    CHECK nz, "JMP back set the busy flag of the task it entered"
    BUSY TSS_B
    CHECK z, "and cleared the busy flag of the task it left"

; --- CALL to a TSS, IRET back ----------------------------------------------------------------
    mov ebx, 0x12345678
    mov esi, 0x9abcdef0
    mov edi, 0x0f1e2d3c
    mov ebp, 0x4b5a6978
    clts
    mov eax, 1                      ; DR7.L0: a task switch clears it
    mov dr7, eax
    call TSS_C:0
    cmp ebx, 0x12345678
    jne .regs_lost
    cmp esi, 0x9abcdef0
    jne .regs_lost
    cmp edi, 0x0f1e2d3c
    jne .regs_lost
    cmp ebp, 0x4b5a6978
.regs_lost:
    CHECK e, "CALL to a TSS and IRET back keep the caller's registers"
    CHECK_EQ [c_runs], 1, "CALL to a TSS runs its task"
    CHECK_EQ [c_saved_ebx], 0x12345678, "the caller's state is saved in its TSS"
    CHECK_EQ [c_link], TSS_A, "the new TSS's back-link names the caller"
    mov eax, [c_eflags]
    and eax, 0x4000
    CHECK_EQ eax, 0x4000, "a CALL sets NT in the new task"
    mov eax, [c_a_desc]
    and eax, 0x200
    CHECK_EQ eax, 0x200, "the caller stays busy while its callee runs"
    BUSY TSS_C
    CHECK z, "IRET clears the busy flag of the task it leaves"
    pushfd
    pop eax
    and eax, 0x4000
    CHECK_EQ eax, 0, "the caller's NT is its own again after the IRET"
    mov eax, cr0
    and eax, 8
    CHECK_EQ eax, 8, "a task switch sets CR0.TS"
    mov eax, dr7
    and eax, 1
    CHECK_EQ eax, 0, "a task switch clears DR7's local breakpoint enables"
    xor eax, eax
    mov dr7, eax
    call TSS_C:0
    CHECK_EQ [c_runs], 2, "a second CALL resumes the task after its IRET"
    call GATE_C:0
    CHECK_EQ [c_runs], 3, "CALL through a task gate in the GDT"

; --- INT n, exceptions, interrupts and NMIs through task gates ---------------------------------
    int 0x40
.after_int:
    CHECK_EQ [int_runs], 1, "INT 0x40 through a task gate runs its task"
    CHECK_EQ [int_saved_eip], .after_int, "the interrupted task resumes after the INT instruction"

    EXPECT_FAULT .after_ud
.ud:
    ud2
.after_ud:
    CHECK_EQ [last_vector], 6, "#UD through a task gate"
    CHECK_EQ [last_eip], .ud, "the faulting task's saved EIP is the faulting instruction"
    CHECK_EQ [last_link], TSS_A, "the handler task's back-link names the faulting task"

    EXPECT_FAULT .after_gp
    mov ax, 0x1238                  ; beyond the GDT
    mov es, ax
.after_gp:
    CHECK_EQ [last_vector], 13, "#GP through a task gate"
    CHECK_EQ [last_error], 0x1238, "its error code is pushed on the handler task's stack"
    mov ax, DATA0
    mov es, ax

    EXPECT_FAULT 0
    mov dword [fix_pte], PT1 + (PF_PAGE >> 12) * 4
    mov dword [PF_PAGE + 0x10], 0x5a5a
    CHECK_EQ [last_vector], 14, "#PF through a task gate, the instruction retried after it"
    CHECK_EQ [last_error], 2, "#PF error code: write to a page not present"
    CHECK_EQ [last_cr2], PF_PAGE + 0x10, "CR2 holds the faulting address"
    CHECK_EQ [PF_PAGE + 0x10], 0x5a5a, "the retried write went through"

    sti
    mov dword [LAPIC + 0x300], 0x40050 ; self IPI, vector 0x50
    call settle
    cli
    CHECK_EQ [irq_runs], 1, "an external interrupt through a task gate"

    call send_nmi
    CHECK_EQ [nmi_runs], 1, "an NMI through a task gate"
    call send_nmi
    CHECK_EQ [nmi_runs], 2, "the NMI task's IRET unblocked NMIs: a second one arrives"

; --- #DF through a task gate: a stack overflow survived ----------------------------------------
    SET_INT_GATE 14, pf_procedure   ; #PF on the same, overflowing stack: delivery faults
    mov [df_recover_esp], esp
    mov dword [df_recover_eip], .after_overflow
    mov esp, GUARD_PAGE + 0x1000
    push eax                        ; #PF, and #PF again pushing its frame: #DF
.after_overflow:
    SET_TASK_GATE 14, TSS_PF
    CHECK_EQ [df_runs], 1, "a stack overflow's double fault runs the #DF task"
    CHECK_EQ [df_error], 0, "#DF pushes error code 0 on its task's stack"
    CHECK_EQ [df_esp], GUARD_PAGE + 0x1000, "the overflowing task's ESP is saved as it was"
    CHECK_EQ [df_link], TSS_A, "and it resumes on a good stack after the #DF task's IRET"

; --- Faults before the commit point: in the old task -------------------------------------------
    EXPECT_FAULT .after_small
    call TSS_SMALL:0
.after_small:
    CHECK_EQ [last_vector], 10, "a TSS limit below 0x67 raises #TS"
    CHECK_EQ [last_error], TSS_SMALL, "with the new TSS's selector"
    CHECK_EQ [last_link], TSS_A, "in the old task"

    EXPECT_FAULT .after_absent
    call TSS_ABSENT:0
.after_absent:
    CHECK_EQ [last_vector], 11, "a TSS not present raises #NP"
    CHECK_EQ [last_error], TSS_ABSENT, "with the new TSS's selector"

    EXPECT_FAULT .after_busy
    jmp TSS_A:0
.after_busy:
    CHECK_EQ [last_vector], 13, "JMP to a busy TSS raises #GP"
    CHECK_EQ [last_error], TSS_A, "with its selector"

    EXPECT_FAULT .after_iret
    mov word [tss_a], TSS_B         ; back-link to a task that is not busy
    pushfd
    or dword [esp], 0x4000
    popfd
    iret
.after_iret:
    pushfd
    and dword [esp], ~0x4000
    popfd
    mov word [tss_a], 0
    CHECK_EQ [last_vector], 10, "IRET to a TSS that is not busy raises #TS"
    CHECK_EQ [last_error], TSS_B, "with the back-link's selector"

    mov esi, tss_pft_template       ; TSS_PFT's TSS on a page then made not present
    mov edi, PFT_PAGE
    mov ecx, 0x68 / 4
    rep movsd
    and dword [PT1 + (PFT_PAGE >> 12) * 4], ~1
    invlpg [PFT_PAGE]
    EXPECT_FAULT 0
    mov dword [fix_pte], PT1 + (PFT_PAGE >> 12) * 4
    call TSS_PFT:0
    CHECK_EQ [last_vector], 14, "a new TSS on a page not present raises #PF"
    CHECK_EQ [last_error], 0, "a supervisor read, as the CPU's own accesses to a TSS are"
    CHECK_EQ [last_cr2], PFT_PAGE, "CR2 holds the TSS's address"
    CHECK_EQ [last_link], TSS_A, "in the old task"
    CHECK_EQ [pft_runs], 1, "and the CALL, retried, runs the task"

; --- Faults after the commit point: in the new task --------------------------------------------
%macro BAD_TASK 5                   ; BAD_TASK offset, value, vector, error, "name"
    call reset_bad_tss
    mov dword [tss_bad + (%1)], %2
    EXPECT_FAULT iret_stub
    call TSS_BAD:0
    CHECK_EQ [last_vector], %3, %5
    CHECK_EQ [last_error], %4, "  with the right error code"
    CHECK_EQ [last_link], TSS_BAD, "  in the new task"
%endmacro
    BAD_TASK 0x4c, DATA0, 10, DATA0, "CS naming a data segment raises #TS"
    BAD_TASK 0x4c, CODE_ABSENT, 11, CODE_ABSENT, "CS not present raises #NP"
    BAD_TASK 0x4c, 0, 10, 0, "a null CS raises #TS"
    BAD_TASK 0x50, DATA_ABSENT, 12, DATA_ABSENT, "SS not present raises #SS"
    BAD_TASK 0x50, DATA3 | 3, 10, DATA3, "SS of another privilege raises #TS"
    BAD_TASK 0x54, 0x1238, 10, 0x1238, "DS beyond the GDT raises #TS"
    BAD_TASK 0x54, DATA_ABSENT, 11, DATA_ABSENT, "DS not present raises #NP"
    BAD_TASK 0x48, TSS_B, 10, TSS_B, "ES naming a system segment raises #TS"
    BAD_TASK 0x60, DATA0, 10, DATA0, "an LDT selector naming no LDT raises #TS"
    BUSY TSS_BAD
    CHECK z, "the repaired task returned with IRET, no longer busy"
    CHECK_EQ [bad_runs], 0, "no broken task ran its own code"

    call reset_bad_tss              ; the same through an NMI: an external event sets EXT
    mov dword [tss_bad + 0x4c], DATA0
    SET_TASK_GATE 2, TSS_BAD
    EXPECT_FAULT iret_stub
    call send_nmi
    SET_TASK_GATE 2, TSS_NMI
    CHECK_EQ [last_vector], 10, "a task switch for an NMI that faults after its commit point"
    CHECK_EQ [last_error], DATA0 | 1, "  has EXT set in its error code"

; --- A 16-bit TSS ------------------------------------------------------------------------------
    mov ebx, 0xa5a5a5a5
    call TSS_16:0
    CHECK_EQ ebx, 0xa5a5a5a5, "CALL to a 16-bit TSS and IRET back keep the caller's registers"
    CHECK_EQ [t16_runs], 1, "a task with a 16-bit TSS runs"
    movzx eax, word [t16_bx]
    CHECK_EQ eax, 0x1616, "its registers come from the 16-bit TSS"
    movzx eax, word [tss_16 + 0x0e]
    CHECK_EQ eax, task16_after_iret - task16_code, "its IP is saved in the 16-bit TSS"
    movzx eax, word [tss_16]
    CHECK_EQ eax, TSS_A, "with the back-link written as a word"

; --- LDT, EFLAGS, CR3, T flag ------------------------------------------------------------------
    mov dword [tss_ldt + 0x54], 4   ; DS: entry 0 of the LDT
    call TSS_LDT:0
    CHECK_EQ [ldt_seen], 0x4c445421, "a task's DS loaded from its LDT"
    CHECK_EQ [ldt_eflags], 0x4443, "its EFLAGS come from its TSS (and NT from the CALL)"

    mov eax, [CR3_PAGE]             ; this translation is now in the TLB
    call TSS_CR3:0
    CHECK_EQ [cr3_seen], 0xcafe, "a task's CR3 comes from its TSS"
    CHECK_EQ [CR3_PAGE], 0xbeef, "and the caller's comes back with it"

    xor eax, eax
    mov dr6, eax
    mov word [tss_db + 0x64], 1     ; the T flag
    call TSS_DB:0
    mov eax, [db_dr6]
    and eax, 0x8000
    CHECK_EQ eax, 0x8000, "the T flag raises a debug trap with DR6.BT"
    CHECK_EQ [db_eip], db_task, "before the new task's first instruction"

    FINISH

; --- Helpers -----------------------------------------------------------------------------------
setup_idt:
    mov ecx, 0
.gate:
    SET_INT_GATE ecx, unexpected_interrupt
    inc ecx
    cmp ecx, 256
    jb .gate
    SET_INT_GATE 1, db_procedure
    SET_TASK_GATE 2, TSS_NMI
    SET_TASK_GATE 6, TSS_UD
    SET_TASK_GATE 8, TSS_DF
    SET_TASK_GATE 10, TSS_TS
    SET_TASK_GATE 11, TSS_NP
    SET_TASK_GATE 12, TSS_SS
    SET_TASK_GATE 13, TSS_GP
    SET_TASK_GATE 14, TSS_PF
    SET_TASK_GATE 0x40, TSS_INT
    SET_TASK_GATE 0x50, TSS_IRQ
    lidt [idtr]
    ret

setup_paging:                       ; PD1: the first 4 MiB in 4 KiB pages, the local APIC's 4 MiB
    mov edi, PT1
    mov eax, 3
.pte:
    stosd
    add eax, 0x1000
    cmp edi, PT1 + 4096
    jb .pte
    mov edi, PD1
    xor eax, eax
    mov ecx, 1024
    rep stosd
    mov dword [PD1], PT1 | 3
    mov dword [PD1 + (0xfec00000 >> 22) * 4], 0xfec00000 | 0x83
    and dword [PT1 + (PF_PAGE >> 12) * 4], ~1
    and dword [PT1 + (GUARD_PAGE >> 12) * 4], ~1
    mov dword [CR3_PAGE], 0xbeef
    mov dword [CR3_OTHER], 0xcafe
    mov esi, PD1                    ; PD2: the same but CR3_PAGE -> CR3_OTHER
    mov edi, PD2
    mov ecx, 2048                   ; PD1 and PT1 into PD2 and PT2
    rep movsd
    mov dword [PD2], PT2 | 3
    mov dword [PT2 + (CR3_PAGE >> 12) * 4], CR3_OTHER | 3
    mov eax, PD1
    mov cr3, eax
    mov eax, cr4
    or eax, 0x10                    ; PSE
    mov cr4, eax
    mov eax, cr0
    or eax, 0x80010000              ; PG, WP
    mov cr0, eax
    ret

send_nmi:                           ; an NMI to this CPU (APIC ID 0) through the local APIC
    mov dword [LAPIC + 0x310], 0
    mov dword [LAPIC + 0x300], 0x4400
settle:                             ; time for an interrupt or NMI sent to arrive
    push ecx
    mov ecx, 1000
.spin:
    pause
    loop .spin
    pop ecx
    ret

reset_bad_tss:
    push esi
    push edi
    push ecx
    mov esi, tss_bad_template
    mov edi, tss_bad
    mov ecx, 0x68 / 4
    rep movsd
    pop ecx
    pop edi
    pop esi
    ret

tss_base:                           ; EBX: a GDT selector -> EDI: its descriptor's base
    and ebx, 0xfff8
    mov edi, [gdt + ebx + 4]
    and edi, 0xff000000
    movzx eax, byte [gdt + ebx + 4]
    shl eax, 16
    or edi, eax
    movzx eax, word [gdt + ebx + 2]
    or edi, eax
    ret

unexpected_interrupt:
    PRINT {"not ok - unexpected interrupt or exception through an interrupt gate", 10}
    mov al, 0xee
    out DEBUG_EXIT, al
    hlt

; --- Tasks -------------------------------------------------------------------------------------
task_b:
    inc dword [b_runs]
    pushfd
    pop dword [b_eflags]
    str word [b_tr]
    jmp TSS_A:0
    jmp task_b

task_c:
    inc dword [c_runs]
    pushfd
    pop dword [c_eflags]
    mov ax, [tss_c]
    mov [c_link], ax
    mov eax, [gdt + TSS_A + 4]
    mov [c_a_desc], eax
    mov eax, [tss_a + 0x34]
    mov [c_saved_ebx], eax
    iret
    jmp task_c

int_task:
    inc dword [int_runs]
    mov eax, [tss_a + 0x20]
    mov [int_saved_eip], eax
    iret
    jmp int_task

irq_task:
    inc dword [irq_runs]
    mov dword [LAPIC + 0xb0], 0     ; EOI
    iret
    jmp irq_task

nmi_task:
    inc dword [nmi_runs]
    iret
    jmp nmi_task

pft_task:
    inc dword [pft_runs]
    iret
    jmp pft_task

bad_task:                           ; a broken TSS's task never gets here
    inc dword [bad_runs]
    iret
    jmp bad_task

iret_stub:                          ; a repaired task returns to its caller
    iret
    jmp iret_stub

; A fault handler task (EAX = its vector, kept across its IRETs): records the fault, the
; faulting task (its back-link) and that task's saved EIP; maps a page if asked; makes the
; faulting task resume at resume_eip with flat ring-0 selectors, or retry.
fault_task:
    mov [last_vector], eax
    cmp eax, 8
    je .error_code
    cmp eax, 10
    jb .no_error_code
    cmp eax, 14
    ja .no_error_code
.error_code:
    pop dword [last_error]
.no_error_code:
    mov ecx, cr2
    mov [last_cr2], ecx
    str bx
    call tss_base
    movzx ebx, word [edi]
    mov [last_link], ebx
    call tss_base
    mov ecx, [edi + 0x20]
    mov [last_eip], ecx
    cmp dword [expect_fault], 0
    je .unexpected
    mov dword [expect_fault], 0
    mov ecx, [fix_pte]
    test ecx, ecx
    jz .no_fix
    or dword [ecx], 1
    mov dword [fix_pte], 0
.no_fix:
    mov ecx, [resume_eip]
    test ecx, ecx
    jz .retry
    mov [edi + 0x20], ecx
    mov dword [edi + 0x48], DATA0
    mov dword [edi + 0x4c], CODE0
    mov dword [edi + 0x50], DATA0
    mov dword [edi + 0x54], DATA0
    mov dword [edi + 0x58], 0
    mov dword [edi + 0x5c], 0
    mov dword [edi + 0x60], 0
.retry:
    mov eax, [last_vector]
    iret
    jmp fault_task
.unexpected:
    PRINT {"not ok - unexpected exception "}
    mov eax, [last_vector]
    call put_hex
    PRINT {" error "}
    mov eax, [last_error]
    call put_hex
    PRINT {" in task "}
    mov eax, [last_link]
    call put_hex
    PRINT {" at "}
    mov eax, [last_eip]
    call put_hex
    PRINT {" cr2 "}
    mov eax, [last_cr2]
    call put_hex
    PRINT {10}
    mov al, 0xee
    out DEBUG_EXIT, al
    hlt

df_task:                            ; the #DF task: moves the overflowing task to a good stack
    pop dword [df_error]
    str bx
    call tss_base
    movzx ebx, word [edi]
    mov [df_link], ebx
    call tss_base
    mov ecx, [edi + 0x38]
    mov [df_esp], ecx
    mov ecx, [df_recover_esp]
    mov [edi + 0x38], ecx
    mov ecx, [df_recover_eip]
    mov [edi + 0x20], ecx
    inc dword [df_runs]
    iret
    jmp df_task

pf_procedure:                       ; an interrupt gate's #PF handler, never reached
    PRINT {"not ok - the #PF procedure ran on an overflowing stack", 10}
    mov al, 0xee
    out DEBUG_EXIT, al
    hlt

db_procedure:                       ; #DB through an interrupt gate, in the task that trapped
    push eax
    mov eax, dr6
    mov [db_dr6], eax
    mov eax, [esp + 4]
    mov [db_eip], eax
    pop eax
    iret

db_task:
    iret
    jmp db_task

cr3_task:
    mov eax, [CR3_PAGE]
    mov [cr3_seen], eax
    iret
    jmp cr3_task

ldt_task:                           ; DS is the LDT's data segment, ES flat
    mov eax, [0]
    mov [es:ldt_seen], eax
    pushfd
    pop eax
    mov [es:ldt_eflags], eax
    iret
    jmp ldt_task

; The 16-bit TSS's task: its code segment starts here, so its IP fits 16 bits.
task16_code:
    inc dword [t16_runs]
    mov [t16_bx], bx
    iret
task16_after_iret:
    jmp task16_code

    LIB32_CODE

; --- Data --------------------------------------------------------------------------------------
align 8
gdt:
    dq 0
    DESC 0, 0xfffff, 0x9b, 0xc      ; 0x08 code, ring 0
    DESC 0, 0xfffff, 0x93, 0xc      ; 0x10 data, ring 0
    DESC 0, 0xfffff, 0xfb, 0xc      ; 0x18 code, ring 3
    DESC 0, 0xfffff, 0xf3, 0xc      ; 0x20 data, ring 3
    TSSDESC tss_a                   ; 0x28
    TSSDESC tss_b
    TSSDESC tss_c
    dw 0, TSS_C, 0x8500, 0          ; 0x40 task gate -> TSS_C
    TSSDESC tss_int
    TSSDESC tss_ud                  ; 0x50
    TSSDESC tss_gp
    TSSDESC tss_pf
    TSSDESC tss_df
    TSSDESC tss_ts                  ; 0x70
    TSSDESC tss_np
    TSSDESC tss_ss
    TSSDESC tss_irq
    TSSDESC tss_nmi                 ; 0x90
    TSSDESC tss_bad
    DESC LIN(tss_16), 0x2b, 0x81, 0 ; 0xa0 16-bit TSS
    DESC LIN(task16_code), 0xffff, 0x9b, 0x4 ; 0xa8 its code
    DESC LIN(ldt), 15, 0x82, 0      ; 0xb0 LDT
    DESC LIN(stack16), 0xfff, 0x93, 0 ; 0xb8 16-bit stack
    DESC LIN(tss_small), 0x60, 0x89, 0 ; 0xc0
    DESC LIN(tss_b), 0x67, 0x09, 0  ; 0xc8 not present
    DESC 0, 0xfffff, 0x13, 0xc      ; 0xd0 data, not present
    DESC 0, 0xfffff, 0x1b, 0xc      ; 0xd8 code, not present
    TSSDESC tss_db                  ; 0xe0
    TSSDESC tss_cr3
    TSSDESC tss_ldt                 ; 0xf0
    DESC PFT_PAGE, 0x67, 0x89, 0    ; 0xf8
gdt_end:
gdtr:
    dw gdt_end - gdt - 1
    dd gdt

ldt:
    DESC LIN(ldt_data), 0xff, 0x93, 0x4 ; selector 0x04: a small data segment
    dq 0
ldt_data:
    dd 0x4c445421

align 8
idtr:
    dw 256 * 8 - 1
    dd idt
idt: times 256 * 8 db 0

align 128
tss_a:   TSS32 0, 0, 2, CODE0, DATA0, 0, 0, PD1
align 128
tss_b:   TASK task_b, 1, 0
align 128
tss_c:   TASK task_c, 2, 0
align 128
tss_int: TASK int_task, 3, 0
align 128
tss_ud:  TASK fault_task, 4, 6
align 128
tss_gp:  TASK fault_task, 5, 13
align 128
tss_pf:  TASK fault_task, 6, 14
align 128
tss_df:  TASK df_task, 7, 8
align 128
tss_ts:  TASK fault_task, 8, 10
align 128
tss_np:  TASK fault_task, 9, 11
align 128
tss_ss:  TASK fault_task, 10, 12
align 128
tss_irq: TASK irq_task, 11, 0
align 128
tss_nmi: TASK nmi_task, 12, 0
align 128
tss_bad: TASK bad_task, 13, 0
align 128
tss_bad_template: TASK bad_task, 13, 0
align 128
tss_small: TASK bad_task, 14, 0
align 128
tss_pft_template: TASK pft_task, 14, 0
align 128
tss_db:  TASK db_task, 15, 0
align 128
tss_cr3: TSS32 cr3_task, STACK(14), 2, CODE0, DATA0, 0, 0, PD2
align 128
tss_ldt: TSS32 ldt_task, STACK(14), 0x443, CODE0, DATA0, LDT_SEL, 0, PD1
align 128
tss_16:
    dw 0, 0, 0, 0, 0, 0, 0          ; 0x00 link, SP0/SS0, SP1/SS1, SP2/SS2
    dw 0, 2                         ; 0x0e IP, FLAGS
    dw 0, 0, 0, 0x1616              ; 0x12 AX, CX, DX, BX
    dw 0x1000, 0, 0, 0              ; 0x1a SP, BP, SI, DI
    dw DATA0, CODE_T16, STACK16, DATA0 ; 0x22 ES, CS, SS, DS
    dw 0                            ; 0x2a LDT
align 16
stack16: times 0x1000 db 0

align 4
b_runs: dd 0
b_eflags: dd 0
b_tr: dd 0
c_runs: dd 0
c_eflags: dd 0
c_link: dd 0
c_a_desc: dd 0
c_saved_ebx: dd 0
int_runs: dd 0
int_saved_eip: dd 0
irq_runs: dd 0
nmi_runs: dd 0
pft_runs: dd 0
bad_runs: dd 0
t16_runs: dd 0
t16_bx: dd 0
ldt_seen: dd 0
ldt_eflags: dd 0
cr3_seen: dd 0
db_dr6: dd 0
db_eip: dd 0
df_runs: dd 0
df_error: dd -1
df_esp: dd 0
df_link: dd 0
df_recover_esp: dd 0
df_recover_eip: dd 0
expect_fault: dd 0
resume_eip: dd 0
fix_pte: dd 0
last_vector: dd 0
last_error: dd 0
last_link: dd 0
last_eip: dd 0
last_cr2: dd 0
