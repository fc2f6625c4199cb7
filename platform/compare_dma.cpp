// iocosim compare-dma: one DMA block transfer, the same workload, in each of the three modes.
// SystemC elaborates once per process, so every mode runs as a child `iocosim run` whose
// statistics file this command reads back.
#include <sys/wait.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "platform/chart.h"
#include "platform/child.h"
#include "platform/commands.h"
#include "platform/config.h"
#include "platform/platform.h"
#include "platform/simulation.h"
#include "platform/workloads.h"
#include "util/json.h"
#include "util/units.h"

namespace platform {
namespace {

const char* const kModes[] = {"burst", "cycle-stealing", "transparent"};

struct Row {
  std::string mode;
  double transfer_us = 0, transfer_cycles = 0, expected_cycles = 0;
  double stall_cycles = 0;  // whole bus cycles (a double for the chart)
  double work_cycles = 0, work_rate = 0, bus_utilization = 0, throughput = 0;
  std::uint64_t interrupts = 0;
  bool completed = false, verified = false;
};

Row read_row(const std::string& mode, const std::string& stats_path) {
  YAML::Node root = YAML::LoadFile(stats_path);  // JSON is YAML
  YAML::Node w = root["workload"];
  Row r;
  r.mode = mode;
  r.transfer_us = w["transfer_ps"].as<double>() / 1e6;
  r.transfer_cycles = w["transfer_bus_cycles"].as<double>();
  r.expected_cycles = w["expected_bus_cycles"].as<double>();
  r.stall_cycles = static_cast<double>(w["cpu_stall_cycles"].as<std::uint64_t>());
  r.work_cycles = w["work_cycles"].as<double>();
  r.work_rate = w["work_rate"].as<double>();
  r.bus_utilization = w["bus_utilization"].as<double>();
  r.throughput = w["throughput_MBps"].as<double>();
  r.interrupts = w["interrupts"].as<std::uint64_t>();
  r.completed = w["completed"].as<bool>();
  r.verified = w["verified"].as<bool>();
  return r;
}

// Three bar panels (transfer time, CPU stall, CPU work), one bar per mode, in the table's units;
// the transfer time with the mode's analytic value beside it.
std::string svg_chart(const std::vector<Row>& rows, const std::string& title) {
  std::vector<std::string> names;
  std::vector<ChartPanel> panels = {{"transfer time", "\u00b5s", {}},
                                    {"CPU stall", "bus cycles", {}},
                                    {"CPU work done during the transfer", "CPU cycles", {}}};
  for (const auto& r : rows) {
    names.push_back(r.mode);
    panels[0].values.push_back(r.transfer_us);
    // The formula's bus cycles at the run's own cycle time (its transfer time per cycle).
    if (r.transfer_cycles > 0)
      panels[0].reference.push_back(r.expected_cycles * r.transfer_us / r.transfer_cycles);
    panels[1].values.push_back(r.stall_cycles);
    panels[2].values.push_back(r.work_cycles);
  }
  return svg_bar_chart(title, names, panels);
}

}  // namespace

int cmd_bench_dma(const CommonOptions& o, const std::string& mode, const std::string& bytes,
                  bool json) {
  {
    // Bad input is found here, before any child runs, and exits 2 (not as a failed child).
    Config probe = build_config(o);
    apply_override(probe, "workload.dma.bytes=" + bytes, "--bytes " + bytes);
  }
  if (mode.empty()) {
    // Each mode in its own process (SystemC elaborates once per process).
    const std::string exe = self_exe();
    for (const char* m : kModes) {
      std::vector<std::string> args = {exe, "bench", "dma", "--mode", m, "--bytes", bytes};
      if (!o.config.empty()) args.insert(args.end(), {"--config", o.config});
      for (const auto& s : o.sets) args.insert(args.end(), {"--set", s});
      if (json) args.push_back("--json");
      const int rc = run_child(args);
      if (rc == kExitInterrupted || rc == kExitBadInput) return rc;
      if (rc != kExitOk) return kExitFailed;
    }
    return kExitOk;
  }
  Config c = o.config.empty() ? Config{} : load_config(o.config);
  apply_override(c, "workload.kind=dma-transfer");
  apply_override(c, "workload.dma.mode=" + mode);
  apply_override(c, "workload.dma.bytes=" + bytes, "--bytes " + bytes);
  apply_override(c, "output.vcd=");
  // Room for the source and the destination.
  const std::uint64_t dma_bytes = c.workload_keys("dma").number("bytes");
  if (2 * dma_bytes + 0x20000 > c.ram_size)
    c.ram_size = (2 * dma_bytes + 0x20000 + 0xfffff) & ~std::uint64_t{0xfffff};
  for (const auto& s : o.sets) apply_override(c, s);
  apply_override(c, "sim.until=1000s");
  validate(c);
  install_report_handler();
  check_time_resolution();
  Platform p("platform", c);
  std::unique_ptr<Workload> w = Workload::create(p, c);
  Session session(p, c);
  RunResult r = session.run(c.sim_until_ps, false);
  session.close();
  if (r.interrupted) return kExitInterrupted;
  const Settings& k = c.workload_keys("dma");
  const auto& st = p.dma.stats(w->dma_channel());
  const double mb = static_cast<double>(k.number("bytes")) / (1 << 20);
  if (json) {
    util::JsonWriter j(false);
    j.begin_object()
        .field("benchmark", "dma")
        .field("mode", mode)
        .field("bytes", k.number("bytes"))
        .field("cpu_bus_share", k.real("cpu_bus_share"))
        .field("sim_ps", r.sim_ps)
        .field("transfer_ps", st.busy_ps)
        .field("host_seconds", r.host_seconds)
        .field("dma_segments", st.segments)
        .end_object();
    std::printf("%s\n", j.str().c_str());
  } else {
    std::printf(
        "dma benchmark: %.0f MiB memory to memory, %-14s %8.3f s host for %s simulated "
        "(transfer %s, %llu segments, CPU bus share %g)\n",
        mb, mode.c_str(), r.host_seconds, util::format_time(r.sim_ps).c_str(),
        util::format_time(st.busy_ps).c_str(), static_cast<unsigned long long>(st.segments),
        k.real("cpu_bus_share"));
  }
  std::fflush(stdout);
  if (r.exit_status == kExitOk && !w->healthy()) return kExitFailed;
  return r.exit_status;
}

int cmd_compare_dma(const CommonOptions& o, const std::string& json_path,
                    const std::string& svg_path) {
  // Validate the shared settings once, here, so a bad config is reported once, with its line.
  Config base = o.config.empty() ? Config{} : load_config(o.config);
  for (const auto& s : o.sets) apply_override(base, s);
  apply_override(base, "workload.kind=dma-transfer");
  validate(base);

  std::vector<Row> rows;
  int status = kExitOk;
  {
    ChildRuns runs("compare-dma", o);
    for (const char* mode : kModes) {
      const int rc =
          runs.run(std::string("the ") + mode + " run", mode,
                   {"workload.kind=dma-transfer", std::string("workload.dma.mode=") + mode},
                   [&](const std::string& f) { rows.push_back(read_row(mode, f)); });
      if (rc != kExitOk) return rc;
      if (!rows.back().completed || !rows.back().verified) status = kExitFailed;
    }
  }

  const std::string title = fmt::format(
      "DMA modes: {} {}, CPU bus share {}, bus {}",
      readable_number(static_cast<double>(base.workload_keys("dma").number("bytes"))) + " bytes",
      base.workload_keys("dma").text("source") == "disk" ? "disk to memory" : "memory to memory",
      base.workload_keys("dma").real("cpu_bus_share"), util::format_hz(base.bus_clock_hz));
  std::printf("%s\n", title.c_str());
  std::printf("%-15s %12s %12s %12s %12s %12s %9s %9s %8s\n", "mode", "transfer us", "bus cycles",
              "analytic", "CPU stall", "CPU work", "work rate", "bus util", "MB/s");
  for (const auto& r : rows)
    std::printf("%-15s %12.1f %12.0f %12.0f %12.0f %12.0f %8.1f%% %8.1f%% %8.2f\n", r.mode.c_str(),
                r.transfer_us, r.transfer_cycles, r.expected_cycles, r.stall_cycles, r.work_cycles,
                100 * r.work_rate, 100 * r.bus_utilization, r.throughput);
  std::printf(
      "  bus cycles, analytic and CPU stall in bus cycles; CPU work in CPU cycles; work rate = "
      "work done / CPU capacity during the transfer; analytic = the mode's formula for a device "
      "that is not the bottleneck (docs/models.md)\n");

  const Settings& k = base.workload_keys("dma");
  util::JsonWriter j(true);
  j.begin_object()
      .field("bytes", k.number("bytes"))
      .field("source", k.text("source"))
      .field("width", k.number("width"))
      .field("cpu_bus_share", k.real("cpu_bus_share"))
      .field("bus_clock_hz", base.bus_clock_hz)
      .field("steal_gap", base.bus_steal_gap);
  j.begin_array("modes");
  for (const auto& r : rows) {
    j.begin_object()
        .field("mode", r.mode)
        .field("transfer_us", r.transfer_us)
        .field("transfer_bus_cycles", r.transfer_cycles)
        .field("expected_bus_cycles", r.expected_cycles)
        .field("cpu_stall_cycles", static_cast<std::uint64_t>(r.stall_cycles))
        .field("cpu_work_cycles", r.work_cycles)
        .field("cpu_work_rate", r.work_rate)
        .field("bus_utilization", r.bus_utilization)
        .field("throughput_MBps", r.throughput)
        .field("interrupts", r.interrupts)
        .field("completed", r.completed)
        .field("verified", r.verified)
        .end_object();
  }
  j.end_array().end_object();
  if (!json_path.empty()) {
    if (const std::string err = write_file(json_path, j.str() + "\n"); !err.empty()) {
      std::fprintf(stderr, "iocosim compare-dma: --json %s: cannot write: %s\n", json_path.c_str(),
                   err.c_str());
      return kExitBadInput;
    }
  }
  if (!svg_path.empty()) {
    if (const std::string err = write_file(svg_path, svg_chart(rows, title)); !err.empty()) {
      std::fprintf(stderr, "iocosim compare-dma: --svg %s: cannot write: %s\n", svg_path.c_str(),
                   err.c_str());
      return kExitBadInput;
    }
  }
  if (json_path.empty() && svg_path.empty()) {
    std::printf("  outputs    none\n");
  } else {
    std::printf("  outputs    %s%s%s\n", json_path.c_str(),
                json_path.empty() || svg_path.empty() ? "" : ", ", svg_path.c_str());
  }
  return status;
}

}  // namespace platform
