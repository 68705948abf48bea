#!/bin/sh
# fetch_cifar10.sh [DIR [TARBALL]]: unpacks CIFAR-10 as JPEG image folders
# (cifar10-jpg/{train,test}/<class>/NNNN.jpg, 50,000 + 10,000 images) into
# DIR (default data/), from TARBALL (default: the project's shared copy,
# ../shared/data/cifar10-jpg.tar.gz beside the repository), after checking
# its sha256. Train then with --dataset cifar10 --data DIR/cifar10-jpg.
# Users with the official binary release (data_batch_1.bin ...) need no
# script: --data points at that folder.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-$here}
tarball=${2:-$here/../../shared/data/cifar10-jpg.tar.gz}
expected=8920fc8e68cf04fd390163fccbade309d0daa2b734cd7eba433e88a346aee82f

if [ -d "$dir/cifar10-jpg/train" ] && [ -d "$dir/cifar10-jpg/test" ]; then
  echo "cifar10: $dir/cifar10-jpg already unpacked; nothing to do"
  exit 0
fi
if [ ! -f "$tarball" ]; then
  echo "error: $tarball: missing; give the path of cifar10-jpg.tar.gz as the second argument" >&2
  exit 1
fi
command -v sha256sum >/dev/null 2>&1 || { echo "error: 'sha256sum' not found (Debian: coreutils)" >&2; exit 1; }
echo "cifar10: checking $tarball"
actual=$(sha256sum "$tarball" | cut -d' ' -f1)
if [ "$actual" != "$expected" ]; then
  echo "error: $tarball: sha256 $actual, expected $expected (a damaged or different file)" >&2
  exit 1
fi
mkdir -p "$dir"
echo "cifar10: unpacking into $dir"
tar xzf "$tarball" -C "$dir"
echo "cifar10: done, $dir/cifar10-jpg"
