; SPDX-License-Identifier: BSD-2-Clause
; Multiboot2 header (multiboot2 specification 3.1). It must lie 8-byte aligned within the
; first 32 KiB of the image; linker.ld puts the .multiboot2 section first.

MB2_MAGIC        equ 0xE85250D6
MB2_ARCH_I386    equ 0          ; 32-bit protected mode entry (the only one GRUB offers on BIOS)

section .multiboot2
align 8
mb2_header_start:
    dd MB2_MAGIC
    dd MB2_ARCH_I386
    dd mb2_header_end - mb2_header_start
    dd -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header_start))

    ; Module alignment tag (type 6): modules start on page boundaries, so guest images and
    ; configuration files can later be mapped or copied page by page.
    align 8
    dw 6, 0
    dd 8

    ; End tag.
    align 8
    dw 0, 0
    dd 8
mb2_header_end:
