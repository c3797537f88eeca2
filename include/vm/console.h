/* SPDX-License-Identifier: BSD-2-Clause */
/* VM consoles. Output: bytes from a VM's COM1 (or the console hypercall), printed on mhv's
 * console as whole lines "[<vm name>] <text>". Input: what arrives on mhv's serial line goes
 * to the COM1 of the VM that has the console focus; Ctrl-A three times in a row moves the
 * focus to the next running VM (Ctrl-A once or twice, then another key, reaches the VM). */
#ifndef MHV_VM_CONSOLE_H
#define MHV_VM_CONSOLE_H

#include <stddef.h>

struct vm;

void vm_console_putc(struct vm *vm, char c);
/* n bytes as vm_console_putc would take them, all at once: the vCPUs of a VM writing at the
 * same time (the CONSOLE_WRITE hypercall) do not mix their bytes. */
void vm_console_write(struct vm *vm, const char *s, size_t n);
/* mhv's console has room again for the VMs' text (the callback of console_start_queue):
 * their UARTs' waiting bytes go out. */
void vm_console_room(void);
/* Prints what is buffered (a VM that stops mid-line still shows its last words). */
void vm_console_flush(struct vm *vm);

/* Moves what mhv's serial line received to the focused VM's UART and handles the focus keys.
 * CPU 0 only; call it often (every scheduler pass, and at least every few milliseconds while
 * idle): the line's own FIFO holds 16 bytes. The first call picks the first focus (the VM
 * with `console = true`, else the first VM created that has a UART) and says which; a
 * focused VM that stops passes the focus on. */
void console_input_poll(void);
/* The VM that typed input goes to now; NULL when none. */
struct vm *console_input_focus(void);

#endif
