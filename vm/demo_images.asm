; SPDX-License-Identifier: BSD-2-Clause
; The built-in demo (vm/demo.c): its configuration files and the test guests they name,
; assembled into mhv so that a boot without modules still has VMs to run.
section .rodata

%macro blob 2                   ; symbol, file
global %1, %1_end
align 16
%1:
    incbin %2
%1_end:
%endmacro

blob demo_cfg, "vm/demo.cfg"
blob demo_linux_cfg, "vm/demo-linux.cfg"
blob demo_hello64, "hello64.bin"
blob demo_real16, "real16.bin"
blob demo_cpuid, "cpuid.bin"
blob demo_smp, "smp.bin"
blob demo_mmio, "mmio.bin"

