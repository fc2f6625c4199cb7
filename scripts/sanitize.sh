#!/usr/bin/env bash
# The test suite under AddressSanitizer and UndefinedBehaviorSanitizer, in build-asan/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh build-asan -DIOCOSIM_SANITIZE=ON
# SystemC switches thread stacks under ASan's feet; stack-use-after-return detection cannot follow.
# Leak detection is off: SystemC never unwinds the stack of a thread still suspended when a run
# ends (every waiting software thread, a context frozen by a bug check), so whatever a frame on
# such a stack owns on the heap would be reported as a leak.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_stack_use_after_return=0:detect_leaks=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir build-asan --output-on-failure -j "$(nproc)"
