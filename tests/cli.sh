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
printf 'epoch,test_error\n1,0.5\n' > "$tmp/curve.csv"
expect 2 "plot needs --out FILE.png" -- "$ram" plot "$tmp/curve.csv"
expect 2 "plot needs at least one CSV file" -- "$ram" plot --out "$tmp/p.png"
expect 2 "--y-max: 'high' is not a number above 0" -- "$ram" plot --out "$tmp/p.png" --y-max high "$tmp/curve.csv"
expect 2 "$tmp/none.csv: cannot open" -- "$ram" plot --out "$tmp/p.png" "$tmp/none.csv"
expect 2 "$tmp/curve.csv: no column 'seconds'" -- "$ram" plot --out "$tmp/p.png" --x minutes "$tmp/curve.csv"
expect 2 "unknown flag --log" -- "$ram" plot --out "$tmp/p.png" --log "$tmp/curve.csv"
if "$ram" plot --out "$tmp/p.png" "$tmp/curve.csv=a curve" >/dev/null 2>&1 && [ -s "$tmp/p.png" ]; then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
  echo "FAILED: $ram plot of a good CSV wrote no picture"
fi
expect 2 "unknown flag --bogus" -- "$ram" train --out "$tmp/run" --bogus
expect 2 "--batch: 'abc' is not a whole number" -- "$ram" train --out "$tmp/run" --batch abc
expect 2 "--batch: 0 is outside 1..65536" -- "$ram" train --out "$tmp/run" --batch 0
expect 2 "--sigma: 'x1' is not a number" -- "$ram" train --out "$tmp/run" --sigma x1
expect 2 "--core: 'lru' is not one of rnn, lstm, gru" -- "$ram" train --out "$tmp/run" --core lru
expect 2 "--core: 'lru' is not one of rnn, lstm, gru" -- "$ram" bench --core lru
expect 2 "--reward: 'joy' is not one of classify, change, lowstd, change-code" -- "$ram" train --out "$tmp/run" --reward joy
expect 2 "--baseline: 'mean' is not one of state, constant" -- "$ram" train --out "$tmp/run" --baseline mean
expect 2 "--init: 'zero' is not one of ours, torch" -- "$ram" train --out "$tmp/run" --init zero
expect 2 "--reward-output: 'probs' is not one of logits, logprobs" -- "$ram" train --out "$tmp/run" --reward-output probs
expect 2 "--preset: 'keras' is not one of torch" -- "$ram" train --out "$tmp/run" --preset keras
expect 2 "--batch: given before --preset torch, which sets it" -- "$ram" train --out "$tmp/run" --batch 8 --preset torch
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
# What is not a checkpoint file is refused by what it is, before it is read.
expect 2 "/dev/zero: is not a regular file" -- "$ram" eval --checkpoint /dev/zero
expect 2 "$tmp: is a directory" -- "$ram" eval --checkpoint "$tmp"
: >"$tmp/empty.bin"
expect 2 "$tmp/empty.bin: empty file" -- "$ram" show --checkpoint "$tmp/empty.bin" --out "$tmp/g.png"
# Settings that need more memory than any machine has: refused with the number.
expect 2 "bench with --batch 65536, --glimpses 64, --patch 64, --scales 6 needs about" -- \
  "$ram" bench --batch 65536 --glimpses 64 --patch 64 --scales 6

expect 2 "experiment: name one of fig2, fig3, fig4, collapse" -- "$ram" experiment
expect 2 "unknown experiment 'fig9'" -- "$ram" experiment fig9 --out "$tmp/exp"
expect 2 "experiment: --out DIR is required" -- "$ram" experiment fig4
expect 2 "--core: set by the experiment" -- "$ram" experiment fig4 --out "$tmp/exp" --core lstm
expect 2 "--datasets: unknown data set 'svhn'" -- "$ram" experiment fig4 --out "$tmp/exp" --datasets mnist,svhn
expect 2 "--datasets: fig2 draws one data set" -- "$ram" experiment fig2 --out "$tmp/exp" --datasets mnist,cifar10
expect 2 "show: --checkpoint RUN_DIR/model.bin is required" -- "$ram" show --out "$tmp/g.png"
expect 2 "show: give --out FILE.png, --animate DIR, --gif FILE.gif, or several" -- "$ram" show --checkpoint "$tmp/x.bin"
expect 2 "--count: 0 is outside 1..100" -- "$ram" show --checkpoint "$tmp/x.bin" --out "$tmp/g.png" --count 0
expect 2 "$tmp/x.bin: cannot open" -- "$ram" show --checkpoint "$tmp/x.bin" --out "$tmp/g.png"
expect 2 "--seed: only with --untrained or --sample" -- "$ram" show --checkpoint "$tmp/x.bin" --out "$tmp/g.png" --seed 3

