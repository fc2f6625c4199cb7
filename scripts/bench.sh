#!/usr/bin/env bash
# iocosim's speed figures, repeatable on a noisy machine: each is counted in instructions under
# callgrind as the difference of two run lengths (start-up cancels) and divided by the units the
# longer run did more of. Host times are medians of five runs (they vary by tens of percent on a
# shared machine; the instruction counts do not).
#
#   scripts/bench.sh [build/bin/iocosim] [section...]
#   sections: interrupt default vcd quantum dma (default: all)
#
# interrupt  the kernel's device path (`bench interrupt`: line, controller, INTA, ISR, EOI, DPC,
#            back to the thread) per device interrupt: PIC HAL (TLM and RTL 8259A), APIC HAL on
#            1 and 4 CPUs
# default    the default platform (platform/configs/default.yaml, no VCD): per simulated ms,
#            and host seconds for its 100 ms
# vcd        the same with its VCD written: per simulated ms and the ratio to no VCD
# paging     the default platform with mm.paging on (every access through the MMU): per
#            simulated ms and the ratio to paging off
# quantum    the default platform at cpu.quantum 0, 1us, 10us, 100us: per simulated ms
# dma        a memory-to-memory DMA transfer with the CPU computing alongside (`bench dma`), per
#            MiB in each mode, and host seconds for 64 MiB
set -euo pipefail
cd "$(dirname "$0")/.."
exe=build/bin/iocosim
if [[ $# -gt 0 && -x $1 && ! -d $1 ]]; then exe=$1; shift; fi
sections=("$@")
[[ ${#sections[@]} -gt 0 ]] || sections=(interrupt default vcd paging quantum dma)
command -v valgrind >/dev/null || { echo "bench: valgrind is needed (scripts/setup.sh bench)" >&2; exit 2; }
[[ -x $exe ]] || { echo "bench: $exe not built (scripts/build.sh)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
config=platform/configs/default.yaml

instructions() {  # instructions of one run of iocosim: args...
  valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" "$exe" "$@" >"$tmp/out" 2>"$tmp/err" ||
    { echo "bench: iocosim $* failed:" >&2; cat "$tmp/err" >&2; exit 1; }
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
run_host_seconds() {  # host seconds of a run's simulation (its summary line), median of five
  for _ in 1 2 3 4 5; do
    "$exe" run "$@" | awk '/simulated/ {for (i=1;i<=NF;i++) if ($i=="in") print $(i+1)}'
  done | median
}
per_ms() {  # instructions per simulated ms of the default platform: extra args...
  local long short
  long=$(instructions run -q "$config" --set output.vcd= --until 100ms "$@")
  short=$(instructions run -q "$config" --set output.vcd= --until 20ms "$@")
  echo $(((long - short) / 80))
}
# The default platform without a VCD is measured by three sections: once.
per_ms_default() { memo per_ms; }
host_seconds_default() { memo run_host_seconds "$config" --set output.vcd=; }

for section in "${sections[@]}"; do
  case $section in
    interrupt)
      printf '\n%-26s %18s %14s\n' "interrupt path" "instr/interrupt" "wall ns/intr"
      for variant in "pic 1 tlm" "pic 1 rtl" "apic 1 tlm" "apic 4 tlm"; do
        set -- $variant
        args=(bench interrupt --json --set "hal=$1" --set "cpu.count=$2" --set "interrupt_controller.model=$3")
        long=$(instructions "${args[@]}" --sim-time 60ms); n_long=$(json_field device_interrupts)
        short=$(instructions "${args[@]}" --sim-time 10ms); n_short=$(json_field device_interrupts)
        wall=$(for _ in 1 2 3 4 5; do "$exe" "${args[@]}" --sim-time 200ms >"$tmp/out"; json_field host_ns_per_device_interrupt; done | median)
        label="$1 HAL, $2 CPU"
        [[ $1 == pic ]] && label="$label, $3 8259A"
        printf '%-26s %18s %14.0f\n' "$label" $(((long - short) / (n_long - n_short))) "$wall"
      done
      ;;
    default)
      printf '\n%-26s %18s %14s\n' "default platform" "instr/sim ms" "host s/100ms"
      printf '%-26s %18s %14s\n' "no VCD" "$(per_ms_default)" "$(host_seconds_default)"
      ;;
    vcd)
      off=$(per_ms_default)
      on=$(per_ms --set "output.vcd=$tmp/run.vcd")
      printf '\n%-26s %18s %14s\n' "VCD" "instr/sim ms" "on/off"
      printf '%-26s %18s %14s\n' "off" "$off" ""
      printf '%-26s %18s %14s\n' "on" "$on" "$(awk -v a="$on" -v b="$off" 'BEGIN {printf "%.2f", a / b}')"
      printf '%-26s %18s %14s\n' "host s/100ms, VCD on" "" "$(run_host_seconds "$config" --set "output.vcd=$tmp/run.vcd")"
      ;;
    paging)
      off=$(per_ms_default)
      on=$(per_ms --set mm.paging=true)
      printf '\n%-26s %18s %14s\n' "mm.paging" "instr/sim ms" "on/off"
      printf '%-26s %18s %14s\n' "off" "$off" ""
      printf '%-26s %18s %14s\n' "on" "$on" "$(awk -v a="$on" -v b="$off" 'BEGIN {printf "%.2f", a / b}')"
      ;;
    quantum)
      printf '\n%-26s %18s %14s\n' "cpu.quantum" "instr/sim ms" "host s/100ms"
      printf '%-26s %18s %14s\n' 0 "$(per_ms_default)" "$(host_seconds_default)"
      for q in 1us 10us 100us; do
        printf '%-26s %18s %14s\n' "$q" "$(per_ms --set "cpu.quantum=$q")" \
          "$(run_host_seconds "$config" --set output.vcd= --set "cpu.quantum=$q")"
      done
      ;;
    dma)
      printf '\n%-26s %18s %14s\n' "DMA memory to memory" "instr/MiB" "host s/64MiB"
      for mode in burst cycle-stealing transparent; do
        long=$(instructions bench dma --mode "$mode" --bytes 4MiB)
        short=$(instructions bench dma --mode "$mode" --bytes 1MiB)
        wall=$(for _ in 1 2 3 4 5; do "$exe" bench dma --mode "$mode" --json >"$tmp/out"; json_field host_seconds; done | median)
        printf '%-26s %18s %14s\n' "$mode" $(((long - short) / 3)) "$wall"
      done
      ;;
    *)
      echo "bench: unknown section '$section' (interrupt default vcd paging quantum dma)" >&2
      exit 2
      ;;
  esac
done
