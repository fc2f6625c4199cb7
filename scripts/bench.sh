#!/usr/bin/env bash
# iocosim's speed figures, repeatable on a noisy machine: each is counted in instructions under
# callgrind as the difference of two run lengths (start-up cancels) and divided by the units the
# longer run did more of. Host times are medians of five runs (they vary by tens of percent on a
# shared machine; the instruction counts do not).
#
#   scripts/bench.sh [--before REV] [build/bin/iocosim] [section...]
#   sections: interrupt default vcd events trace paging quantum dma (default: all)
#
# --before REV  also measures the iocosim of git revision REV (e.g. the previous main), built by
#               this script in build/bench-before/<sha> (a worktree; kept for the next run), and
#               prints its figure beside each one of this build
#
# interrupt  the kernel's device path (`bench interrupt`: line, controller, INTA, ISR, EOI, DPC,
#            back to the thread) per device interrupt: PIC HAL with eager and lazy IRQL (TLM
#            8259A), PIC HAL with the RTL 8259A, APIC HAL on 1 and 4 CPUs
# default    the default platform (platform/configs/default.yaml, no VCD): per simulated ms and
#            per 100 ms, and host seconds for its 100 ms
# vcd        the same with its VCD written: per simulated ms and the ratio to no VCD
# events     the same with its event log written: the ratio to none
# trace      the same with its Perfetto trace written (--trace): the ratio to none
# paging     the default platform with mm.paging on (every access through the MMU): per
#            simulated ms and the ratio to paging off
# quantum    the default platform at cpu.quantum 0, 1us, 10us, 100us: per simulated ms and the
#            ratio to exact; platform/configs/smp.yaml at 0 and 100us
# dma        a memory-to-memory DMA transfer with the CPU computing alongside (`bench dma`), per
#            MiB in each mode, and host seconds for 64 MiB
set -euo pipefail
cd "$(dirname "$0")/.."
before_rev=
if [[ ${1:-} == --before ]]; then
  [[ $# -ge 2 ]] || { echo "bench: --before needs a git revision" >&2; exit 2; }
  before_rev=$2
  shift 2
fi
exe=build/bin/iocosim
if [[ $# -gt 0 && -x $1 && ! -d $1 ]]; then exe=$1; shift; fi
sections=("$@")
[[ ${#sections[@]} -gt 0 ]] || sections=(interrupt default vcd events trace paging quantum dma)
command -v valgrind >/dev/null || { echo "bench: valgrind is needed (scripts/setup.sh bench)" >&2; exit 2; }
[[ -x $exe ]] || { echo "bench: $exe not built (scripts/build.sh)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
config=platform/configs/default.yaml
smp_config=platform/configs/smp.yaml

exes=("$exe")
labels=(after)
before_exe=
before_src=
if [[ -n $before_rev ]]; then
  sha=$(git rev-parse --verify "$before_rev^{commit}") ||
    { echo "bench: '$before_rev' is not a revision of this repository" >&2; exit 2; }
  dir=build/bench-before/$sha
  if [[ ! -x $dir/build/bin/iocosim ]]; then
    echo "bench: building iocosim at $before_rev ($sha) in $dir (once)" >&2
    [[ -d $dir/src ]] || git worktree add --detach "$dir/src" "$sha" >&2
    cmake -S "$dir/src" -B "$dir/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$tmp/cmake.log" 2>&1 ||
      { cat "$tmp/cmake.log" >&2; exit 1; }
    cmake --build "$dir/build" -j "$(nproc)" --target iocosim >"$tmp/build.log" 2>&1 ||
      { tail -50 "$tmp/build.log" >&2; exit 1; }
  fi
  exes=("$dir/build/bin/iocosim" "$exe")
  before_exe=$dir/build/bin/iocosim
  before_src=$dir/src
  labels=(before after)
fi

instructions() {  # instructions of one run: exe args...
  local x=$1
  shift
  valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" "$x" "$@" >"$tmp/out" 2>"$tmp/err" ||
    { echo "bench: $x $* failed:" >&2; cat "$tmp/err" >&2; exit 1; }
  grep -m1 '^summary:' "$tmp/cg" | awk '{print $2}'
}
json_field() {  # a number field of the bench's JSON output (one document, or the last line)
  python3 - "$tmp/out" "$1" <<'PY'
import json, sys
text = open(sys.argv[1]).read().strip()
try:
    doc = json.loads(text)
except ValueError:
    doc = json.loads(text.splitlines()[-1])
print(doc[sys.argv[2]])
PY
}
median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
memo() {  # prints a measurement once measured with the same arguments: name args...
  local file="$tmp/memo.$(printf '%s ' "$@" | md5sum | cut -c1-16)"
  [[ -f $file ]] || "$@" >"$file"
  cat "$file"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
# The shipped config as the build measured has it: the before build runs its own revision's
# (a key added since would be unknown to it).
config_of() {  # exe config
  if [[ -n $before_exe && $1 == "$before_exe" ]]; then echo "$before_src/$2"; else echo "$2"; fi
}
run_host_seconds() {  # host seconds of a run's simulation (its summary line), median of five: exe config args...
  local x=$1 cfg
  cfg=$(config_of "$1" "$2")
  shift 2
  set -- "$cfg" "$@"
  for _ in 1 2 3 4 5; do
    "$x" run "$@" | awk '/simulated/ {for (i=1;i<=NF;i++) if ($i=="in") print $(i+1)}'
  done | median
}
per_ms() {  # instructions per simulated ms of a config (100 ms - 20 ms): exe config extra args...
  local x=$1 cfg long short
  cfg=$(config_of "$1" "$2")
  shift 2
  long=$(instructions "$x" run -q "$cfg" --set output.vcd= --until 100ms "$@")
  short=$(instructions "$x" run -q "$cfg" --set output.vcd= --until 20ms "$@")
  echo $(((long - short) / 80))
}
per_interrupt() {  # instructions per device interrupt of `bench interrupt`: exe args...
  local x=$1 long short n_long n_short
  shift
  long=$(instructions "$x" bench interrupt --json "$@" --sim-time 60ms); n_long=$(json_field device_interrupts)
  short=$(instructions "$x" bench interrupt --json "$@" --sim-time 10ms); n_short=$(json_field device_interrupts)
  echo $(((long - short) / (n_long - n_short)))
}
# Each row: its figure for every build measured (before, after), then the last column's note.
header() {
  printf '\n%-34s' "$1"
  for l in "${labels[@]}"; do printf ' %14s' "$l"; done
  printf '   %s\n' "$2"
}
row() {  # label command-producing-a-figure (called with the exe first)...
  local label=$1 figure
  shift
  printf '%-34s' "$label"
  for x in "${exes[@]}"; do
    figure=$("$@" "$x")  # a failed measurement stops the bench (set -e), not a figure of nothing
    printf ' %14s' "$figure"
  done
  printf '\n'
}
default_per_ms() { memo per_ms "$1" "$config"; }
default_per_100ms() { echo $(($(default_per_ms "$1") * 100)); }
default_host() { memo run_host_seconds "$1" "$config" --set output.vcd=; }
with_output_ratio() {  # exe output-key: instructions with that output / without
  local x=$2 on
  on=$(memo per_ms "$x" "$config" --set "$1=$tmp/out.$1")
  ratio "$on" "$(default_per_ms "$x")"
}
vcd_per_ms() { memo per_ms "$1" "$config" --set "output.vcd=$tmp/run.vcd"; }
vcd_ratio() { ratio "$(vcd_per_ms "$1")" "$(default_per_ms "$1")"; }
vcd_host() { run_host_seconds "$1" "$config" --set "output.vcd=$tmp/run.vcd"; }
events_ratio() { with_output_ratio output.events "$1"; }
trace_ratio() {
  local on
  on=$(memo per_ms "$1" "$config" --trace "$tmp/trace.json")
  ratio "$on" "$(default_per_ms "$1")"
}
paging_per_ms() { memo per_ms "$1" "$config" --set mm.paging=true; }
paging_ratio() { ratio "$(paging_per_ms "$1")" "$(default_per_ms "$1")"; }
quantum_per_ms() { memo per_ms "$2" "$config" --set "cpu.quantum=$1"; }
quantum_ratio() { ratio "$(quantum_per_ms "$1" "$2")" "$(default_per_ms "$2")"; }
smp_per_ms() { memo per_ms "$2" "$smp_config" --set "cpu.quantum=$1"; }
smp_ratio() { ratio "$(smp_per_ms 0 "$1")" "$(smp_per_ms 100us "$1")"; }
interrupt_figure() {  # hal cpus model irql exe
  per_interrupt "$5" --set "hal=$1" --set "cpu.count=$2" --set "interrupt_controller.model=$3" \
    --set "kernel.irql_mode=$4"
}
interrupt_wall() {  # hal cpus model irql exe
  local x=$5
  for _ in 1 2 3 4 5; do
    "$x" bench interrupt --json --set "hal=$1" --set "cpu.count=$2" \
      --set "interrupt_controller.model=$3" --set "kernel.irql_mode=$4" --sim-time 200ms >"$tmp/out"
    json_field host_ns_per_device_interrupt
  done | median | awk '{printf "%.0f", $1}'
}
dma_figure() {  # mode exe
  local long short
  long=$(instructions "$2" bench dma --mode "$1" --bytes 4MiB)
  short=$(instructions "$2" bench dma --mode "$1" --bytes 1MiB)
  echo $(((long - short) / 3))
}
dma_host() {  # mode exe
  local x=$2
  for _ in 1 2 3 4 5; do "$x" bench dma --mode "$1" --json >"$tmp/out"; json_field host_seconds; done | median
}

for section in "${sections[@]}"; do
  case $section in
    interrupt)
      header "interrupt path" "instructions per device interrupt"
      for variant in "pic 1 tlm eager" "pic 1 tlm lazy" "pic 1 rtl eager" "apic 1 tlm eager" "apic 4 tlm eager"; do
        set -- $variant
        label="$1 HAL, $2 CPU"
        [[ $1 == pic ]] && label="$label, $3, $4"
        row "$label" interrupt_figure "$@"
      done
      header "interrupt path, host" "ns per device interrupt (median of 5)"
      row "pic HAL, 1 CPU, tlm, eager" interrupt_wall pic 1 tlm eager
      ;;
    default)
      header "default platform" "instructions (no VCD)"
      row "per simulated ms" default_per_ms
      row "per 100 ms simulated" default_per_100ms
      row "host s per 100 ms (median of 5)" default_host
      ;;
    vcd)
      header "VCD (default platform)" "on / off, instructions"
      row "per simulated ms, VCD on" vcd_per_ms
      row "on / off" vcd_ratio
      row "host s per 100 ms, VCD on" vcd_host
      ;;
    events)
      header "event log (default platform)" "on / off, instructions"
      row "on / off" events_ratio
      ;;
    trace)
      header "--trace (default platform)" "on / off, instructions"
      row "on / off" trace_ratio
      ;;
    paging)
      header "mm.paging (default platform)" "on / off, instructions"
      row "per simulated ms, paging on" paging_per_ms
      row "on / off" paging_ratio
      ;;
    quantum)
      header "cpu.quantum (default platform)" "instructions per simulated ms; quantum / exact"
      row "0 (exact)" default_per_ms
      for q in 1us 10us 100us; do
        row "$q" quantum_per_ms "$q"
        row "$q / exact" quantum_ratio "$q"
      done
      header "cpu.quantum (smp.yaml)" "instructions per simulated ms; exact / quantum"
      row "0 (exact)" smp_per_ms 0
      row "100us" smp_per_ms 100us
      row "exact / 100us (fewer by)" smp_ratio
      ;;
    dma)
      header "DMA memory to memory" "instructions per MiB; host s per 64 MiB"
      for mode in burst cycle-stealing transparent; do
        row "$mode" dma_figure "$mode"
        row "$mode, host s" dma_host "$mode"
      done
      ;;
    *)
      echo "bench: unknown section '$section' (interrupt default vcd events trace paging quantum dma)" >&2
      exit 2
      ;;
  esac
done
