#!/usr/bin/env bash
# The installed package, used as a user would: install the build into a fresh prefix, configure
# and build tests/install/consumer against it with find_package(iocosim), run the result.
#   check.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
prefix=$build/install-test
rm -rf "$prefix" "$build/consumer-build"
cmake --install "$build" --prefix "$prefix" > "$build/install-test.log"
test -f "$prefix/include/iocosim/hw/cpu/processor.h"
test -f "$prefix/lib/cmake/iocosim/iocosimConfig.cmake" || test -f "$prefix/lib/x86_64-linux-gnu/cmake/iocosim/iocosimConfig.cmake"
test -x "$prefix/bin/iocosim"
generator=()
command -v ninja > /dev/null && generator=(-G Ninja)
cmake -S "$src/tests/install/consumer" -B "$build/consumer-build" "${generator[@]}" \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS="${IOCOSIM_CONSUMER_CXX_FLAGS:-}" > "$build/consumer-configure.log"
cmake --build "$build/consumer-build" > "$build/consumer-build.log"
SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 "$build/consumer-build/iocosim_consumer"
"$prefix/bin/iocosim" run --until 1ms --set output.vcd= -q
