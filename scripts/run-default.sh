#!/usr/bin/env bash
# Quick start 1: set up, build, and simulate the default platform.
# Writes traces/default.vcd and its GTKWave view (`gtkwave traces/default.vcd traces/default.gtkw`)
# and prints a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
IOCOSIM_TARGET=iocosim bash scripts/build.sh build  # the simulator only, not the tests
exec build/bin/iocosim run platform/configs/default.yaml "$@"
