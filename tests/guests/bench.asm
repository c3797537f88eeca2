; SPDX-License-Identifier: BSD-2-Clause
; Exit round trips, timed with RDTSC around loops (in Bochs a TSC tick is one instruction):
; CPUID, VMCALL, a port write emulated in mhv, an MMIO write to an emulated device. Each figure
; is (loop - empty loop) / iterations, printed as "bench: <name> <instructions>".
bits 64
org 0x100000
%include "mhv.inc"
%include "lib64.inc"
MHV_HEADER 64, 0x100000, 4, 1, 0, "bench"

N equ 2000

%macro TSC 1                        ; %1 = TSC
    rdtsc
    shl rdx, 32
    or rax, rdx
    mov %1, rax
%endmacro

; TIME body_macro -> RAX = ticks for N iterations of the body
%macro TIME 1
    TSC r12
    mov r13d, N
%%loop:
    %1
    dec r13d
    jnz %%loop
    TSC rax
    sub rax, r12
%endmacro

%macro REPORT 2                     ; name, body
    TIME %2
    sub rax, [rel empty]
    xor edx, edx
    mov ecx, N
    div rcx
    PRINT {"bench: ", %1, " "}
    call put_dec
    PRINT {10}
%endmacro

%macro EMPTY 0
%endmacro
%macro DO_CPUID 0
    xor eax, eax
    cpuid
%endmacro
%macro DO_VMCALL 0
    mov eax, HC_NOP
    vmcall
%endmacro
%macro DO_PIO 0
    mov dx, 0x80
    out dx, al
%endmacro
%macro DO_MMIO 0
    mov [r14], eax
%endmacro

guest_entry:
    call setup_idt
    mov r14, TESTDEV + 8
    TIME EMPTY
    mov [rel empty], rax
    REPORT "cpuid", DO_CPUID
    REPORT "vmcall", DO_VMCALL
    REPORT "pio-write", DO_PIO
    REPORT "mmio-write", DO_MMIO
    FINISH

empty: dq 0
LIB64_CODE
