/* A VM's console output: bytes from its COM1 (or the console hypercall), printed on mhv's
 * console as whole lines "[<vm name>] <text>". */
#ifndef MHV_VM_CONSOLE_H
#define MHV_VM_CONSOLE_H

struct vm;

void vm_console_putc(struct vm *vm, char c);
/* Prints what is buffered (a VM that stops mid-line still shows its last words). */
void vm_console_flush(struct vm *vm);

#endif
