#!/usr/bin/env bash
# Installs what iocosim uses, from Debian's archive. Idempotent: packages already present are
# skipped, so re-running costs one dpkg query.
#   scripts/setup.sh                 build and test (the quick start)
#   scripts/setup.sh screenshots     + GTKWave, Xvfb, ImageMagick, Chromium (scripts/screenshot-*.sh)
#   scripts/setup.sh slurm           + Slurm and munge (scripts/test-slurm.sh)
#   scripts/setup.sh bench           + valgrind (scripts/bench.sh, scripts/bench-smp.sh)
#   scripts/setup.sh fuzz            + clang and its libFuzzer runtime (scripts/fuzz.sh)
set -euo pipefail

packages=(
  build-essential cmake pkg-config ninja-build   # the build
  libsystemc-dev verilator                       # SystemC/TLM models; the RTL interrupt controller
  zlib1g-dev                                     # FST waveforms (Verilator's fstapi)
  libyaml-cpp-dev libcli11-dev libfmt-dev        # configs, the command line, formatting
  libgtest-dev libgmock-dev                      # tests (GTest's CMake package names GMock's files)
  python3 clang-format git                       # the command-line checks, the format test, versions
)
for group in "$@"; do
  case "$group" in
    screenshots) packages+=(gtkwave xvfb xauth imagemagick chromium fonts-dejavu-core) ;;
    slurm) packages+=(slurm-wlm munge) ;;
    bench) packages+=(valgrind) ;;
    fuzz) packages+=(clang libclang-rt-14-dev) ;;
    *) echo "setup: unknown group '$group' (screenshots, slurm, bench, fuzz)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all dependencies present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
