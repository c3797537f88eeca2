; SPDX-License-Identifier: BSD-2-Clause
; CPUID as a guest sees it: mhv's signature at 0x40000000, VMX hidden, hypervisor bit set,
; OSXSAVE following the guest's own CR4.
bits 64
org 0x100000
%include "mhv.inc"
%include "lib64.inc"
MHV_HEADER 64, 0x100000, 4, 1, 0, "cpuid"

guest_entry:
    call setup_idt
    mov eax, 0x40000000
    cpuid
    cmp ebx, 0x6d76686d             ; "mhvm"
    CHECK e, "leaf 0x40000000 EBX signature mhvm"
    cmp ecx, 0x686d7668             ; "hvmh"
    CHECK e, "leaf 0x40000000 ECX signature hvmh"
    cmp edx, 0x76686d76             ; "vmhv"
    CHECK e, "leaf 0x40000000 EDX signature vmhv"
    cmp eax, 0x40000001
    CHECK ae, "leaf 0x40000000 EAX names the highest hypervisor leaf"
    mov eax, 1
    cpuid
    bt ecx, 5
    CHECK nc, "leaf 1 ECX.VMX is hidden"
    bt ecx, 31
    CHECK c, "leaf 1 ECX.hypervisor is set"
    bt ecx, 27
    CHECK nc, "leaf 1 ECX.OSXSAVE is clear while CR4.OSXSAVE is clear"
    mov eax, 1
    cpuid
    bt ecx, 26                      ; with XSAVE, OSXSAVE must follow the guest's CR4
    jnc .no_xsave
    mov rax, cr4
    bts rax, 18
    mov cr4, rax
    mov eax, 1
    cpuid
    bt ecx, 27
    CHECK c, "leaf 1 ECX.OSXSAVE follows CR4.OSXSAVE"
.no_xsave:
    mov eax, 0x40000005             ; inside the hypervisor range, past the highest leaf
    cpuid
    or eax, ebx
    or eax, ecx
    or eax, edx
    CHECK z, "unused hypervisor leaves read zero"
    FINISH

LIB64_CODE
