#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# make check (README "Tests"): the kernel and the C test guests build with their warnings as
# errors, clang's static analyzer finds nothing in any kernel C file, and no comment names a
# file the tree does not have (tools/check-refs). Its rules are tried first on planted
# findings, so that a check which can no longer fail is seen: a NULL dereference (an analyzer
# finding), a clean file, a shadowed variable (a warning of the kernel's flags, through the
# kernel's own compile rule), and a small tree with stale and standing file references. Last,
# linker.ld's assertions each stop the kernel's link of a layout the code cannot use.
. "$(dirname "$0")/../lib.sh"

work=$(mktemp -d /tmp/mhv-check.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src"

# analyze NAME: runs make's analyzer rule on $work/src/NAME.c alone (in a build folder of its
# own); sets LOG and RC.
analyze() {
  LOG=$work/$1.out
  LC_ALL=C make -C "$ROOT" --no-print-directory BUILD="$work/build" CHECK_C="$work/src/$1.c" analyze > "$LOG" 2>&1
  RC=$?
  sed 's/^/    | /' "$LOG"
}
stamp() { echo "$work/build/check/$work/src/$1.analyzed"; }

cat > "$work/src/clean.c" <<'EOF'
int clean_sum(const int *a, int n);
int clean_sum(const int *a, int n)
{
    int s = 0;
    for (int i = 0; i < n; i++)
        s += a[i];
    return s;
}
EOF
cat > "$work/src/null.c" <<'EOF'
int null_read(int fast);
int null_read(int fast)
{
    int *p = 0;
    return fast ? 1 : *p;
}
EOF
cat > "$work/src/shadow.c" <<'EOF'
int shadow_count;
int shadow(int n);
int shadow(int n)
{
    int shadow_count = n;
    return shadow_count;
}
EOF

echo "the analyzer rule on a clean file"
analyze clean
expect_rc 0
if [ -f "$(stamp clean)" ]; then pass "the clean file is marked analyzed"; else fail "no $(stamp clean)"; fi

echo "the analyzer rule on a NULL dereference"
analyze null
if [ "$RC" != 0 ]; then pass "make failed ($RC)"; else fail "make passed a NULL dereference"; fi
expect_line 'null\.c:5:[0-9]+: error: Dereference of null pointer .*\[core\.NullDereference\]'
if [ -e "$(stamp null)" ]; then fail "the file with a finding is marked analyzed"; else pass "not marked analyzed"; fi

echo "the kernel's compile rule on a warning of its flags (-Wshadow)"
LOG=$work/shadow.out
LC_ALL=C make -C "$ROOT" --no-print-directory BUILD="$work/build" "$work/build/$work/src/shadow.o" > "$LOG" 2>&1
RC=$?
sed 's/^/    | /' "$LOG"
if [ "$RC" != 0 ]; then pass "make failed ($RC)"; else fail "make passed a shadowed variable"; fi
expect_line "shadow\.c:5:[0-9]+: error: declaration of 'shadow_count' shadows a global declaration \[-Werror=shadow\]"

echo "tools/check-refs on a small tree"
tree=$work/tree
mkdir -p "$tree/kernel" "$tree/include/kernel" "$tree/tools" "$tree/tests/boot"
printf '#!/bin/sh\n# see kernel/main.c\n' > "$tree/tools/run"
printf '# bash tests/boot/gone.sh; tests/boot/ and tests/boot/*.sh\n' > "$tree/tests/boot/smp.sh"
printf '/* x */\n' > "$tree/include/kernel/log.h"
cat > "$tree/kernel/main.c" <<'EOF'
/* kernel/main.c: include/kernel/log.h, kernel/log.h, log.h and tools/run stand, and so do
 * QEMU's hw/misc/pc-testdev.c, test_*.c, <name>.c, $(BUILD)/kernel/x.o and build/y.c; but
 * kernel/gone.c does not, nor vm/pic.c, */
#include "kernel/log.h"
static const char *s = "kernel/not-a-comment.c"; // nor old.h
// ... nor tools/gone
EOF
LOG=$work/refs.out
"$ROOT/tools/check-refs" "$tree" > "$LOG" 2>&1
RC=$?
sed 's/^/    | /' "$LOG"
expect_rc 1
expect_line "^kernel/main\.c:3: 'kernel/gone\.c' names no file of the tree$"
expect_line "^kernel/main\.c:3: 'vm/pic\.c' names no file of the tree$"
expect_line "^kernel/main\.c:5: 'old\.h' names no file of the tree$"
expect_line "^kernel/main\.c:6: 'tools/gone' names no file of the tree$"
expect_line "^tests/boot/smp\.sh:1: 'tests/boot/gone\.sh' names no file of the tree$"
expect_count 5 '.'

echo "make check on the tree"
LOG=$work/check.out
start=$SECONDS
make -C "$ROOT" --no-print-directory -j"$(nproc 2>/dev/null || echo 1)" check > "$LOG" 2>&1
RC=$?
took=$((SECONDS - start))
grep -v '^  [A-Z]\+ ' "$LOG" | sed 's/^/    | /'
expect_rc 0
if [ "$RC" = 0 ]; then
  pass "no warning, no analyzer finding, no stale file reference ($took s)"
fi

echo "linker.ld's assertions on layouts the code cannot use"
# The kernel's own link command (make's, as it would run it), on the objects just built, with
# a linker script changed in one place.
link=$(make -C "$ROOT" --no-print-directory -n V=1 -W linker.ld build/mhv.pass1.elf | grep '^ld ')
# broken_link SED MESSAGE: links with linker.ld edited by SED; the link must fail with MESSAGE.
broken_link() {
  sed "$1" "$ROOT/linker.ld" > "$work/broken.ld"
  LOG=$work/link.out
  (cd "$ROOT" && ${link/-T linker.ld/-T $work/broken.ld} -o "$work/broken.elf") > "$LOG" 2>&1
  RC=$?
  if [ "$RC" != 0 ] && grep -qF "$2" "$LOG"; then pass "'$1' fails the link: $2"
  else fail "'$1': link exited $RC: $(head -n 2 "$LOG")"; fi
}
if [ -z "$link" ]; then
  fail "no link command from make -n"
else
  broken_link 's/^KERNEL_LOAD_ADDR = 0x200000;/KERNEL_LOAD_ADDR = 0x80000;/' "the image must lie above 1 MiB"
  broken_link 's/^\( *\)__multiboot2_start = \.;/&\1. += 28672;/' "within the first 32 KiB of the image"
  broken_link 's/^\( *\)__rodata_start = \./\1. += 16;\n&/' "their bounds must be page aligned"
  broken_link 's/ap_trampoline_start <= 4096/ap_trampoline_start <= 16/' "the AP trampoline (boot/ap/trampoline.asm) must fit"
fi
finish
