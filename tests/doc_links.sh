#!/bin/sh
# doc_links.sh: every relative link in README.md and docs/*.md names a file
# that exists, every `name(` written in backticks in docs/ is a function
# defined in src/, and every link to a source line followed by quoted code,
#   [src/core_lstm.cpp#L133](../src/core_lstm.cpp#L133) `const real d_o = dh_r[j] * tc;`
# quotes that line of that file. Run from the repository root.
set -u
passed=0
failed=0
for page in README.md docs/*.md docs/results/*.md; do
  [ -f "$page" ] || continue
  dir=$(dirname "$page")
  # ](target) links that are not web addresses or pure anchors.
  for target in $(grep -o '](\([^)#]*\)' "$page" | sed 's/^](//' | grep -v '^[a-z]*:' | sort -u); do
    if [ -e "$dir/$target" ]; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1))
      echo "FAILED: $page links to $target, which does not exist"
    fi
  done
done
for name in $(grep -oh '`[A-Za-z_][A-Za-z_0-9:]*(' docs/*.md | tr -d '`(' | sed 's/.*:://' | sort -u); do
  if grep -q "[^A-Za-z_0-9]$name(" src/*/*.cpp src/*/*.h; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAILED: docs name the function $name, which src/ does not define"
  fi
done
# Source lines quoted next to their link: the quote must be on that line.
quotes=$(mktemp)
trap 'rm -f "$quotes"' EXIT
for page in README.md docs/*.md; do
  dir=$(dirname "$page")
  grep -o '](\.\./src/[^)#]*#L[0-9]*) *`[^`]*`' "$page" | sed "s|^](|$page $dir/|" >>"$quotes"
done
while IFS= read -r entry; do
  page=${entry%% *}
  rest=${entry#* }
  file=${rest%%#L*}
  line=${rest#*#L}
  line=${line%%)*}
  quote=${rest#*\`}
  quote=${quote%\`}
  if sed -n "${line}p" "$file" | grep -qF -- "$quote"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAILED: $page quotes $file line $line as '$quote'; that line is now: $(sed -n "${line}p" "$file")"
  fi
done <"$quotes"
# A link shown as a source line must point to that line:
# [src/x.cpp#L12](../src/x.cpp#L12), not #L12 shown and #L15 followed.
mismatched=$(grep -o '\[src/[^]#]*#L[0-9]*\](\.\./src/[^)#]*#L[0-9]*)' README.md docs/*.md |
  sed 's|^\([^:]*\):\[\(src/[^]#]*\)#L\([0-9]*\)\](\.\./\(src/[^)#]*\)#L\([0-9]*\))$|\1 \2 \3 \4 \5|' |
  awk '$2 != $4 || $3 != $5')
if [ -n "$mismatched" ]; then
  failed=$((failed + 1))
  echo "FAILED: links whose shown line is not the line they point to (page, shown, points to):"
  echo "$mismatched"
else
  passed=$((passed + 1))
fi
echo "doc links: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
