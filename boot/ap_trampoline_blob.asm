; SPDX-License-Identifier: BSD-2-Clause
; The assembled AP trampoline (boot/ap/trampoline.asm), carried in mhv's image for
; arch/x86/smp.c to copy below 1 MiB.
section .rodata
global ap_trampoline_start, ap_trampoline_end
align 16
ap_trampoline_start:
    incbin "trampoline.bin"
ap_trampoline_end:
