#!/bin/sh
# include_layers.sh: includes in src/ point downward only. The layers, from
# the bottom:
#   0 kernels    tensor, GEMM, threads, random numbers: no paper in them
#   1 model      the papers' components          (kernels only)
#   1 datasets   the image readers               (kernels only)
#   2 train      the run: loop, optimizers, checkpoints
#   3 tools      the command line, bench, show, experiments, plots
# model and datasets are side by side: neither includes the other. Every
# project include names its layer ("model/ram.h"), so the check reads the
# path. Run from the repository root.
set -u
level() {
  case $1 in
    kernels) echo 0 ;;
    model | datasets) echo 1 ;;
    train) echo 2 ;;
    tools) echo 3 ;;
    *) echo 9 ;;
  esac
}
passed=0
failed=0
for file in src/*/*.cpp src/*/*.h; do
  from=$(echo "$file" | cut -d/ -f2)
  from_level=$(level "$from")
  for target in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$file"); do
    to=${target%%/*}
    to_level=$(level "$to")
    if [ "$target" = "$to" ] || [ "$to_level" -eq 9 ]; then
      failed=$((failed + 1))
      echo "FAILED: $file includes \"$target\", which names no layer (kernels/, model/, datasets/, train/, tools/)"
    elif [ "$to_level" -gt "$from_level" ] || { [ "$to_level" -eq "$from_level" ] && [ "$to" != "$from" ]; }; then
      failed=$((failed + 1))
      echo "FAILED: $file ($from) includes $target ($to): includes point downward only"
    else
      passed=$((passed + 1))
    fi
  done
done
echo "include layers: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
