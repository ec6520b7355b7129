#!/usr/bin/env bash
# Runs every fuzz target for SECS seconds each (default 30) on the stable toolchain
# (`--sanitizer none`: the address sanitizer needs nightly), from the checked-in seed corpora.
# New inputs libFuzzer finds go to fuzz/target/corpus/<target>, never into fuzz/corpus.
# Needs `cargo install cargo-fuzz`. A crash is saved under fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${SECS:-30}"
for t in $(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^es-fuzz$'); do
  mkdir -p "fuzz/target/corpus/$t"
  echo "==> $t (${secs}s)"
  cargo fuzz run --sanitizer none "$t" "fuzz/target/corpus/$t" "fuzz/corpus/$t" -- \
    -max_total_time="$secs" 2>&1 | grep -E '^(Done|==|SUMMARY|.*(panicked|deadly signal|crash-))' || true
  test -z "$(ls -A "fuzz/artifacts/$t" 2>/dev/null)" || { echo "crash in $t: fuzz/artifacts/$t"; exit 1; }
done
