#!/usr/bin/env bash
# Quick start 2: set up, build, and run the whole test suite (each TEST in its own process).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh build
ctest --test-dir build --output-on-failure -j "$(nproc)"
