#!/bin/sh
# doc_links.sh: every relative link in README.md and docs/*.md names a file
# that exists, and every `name(` written in backticks in docs/ is a function
# defined in src/. Run from the repository root.
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
  if grep -q "[^A-Za-z_0-9]$name(" src/*.cpp src/*.h; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAILED: docs name the function $name, which src/ does not define"
  fi
done
echo "doc links: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
