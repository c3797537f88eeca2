/* SPDX-License-Identifier: BSD-2-Clause */
/* VM consoles (see include/vm/console.h): each VM's output lines, and mhv's serial input
 * going to the VM that has the focus. */
#include "vm/console.h"

#include "arch/x86/cpu.h"
#include "arch/x86/spinlock.h"
#include "arch/x86/tsc.h"
#include "devices/uart.h"
#include "drivers/uart16550.h"
#include "kernel/console.h"
#include "kernel/log.h"
#include "kernel/options.h"
#include "vm/vm.h"

/* A VM's line buffer is filled by whichever CPU runs one of its vCPUs (its UART, the console
 * hypercall): one lock for all of them, as lines are short and printing serialises anyway. */
static struct spinlock output_lock = SPINLOCK_INIT;

static void flush_locked(struct vm *vm)
{
    if (!vm->console_len)
        return;
    vm->console[vm->console_len] = '\0';
    guest_line(vm->name, vm->console);
    vm->console_len = 0;
}

void vm_console_room(void)
{
    for (unsigned i = 0; i < vm_count; i++) {
        struct vuart *u = vuart_console(vms[i]);
        if (u)
            vuart_console_room(u);
    }
}

void vm_console_flush(struct vm *vm)
{
    uint64_t flags = spin_lock_irqsave(&output_lock);
    flush_locked(vm);
    spin_unlock_irqrestore(&output_lock, flags);
}

/* One byte into the VM's line buffer. Lock held. */
static void putc_locked(struct vm *vm, char c)
{
    if (c == '\r')
        return;
    if (c == '\n') {
        flush_locked(vm);
        return;
    }
    /* Control characters would let a guest forge mhv's own lines or move the cursor; bytes
     * above ASCII would make the console log binary. */
    if ((unsigned char)c < ' ' || (unsigned char)c >= 0x7f)
        c = '.';
    vm->console[vm->console_len++] = c;
    if (vm->console_len == sizeof(vm->console) - 1)
        flush_locked(vm);
}

void vm_console_putc(struct vm *vm, char c)
{
    uint64_t flags = spin_lock_irqsave(&output_lock);
    putc_locked(vm, c);
    spin_unlock_irqrestore(&output_lock, flags);
}

void vm_console_write(struct vm *vm, const char *s, size_t n)
{
    uint64_t flags = spin_lock_irqsave(&output_lock);
    for (size_t i = 0; i < n; i++)
        putc_locked(vm, s[i]);
    spin_unlock_irqrestore(&output_lock, flags);
}

/* --- Input. Everything below runs on CPU 0 only (console_input_poll's caller), so its state
 * needs no lock; the UART it feeds takes its own. */

#define FOCUS_KEY 0x01            /* Ctrl-A */
#define FOCUS_PRESSES 3           /* in a row: the focus moves on */
#define FOCUS_WINDOW_US 1000000   /* a held-back Ctrl-A goes to the VM after this long alone */
#define POLL_BYTES_MAX 64         /* per poll, so a flood cannot hold CPU 0 */

static struct uart16550 serial_line; /* mhv's console UART, for its receive side */
static bool started;
static struct vm *focus;          /* where typed bytes go; NULL: nowhere */
static bool focus_dropping;       /* the focused VM's line queue overflowed (said once) */
static unsigned held;             /* Ctrl-As held back: perhaps the start of the sequence */
static uint64_t held_at;          /* TSC of the last of them */

/* A VM that can take input: it runs (or is about to run again after a restart) and has a
 * UART at 0x3f8. */
static bool takes_input(struct vm *vm)
{
    return (vm->state == VM_RUNNING || vm->restart_pending) && vuart_console(vm);
}

/* The next VM after `after` (in creation order, wrapping round, `after` itself last) that
 * takes input; from the first VM when `after` is NULL. */
static struct vm *next_focus(const struct vm *after)
{
    unsigned start = after ? after->index + 1 : 0;
    for (unsigned i = 0; i < vm_count; i++) {
        struct vm *vm = vms[(start + i) % vm_count];
        if (takes_input(vm))
            return vm;
    }
    return NULL;
}

/* Says where input goes now: always when `asked` (start, the focus keys), else when a VM
 * stopping or coming back changed it. */
static void set_focus(struct vm *vm, bool asked)
{
    bool changed = vm != focus;
    focus = vm;
    focus_dropping = false;
    if (vm)
        status_line("console: input goes to vm %s (Ctrl-A three times moves on)", vm->name);
    else if (asked || changed)
        status_line("console: input goes nowhere: no running VM has a serial port");
}

static void deliver(uint8_t byte)
{
    if (!focus)
        return;
    if (vuart_receive(vuart_console(focus), byte)) {
        focus_dropping = false;
    } else if (!focus_dropping) {
        focus_dropping = true;
        log_warn("console: vm %s does not read its serial port; typed input is dropped", focus->name);
    }
}

/* Held-back Ctrl-As that did not become the focus sequence are ordinary input after all. */
static void release_held(void)
{
    for (; held; held--)
        deliver(FOCUS_KEY);
}

static void take(uint8_t byte)
{
    uint64_t now = rdtsc();
    if (held && now - held_at > tsc_us_to_ticks(FOCUS_WINDOW_US))
        release_held();
    if (byte != FOCUS_KEY) {
        release_held();
        deliver(byte);
        return;
    }
    held_at = now;
    if (++held == FOCUS_PRESSES) {
        held = 0;
        set_focus(next_focus(focus), true);
    }
}

/* The first focus: the VM configured with `console = true`, else the first that takes input. */
static void start(void)
{
    /* The same UART kernel/console.c writes to: the one serial= names, or COM1, where the
     * console falls back to when nothing answers there (kernel/main.c). */
    if (uart16550_open(&serial_line, boot_options.serial_port) < 0)
        uart16550_open(&serial_line, CONSOLE_DEFAULT_PORT);
    struct vm *first = NULL;
    for (unsigned i = 0; i < vm_count && !first; i++) {
        struct vm *vm = vms[i];
        if (vm->console_focus_wanted && takes_input(vm))
            first = vm;
    }
    set_focus(first ? first : next_focus(NULL), true);
    started = true;
}

void console_input_poll(void)
{
    if (!vm_count)
        return;
    if (!started)
        start();
    else if (focus ? !takes_input(focus) : next_focus(NULL) != NULL)
        set_focus(next_focus(focus), false); /* the focused VM stopped, or a VM came back */
    for (unsigned n = 0; n < POLL_BYTES_MAX; n++) {
        int c = uart16550_getc(&serial_line);
        if (c < 0)
            break;
        take((uint8_t)c);
    }
    if (held && rdtsc() - held_at > tsc_us_to_ticks(FOCUS_WINDOW_US))
        release_held();
}

struct vm *console_input_focus(void)
{
    return focus;
}
