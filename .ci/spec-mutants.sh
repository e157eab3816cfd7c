#!/usr/bin/env bash
# make spec-mutants: each weakening of spec/mutants.tsv must be caught by the
# property it names, with our checker (`verimeter check -json`); each
# counterexample is drawn as a Mermaid sequence diagram with the spec's roles
# as lifelines (`verimeter check -trace-format msc`) into
# ${MSC_DIR:-out/spec-mutants}/NN_mutant.md. Prints "N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/.."
./.ci/deps.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/verimeter" ./cmd/verimeter
charts=${MSC_DIR:-out/spec-mutants}
mkdir -p "$charts"
field() { sed -n "s/^  \"$1\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" "$2" | head -1; }
passed=0 failed=0
while IFS=$'\t' read -r n model mutant by about; do
  case "$n" in ''|'#'*) continue ;; esac
  # The model (SystemCommands, CollectionLive) checks the module its name
  # starts with, as in make spec.
  mod=$model
  while [ ! -f "spec/$mod.tla" ] && [ -n "$mod" ]; do mod=${mod%[A-Z]*}; done
  cfg="$tmp/$model-$mutant.cfg"
  if ! grep -q 'Mutant = "none"' "spec/$model.cfg"; then
    echo "mutant $n: spec/$model.cfg does not set Mutant = \"none\""; failed=$((failed + 1)); continue
  fi
  sed "s/Mutant = \"none\"/Mutant = \"$mutant\"/" "spec/$model.cfg" > "$cfg"
  code=0
  "$tmp/verimeter" check -json -progress 0 -config "$cfg" "spec/$mod.tla" > "$tmp/out.json" || code=$?
  got=$(sed -n 's/^    "property": "\(.*\)",\{0,1\}$/\1/p' "$tmp/out.json" | head -1)
  steps=$(grep -c '"action":' "$tmp/out.json" || true)
  chart="$charts/$(printf %02d "$n")_$mutant.md"
  if { [ "$code" -eq 12 ] || [ "$code" -eq 13 ]; } && [ "$got" = "$by" ]; then
    passed=$((passed + 1))
    printf 'mutant %2d %-30s caught by %-34s counterexample of %d states, %s\n' "$n" "$mutant" "$by" "$steps" "$chart"
    { printf '# Mutant %s: %s\n\n%s.tla, Mutant = "%s", violates `%s`.\n\n```mermaid\n' "$n" "$about" "$mod" "$mutant" "$by"
      "$tmp/verimeter" check -progress 0 -trace-format msc -config "$cfg" "spec/$mod.tla" | sed -n '/^sequenceDiagram/,/^[0-9]* states generated/p' | sed '$d' || true
      printf '```\n'; } > "$chart"
  else
    failed=$((failed + 1))
    echo "mutant $n $mutant: NOT CAUGHT as expected (exit $code, violated '${got}', expected $by)"
  fi
done < spec/mutants.tsv
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -ge 32 ]
