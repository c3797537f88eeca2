; SPDX-License-Identifier: BSD-2-Clause
; The hypercall ABI: version, console write (with pointer and length checks), unknown numbers.
bits 64
org 0x100000
%include "mhv.inc"
%include "lib64.inc"
MHV_HEADER 64, 0x100000, 4, 1, 0, "hypercall"

guest_entry:
    call setup_idt
    mov eax, HC_VERSION
    vmcall
    test rax, rax
    CHECK z, "VERSION returns 0"
    cmp rbx, 1
    CHECK e, "VERSION reports ABI version 1"
    cmp rcx, 0x76686d
    CHECK e, "VERSION reports the mhv signature"
    mov eax, HC_CONSOLE
    lea rbx, [rel line]
    mov ecx, line_end - line
    vmcall
    cmp rax, line_end - line
    CHECK e, "CONSOLE_WRITE returns the bytes written"
    mov eax, HC_CONSOLE
    mov rbx, 0x3ffffff0             ; runs past the end of guest memory
    mov ecx, 64
    vmcall
    cmp rax, E_FAULT
    CHECK e, "CONSOLE_WRITE with a buffer outside guest memory returns EFAULT"
    mov eax, HC_CONSOLE
    lea rbx, [rel line]
    mov ecx, 5000
    vmcall
    cmp rax, E_INVAL
    CHECK e, "CONSOLE_WRITE of more than 4096 bytes returns EINVAL"
    mov eax, 99
    vmcall
    cmp rax, E_NOSYS
    CHECK e, "an unknown hypercall returns ENOSYS"
    mov eax, HC_NOP
    vmcall
    test rax, rax
    CHECK z, "NOP returns 0"
    FINISH

line: db "console line through a hypercall", 10
line_end:
LIB64_CODE