# Ranges and choices come from the settings table, for train and bench alike.
expect 2 "--lr: 0 is outside [1e-09, 10]" -- "$ram" train --out "$tmp/run" --lr 0
expect 2 "--seed: -1 is outside 0..4611686018427387904" -- "$ram" train --out "$tmp/run" --seed -1
expect 2 "--unit-pixels: 2000 is outside [0.001, 1000]" -- "$ram" train --out "$tmp/run" --unit-pixels 2000
expect 2 "unexpected argument '1'" -- "$ram" train --out "$tmp/run" --reinforce-into-core 1
expect 2 "--locator: 'tree' is not one of linear, lstm" -- "$ram" bench --locator tree
expect 2 "--glimpses: 0 is outside 1..64" -- "$ram" bench --glimpses 0
expect 2 "--reward-coef: set by the experiment" -- "$ram" experiment fig4 --out "$tmp/exp" --reward-coef 2
expect 2 "--max-minutes: set by the experiment" -- "$ram" experiment fig4 --out "$tmp/exp" --max-minutes 2
expect 2 "--patience: set by the experiment" -- "$ram" experiment fig4 --out "$tmp/exp" --patience 2
expect 2 "--epochs: 0 is outside 1..100000" -- "$ram" experiment fig4 --out "$tmp/exp" --epochs 0
expect 2 "--locations: 'grid' is not one of policy, random" -- "$ram" train --out "$tmp/run" --locations grid
expect 2 "--glimpses: set by ram-tables for each of its rows" -- "$ram" experiment ram-tables --out "$tmp/exp" --glimpses 4
expect 2 "--locations: set by the experiment" -- "$ram" experiment ram-tables --out "$tmp/exp" --locations random
expect 2 "--minutes: 0 is outside [0.01, 1e+06]" -- "$ram" experiment ram-tables --out "$tmp/exp" --minutes 0
expect 2 "--collect-only: only ram-tables takes it" -- "$ram" experiment fig2 --out "$tmp/exp" --collect-only
expect 2 "--variants: fig4 has no variant 'lowstd' (known: linear, lstm-locator, lstm-core)" -- "$ram" experiment fig4 --out "$tmp/exp" --variants linear,lowstd
expect 2 "--variants: only fig4 and collapse take it" -- "$ram" experiment fig3 --out "$tmp/exp" --variants linear
expect 2 "--canvas: 20 is outside 28..1000" -- "$ram" bench --canvas 20
expect 2 "--glimpse-hidden: 0 is outside 1..8192" -- "$ram" bench --glimpse-hidden 0
expect 2 "--shift: -1 is outside 0..4095" -- "$ram" train --out "$tmp/run" --shift -1
expect 2 "--hidden: 0 is outside 1..8192" -- "$ram" train --out "$tmp/run" --hidden 0

# `ram help` lists every train flag with its range and default.
"$ram" help >"$tmp/help" 2>&1
for line in "--glimpses T .*glimpses per image, 1\.\.64 .*\[7\]" "--lr LR .*\[1e-09, 10\] .*\[adam 0\.001, sgd 0\.01\]" \
            "--reinforce-into-core .*\[off\]" "--core NAME .*: rnn, lstm, gru .*\[rnn\]" \
            "--preset NAME .*: torch .*\[none\]" "torch (.*): --optimizer sgd --lr 0\.01 .*--baseline constant"; do
  if grep -q -- "$line" "$tmp/help"; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAILED: ram help has no line matching '$line'"; fi
