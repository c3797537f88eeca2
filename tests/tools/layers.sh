#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# tools/layers --check on the tree (the scheduler includes nothing from vmx/, devices/ or vm/;
# only vmx/ touches the VMCS), after the checker is seen to fail on a copy of the tree into
# which each kind of break was planted.
. "$(dirname "$0")/../lib.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/t"
(cd "$ROOT" && tar cf - sched include lib vmx vm kernel arch drivers $( [ -d devices ] && echo devices)) | tar xf - -C "$tmp/t"
cp -r "$tmp/t" "$tmp/sched"
printf '#include "vmx/vcpu.h"\n' >> "$tmp/sched/sched/core.c"
out=$("$ROOT/tools/layers" --check "$tmp/sched" 2>&1)
if [ $? -ne 0 ] && grep -q 'sched/core.c includes from vmx/' <<< "$out"; then pass "a scheduler file including vmx/ fails the check"
else fail "a scheduler file including vmx/ passed the check: $out"; fi
cp -r "$tmp/t" "$tmp/vmcs"
printf 'static void f(struct vcpu *v) { vmcs_write64(v, 0, 0); }\n' >> "$tmp/vmcs/vm/vm.c"
out=$("$ROOT/tools/layers" --check "$tmp/vmcs" 2>&1)
if [ $? -ne 0 ] && grep -q 'vm/vm.c reads or writes the VMCS' <<< "$out"; then pass "a VMCS write outside vmx/ fails the check"
else fail "a VMCS write outside vmx/ passed the check: $out"; fi

out=$("$ROOT/tools/layers" --check "$ROOT" 2>&1)
if [ $? -eq 0 ]; then pass "the tree keeps its layers"
else fail "the tree breaks its layers: $(grep '^layers:' <<< "$out")"; fi
finish
