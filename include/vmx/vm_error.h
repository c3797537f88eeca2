/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * VM-instruction error numbers (SDM Vol. 3C 31.4, "VM Instruction Error Numbers"). When a
 * VMX instruction ends in VMfailValid, the number in the VM-instruction error field says why;
 * mhv prints the SDM's text, not just the number.
 */
#ifndef MHV_VMX_VM_ERROR_H
#define MHV_VMX_VM_ERROR_H

/* Text of a VM-instruction error number (SDM Vol. 3C 31.4), e.g. 7 -> "VM entry with invalid
 * control field(s)"; numbers the SDM does not define -> "unknown VM-instruction error". */
const char *vmx_instruction_error_text(unsigned number);

#endif
