#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# tools/install-deps on a machine where nothing is installed, without touching this one: fake
# dpkg-query, apt-get, sudo and id come first on a PATH that holds nothing else of apt's, and
# record every command they are given. Cases: root with and without package lists, a user
# with password-less sudo, a user whose sudo asks for a password (with and without a
# terminal), a user without sudo, a stale package list (install fails, update, retry), apt
# failing for good, everything already installed; and `make` stopping when it cannot install.
. "$(dirname "$0")/../lib.sh"

work=$(mktemp -d /tmp/mhv-install-deps.XXXXXX)
trap 'rm -rf "$work"' EXIT
fake=$work/bin
mkdir -p "$fake"

# The commands install-deps may use besides the fakes, and nothing else: no real apt-get,
# dpkg-query or sudo can be reached.
for tool in bash sh env grep sed tail wc mktemp rm cat head tr dirname basename sleep true touch; do
  path=$(type -P "$tool") || { fail "the host has no $tool"; finish; }
  ln -s "$path" "$fake/$tool"
done

# State of the fake machine: $work/state/installed lists installed packages; commands logs
# "uid=U DEBIAN_FRONTEND=V apt-get ARGS" and "sudo ARGS" lines.
cat > "$fake/dpkg-query" <<'EOF'
#!/bin/bash
# dpkg-query -W -f='${Status}' PACKAGE
pkg=${!#}
if grep -qx -- "$pkg" "$FAKE/installed" 2>/dev/null; then printf 'install ok installed'; exit 0; fi
echo "dpkg-query: no packages found matching $pkg" >&2
exit 1
EOF
cat > "$fake/id" <<'EOF'
#!/bin/bash
case ${1-} in -u) echo "${FAKE_UID:-0}" ;; -un) [ "${FAKE_UID:-0}" = 0 ] && echo root || echo user ;; *) echo "uid=${FAKE_UID:-0}" ;; esac
EOF
cat > "$fake/apt-get" <<'EOF'
#!/bin/bash
echo "uid=${FAKE_UID:-0} DEBIAN_FRONTEND=${DEBIAN_FRONTEND:-} apt-get $*" >> "$FAKE/commands"
[ "${FAKE_UID:-0}" = 0 ] || { echo "E: Could not open lock file - open (13: Permission denied)" >&2; exit 100; }
args=("$@")
while [ $# -gt 0 ] && [ "${1#-}" != "$1" ]; do shift; done
case ${1-} in
  update)
    [ "${FAKE_APT:-ok}" = update-fails ] && { echo "E: Failed to fetch http://deb.debian.org/..." >&2; exit 100; }
    touch "$FAKE/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4"
    touch "$FAKE/updated" ;;
  install)
    case ${FAKE_APT:-ok} in
      fails) echo "E: Unable to locate package nasm" >&2; exit 100 ;;
      stale) [ -f "$FAKE/updated" ] || { echo "E: Failed to fetch http://deb.debian.org/pool/nasm_2.16.01-1_amd64.deb 404 Not Found" >&2; exit 100; } ;;
    esac
    shift
    for p in "$@"; do case $p in -*) ;; *) echo "$p" >> "$FAKE/installed" ;; esac; done ;;
esac
exit 0
EOF
cat > "$fake/sudo" <<'EOF'
#!/bin/bash
echo "sudo $*" >> "$FAKE/commands"
nopass=0
[ "$1" = -n ] && { nopass=1; shift; }
if [ "${FAKE_SUDO:-nopasswd}" = password ] && [ $nopass = 1 ]; then
  echo "sudo: a password is required" >&2; exit 1
fi
FAKE_UID=0 exec "$@"
EOF
chmod +x "$fake"/*

# run_case NAME LISTS [VAR=VALUE...]: runs tools/install-deps on a fresh fake machine, with
# package lists when LISTS is "lists"; sets LOG (its output), RC and CMDS (the commands it
# issued, one per line). A file $work/NAME.installed, if any, says what is installed already.
run_case() {
  local name=$1 lists=$2
  shift 2
  export FAKE=$work/$name
  mkdir -p "$FAKE/lists"
  [ "$lists" = lists ] && touch "$FAKE/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4"
  [ -f "$work/$name.installed" ] && cp "$work/$name.installed" "$FAKE/installed"
  : > "$FAKE/commands"
  LOG=$work/$name.out
  env -i PATH="$fake" HOME="$work" FAKE="$FAKE" APT_LISTS_DIR="$FAKE/lists" "$@" \
    bash "$ROOT/tools/install-deps" < /dev/null > "$LOG" 2>&1
  RC=$?
  CMDS=$(cat "$FAKE/commands")
  echo "  case $name: exit $RC"
  sed 's/^/    | /' "$LOG"
}

# expect_cmds EXPECTED: the commands issued, exactly.
expect_cmds() {
  if [ "$CMDS" = "$1" ]; then pass "commands: $(tr '\n' ';' <<<"$1")"
  else fail "commands were:"$'\n'"$CMDS"$'\n'"    expected:"$'\n'"$1"; fi
}

# The package list, as the script itself reports it missing.
mkdir -p "$work/empty"
all=$(env -i PATH="$fake" FAKE="$work/empty" bash "$ROOT/tools/install-deps" --check 2>&1 |
      sed -n 's/^install-deps: missing Debian packages: \(.*\) (to install: .*/\1/p')
