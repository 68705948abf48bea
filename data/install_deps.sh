#!/bin/sh
# install_deps.sh: makes sure the compiler finds the two header-only packages
# the build uses, stb (stb/stb_image.h, stb/stb_image_write.h) and doctest
# (doctest/doctest.h), wherever they are installed. It compiles a one-line
# file including each header with the build's own compiler and flags, so
# CPATH, CPPFLAGS, CXXFLAGS and make's STB_INCLUDE=DIR / DOCTEST_INCLUDE=DIR
# all count. A missing header is installed with apt-get when running as root
# on Debian or Ubuntu (libstb-dev, doctest-dev); otherwise the script names
# it, says how to get it, and fails.
# Environment: CXX (default c++), PROBE_FLAGS (the build's flags; the Makefile
# sets both).
set -u
cxx=${CXX:-c++}
flags=${PROBE_FLAGS:-}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# compiles FILE: the compiler accepts it with the build's flags (output in log).
compiles() {
  # shellcheck disable=SC2086  # $cxx and $flags are lists of words
  $cxx $flags -fsyntax-only "$1" >"$tmp/log" 2>&1
}
# missing: the headers the compiler does not find, one a line.
missing() {
  for header in stb/stb_image.h stb/stb_image_write.h doctest/doctest.h; do
    printf '#include <%s>\n' "$header" >"$tmp/probe.cpp"
    compiles "$tmp/probe.cpp" || echo "$header"
  done
}

printf 'int main() { return 0; }\n' >"$tmp/empty.cpp"
if ! compiles "$tmp/empty.cpp"; then
  echo "error: the compiler '$cxx' with flags '$flags' does not compile an empty program:" >&2
  sed -n '1,5s/^/    /p' "$tmp/log" >&2
  exit 1
fi
absent=$(missing)
[ -z "$absent" ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  packages=
  case $absent in *stb/*) packages=libstb-dev ;; esac
  case $absent in *doctest/*) packages="$packages doctest-dev" ;; esac
  echo "installing $packages with apt-get"
  # shellcheck disable=SC2086
  apt-get install -y $packages >/dev/null 2>&1 ||
    { apt-get update >/dev/null && apt-get install -y $packages >/dev/null; }
  absent=$(missing)
  [ -z "$absent" ] && exit 0
fi

for header in $absent; do
  echo "error: the compiler ($cxx) does not find <$header>" >&2
done
case $absent in *stb/*)
  cat >&2 <<'HINT'
stb (stb_image.h, stb_image_write.h):
  Debian, Ubuntu:  sudo apt-get install libstb-dev
  Fedora:          sudo dnf install stb_image-devel stb_image_write-devel
  Arch:            sudo pacman -S stb
  anywhere else (macOS: Homebrew has no stb): put the two headers from
  https://github.com/nothings/stb into DIR/stb/ and run make STB_INCLUDE=DIR
HINT
  ;;
esac
case $absent in *doctest/*)
  cat >&2 <<'HINT'
doctest (doctest.h):
  Debian, Ubuntu:  sudo apt-get install doctest-dev
  Fedora:          sudo dnf install doctest-devel
  Arch:            sudo pacman -S doctest
  macOS:           brew install doctest, then make DOCTEST_INCLUDE=$(brew --prefix)/include
  anywhere else:   put doctest.h into DIR/doctest/ and run make DOCTEST_INCLUDE=DIR
HINT
  ;;
esac
echo "Headers in a directory the compiler does not search are found with CPATH=DIR," >&2
echo "CPPFLAGS=-IDIR or STB_INCLUDE=DIR / DOCTEST_INCLUDE=DIR (DIR holding stb/ or doctest/)." >&2
exit 1
