#!/usr/bin/env bash
# Installs dependencies (scripts/setup.sh), configures and builds iocosim and its tests.
#   scripts/build.sh [BUILD_DIR] [extra cmake -D options...]
# IOCOSIM_TARGET=iocosim builds only the simulator (the quick start's first command).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
shift || true
bash scripts/setup.sh
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@"
cmake --build "$build" -j "$(nproc)" ${IOCOSIM_TARGET:+--target "$IOCOSIM_TARGET"}
