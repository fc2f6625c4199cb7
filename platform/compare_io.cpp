// iocosim compare io-space: the same block device on PCI with its registers behind an I/O BAR
// (isolated I/O: IN/OUT, each access paying the bus's I/O wait states) and behind a memory BAR
// (memory-mapped I/O: ordinary loads and stores), with the driver unchanged — the comparison
// textbooks make between the two. Both data paths: PIO, where every word of data crosses the
// controller's DATA register, and DMA, where only the command registers do. Each variant is a
// child `iocosim run` whose statistics are read back.

#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "platform/chart.h"
#include "platform/child.h"
#include "platform/commands.h"
#include "platform/config.h"
#include "platform/simulation.h"
#include "util/json.h"

namespace platform {
namespace {

struct Variant {
  std::string name, bar, transfer;
};

struct Result {
  Variant v;
  std::uint64_t requests = 0, bytes = 0, port_accesses = 0;
  double cpu_cycles_per_request = 0, bus_cycles_per_request = 0, latency_us = 0, sim_ms = 0;
  double mbps = 0;
};

Result read_result(const Variant& v, const std::string& path) {
  YAML::Node root = YAML::LoadFile(path);  // JSON is YAML
  Result r;
  r.v = v;
  const double t_ps = root["sim"]["t_ps"].as<double>();
  r.sim_ms = t_ps / 1e9;
  r.requests = root["io"]["reads"].as<std::uint64_t>() + root["io"]["writes"].as<std::uint64_t>();
  r.bytes = root["workload"]["bytes"].as<std::uint64_t>();
  const YAML::Node cpu = root["cpu0"];
  // With no compute thread the CPU halts while it waits: its busy cycles are the I/O path's.
  const double busy_ps = t_ps - cpu["halted_ps"].as<double>();
  const double cpu_cycles = busy_ps * 1e-12 * cpu["clock_hz"].as<double>();
  double bus_cycles = 0;
  for (const auto& m : root["bus"]["masters"])
    if (m["name"].as<std::string>() == "platform.cpu0") bus_cycles = m["bus_cycles"].as<double>();
  r.port_accesses = cpu["io_reads"].as<std::uint64_t>() + cpu["io_writes"].as<std::uint64_t>();
  if (r.requests > 0) {
    r.cpu_cycles_per_request = cpu_cycles / static_cast<double>(r.requests);
    r.bus_cycles_per_request = bus_cycles / static_cast<double>(r.requests);
  }
  r.latency_us = root["io"]["request_us"]["mean_us"].as<double>();
  r.mbps = t_ps > 0 ? static_cast<double>(r.bytes) / (t_ps * 1e-12) / 1e6 : 0;
  return r;
}

}  // namespace

int cmd_compare_io_space(const CommonOptions& o, const std::string& json_path,
                         const std::string& svg_path) {
  // The disk the io workload reads, from the config the runs use; it goes on PCI.
  Config config = o.config.empty() ? Config{} : load_config(o.config);
  for (const auto& s : o.sets) apply_override(config, s);
  const std::string disk = config.workload_keys("io").text("disk");
  if (config.device(disk) == nullptr) {
    std::fprintf(stderr, "iocosim compare io-space: workload.io.disk: no device instance '%s'\n",
                 disk.c_str());
    return kExitBadInput;
  }
  const std::vector<Variant> variants = {{"I/O space, PIO", "io", "pio"},
                                         {"memory, PIO", "memory", "pio"},
                                         {"I/O space, DMA", "io", "dma"},
                                         {"memory, DMA", "memory", "dma"}};
  ChildRuns runs("compare io-space", o);
  std::vector<Result> results;
  for (const auto& v : variants) {
    // Sequential reads and writes straight to the driver (no filter, no cache), nothing else
    // running: every CPU and bus cycle is the I/O path's.
    const int rc =
        runs.run(v.name, v.name,
                 {"workload.kind=io", "workload.io.app=sequential", "workload.io.passes=2",
                  "workload.io.sectors=128", "workload.io.request_sectors=8",
                  "workload.io.compute_threads=0", "workload.io.serial_echo=false",
                  "workload.io.timer_period=0", "workload.io.copy_to=", "sim.until=10s",
                  "drivers.disk.completion=interrupt", "devices." + disk + ".filters=",
                  "devices." + disk + ".image=", "devices." + disk + ".bus=pci",
                  "devices." + disk + ".bar=" + v.bar, "drivers.disk.transfer=" + v.transfer},
                 [&](const std::string& f) { results.push_back(read_result(v, f)); });
    if (rc != kExitOk) return rc;
  }
  std::printf("%-16s %9s %12s %14s %14s %11s %9s\n", "registers", "requests", "port I/Os",
              "CPU cyc/req", "bus cyc/req", "latency us", "MB/s");
  for (const auto& r : results)
    std::printf("%-16s %9llu %12llu %14.0f %14.0f %11.1f %9.3f\n", r.v.name.c_str(),
                static_cast<unsigned long long>(r.requests),
                static_cast<unsigned long long>(r.port_accesses), r.cpu_cycles_per_request,
                r.bus_cycles_per_request, r.latency_us, r.mbps);
  std::printf(
      "  the same disk on PCI, its registers behind an I/O BAR or a memory BAR (bus.io_wait_states "
      "extra cycles per port access); CPU cycles = the CPU's busy time (no other thread runs); "
      "bus cycles = the CPU's own; latency = request issue to completion\n");
  util::JsonWriter j(true);
  j.begin_object().field("disk", disk).begin_array("runs");
  for (const auto& r : results)
    j.begin_object()
        .field("variant", r.v.name)
        .field("bar", r.v.bar)
        .field("transfer", r.v.transfer)
        .field("requests", r.requests)
        .field("bytes", r.bytes)
        .field("port_accesses", r.port_accesses)
        .field("cpu_cycles_per_request", r.cpu_cycles_per_request)
        .field("bus_cycles_per_request", r.bus_cycles_per_request)
        .field("mean_latency_us", r.latency_us)
        .field("throughput_MBps", r.mbps)
        .field("sim_ms", r.sim_ms)
        .end_object();
  j.end_array().end_object();
  return write_comparison_outputs("compare io-space", json_path, j.str() + "\n", svg_path, [&] {
    std::vector<std::string> names;
    std::vector<ChartPanel> panels = {{"CPU cycles per request", "CPU cycles", {}},
                                      {"CPU bus cycles per request", "bus cycles", {}},
                                      {"request latency", "\u00b5s", {}}};
    for (const auto& r : results) {
      names.push_back(r.v.name);
      panels[0].values.push_back(r.cpu_cycles_per_request);
      panels[1].values.push_back(r.bus_cycles_per_request);
      panels[2].values.push_back(r.latency_us);
    }
    const std::string title =
        fmt::format("{}: registers in I/O space vs memory space ({} requests of 4 KiB each)", disk,
                    results.empty() ? 0 : results[0].requests);
    return svg_bar_chart(title, names, panels);
  });
}

}  // namespace platform
