#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# mhv's licence (README "Licence"): LICENSE holds the BSD 2-Clause text, and every source file
# of the tree (C, headers, nasm, linker scripts, shell tools and scripts, Makefile) carries
# "SPDX-License-Identifier: BSD-2-Clause" in its first lines. The checker is tried on a small
# tree of its own first, so that a file without the line is seen to fail it.
. "$(dirname "$0")/../lib.sh"

TAG='SPDX-License-Identifier: BSD-2-Clause'

# source_files DIR: the source files below DIR, one per line, relative to it: the ones git
# tracks in a checkout, every file outside build/ otherwise. Sources are *.c *.h *.asm *.inc
# *.ld *.sh, Makefiles and scripts (a first line starting with #!); data, prose and binaries
# are not.
source_files() {
  local dir=$1 f
  { if git -C "$dir" rev-parse --is-inside-work-tree > /dev/null 2>&1; then
      git -C "$dir" ls-files
    else
      (cd "$dir" && find . -path ./build -prune -o -type f -print | sed 's|^\./||')
    fi; } |
  while IFS= read -r f; do
    [ -f "$dir/$f" ] || continue
    case $f in
      *.c|*.h|*.asm|*.inc|*.ld|*.sh|Makefile|*/Makefile) echo "$f" ;;
      *) [ "$(head -c 2 "$dir/$f" | tr -d '\0')" = '#!' ] && echo "$f" ;;
    esac
  done
}

# unlicensed DIR: the source files below DIR without the SPDX line in their first 3 lines.
unlicensed() {
  local dir=$1 f
  source_files "$dir" | while IFS= read -r f; do
    head -n 3 "$dir/$f" | grep -qF "$TAG" || echo "$f"
  done
}

# The checker on a tree whose answer is known.
sample=$(mktemp -d /tmp/mhv-licence.XXXXXX)
trap 'rm -rf "$sample"' EXIT
mkdir -p "$sample/tools" "$sample/build"
printf '/* %s */\nint x;\n' "$TAG" > "$sample/good.c"
printf 'int y;\n' > "$sample/bad.c"
printf '#!/bin/sh\n# %s\necho hi\n' "$TAG" > "$sample/tools/good-tool"
printf '#!/bin/sh\necho hi\n' > "$sample/tools/bad-tool"
printf 'all:\n\ttrue\n' > "$sample/Makefile"
printf 'name = "x"\n' > "$sample/demo.cfg"            # data: needs no line
printf 'int z;\n' > "$sample/build/generated.c"       # build output: not a source
got=$(unlicensed "$sample" | sort | paste -sd ' ')
if [ "$got" = "Makefile bad.c tools/bad-tool" ]; then
  pass "the check finds the sample's three files without the line (and none of the others)"
else
  fail "the check on the sample tree found '$got', expected 'Makefile bad.c tools/bad-tool'"
fi

if head -n 1 "$ROOT/LICENSE" 2>/dev/null | grep -qx 'BSD 2-Clause License' &&
   grep -qx 'Copyright (c) 2026 the mhv authors' "$ROOT/LICENSE"; then
  pass "LICENSE holds the BSD 2-Clause licence of the mhv authors"
else
  fail "LICENSE is missing or is not the BSD 2-Clause text with the mhv authors' copyright"
fi

total=$(source_files "$ROOT" | wc -l)
missing=$(unlicensed "$ROOT")
if [ "$total" -gt 0 ] && [ -z "$missing" ]; then
  pass "all $total source files carry '$TAG'"
else
  fail "$(grep -c . <<< "$missing") of $total source files lack '$TAG' in their first 3 lines:"
  head -n 20 <<< "$missing" | sed 's/^/      /'
fi
finish
