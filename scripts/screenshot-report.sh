#!/usr/bin/env bash
# The HTML DPC/ISR report checked in a real browser: headless Chromium (Debian's) loads the
# report of a default run, the script fails on any console error or a missing section, and
# writes a screenshot. CI runs it (.ci/run).
#   scripts/screenshot-report.sh [STATS] [OUT.png]
# Defaults: a 20 ms run of the default platform; docs/images/report.png.
set -euo pipefail
cd "$(dirname "$0")/.."
stats=${1:-}
out=${2:-docs/images/report.png}
bash scripts/setup.sh screenshots >/dev/null
[ -x build/bin/iocosim ] || { echo "screenshot-report: build first (scripts/build.sh)" >&2; exit 1; }
work=$(mktemp -d /tmp/iocosim-report.XXXXXX)
trap 'rm -rf "$work"' EXIT
if [ -z "$stats" ]; then
  stats=$work/stats.json
  build/bin/iocosim run platform/configs/default.yaml --until 20ms --set output.vcd= \
    --set devices.disk0.image= --stats "$stats" --quiet
fi
html=$work/report.html
build/bin/iocosim report "$stats" --html "$html" >/dev/null
# Flags: no sandbox as root, no GPU, and no network chatter (this machine has no network).
chrome=(chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-sync
        --disable-background-networking --disable-component-update --disable-quic
        --user-data-dir="$work/profile" --enable-logging=stderr --v=0)
"${chrome[@]}" --dump-dom "file://$html" >"$work/dom.html" 2>"$work/console.txt"
status=0
for section in "DPC/ISR report" "Verdict" "Highest execution time" "Timeline" "Execution time by driver" "Latency"; do
  grep -q "$section" "$work/dom.html" || { echo "screenshot-report: FAIL: no '$section' section" >&2; status=1; }
done
grep -q "<table" "$work/dom.html" || { echo "screenshot-report: FAIL: no table rendered" >&2; status=1; }
# The charts render (the browser parsed the inline SVG: its elements are in the DOM), with axes
# and units, and the verdict names a routine and Microsoft's limit.
for chart in highest-chart timeline-chart; do
  grep -q "<svg[^>]*id=\"$chart\"" "$work/dom.html" || { echo "screenshot-report: FAIL: no $chart" >&2; status=1; }
done
grep -q "highest execution time (µs)" "$work/dom.html" || { echo "screenshot-report: FAIL: no axis title with its unit" >&2; status=1; }
grep -q "simulated time (ms)" "$work/dom.html" || { echo "screenshot-report: FAIL: the timeline has no time axis" >&2; status=1; }
grep -Eq "id=\"verdict\"[^>]*>(OK|PROBLEM): .*(100|25) us" "$work/dom.html" || { echo "screenshot-report: FAIL: no verdict against the limits" >&2; status=1; }
if grep -E "CONSOLE.*(Uncaught|Error|error)|Failed to load resource" "$work/console.txt" >&2; then
  echo "screenshot-report: FAIL: console errors (above)" >&2
  status=1
fi
mkdir -p "$(dirname "$out")"
"${chrome[@]}" --window-size=1400,900 --screenshot="$out" "file://$html" >/dev/null 2>&1
[ -s "$out" ] || { echo "screenshot-report: FAIL: no screenshot written" >&2; status=1; }
[ $status -eq 0 ] && echo "screenshot-report: PASS: every section present, no console errors; $out"
exit $status
