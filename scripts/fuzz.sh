#!/usr/bin/env bash
# libFuzzer on the config loader and the script parser (tests/fuzz), in build-fuzz/ with clang,
# AddressSanitizer and UndefinedBehaviorSanitizer, each for a bounded time from the shipped
# configs and scripts as seeds. A crash, a sanitizer report or a hang (-timeout) fails it and
# leaves the input in build-fuzz/findings/.
#   scripts/fuzz.sh [SECONDS per target, default 60]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
bash scripts/setup.sh fuzz
CC=clang CXX=clang++ bash scripts/build.sh build-fuzz -DIOCOSIM_FUZZ=ON -DBUILD_TESTING=OFF \
  -DIOCOSIM_WERROR=OFF
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_stack_use_after_return=0:detect_leaks=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p build-fuzz/findings
for target in config script; do
  corpus=build-fuzz/corpus-$target
  mkdir -p "$corpus"
  if [ "$target" = config ]; then
    cp platform/configs/*.yaml tests/platform/configs/*.yaml tests/scripts/*.yaml "$corpus"/ 2>/dev/null || true
  else
    cp tests/scripts/*.scr tests/scripts/*.txt "$corpus"/ 2>/dev/null || true
  fi
  echo "fuzz: $target for ${seconds} s"
  build-fuzz/bin/fuzz_$target -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix=build-fuzz/findings/$target- "$corpus" 2>build-fuzz/fuzz-$target.log ||
    { tail -40 build-fuzz/fuzz-$target.log; echo "fuzz: $target FAILED (input in build-fuzz/findings)"; exit 1; }
  grep -E "^#[0-9]+ +DONE" build-fuzz/fuzz-$target.log | tail -1 || true
done
echo "fuzz: PASS"
