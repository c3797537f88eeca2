#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Debian's stock Linux kernel, unmodified, boots in an mhv VM in Bochs to a BusyBox shell on
# the VM's serial console. tools/linux-images fetches linux-image-*-cloud-amd64 and
# busybox-static with `apt-get download` (cached in build/linux/) and builds the initramfs,
# whose init prints MHV-LINUX-* lines (the marker, nproc, date, uname -r) and then does what
# mhv.test= on the kernel command line says (tests/configs/linux.cfg).
#  1. one vCPU: the marker, nproc 1, uname -r of the package, a plausible date, and the VM
#     powering off with status 0;
#  2. two vCPUs (the second started by Linux through the virtual local APIC): nproc 2, both
#     vCPUs ran; Linux reboots once and comes back (on_reboot = "restart"), then powers off;
#  3. Linux next to a test guest on two CPUs: both run, both stop with status 0; this VM has
#     two serial ports (serial_ports = 2) and Linux finds the second one; it runs with
#     clocksource=hpet: Linux finds the HPET (3 comparators at 14.318180 MHz), switches its
#     clock to it, reaches its init with it and marks no clocksource unstable (bochs_hpet
#     checks the HPET's rate against the PM timer and the TSC);
#  4. the shell: text typed into mhv's serial line reaches BusyBox's shell (`echo
#     typed-$((6*7))` prints typed-42), and `poweroff -f` typed there powers the VM off.
# Skipped (exit 77) when the packages cannot be fetched and none are cached. When case 1 does
# not reach the init marker, the others are not run (they would only wait for their timeouts).
# Measured on a 2-core machine: case 1 takes about 50 s, case 3 about 90 s (Bochs boots the
# same images bare to the marker in about 25 s with one CPU); the timeouts leave room for a
# busy machine. oops=panic and on_reboot = "stop" (tests/configs/linux.cfg) end a run whose
# kernel got into trouble at once.
. "$(dirname "$0")/../lib.sh"
B=$BUILD_DIR
G="$B/guests"
L="$ROOT/build/linux"

"$ROOT/tools/linux-images" > "$LOG_DIR/$TEST_NAME.images.log" 2>&1
rc=$?
if [ $rc -eq 77 ]; then
  skip "$(tail -n 1 "$LOG_DIR/$TEST_NAME.images.log" | sed 's/^linux-images: //')"
fi
if [ $rc -ne 0 ]; then
  fail "tools/linux-images exited with $rc:"
  sed 's/^/    | /' "$LOG_DIR/$TEST_NAME.images.log"
  finish
fi
. "$L/versions"
echo "  images: $kernel_package $kernel_version (uname -r $kernel_release), busybox-static $busybox_version"

# Configurations derived from tests/configs/linux.cfg, so that every case boots the same VM.
cfgs="$LOG_DIR/$TEST_NAME.cfg"
mkdir -p "$cfgs"
cfg="$ROOT/tests/configs/linux.cfg"
sed -e 's/^memory = .*/&\nvcpus = 2/' -e 's/^on_reboot = .*/on_reboot = "restart"/' \
  -e 's/mhv\.test=poweroff/mhv.test=reboot-once/' "$cfg" > "$cfgs/smp.cfg"
{ sed -e 's/^memory = .*/&\nserial_ports = 2/' -e 's/mhv\.test=poweroff/clocksource=hpet &/' "$cfg"
  printf '\n[vm]\nname = "hello"\nkernel = "hello64.bin"\n'; } > "$cfgs/mixed.cfg"
sed 's/mhv\.test=poweroff/mhv.test=shell/' "$cfg" > "$cfgs/shell.cfg"
images=(--module "$L/vmlinuz=vmlinuz" --module "$L/initrd.img=initrd.img")

# case NAME ARGS...: run_mhv, and how long it took.
case_() {
  local start=$SECONDS
  run_mhv "$@"
  echo "  took $((SECONDS - start)) s"
}

re_release=$(printf '%s' "$kernel_release" | sed 's/[.[\*^$+?(){}|]/\\&/g')
# linux_checks NPROC: what the init printed, and how the VM stopped.
linux_checks() {
  expect_line '^\[linux\] MHV-LINUX-INIT: up$'
  expect_line "^\[linux\] MHV-LINUX-CPUINFO: $1 processors, "
  expect_line "^\[linux\] MHV-LINUX-NPROC: $1$"
  expect_line "^\[linux\] MHV-LINUX-UNAME: $re_release$"
  # Bochs's CMOS clock starts at the host's time: a year of this century, not 1970 or 2000.
  expect_line '^\[linux\] MHV-LINUX-DATE: 20([2-9][0-9])-[01][0-9]-[0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9] UTC$'
  expect_no_line '^\[linux\] .*(Kernel panic|BUG:|Oops|general protection fault)'
}

