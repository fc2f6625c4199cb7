#!/usr/bin/env bash
# Host cost of the interrupt path on 1, 2, 4 and 8 CPUs (APIC HAL), and the PIC HAL on one for
# reference: `iocosim bench interrupt` (a thread computing, its one-shot device interrupting it
# every 10 us: line, I/O APIC, local APIC, INTA, ISR, EOI, DPC, back to the thread; the other
# CPUs run the compute thread or idle). Instructions are counted under callgrind as the
# difference of two run lengths (start-up cancels), so the figures repeat on a noisy machine;
# wall time is the median of five runs.
#
#   scripts/bench-smp.sh [build/bin/iocosim]
set -euo pipefail
exe=${1:-build/bin/iocosim}
command -v valgrind >/dev/null || { echo "bench-smp: valgrind is needed (scripts/setup.sh bench)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

instructions() {  # instructions of one run: args...
  valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" "$exe" "$@" >"$tmp/out" 2>/dev/null
  grep -m1 '^summary:' "$tmp/cg" | awk '{print $2}'
}
field() {  # a JSON number field of the bench's output
  python3 -c "import json,sys; print(json.load(open('$tmp/out'))['$1'])"
}

printf '%-18s %14s %16s %14s %18s\n' "machine" "instr/intr" "device intr/run" "wall ns/intr" "sim cycles/host s"
for variant in "pic 1" "apic 1" "apic 2" "apic 4" "apic 8"; do
  set -- $variant
  hal=$1 cpus=$2
  args=(bench interrupt --json --set "hal=$hal" --set "cpu.count=$cpus")
  long=$(instructions "${args[@]}" --sim-time 60ms); n_long=$(field device_interrupts)
  short=$(instructions "${args[@]}" --sim-time 10ms); n_short=$(field device_interrupts)
  per=$(( (long - short) / (n_long - n_short) ))
  walls=()
  for _ in 1 2 3 4 5; do
    "$exe" "${args[@]}" --sim-time 200ms >"$tmp/out"
    walls+=("$(field host_ns_per_device_interrupt) $(field sim_cpu_cycles_per_host_second)")
  done
  median=$(printf '%s\n' "${walls[@]}" | sort -n | sed -n 3p)
  set -- $median
  printf '%-18s %14s %16s %14.0f %18.3g\n' "$hal, $cpus CPU" "$per" "$n_long" "$1" "$2"
done