done

# The pages that list the train flags list every one of them.
for flag in $(sed -n 's/^  \(--[a-z-]*\).*/\1/p' "$tmp/help" | sed -n '/^--dataset$/,$p'); do
  for page in README.md docs/defaults.md; do
    if grep -q -- "^| \`$flag[ \`]" "$page"; then passed=$((passed + 1)); else
      failed=$((failed + 1)); echo "FAILED: $page does not list $flag"; fi
  done
done

# A fake MNIST of 10,050 black 2x2 images (label 0), 20 test images: a run of
# one step in a fraction of a second.
mkdir -p "$tmp/mnist"
idx() {  # FILE HEADER_BYTES DATA_BYTES
  { printf "$2"; head -c "$3" /dev/zero; } >"$tmp/mnist/$1"
}
idx train-images-idx3-ubyte '\000\000\010\003\000\000\047\102\000\000\000\002\000\000\000\002' 40200
idx train-labels-idx1-ubyte '\000\000\010\001\000\000\047\102' 10050
idx t10k-images-idx3-ubyte '\000\000\010\003\000\000\000\024\000\000\000\002\000\000\000\002' 80
idx t10k-labels-idx1-ubyte '\000\000\010\001\000\000\000\024' 20
"$ram" train --out "$tmp/tiny" --data "$tmp/mnist" --epochs 1 --glimpses 2 --batch 50 --optimizer sgd \
  --threads 1 >"$tmp/tiny.out" 2>"$tmp/tiny.err" || { failed=$((failed + 1)); echo "FAILED: the tiny run"; cat "$tmp/tiny.err"; }
expect 2 "--lr: cannot be changed when resuming; the run's settings come from $tmp/tiny/last.bin" -- \
  "$ram" train --out "$tmp/tiny" --resume --lr 0.1
# eval reads the data set the checkpoint names, or the one --data names.
expect 2 "$tmp/none: no such directory" -- "$ram" eval --checkpoint "$tmp/tiny/model.bin" --data "$tmp/none"
# Its test error is the one training printed for model.bin.
"$ram" eval --checkpoint "$tmp/tiny/model.bin" >"$tmp/eval" 2>&1
if [ "$(grep '^test_error=' "$tmp/eval")" = "$(grep '^test_error=' "$tmp/tiny.out")" ]; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); echo "FAILED: eval of the tiny run:"; cat "$tmp/eval"
fi
# --csv writes the same evaluation, a row per glimpse (the tiny run has 2).
"$ram" eval --checkpoint "$tmp/tiny/model.bin" --csv "$tmp/eval.csv" >"$tmp/eval2" 2>&1
error=$(grep '^test_error=' "$tmp/eval2" | cut -d= -f2)
if [ "$(head -1 "$tmp/eval.csv")" = "split,glimpse,mean_x,mean_y,error,nll,paths" ] && [ "$(wc -l <"$tmp/eval.csv")" = 3 ] &&
   [ "$(cut -d, -f1,2 "$tmp/eval.csv" | tail -2 | tr '\n' ' ')" = "test,1 test,2 " ] &&
   awk -F, -v e="$error" 'NR > 1 && sprintf("%.4f", $5) != e { bad = 1 } END { exit bad }' "$tmp/eval.csv"; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); echo "FAILED: eval --csv of the tiny run:"; cat "$tmp/eval.csv" "$tmp/eval2"
fi
expect 2 "$tmp/no/such/dir/e.csv.tmp: cannot" -- "$ram" eval --checkpoint "$tmp/tiny/model.bin" --csv "$tmp/no/such/dir/e.csv"
# --paths M classifies by the mean over M paths drawn from the policy.
expect 2 "--paths: 1001 is outside 0..1000" -- "$ram" eval --checkpoint "$tmp/tiny/model.bin" --paths 1001
"$ram" eval --checkpoint "$tmp/tiny/model.bin" --paths 3 >"$tmp/eval3" 2>&1
if grep -q '^classified by the mean class probability over 3 paths drawn from the policy$' "$tmp/eval3" &&
   grep -q '^test_error=[01]\.[0-9]\{4\}$' "$tmp/eval3"; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); echo "FAILED: eval --paths 3 of the tiny run:"; cat "$tmp/eval3"
