// iocosim compare: the I/O path's design choices side by side, each run as a child `iocosim run`
// (SystemC elaborates once per process) whose statistics are read back:
//   disk    interrupt-driven vs polling driver (DMA, no filter): the application's passes
//   serial  interrupt-driven vs polling driver: the serial-echo scenario
//   fastio  the filter's fast I/O vs the IRP path for every read (random reads, cache on)

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "platform/child.h"
#include "platform/commands.h"
#include "platform/simulation.h"
#include "util/json.h"

namespace platform {
namespace {

struct Variant {
  std::string comparison, name;
  std::vector<std::string> sets;
};

struct Result {
  Variant v;
  double sim_ms = 0, mbps = 0, latency_us = 0, cpu_for_others = 0;
  std::uint64_t bytes = 0, requests = 0, interrupts = 0, irps = 0, fast_io_hits = 0;
};

// `disk` and `port`: the instances the io workload opens (workload.io.disk, .serial).
std::vector<Variant> variants(const std::string& echo_input, const std::string& disk_name,
                              const std::string& port) {
  // The disk without its filter: every request reaches the driver under comparison.
  const std::vector<std::string> disk = {"workload.io.app=sequential", "workload.io.passes=2",
                                         "workload.io.sectors=256",
                                         "devices." + disk_name + ".filters=", "sim.until=10s"};
  const std::vector<std::string> serial = {"workload.io.app=none", "workload.io.serial_echo=true",
                                           "devices." + port + ".input_script=" + echo_input,
                                           "sim.until=20ms"};
  const std::vector<std::string> fast = {"workload.io.app=random", "workload.io.passes=4",
                                         "workload.io.sectors=48", "sim.until=10s"};
  auto with = [](std::vector<std::string> base, std::initializer_list<std::string> more) {
    base.insert(base.end(), more);
    return base;
  };
  return {
      {"disk", "interrupt", with(disk, {"drivers.disk.completion=interrupt"})},
      {"disk", "polling", with(disk, {"drivers.disk.completion=polling"})},
      {"serial", "interrupt", with(serial, {"drivers.serial.completion=interrupt"})},
      {"serial", "polling", with(serial, {"drivers.serial.completion=polling"})},
      {"fastio", "fast I/O", with(fast, {"drivers.filter.fast_io=true"})},
      {"fastio", "IRP path", with(fast, {"drivers.filter.fast_io=false"})},
  };
}

Result read_result(const Variant& v, const std::string& stats) {
  YAML::Node root = YAML::LoadFile(stats);
  Result r;
  r.v = v;
  const double t_ps = root["sim"]["t_ps"].as<double>();
  r.sim_ms = t_ps / 1e9;
  const bool serial = v.comparison == "serial";
  r.bytes = serial ? root["workload"]["echoed"].as<std::uint64_t>()
                   : root["workload"]["bytes"].as<std::uint64_t>();
  r.requests = root["io"]["reads"].as<std::uint64_t>() + root["io"]["writes"].as<std::uint64_t>();
  r.mbps = t_ps > 0 ? static_cast<double>(r.bytes) / (t_ps * 1e-12) / 1e6 : 0;
  r.latency_us = root["io"]["request_us"]["mean_us"].as<double>();
  r.interrupts = root["cpu0"]["interrupts"].as<std::uint64_t>();
  r.irps = root["io"]["irps_allocated"].as<std::uint64_t>();
  r.fast_io_hits = root["io"]["fast_io_hits"].as<std::uint64_t>();
  // The compute thread's work (5000 cycles a chunk) over all the CPU's cycles: what the I/O
  // left for the rest of the system.
  const double cycles = t_ps * 1e-12 * root["cpu0"]["clock_hz"].as<double>();
  r.cpu_for_others =
      cycles > 0 ? root["workload"]["compute_chunks"].as<double>() * 5000.0 / cycles : 0;
  return r;
}

}  // namespace

int cmd_compare(const CommonOptions& o, const std::string& only, const std::string& json_path) {
  ChildRuns runs("compare", o);
  // The serial comparison's input: the same lines the serial-echo scenario ships.
  const std::string echo_input = (runs.folder() / "serial-input.txt").string();
  {
    std::ofstream f(echo_input);
    f << "1ms hello, iocosim\\n\n3ms the quick brown fox jumps over the lazy dog\\n\n"
         "6ms 0123456789\\n\n";
  }
  std::vector<Result> results;
  // The instances the comparison drives, from the config the runs use.
  Config config = o.config.empty() ? Config{} : load_config(o.config);
  for (const auto& s : o.sets) apply_override(config, s);
  const Settings& io_keys = config.workload_keys("io");
  for (const auto& v : variants(echo_input, io_keys.text("disk"), io_keys.text("serial"))) {
    if (!only.empty() && v.comparison != only) continue;
    std::vector<std::string> sets = {"workload.kind=io"};
    sets.insert(sets.end(), v.sets.begin(), v.sets.end());
    const int rc = runs.run(v.comparison + "/" + v.name, v.comparison + ": " + v.name, sets,
                            [&](const std::string& f) { results.push_back(read_result(v, f)); });
    if (rc != kExitOk) return rc;
  }
  if (results.empty()) {
    std::fprintf(stderr, "iocosim compare: no comparison named '%s' (disk, serial, fastio)\n",
                 only.c_str());
    return kExitBadInput;
  }
  std::printf("%-8s %-10s %10s %12s %10s %9s %11s %11s %8s %8s\n", "compare", "variant", "sim ms",
              "bytes", "MB/s", "requests", "latency us", "interrupts", "IRPs", "CPU free");
  for (const auto& r : results)
    std::printf("%-8s %-10s %10.3f %12llu %10.4f %9llu %11.1f %11llu %8llu %7.1f%%\n",
                r.v.comparison.c_str(), r.v.name.c_str(), r.sim_ms,
                static_cast<unsigned long long>(r.bytes), r.mbps,
                static_cast<unsigned long long>(r.requests), r.latency_us,
                static_cast<unsigned long long>(r.interrupts),
                static_cast<unsigned long long>(r.irps), 100 * r.cpu_for_others);
  std::printf(
      "  latency = mean request time from the system service to completion; CPU free = the "
      "compute thread's share of the CPU (what the I/O left for other work)\n");
  util::JsonWriter j(true);
  j.begin_object().begin_array("runs");
  for (const auto& r : results)
    j.begin_object()
        .field("comparison", r.v.comparison)
        .field("variant", r.v.name)
        .field("sim_ms", r.sim_ms)
        .field("bytes", r.bytes)
        .field("throughput_MBps", r.mbps)
        .field("requests", r.requests)
        .field("mean_latency_us", r.latency_us)
        .field("interrupts", r.interrupts)
        .field("irps", r.irps)
        .field("fast_io_hits", r.fast_io_hits)
        .field("cpu_for_others", r.cpu_for_others)
        .end_object();
  j.end_array().end_object();
  if (!json_path.empty()) {
    if (const std::string err = write_file(json_path, j.str() + "\n"); !err.empty()) {
      std::fprintf(stderr, "iocosim compare: --json %s: cannot write: %s\n", json_path.c_str(),
                   err.c_str());
      return kExitBadInput;
    }
    std::printf("  outputs    %s\n", json_path.c_str());
  }
  return kExitOk;
}

}  // namespace platform