# 1. One vCPU.
case_ one --emu bochs --smp 1 --mem 512 --cmdline 'vms_done=poweroff' --timeout 300 --elf "$B/mhv.elf" \
  --module "$cfg=vms.cfg" "${images[@]}"
expect_rc 0
linux_checks 1
expect_order '^\[linux\] MHV-LINUX-UNAME: ' '^\[linux\] MHV-LINUX-POWEROFF: '
expect_line '^mhv: vm linux: stopped: .*\(status 0\)$'
expect_line '^mhv: all VMs stopped: 1 with status 0, 0 with another status$'
if ! grep -q '^\[linux\] MHV-LINUX-INIT: up$' "$LOG"; then
  echo "  Linux did not reach its init with one vCPU; the other cases are not run"
  finish
fi

# 2. Two vCPUs (the second started by Linux through the virtual local APIC), both used; the
# init reboots once (on_reboot = "restart": the VM is rebuilt from its configuration, both
# vCPUs included) and powers off on the second boot.
case_ smp --emu bochs --smp 2 --mem 512 --cmdline 'vms_done=poweroff' --timeout 600 --elf "$B/mhv.elf" \
  --module "$cfgs/smp.cfg=vms.cfg" "${images[@]}"
expect_rc 0
linux_checks 2
expect_line '^\[linux\] .*smp: Brought up 1 node, 2 CPUs$'
expect_count 2 '^\[linux\] MHV-LINUX-INIT: up$'
expect_count 1 '^\[linux\] MHV-LINUX-REBOOT: '
expect_line '^mhv: vm linux: stopped: reset through .*\(status 0\)$'
expect_line '^mhv: vm linux: restarting \(1 of at most 3 in a row\)$'
expect_order '^mhv: vm linux: restarting ' '^\[linux\] MHV-LINUX-REBOOTED: '
expect_line '^mhv: vm linux: stopped: ACPI S5 \(power off\) by vCPU [01] \(status 0\)$'
expect_line '^\[cpu0\] sched: vm linux vcpu 1: weight 1, run [1-9][0-9]* ms'

# 3. Linux next to another VM on two CPUs.
case_ mixed --emu bochs --smp 2 --mem 512 --cmdline 'vms_done=poweroff' --timeout 420 --elf "$B/mhv.elf" \
  --module "$cfgs/mixed.cfg=vms.cfg" "${images[@]}" --module "$G/hello64.bin"
expect_rc 0
linux_checks 1
expect_line '^\[hello\] hello from a 64-bit guest$'
expect_line '^\[linux\] .*ttyS1 at I/O 0x2f8 \(irq = 3, base_baud = 115200\) is a 16550A$'
expect_line '^\[linux\] .*hpet0: 3 comparators, 64-bit 14\.318180 MHz counter$'
expect_line '^\[linux\] .*clocksource: Switched to clocksource hpet$'
expect_line '^\[linux\] MHV-LINUX-CLOCKSOURCE: hpet$'
expect_no_line '^\[linux\] .*(unstable|Marking clocksource)'
expect_line '^mhv: vm linux: stopped: .*\(status 0\)$'
expect_line '^mhv: all VMs stopped: 2 with status 0, 0 with another status$'

# 4. The shell, typed into mhv's serial line (tools/mhv-run --input-after): each rule fires
# once, after the line its regex matches. The echoed command line shows typed-$((6*7)); only
# the shell's output is typed-42.
case_ shell --emu bochs --smp 1 --mem 512 --cmdline 'vms_done=poweroff' --timeout 300 --elf "$B/mhv.elf" \
  --module "$cfgs/shell.cfg=vms.cfg" "${images[@]}" \
  --input-after '^\[linux\] MHV-LINUX-SHELL: ready$' 'echo typed-$((6*7))\n' \
  --input-after '^\[linux\] typed-42$' 'poweroff -f\n'
expect_rc 0
expect_line '^\[linux\] MHV-LINUX-SHELL: ready$'
expect_line '^\[linux\] typed-42$'
expect_order '^\[linux\] MHV-LINUX-SHELL: ready$' '^\[linux\] typed-42$'
expect_line '^mhv: vm linux: stopped: .*\(status 0\)$'
finish
