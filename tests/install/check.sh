#!/usr/bin/env bash
# The installed package, used as a user would: install the build into a fresh prefix, then
# configure and build a separate project against it with find_package(iocosim) and run it.
#   check.sh install BUILD_DIR SOURCE_DIR         install into BUILD_DIR/install-test
#   check.sh consumer BUILD_DIR SOURCE_DIR        tests/install/consumer: build and run
#   check.sh custom-device BUILD_DIR SOURCE_DIR   examples/custom-device: build, run its tests
set -euo pipefail
what=$1 build=$(cd "$2" && pwd) src=$(cd "$3" && pwd)
prefix=$build/install-test
generator=()
command -v ninja > /dev/null && generator=(-G Ninja)

# Configures and builds project $1 into $build/$2 against the prefix.
build_project() {
  rm -rf "$build/$2"
  cmake -S "$1" -B "$build/$2" "${generator[@]}" \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS="${IOCOSIM_CONSUMER_CXX_FLAGS:-}" > "$build/$2.configure.log" \
    || { cat "$build/$2.configure.log"; exit 1; }
  cmake --build "$build/$2" > "$build/$2.build.log" || { cat "$build/$2.build.log"; exit 1; }
}

case $what in
  install)
    rm -rf "$prefix"
    cmake --install "$build" --prefix "$prefix" > "$build/install-test.log"
    test -f "$prefix/include/iocosim/hw/cpu/processor.h"
    test -f "$prefix/include/iocosim/platform/registry.h"
    test -f "$prefix/lib/cmake/iocosim/iocosimConfig.cmake" ||
      test -f "$prefix/lib/x86_64-linux-gnu/cmake/iocosim/iocosimConfig.cmake"
    test -x "$prefix/bin/iocosim"
    "$prefix/bin/iocosim" run --until 1ms --set output.vcd= -q
    ;;
  consumer)
    build_project "$src/tests/install/consumer" consumer-build
    SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 "$build/consumer-build/iocosim_consumer"
    ;;
  custom-device)
    build_project "$src/examples/custom-device" custom-device-build
    ctest --test-dir "$build/custom-device-build" --output-on-failure
    ;;
  *)
    echo "check.sh: unknown check '$what'" >&2
    exit 2
    ;;
esac
