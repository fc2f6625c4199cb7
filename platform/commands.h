#pragma once
// The iocosim subcommands. Each returns the process exit status (platform/simulation.h).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace platform {

struct Config;

struct CommonOptions {
  std::string config;             // empty = the built-in default platform
  std::vector<std::string> sets;  // key=value overrides, applied in order
  std::string until, vcd, events, stats, log_level;
  std::string trace;   // run --trace: a Perfetto trace converted from the run's event log
  std::string outdir;  // run --outdir: every output in one folder under fixed names
  unsigned jobs = 0;   // check, sweep: runs at a time; 0 = the core count
  bool quiet = false;
};

// How two runs are compared (iocosim diff, check).
struct DiffOptions {
  std::vector<std::string> tolerances;  // "KEY=REL": numbers under KEY within REL (relative)
  std::vector<std::string> ignores;     // "KEY": statistics under KEY left out
  std::size_t max_shown = 20;           // differences listed per file
};

// The config a command runs: the file (or the built-in default), the overrides and the options,
// validated; the log level and SystemC's report handler set. Throws ConfigError.
Config build_config(const CommonOptions& o);

int cmd_run(const CommonOptions& o);
// The resolved config as YAML (every key, after the file and the overrides).
int cmd_config(const CommonOptions& o);
// Two runs (folders with stats.json / events.jsonl, or two files): 0 same, 1 different.
int cmd_diff(const std::string& a, const std::string& b, const DiffOptions& d);
// Re-runs GOLDEN_DIR's runs (golden.yaml) and diffs each against its outputs; `update` writes
// them anew. 0 all same, 1 some differ or failed.
int cmd_check(const std::string& dir, bool update, const CommonOptions& o, const DiffOptions& d);
// An event log as a Trace Event Format JSON for Perfetto / chrome://tracing.
int cmd_trace(const std::string& events_path, const std::string& out_path);
// Slurm options of a sweep (the file's `slurm:` section, then the command line's): passed to
// sbatch as its own arguments; `lines` are extra sbatch options ("--qos=low").
struct SlurmOptions {
  std::string partition, account, time, mem;
  std::vector<std::string> lines;
};
// "" or why the options are unusable (an extra line that is not an sbatch option).
std::string check_slurm_options(const SlurmOptions& s);

struct SweepOptions {
  std::string executor = "local";  // local or slurm
  std::string out;                 // results folder ("" = the sweep's own)
  bool no_wait = false;            // slurm: submit and return; `collect` later
  bool collect = false;            // run nothing: table the points' results as they are
  SlurmOptions slurm;              // overrides the file's, key by key; lines are added
};

// A parameter sweep (docs/sweep.md).
int cmd_sweep(const std::string& sweep_path, const SweepOptions& so, const CommonOptions& o);
// The device tree after Plug and Play (text, or JSON with `json`); 1 if a device was left
// stopped.
int cmd_devices(const CommonOptions& o, bool json);
int cmd_script(const CommonOptions& o, const std::string& script_path);
// what: "idle" or "interrupt".
int cmd_bench(const CommonOptions& o, const std::string& what, const std::string& sim_time,
              bool json);
// markdown: the reference table of docs/config.md.
int cmd_keys(bool markdown);
// The DPC/ISR latency report of a run's statistics file, as text and optionally HTML.
int cmd_report(const std::string& stats_path, const std::string& html_path);
// Polling vs interrupt-driven disk and serial drivers, fast I/O vs the IRP path: a table and
// JSON. `only`: disk, serial or fastio (empty = all).
int cmd_compare(const CommonOptions& o, const std::string& only, const std::string& json_path);
// The io workload's disk on PCI with its registers in I/O space and in memory space, by PIO and
// by DMA: CPU cycles and bus cycles per request, request latency; a table, JSON and an SVG chart
// (an empty path skips that file).
int cmd_compare_hal(const CommonOptions& o, const std::string& json_path,
                    const std::string& svg_path);
int cmd_compare_io_space(const CommonOptions& o, const std::string& json_path,
                         const std::string& svg_path);
// Host time to simulate one memory-to-memory DMA transfer of `bytes`; `mode` empty = each mode,
// one child process apiece.
int cmd_bench_dma(const CommonOptions& o, const std::string& mode, const std::string& bytes,
                  bool json);
// Runs the dma-transfer workload in every DMA mode; prints a table, writes JSON and an SVG chart
// (an empty path skips that file).
int cmd_compare_dma(const CommonOptions& o, const std::string& json_path,
                    const std::string& svg_path);

}  // namespace platform
