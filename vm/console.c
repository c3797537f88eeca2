/* VM console lines (see include/vm/console.h). */
#include "vm/console.h"

#include "kernel/log.h"
#include "vm/vm.h"

void vm_console_flush(struct vm *vm)
{
    if (!vm->console_len)
        return;
    vm->console[vm->console_len] = '\0';
    guest_line(vm->name, vm->console);
    vm->console_len = 0;
}

void vm_console_putc(struct vm *vm, char c)
{
    if (c == '\r')
        return;
    if (c == '\n') {
        vm_console_flush(vm);
        return;
    }
    /* Control characters would let a guest forge mhv's own lines or move the cursor; bytes
     * above ASCII would make the console log binary. */
    if ((unsigned char)c < ' ' || (unsigned char)c >= 0x7f)
        c = '.';
    vm->console[vm->console_len++] = c;
    if (vm->console_len == sizeof(vm->console) - 1)
        vm_console_flush(vm);
}