fi
# Lists: every split with every path count, the rows in that order.
"$ram" eval --checkpoint "$tmp/tiny/model.bin" --split valid,test --paths 0,2 --csv "$tmp/eval4.csv" >/dev/null 2>&1
if [ "$(cut -d, -f1,2,7 "$tmp/eval4.csv" | tail -n +2 | tr '\n' ' ')" = \
     "valid,1,0 valid,2,0 valid,1,2 valid,2,2 test,1,0 test,2,0 test,1,2 test,2,2 " ]; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); echo "FAILED: eval --split valid,test --paths 0,2:"; cat "$tmp/eval4.csv"
fi
expect 2 "--paths: 'x' is not a whole number" -- "$ram" eval --checkpoint "$tmp/tiny/model.bin" --paths 0,x
expect 2 "--split: 'train' is not one of valid, test" -- "$ram" eval --checkpoint "$tmp/tiny/model.bin" --split test,train
# A checkpoint runs on the images it was trained on: the same files
# elsewhere are fine, other ones (one test pixel changed) are refused unless
# --allow-other-data.
mkdir -p "$tmp/copy" "$tmp/other"
cp "$tmp/mnist"/* "$tmp/copy"
cp "$tmp/mnist"/* "$tmp/other"
idx t10k-images-idx3-ubyte '\000\000\010\003\000\000\000\024\000\000\000\002\000\000\000\002\001' 79
mv "$tmp/mnist/t10k-images-idx3-ubyte" "$tmp/other/"
cp "$tmp/copy/t10k-images-idx3-ubyte" "$tmp/mnist/"
"$ram" eval --checkpoint "$tmp/tiny/model.bin" --data "$tmp/copy" >/dev/null 2>"$tmp/err" && passed=$((passed + 1)) ||
  { failed=$((failed + 1)); echo "FAILED: eval on a copy of the data set:"; cat "$tmp/err"; }
expect 2 "$tmp/tiny/model.bin: was trained on mnist from $tmp/mnist (data fingerprint" -- \
  "$ram" eval --checkpoint "$tmp/tiny/model.bin" --data "$tmp/other"
expect 2 "the mnist images in $tmp/other are others" -- \
  "$ram" show --checkpoint "$tmp/tiny/model.bin" --data "$tmp/other" --out "$tmp/g.png"
"$ram" eval --checkpoint "$tmp/tiny/model.bin" --data "$tmp/other" --allow-other-data >/dev/null 2>"$tmp/err" &&
  passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAILED: eval --allow-other-data:"; cat "$tmp/err"; }
expect 2 "$tmp/tiny/last.bin: was trained on mnist from $tmp/mnist" -- \
  "$ram" train --out "$tmp/tiny" --resume --data "$tmp/other" --epochs 2
# Weights of FLT_MAX (finite, so the file is sound) overflow the forward
# pass: eval stops with an error, not "nll -nan". model.bin ends with the
# parameters (as f32) and a 0 byte (no training state).
count=$(sed -n 's/^model: \([0-9]*\) parameters.*/\1/p' "$tmp/tiny.err")
size=$(wc -c <"$tmp/tiny/model.bin")
{ head -c $((size - 1 - 4 * count)) "$tmp/tiny/model.bin"
  yes "$(printf '\377\377\177\177')" | tr -d '\n' | head -c $((4 * count))
  printf '\000'; } >"$tmp/overflow.bin"
expect 2 "$tmp/overflow.bin: the model's outputs are not finite on 20 of 20 images" -- \
  "$ram" eval --checkpoint "$tmp/overflow.bin"
