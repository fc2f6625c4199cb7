#!/usr/bin/env bash
# The sweep on a real Slurm: a single-node cluster on this machine (munge, slurmctld and slurmd
# started here with a private config, MaxArraySize=10), the shipped 24-point sweep run once
# locally and once as Slurm array jobs (split in three), and the two tables compared: they must
# be identical. Then a point killed at a one-minute time limit must be failed with that reason,
# and a --no-wait submission tabled later with --collect. The daemons started here are stopped
# on the way out. CI runs it after the tests (.ci/run). Needs root (the daemons) and a build;
# installs slurm-wlm and munge.
#   scripts/test-slurm.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
iocosim="$PWD/$build/bin/iocosim"
[ -x "$iocosim" ] || { echo "test-slurm: no $iocosim: build first" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "test-slurm: needs root to start the Slurm daemons" >&2; exit 1; }
bash scripts/setup.sh slurm >/dev/null

work=$(mktemp -d /tmp/iocosim-slurm.XXXXXX)
node=$(hostname -s)
cpus=$(nproc)
pids=()
cleanup() {
  scancel --user="$(id -un)" 2>/dev/null || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# munge: Slurm's authentication; a key of our own unless the machine has one.
if [ ! -s /etc/munge/munge.key ]; then
  dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
fi
chown munge:munge /etc/munge/munge.key 2>/dev/null || true
chmod 400 /etc/munge/munge.key
mkdir -p /run/munge && chown munge:munge /run/munge 2>/dev/null || true
if ! munge -n >/dev/null 2>&1; then
  runuser -u munge -- /usr/sbin/munged --force 2>/dev/null || /usr/sbin/munged --force
  sleep 1
fi
munge -n | unmunge >/dev/null || { echo "test-slurm: munge does not work" >&2; exit 1; }

# One node, one partition, the controller and the node daemon on this machine, state in $work.
mkdir -p "$work/state" "$work/spool"
cat > "$work/slurm.conf" <<CONF
ClusterName=iocosim-test
SlurmctldHost=$node
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldPort=16817
SlurmdPort=16818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
MaxArraySize=10
SchedulerType=sched/backfill
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
NodeName=$node CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$work/slurm.conf"
/usr/sbin/slurmctld -D -f "$SLURM_CONF" >"$work/ctld.out" 2>&1 &
pids+=($!)
sleep 1
/usr/sbin/slurmd -D -f "$SLURM_CONF" >"$work/d.out" 2>&1 &
pids+=($!)
for _ in $(seq 1 30); do
  state=$(sinfo -h -N -o %t 2>/dev/null | head -1 || true)
  [ "$state" = "idle" ] && break
  sleep 1
done
if [ "${state:-}" != "idle" ]; then
  echo "test-slurm: the node did not come up (state '${state:-none}')" >&2
  tail -20 "$work/slurmctld.log" "$work/slurmd.log" >&2 || true
  exit 1
fi
echo "test-slurm: single-node Slurm up ($node, $cpus CPUs)"

sweep=platform/sweeps/dma-modes.yaml
"$iocosim" sweep "$sweep" -o "$work/local" --quiet >"$work/local.out"
"$iocosim" sweep "$sweep" -o "$work/slurm" --executor slurm --quiet >"$work/slurm.out"
points=$(($(wc -l <"$work/local/results.csv") - 1))
if ! cmp -s "$work/local/results.csv" "$work/slurm/results.csv"; then
  echo "test-slurm: FAIL: the Slurm table differs from the local one" >&2
  diff "$work/local/results.csv" "$work/slurm/results.csv" >&2 || true
  exit 1
fi
if grep -q ",failed$" "$work/slurm/results.csv" || [ "$points" -ne 24 ]; then
  echo "test-slurm: FAIL: $points points, or failed points:" >&2
  cat "$work/slurm/results.csv" >&2
  exit 1
fi
# Each point really ran as an array task (its Slurm log is there).
tasks=$(ls "$work/slurm"/slurm-*_*.log 2>/dev/null | wc -l)
if [ "$tasks" -ne 24 ]; then
  echo "test-slurm: FAIL: $tasks array-task logs, expected 24" >&2
  exit 1
fi
# MaxArraySize=10: 24 tasks are three array jobs.
lists=$(ls "$work/slurm"/commands-*.txt 2>/dev/null | wc -l)
if [ "$lists" -ne 3 ]; then
  echo "test-slurm: FAIL: $lists array jobs, expected 3 (MaxArraySize=10)" >&2
  exit 1
fi
echo "test-slurm: PASS: $points points, local and Slurm tables identical ($tasks array tasks in $lists jobs)"

# A task killed at its time limit (one minute; Slurm checks limits about every 30 s) is a failed
# point, and says why.
cat >"$work/limit.yaml" <<YAML
name: limit
config: $PWD/platform/configs/default.yaml
set: [output.vcd=, devices.disk0.image=]
points:
  - {sim.until: 100000s}
slurm:
  time: "1"
YAML
set +e
"$iocosim" sweep "$work/limit.yaml" -o "$work/limit" --executor slurm --quiet >"$work/limit.out" 2>&1
rc=$?
set -e
if [ "$rc" -ne 1 ] || ! grep -q "failed,killed at Slurm's time limit" "$work/limit/results.csv"; then
  echo "test-slurm: FAIL: a task past its time limit: exit $rc" >&2
  cat "$work/limit.out" "$work/limit/results.csv" >&2 || true
  exit 1
fi
echo "test-slurm: PASS: a task killed at its time limit is failed: $(tail -1 "$work/limit/results.csv")"

# --no-wait returns at once; --collect tables the results once the jobs have ended.
cat >"$work/later.yaml" <<YAML
name: later
config: $PWD/platform/configs/compare-dma-disk.yaml
set: [workload.dma.bytes=16KiB]
grid:
  workload.dma.mode: [burst, transparent]
YAML
"$iocosim" sweep "$work/later.yaml" -o "$work/later" --executor slurm --no-wait >"$work/later.out" 2>&1
grep -q -- "--collect" "$work/later.out" || { echo "test-slurm: FAIL: --no-wait did not say how to collect" >&2; cat "$work/later.out" >&2; exit 1; }
grep -q -- "--collect" "$work/later/jobs.txt" || { echo "test-slurm: FAIL: no jobs.txt with the jobs and the collect command" >&2; exit 1; }
for _ in $(seq 1 120); do
  [ -z "$(squeue -h -n iocosim-later 2>/dev/null)" ] && break
  sleep 1
done
"$iocosim" sweep "$work/later.yaml" -o "$work/later" --collect --quiet
if [ "$(grep -c ',ok,$' "$work/later/results.csv")" -ne 2 ]; then
  echo "test-slurm: FAIL: --collect after --no-wait" >&2
  cat "$work/later.out" "$work/later/results.csv" >&2
  exit 1
fi
echo "test-slurm: PASS: --no-wait, then --collect: 2 points ok"
