#!/bin/sh
# cli.sh: the command line refuses bad input with a message that names the
# flag or file, and exit code 2. Usage: sh tests/cli.sh build/ram
set -u
ram=${1:-build/ram}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

# expect CODE TEXT -- COMMAND...: the command exits with CODE and its stderr
# contains TEXT.
expect() {
  code=$1 text=$2
  shift 3
  "$@" >"$tmp/out" 2>"$tmp/err"
  got=$?
  if [ "$got" -eq "$code" ] && grep -qF -- "$text" "$tmp/err"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAILED: $* -> exit $got (expected $code), stderr:"
    sed 's/^/    /' "$tmp/err" | head -5
  fi
}

expect 2 "no command given" -- "$ram"
expect 2 "unknown command 'fly'" -- "$ram" fly
expect 2 "unknown flag --bogus" -- "$ram" train --out "$tmp/run" --bogus
expect 2 "--batch: 'abc' is not a whole number" -- "$ram" train --out "$tmp/run" --batch abc
expect 2 "--batch: 0 is outside 1..65536" -- "$ram" train --out "$tmp/run" --batch 0
expect 2 "--sigma: 'x1' is not a number" -- "$ram" train --out "$tmp/run" --sigma x1
expect 2 "--core: 'lru' is not one of rnn, lstm, gru" -- "$ram" train --out "$tmp/run" --core lru
expect 2 "--core: 'lru' is not one of rnn, lstm, gru" -- "$ram" bench --core lru
expect 2 "--reward: 'joy' is not one of classify, change, lowstd" -- "$ram" train --out "$tmp/run" --reward joy
expect 2 "--locator: 'conv' is not one of linear, lstm" -- "$ram" train --out "$tmp/run" --locator conv
expect 2 "--optimizer: 'rmsprop' is not one of sgd, adam" -- "$ram" train --out "$tmp/run" --optimizer rmsprop
expect 2 "--lr: needs a value" -- "$ram" train --out "$tmp/run" --lr
expect 2 "--out RUN_DIR is required" -- "$ram" train
expect 2 "--dataset: unknown data set 'svhn' (known: mnist, fashion-mnist, cifar10, translated-mnist, cluttered-mnist)" -- "$ram" train --out "$tmp/run" --dataset svhn
expect 2 "$tmp/none: no such directory" -- "$ram" train --out "$tmp/run" --data "$tmp/none"
expect 2 "$tmp/fresh/last.bin: cannot open" -- "$ram" train --out "$tmp/fresh" --resume
expect 2 "$tmp/x.bin: cannot open" -- "$ram" eval --checkpoint "$tmp/x.bin"
expect 2 "--split: 'train' is not one of valid, test" -- "$ram" eval --checkpoint "$tmp/x.bin" --split train
printf 'not a checkpoint at all' >"$tmp/junk.bin"
expect 2 "$tmp/junk.bin: not a ram checkpoint" -- "$ram" eval --checkpoint "$tmp/junk.bin"

expect 2 "experiment: name one of fig2, fig3, fig4, collapse" -- "$ram" experiment
expect 2 "unknown experiment 'fig9'" -- "$ram" experiment fig9 --out "$tmp/exp"
expect 2 "experiment: --out DIR is required" -- "$ram" experiment fig4
expect 2 "--core: set by the experiment" -- "$ram" experiment fig4 --out "$tmp/exp" --core lstm
expect 2 "--datasets: unknown data set 'svhn'" -- "$ram" experiment fig4 --out "$tmp/exp" --datasets mnist,svhn
expect 2 "--datasets: fig2 draws one data set" -- "$ram" experiment fig2 --out "$tmp/exp" --datasets mnist,cifar10
expect 2 "show: --checkpoint RUN_DIR/model.bin is required" -- "$ram" show --out "$tmp/g.png"
expect 2 "show: give --out FILE.png, --animate DIR, or both" -- "$ram" show --checkpoint "$tmp/x.bin"
expect 2 "--count: 0 is outside 1..100" -- "$ram" show --checkpoint "$tmp/x.bin" --out "$tmp/g.png" --count 0
expect 2 "$tmp/x.bin: cannot open" -- "$ram" show --checkpoint "$tmp/x.bin" --out "$tmp/g.png"
expect 2 "--seed: only with --untrained or --sample" -- "$ram" show --checkpoint "$tmp/x.bin" --out "$tmp/g.png" --seed 3

echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