# command.txt: the command line, then the settings; `ram train` with the
# settings line remakes the run (same metrics, but for the seconds).
settings=$(sed -n 2p "$tmp/tiny/command.txt")
case $settings in
  "  settings: --dataset mnist --data $tmp/mnist "*"--core rnn "*"--optimizer sgd --lr 0.01 "*"--out $tmp/tiny")
    passed=$((passed + 1)) ;;
  *) failed=$((failed + 1)); echo "FAILED: command.txt's settings line is '$settings'" ;;
esac
eval "\"\$ram\" train ${settings#  settings: } --out \"\$tmp/again\"" >/dev/null 2>&1
if [ "$(cut -d, -f1-8 "$tmp/tiny/metrics.csv")" = "$(cut -d, -f1-8 "$tmp/again/metrics.csv")" ]; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); echo "FAILED: the settings line of command.txt did not remake the run"
fi

# --print-commands: one `ram train` command per run left to train; run by
# anything (xargs here, GNU parallel or a job array elsewhere), they make the
# runs the experiment then only collects.
exp_flags="--out $tmp/exp --epochs 1 --seeds 1 --mnist $tmp/mnist --glimpses 2 --batch 50 --threads 1"
"$ram" experiment collapse $exp_flags --print-commands >"$tmp/commands" 2>"$tmp/err"
if [ "$(wc -l <"$tmp/commands")" -eq 4 ] && [ "$(grep -c "^$ram train .*--reward .* --out $tmp/exp/runs/mnist-" "$tmp/commands")" -eq 4 ] &&
   grep -q "collapse: 4 runs, 0 finished" "$tmp/err"; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); echo "FAILED: experiment --print-commands printed:"; cat "$tmp/commands" "$tmp/err"
fi
tr '\n' '\0' <"$tmp/commands" | xargs -0 -P 2 -n 1 sh -c >"$tmp/trained" 2>&1 ||
  { failed=$((failed + 1)); echo "FAILED: the printed commands:"; tail -5 "$tmp/trained"; }
"$ram" experiment collapse $exp_flags >"$tmp/collected" 2>&1
if [ "$(grep -c ': finished run in .*, reused$' "$tmp/collected")" -eq 4 ] &&
   ! grep -q ': training \|: resuming ' "$tmp/collected" && [ -s "$tmp/exp/collapse.csv" ] &&
   [ -z "$("$ram" experiment collapse $exp_flags --print-commands 2>/dev/null)" ]; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); echo "FAILED: the experiment did not reuse every run:"; cat "$tmp/collected"
fi

# --variants: only the named curves, and only their runs.
"$ram" experiment collapse $exp_flags --variants lowstd,classify >"$tmp/chosen" 2>&1
if [ "$(grep -c ': finished run in .*, reused$' "$tmp/chosen")" -eq 2 ] &&
   [ "$(cut -d, -f1 "$tmp/exp/collapse.csv" | sort -u | tr '\n' ' ')" = "classify lowstd series " ]; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); echo "FAILED: experiment --variants:"; cat "$tmp/chosen" "$tmp/exp/collapse.csv"
fi

# The benchmark takes the model's widths as ram train does (the wider glimpse
# network of docs/results/ram-tables.md), and says them in its header.
"$ram" bench --seconds 0.1 --batch 16 --threads 1 --what-hidden 512 --glimpse-hidden 512 >"$tmp/bench_wide" 2>&1
if grep -q "hidden 512/128/512/256" "$tmp/bench_wide"; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); echo "FAILED: ram bench --what-hidden 512 --glimpse-hidden 512:"; head -3 "$tmp/bench_wide"
fi
# The benchmark measures the hand-off between two threads only when it has two.
"$ram" bench --seconds 0.1 --batch 16 --threads 2 >"$tmp/bench2" 2>&1
"$ram" bench --seconds 0.1 --batch 16 --threads 1 >"$tmp/bench1" 2>&1
if grep -Eq "^hand-off between two threads: round trip median [0-9]+ ns, min [0-9]+ ns$" "$tmp/bench2" &&
   grep -q "^train_images_per_s=" "$tmp/bench1" && ! grep -q "^hand-off" "$tmp/bench1"; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); echo "FAILED: ram bench's hand-off line:"; tail -4 "$tmp/bench2" "$tmp/bench1"
fi

echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
