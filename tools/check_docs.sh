#!/usr/bin/env bash
# Checks that the generated docs match the program: docs/activations.md against `actlab list --json`
# (through tools/gen_activation_docs.py) and docs/cli.md against every `--help`
# (tools/gen_cli_docs.sh). Prints the difference and how to regenerate when they disagree.
#
# Usage: tools/check_docs.sh PATH/TO/actlab [PYTHON3]
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 PATH/TO/actlab [PYTHON3]" >&2; exit 2; }
src="$(cd "$(dirname "$0")/.." && pwd)"
bin="$1"
python="${2:-python3}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

"$bin" list --json >"$tmp/list.json"
"$python" "$src/tools/gen_activation_docs.py" "$tmp/list.json" >"$tmp/activations.md"
"$src/tools/gen_cli_docs.sh" "$bin" >"$tmp/cli.md"

status=0
for page in activations cli; do
  if diff -u "$src/docs/$page.md" "$tmp/$page.md" >"$tmp/$page.diff"; then
    echo "docs/$page.md: up to date"
  else
    status=1
    echo "docs/$page.md differs from what the program says now (- committed, + generated):"
    cat "$tmp/$page.diff"
  fi
done
# Every activation of `actlab list` has its section, and no other (a second, independent check).
listed="$("$bin" list | grep -E '^[a-z0-9_]+$' || true)"
documented="$(sed -n 's/^## \([a-z0-9_]*\)$/\1/p' "$src/docs/activations.md")"
if [ "$listed" != "$documented" ]; then
  status=1
  echo "docs/activations.md's sections differ from the names of \`actlab list\`:"
  diff <(echo "$listed") <(echo "$documented") || true
fi
if [ $status -ne 0 ]; then
  echo "regenerate with:"
  echo "  $bin list --json | python3 tools/gen_activation_docs.py > docs/activations.md"
  echo "  tools/gen_cli_docs.sh $bin > docs/cli.md"
fi
exit $status
