// iocosim compare hal: the same machine and workload under the PIC HAL on one CPU and the APIC
// HAL on one and on four CPUs. What changes: the cost of an IRQL change (8259A mask writes, each
// an I/O port access across the bus, against a TPR write inside the CPU), interrupt latency, and
// throughput once the compute threads have processors of their own. Each variant is a child
// `iocosim run` whose statistics are read back.

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
  std::string name, hal;
  unsigned cpus;
};

struct Result {
  Variant v;
  std::uint64_t requests = 0, bytes = 0, compute_chunks = 0, interrupts = 0, irql_changes = 0;
  std::uint64_t irql_accesses = 0;  // PIC mask port accesses, or TPR writes
  double mbps = 0, request_us = 0, isr_to_dpc_us = 0, interrupt_to_thread_us = 0, sim_ms = 0;
  double ipis = 0;
};

Result read_result(const Variant& v, const std::string& path) {
  YAML::Node root = YAML::LoadFile(path);  // JSON is YAML
  Result r;
  r.v = v;
  const double t_ps = root["sim"]["t_ps"].as<double>();
  r.sim_ms = t_ps / 1e9;
  const YAML::Node k = root["kernel"];
  r.requests = root["io"]["reads"].as<std::uint64_t>() + root["io"]["writes"].as<std::uint64_t>();
  r.bytes = root["workload"]["bytes"].as<std::uint64_t>();
  r.compute_chunks = root["workload"]["compute_chunks"].as<std::uint64_t>();
  r.interrupts = k["interrupts"].as<std::uint64_t>();
  r.irql_changes = k["irql_changes"].as<std::uint64_t>();
  r.irql_accesses =
      v.hal == "apic" ? k["tpr_writes"].as<std::uint64_t>() : k["pic_accesses"].as<std::uint64_t>();
  r.ipis = v.hal == "apic" ? k["ipis"].as<double>() : 0;
  r.mbps = t_ps > 0 ? static_cast<double>(r.bytes) / (t_ps * 1e-12) / 1e6 : 0;
  r.request_us = root["io"]["request_us"]["mean_us"].as<double>();
  r.isr_to_dpc_us = k["isr_to_dpc_us"]["mean_us"].as<double>();
  r.interrupt_to_thread_us = k["interrupt_to_thread_us"]["mean_us"].as<double>();
  return r;
}

}  // namespace

int cmd_compare_hal(const CommonOptions& o, const std::string& json_path,
                    const std::string& svg_path) {
  ChildRuns runs("compare hal", o);
  const std::vector<Variant> variants = {{"PIC HAL, 1 CPU", "pic", 1},
                                         {"APIC HAL, 1 CPU", "apic", 1},
                                         {"APIC HAL, 4 CPUs", "apic", 4}};
  std::vector<Result> results;
  for (const auto& v : variants) {
    // The io workload for a fixed time, with three compute threads: on one CPU they share it
    // with the disk's requests, on four each has a processor.
    const int rc =
        runs.run(v.name, v.name,
                 {"workload.kind=io", "workload.io.app=sequential", "workload.io.passes=0",
                  "workload.io.compute_threads=3", "sim.until=50ms", "kernel.irql_mode=eager",
                  "hal=" + v.hal, fmt::format("cpu.count={}", v.cpus)},
                 [&](const std::string& f) { results.push_back(read_result(v, f)); });
    if (rc != kExitOk) return rc;
  }
  std::printf("%-18s %8s %8s %8s %11s %11s %9s %10s %10s %10s\n", "HAL", "requests", "MB/s",
              "compute", "IRQL chg", "IRQL I/Os", "I/O/chg", "ISR>DPC", "int>thrd", "request");
  for (const auto& r : results)
    std::printf("%-18s %8llu %8.3f %8llu %11llu %11llu %9.2f %10.2f %10.2f %10.1f\n",
                r.v.name.c_str(), static_cast<unsigned long long>(r.requests), r.mbps,
                static_cast<unsigned long long>(r.compute_chunks),
                static_cast<unsigned long long>(r.irql_changes),
                static_cast<unsigned long long>(r.irql_accesses),
                r.irql_changes
                    ? static_cast<double>(r.irql_accesses) / static_cast<double>(r.irql_changes)
                    : 0.0,
                r.isr_to_dpc_us, r.interrupt_to_thread_us, r.request_us);
  std::printf(
      "  the io workload for 50 ms with three compute threads; compute = chunks of 5000 cycles "
      "they finished; IRQL I/Os = PIC mask port accesses (PIC HAL, eager) or TPR writes (APIC "
      "HAL); ISR>DPC and int>thrd (interrupt to the readied thread running) in us, mean; "
      "request = issue to completion, us\n");
  util::JsonWriter j(true);
  j.begin_object().begin_array("runs");
  for (const auto& r : results)
    j.begin_object()
        .field("variant", r.v.name)
        .field("hal", r.v.hal)
        .field("cpus", r.v.cpus)
        .field("requests", r.requests)
        .field("bytes", r.bytes)
        .field("throughput_MBps", r.mbps)
        .field("compute_chunks", r.compute_chunks)
        .field("interrupts", r.interrupts)
        .field("irql_changes", r.irql_changes)
        .field("irql_accesses", r.irql_accesses)
        .field("ipis", r.ipis)
        .field("isr_to_dpc_us", r.isr_to_dpc_us)
        .field("interrupt_to_thread_us", r.interrupt_to_thread_us)
        .field("request_us", r.request_us)
        .field("sim_ms", r.sim_ms)
        .end_object();
  j.end_array().end_object();
  return write_comparison_outputs("compare hal", json_path, j.str() + "\n", svg_path, [&] {
    std::vector<std::string> names;
    std::vector<ChartPanel> panels = {{"disk throughput", "MB/s", {}},
                                      {"IRQL-change accesses", "PIC mask or TPR writes", {}},
                                      {"interrupt to thread", "\u00b5s", {}}};
    for (const auto& r : results) {
      names.push_back(r.v.name);
      panels[0].values.push_back(r.mbps);
      panels[1].values.push_back(static_cast<double>(r.irql_accesses));
      panels[2].values.push_back(r.interrupt_to_thread_us);
    }
    return svg_bar_chart("PIC HAL vs APIC HAL (io workload, 50 ms)", names, panels);
  });
}

}  // namespace platform
