#!/bin/sh
# Makes sure the two packages the build uses are present: stb_image (Debian
# libstb-dev) and doctest (Debian doctest-dev). Installs them when missing and
# running as root; otherwise says what to install and fails.
have() { [ -f "/usr/include/stb/stb_image.h" ] && [ -f "/usr/include/doctest/doctest.h" ]; }
have && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing libstb-dev doctest-dev with apt-get"
  apt-get install -y libstb-dev doctest-dev >/dev/null 2>&1 ||
    { apt-get update >/dev/null && apt-get install -y libstb-dev doctest-dev >/dev/null; }
  have && exit 0
fi
echo "error: the headers stb/stb_image.h and doctest/doctest.h are missing." >&2
echo "       install them with: sudo apt-get install libstb-dev doctest-dev" >&2
exit 1
