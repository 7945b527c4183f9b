#!/usr/bin/env bash
# Build every libFuzzer target (src/tickforge/*/x_fuzz.cc) with clang and run each for
# $FUZZ_SECONDS (default 60), or only those named as arguments. A target's corpus lives in
# build/fuzz/corpus/x_fuzz and is seeded from the testdata files its x_fuzz.seeds lists: one
# glob per line relative to the testdata folder, and an optional `max_len=N` line.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
py=${PY:-$PWD/.venv/bin/python}
testdata=${TICKFORGE_TESTDATA:-../shared/testdata}
.venv/bin/cmake -S . -B build/fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPython_EXECUTABLE="$py" -DTICKFORGE_BUILD_PYTHON=OFF -DTICKFORGE_BUILD_TESTS=OFF \
  -DTICKFORGE_BUILD_FUZZERS=ON -DTICKFORGE_UNITY_BUILD=ON > /dev/null
targets=("$@")
if ((${#targets[@]} == 0)); then
  for source in src/tickforge/*/*_fuzz.cc; do targets+=("$(basename "$source" .cc)"); done
fi
.venv/bin/cmake --build build/fuzz --target "${targets[@]}"
for target in "${targets[@]}"; do
  source=$(ls src/tickforge/*/"$target".cc)
  corpus=build/fuzz/corpus/$target
  mkdir -p "$corpus"
  flags=()
  seeds=${source%.cc}.seeds
  if [[ -f $seeds ]]; then
    while read -r line; do
      [[ -z $line || $line == \#* ]] && continue
      if [[ $line == max_len=* ]]; then flags+=("-$line"); continue; fi
      for file in "$testdata"/$line; do [[ -f $file ]] && cp -n "$file" "$corpus/" || true; done
    done < "$seeds"
  fi
  log=build/fuzz/$target.log
  echo "== $target: $seconds s, log in $log"
  if ! "build/fuzz/src/tickforge/$target" -max_total_time="$seconds" -rss_limit_mb=2048 "${flags[@]}" \
      -artifact_prefix="build/fuzz/$target-" "$corpus" > "$log" 2>&1; then
    tail -40 "$log"
    echo "$target: FINDING (input saved as build/fuzz/$target-*)"
    failed=1
  fi
  grep -E "^#[0-9]+ *DONE|Done [0-9]+ runs" "$log" | tail -1
done
exit "${failed:-0}"