for p in nasm grub-pc-bin xorriso qemu-system-x86 bochs bochsbios libcmocka-dev clang cpio; do
  [[ " $all " == *" $p "* ]] || fail "the package list has no $p: '$all'"
done
[ -n "$all" ] && pass "--check names the packages: $all"
install="apt-get -q install -y --no-install-recommends $all"

echo "root, package lists present: one install, no update, no sudo"
run_case root-lists lists FAKE_UID=0
expect_rc 0
expect_cmds "uid=0 DEBIAN_FRONTEND=noninteractive $install"
expect_line "^install-deps: installing [0-9]+ missing Debian package\(s\): $all$"
expect_line '^install-deps: installed [0-9]+ package'

echo "root, no package lists (a fresh container): update first"
run_case root-nolists none FAKE_UID=0
expect_rc 0
expect_cmds "uid=0 DEBIAN_FRONTEND=noninteractive apt-get -q update
uid=0 DEBIAN_FRONTEND=noninteractive $install"
expect_line "^install-deps: updating apt's package lists"

echo "a user with password-less sudo"
run_case sudo none FAKE_UID=1000 FAKE_SUDO=nopasswd
expect_rc 0
expect_cmds "sudo -n true
sudo -n env DEBIAN_FRONTEND=noninteractive apt-get -q update
uid=0 DEBIAN_FRONTEND=noninteractive apt-get -q update
sudo -n env DEBIAN_FRONTEND=noninteractive $install
uid=0 DEBIAN_FRONTEND=noninteractive $install"

echo "a user whose sudo wants a password, no terminal (CI): one clear line, nothing run"
run_case sudo-password lists FAKE_UID=1000 FAKE_SUDO=password
expect_rc 1
expect_cmds "sudo -n true"
expect_count 1 '.'
expect_line "^install-deps: cannot install $all: not root, and sudo needs a password but there is no terminal to type it on; run as root: apt-get update && apt-get install -y --no-install-recommends $all$"

if command -v script >/dev/null; then
  echo "a user whose sudo wants a password, on a terminal: sudo may ask"
  FAKE=$work/sudo-tty; mkdir -p "$FAKE/lists"; touch "$FAKE/lists/x_Packages"; : > "$FAKE/commands"
  LOG=$work/sudo-tty.out
  env -i PATH="$fake:$(dirname "$(command -v script)")" HOME="$work" FAKE="$FAKE" APT_LISTS_DIR="$FAKE/lists" \
    FAKE_UID=1000 FAKE_SUDO=password TERM=dumb \
    script -qec "bash '$ROOT/tools/install-deps'" /dev/null < /dev/null > "$LOG" 2>&1
  RC=$? CMDS=$(cat "$FAKE/commands")
  tr -d '\r' < "$LOG" > "$LOG.txt" && LOG=$LOG.txt
  expect_rc 0
  expect_cmds "sudo -n true
sudo env DEBIAN_FRONTEND=noninteractive $install
uid=0 DEBIAN_FRONTEND=noninteractive $install"
  expect_line '^install-deps: sudo will ask for your password'
fi

echo "a user without sudo"
mv "$fake/sudo" "$fake/sudo.off"
run_case nosudo lists FAKE_UID=1000
mv "$fake/sudo.off" "$fake/sudo"
expect_rc 1
expect_cmds ""
expect_count 1 '.'
expect_line "^install-deps: cannot install $all: not root and there is no sudo; run as root: apt-get update && apt-get install -y --no-install-recommends $all$"

echo "stale package lists: the install fails, apt-get update, one retry"
run_case stale lists FAKE_UID=0 FAKE_APT=stale
expect_rc 0
expect_cmds "uid=0 DEBIAN_FRONTEND=noninteractive $install
uid=0 DEBIAN_FRONTEND=noninteractive apt-get -q update
uid=0 DEBIAN_FRONTEND=noninteractive $install"
expect_line '^install-deps: apt-get install failed; refreshing the package lists and trying once more'

echo "apt-get failing for good"
run_case fails lists FAKE_UID=0 FAKE_APT=fails
expect_rc 1
expect_line "^install-deps: cannot install $all: apt-get install failed \(above\); run as root: "
expect_line '^  \| E: Unable to locate package nasm'

echo "everything installed: silent, nothing run"
tr ' ' '\n' <<<"$all" > "$work/done.installed"
run_case done none FAKE_UID=0
expect_rc 0
expect_cmds ""
expect_count 0 '.'

echo "make stops when the packages cannot be installed"
FAKE=$work/make; mkdir -p "$FAKE/lists"; : > "$FAKE/commands"
LOG=$work/make.out
mv "$fake/sudo" "$fake/sudo.off"
env -i PATH="$fake:$(dirname "$(command -v make)")" HOME="$work" FAKE="$FAKE" APT_LISTS_DIR="$FAKE/lists" \
  FAKE_UID=1000 timeout 60 make -C "$ROOT" --no-print-directory BUILD="$work/build" test < /dev/null > "$LOG" 2>&1
RC=$?
mv "$fake/sudo.off" "$fake/sudo"
if [ "$RC" != 0 ] && [ "$RC" != 124 ]; then pass "make test failed ($RC)"; else fail "make test exited $RC"; fi
expect_line '^install-deps: cannot install .*: not root and there is no sudo'
if [ -e "$work/build" ]; then fail "make went on and built into $work/build"; else pass "nothing was built"; fi

finish
