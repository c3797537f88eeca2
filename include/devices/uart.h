/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The virtual 16550A UART (devices/uart.c): what the rest of mhv needs of it besides vuart_attach
 * (include/vm/platform.h). Bytes typed on mhv's serial line reach a VM through
 * vuart_receive; the console (vm/console.c) decides which VM gets them.
 */
#ifndef MHV_DEVICES_UART_H
#define MHV_DEVICES_UART_H

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct vuart;

/* The UART whose line is mhv's console: the one at 0x3f8 (COM1). NULL when the VM has none. */
#define VUART_CONSOLE_BASE 0x3f8
struct vuart *vuart_console(struct vm *vm);

/* A byte arriving on the UART's serial input. It waits in the line's queue while the receive
 * FIFO is full (a lossless virtual line, unlike a real one) and enters the FIFO as the guest
 * makes room; false when the queue is full too and the byte is dropped. Any CPU. */
bool vuart_receive(struct vuart *u, uint8_t byte);

/* mhv's console has room again: bytes waiting in u's transmitter go out (vm/console.c calls it
 * for every VM when the console says so). Any CPU, no UART lock held. */
void vuart_console_room(struct vuart *u);

#endif
