#!/usr/bin/env bash
# A screenshot of the GTKWave view `iocosim run` writes beside its VCD, as you will see it:
# GTKWave in a virtual X display (Xvfb), the whole 1600x900 screen captured to a PNG.
#   scripts/screenshot-gtkwave.sh [CONFIG] [OUT.png]
# Defaults: platform/configs/nested-interrupts.yaml, docs/images/gtkwave-<config>.png.
# Needs a build (scripts/build.sh); installs GTKWave, Xvfb and ImageMagick if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
config=${1:-platform/configs/nested-interrupts.yaml}
name=$(basename "$config" .yaml)
out=${2:-docs/images/gtkwave-$name.png}
bash scripts/setup.sh screenshots >/dev/null
[ -x build/bin/iocosim ] || { echo "screenshot-gtkwave: build first (scripts/build.sh)" >&2; exit 1; }
build/bin/iocosim run "$config" --vcd "traces/$name.vcd" --quiet
mkdir -p "$(dirname "$out")"
# GTKWave needs a moment to load and draw; the capture is of the root window (GTKWave's fills it).
xvfb-run -a -s "-screen 0 1600x900x24" sh -c "
  gtkwave 'traces/$name.vcd' 'traces/$name.gtkw' >/dev/null 2>&1 &
  pid=\$!
  sleep 5
  import -window root '$out'
  kill \$pid"
echo "screenshot-gtkwave: $out (gtkwave traces/$name.vcd traces/$name.gtkw)"
