#!/usr/bin/env python3
"""The layering rules of docs/architecture.md, checked on every include:
  sw/  includes no SystemC/TLM and, of hw/, only hw/cpu/processor.h;
  hw/  includes nothing from sw/ or platform/;
  util/ includes nothing from hw/, sw/ or platform/, and no SystemC.
The example projects under examples/ follow the same rules in their own hw/ and sw/.
Prints each violation as file:line and exits 1 if there is any."""
import os
import re
import sys

root = sys.argv[1]
include = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]')
systemc = re.compile(r'^(systemc|systemc\.h|tlm|tlm\.h|tlm_utils/.*|sysc/.*|verilated.*)$')
bad = []

def check(layer, path, line_no, inc):
    if layer == "sw":
        if systemc.match(inc) or (inc.startswith("hw/") and inc != "hw/cpu/processor.h") or inc.startswith("platform/"):
            bad.append(f"{path}:{line_no}: sw/ may not include {inc}")
    elif layer == "hw":
        if inc.startswith("sw/") or inc.startswith("platform/"):
            bad.append(f"{path}:{line_no}: hw/ may not include {inc}")
    elif layer == "util":
        if systemc.match(inc) or inc.split("/")[0] in ("hw", "sw", "platform"):
            bad.append(f"{path}:{line_no}: util/ may not include {inc}")

trees = [root] + [os.path.join(root, "examples", e) for e in sorted(os.listdir(os.path.join(root, "examples")))]
for tree, layer in [(t, l) for t in trees for l in ("sw", "hw", "util")]:
    for dirpath, _, files in os.walk(os.path.join(tree, layer)):
        for name in files:
            if not name.endswith((".h", ".cpp", ".hpp", ".cc")):
                continue
            path = os.path.join(dirpath, name)
            with open(path) as f:
                for n, line in enumerate(f, 1):
                    m = include.match(line)
                    if m:
                        check(layer, os.path.relpath(path, root), n, m.group(1))
# processor.h itself must stay plain C++: sw/ includes it.
with open(os.path.join(root, "hw/cpu/processor.h")) as f:
    for n, line in enumerate(f, 1):
        m = include.match(line)
        if m and (systemc.match(m.group(1)) or "/" in m.group(1)):
            bad.append(f"hw/cpu/processor.h:{n}: the processor interface may include only the standard library")

for b in bad:
    print(b)
sys.exit(1 if bad else 0)
