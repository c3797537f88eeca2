/* Console: where log lines and status lines go. Today the serial line only. */
#include "kernel/console.h"

#include "drivers/uart16550.h"

static struct uart16550 console_uart;

int console_init(uint16_t port)
{
    return uart16550_init(&console_uart, port);
}

bool console_ready(void)
{
    return console_uart.present;
}

void console_flush(void)
{
    uart16550_flush(&console_uart);
}

void console_write(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            uart16550_putc(&console_uart, '\r');
        uart16550_putc(&console_uart, s[i]);
    }
}
