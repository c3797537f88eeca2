#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The virtual 16550A at COM1 and the serial console's input side.
#  1. The uart guest checks, from the inside, the registers a driver relies on (scratch,
#     divisor latch, IER, loopback and MSR, FIFO detection and order, overrun, IIR sources
#     and priorities, THRE interrupt rules); nothing it sends in loopback reaches the console.
#  2. Two VMs run the echo guest; text typed into mhv's serial line reaches only the VM with
#     the focus (first the one configured with `console = true`), Ctrl-A once or twice before
#     another key reaches it too, Ctrl-A three times moves the focus to the other VM, and the
#     focus moves on by itself when the focused VM stops.
. "$(dirname "$0")/../lib.sh"
B=$BUILD_DIR
G="$B/guests"

# expect_sequence REGEX...: lines match the regexes in this order (each after the last).
expect_sequence() {
  local from=0 n re
  for re in "$@"; do
    n=$(tail -n +$((from + 1)) "$LOG" | grep -Enm1 -- "$re" | cut -d: -f1)
    if [ -z "$n" ]; then
      fail "no line matches /$re/ after line $from"
      return
    fi
    from=$((from + n))
  done
}

run_mhv registers --emu bochs --smp 1 --cmdline 'vms_done=poweroff' --timeout 240 --elf "$B/mhv.elf" \
  --module "$G/uart.bin"
expect_rc 0
expect_line '^mhv: console: input goes to vm uart \(Ctrl-A three times moves on\)$'
expect_no_line 'not ok'
expect_count 34 '^\[uart\] ok - '
expect_count 34 '^\[uart\] '    # every line is a check: no looped-back byte leaked out
expect_line '^\[uart\] ok - loopback MSR: MCR 0x1a gives 0x9X, MCR 0x1f gives 0xfX$'
expect_line '^\[uart\] ok - FCR 0x07 makes IIR read 0xc1; FCR 0 makes it 0x01 again$'
expect_line '^\[uart\] ok - disabling and enabling ETBEI raises THRE again$'
expect_line '^mhv: vm uart: stopped: debug-exit port 0xf4 written with 0 by vCPU 0 \(status 0\)$'

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '[vm]\nname = "left"\nkernel = "echo.bin"\n[vm]\nname = "right"\nkernel = "echo.bin"\nconsole = true\n' \
  > "$tmp/echo.cfg"
run_mhv focus --emu bochs --smp 2 --cmdline 'vms_done=poweroff' --timeout 300 --elf "$B/mhv.elf" \
  --module "$tmp/echo.cfg=vms.cfg" --module "$G/echo.bin" \
  --input-after '^\[right\] echo: ready$' 'hello right\r' \
  --input-after '^\[right\] got: hello right$' '\x01x\x01\x01y\r' \
  --input-after '^\[right\] got: \^Ax\^A\^Ay$' '\x01\x01\x01' \
  --input-after '^mhv: console: input goes to vm left ' 'hello left\r' \
  --input-after '^\[left\] got: hello left$' 'quit\r' \
  --input-after '^mhv: console: input goes to vm right ' 'quit\r'
expect_rc 0
expect_sequence \
  '^mhv: console: input goes to vm right \(Ctrl-A three times moves on\)$' \
  '^\[right\] got: hello right$' \
  '^\[right\] got: \^Ax\^A\^Ay$' \
  '^mhv: console: input goes to vm left \(Ctrl-A three times moves on\)$' \
  '^\[left\] got: hello left$' \
  '^\[left\] echo: bye$' \
  '^mhv: vm left: stopped: debug-exit port 0xf4 written with 0 by vCPU 0 \(status 0\)$' \
  '^mhv: console: input goes to vm right \(Ctrl-A three times moves on\)$' \
  '^\[right\] echo: bye$' \
  '^mhv: vm right: stopped: debug-exit port 0xf4 written with 0 by vCPU 0 \(status 0\)$'
expect_count 2 '^\[right\] got: '
expect_count 1 '^\[left\] got: '
expect_count 1 '^mhv: console: input goes to vm left '
expect_line '^mhv: all VMs stopped: 2 with status 0, 0 with another status$'
finish
