#!/usr/bin/env bash
# The GTKWave view `iocosim run` writes beside its VCD, checked as you will see it: the run's
# folder is moved elsewhere and GTKWave, in a virtual X display (Xvfb), is given only the save
# file from yet another folder (the view names its VCD and filters relative to itself); the
# check fails if GTKWave cannot load it or draws next to nothing, and writes the whole 1600x900
# screen to a PNG. CI runs it (.ci/run).
#   scripts/screenshot-gtkwave.sh [CONFIG] [OUT.png] [vcd|fst]
# Defaults: platform/configs/nested-interrupts.yaml, docs/images/gtkwave-<config>.png, vcd (fst:
# the run writes FST, and the view opens that).
# Needs a build (scripts/build.sh); installs GTKWave, Xvfb and ImageMagick if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
config=${1:-platform/configs/nested-interrupts.yaml}
name=$(basename "$config" .yaml)
out=${2:-docs/images/gtkwave-$name.png}
format=${3:-vcd}
case "$format" in vcd | fst) ;; *) echo "screenshot-gtkwave: format '$format' is vcd or fst" >&2; exit 2 ;; esac
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
bash scripts/setup.sh screenshots >/dev/null
[ -x build/bin/iocosim ] || { echo "screenshot-gtkwave: build first (scripts/build.sh)" >&2; exit 1; }
work=$(mktemp -d /tmp/iocosim-gtkwave.XXXXXX)
trap 'rm -rf "$work"' EXIT
build/bin/iocosim run "$config" --vcd "$work/made/$name.$format" --set output.events= \
  --set output.stats= --quiet
mv "$work/made" "$work/moved"
mkdir -p "$(dirname "$out")" "$work/elsewhere"
# GTKWave needs a moment to load and draw; the capture is of the root window (GTKWave's fills it).
(cd "$work/elsewhere" && xvfb-run -a -s "-screen 0 1600x900x24" sh -c "
  gtkwave '$work/moved/$name.gtkw' >'$work/gtkwave.log' 2>&1 &
  pid=\$!
  sleep 6
  import -window root '$out'
  kill \$pid 2>/dev/null || true")
status=0
if grep -q "Could not initialize\|not found\|exiting" "$work/gtkwave.log"; then
  echo "screenshot-gtkwave: FAIL: GTKWave could not open the moved view:" >&2
  cat "$work/gtkwave.log" >&2
  status=1
fi
colors=$(identify -format %k "$out" 2>/dev/null || echo 0)
if [ "${colors:-0}" -lt 50 ]; then
  echo "screenshot-gtkwave: FAIL: the screen is nearly blank ($colors colours)" >&2
  status=1
fi
[ $status -eq 0 ] && echo "screenshot-gtkwave: PASS: the moved view opened ($colors colours); $out"
exit $status
