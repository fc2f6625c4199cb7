// iocosim report: a run's statistics as a DPC/ISR latency report in the style of Windows'
// analysis tools (xperf/WPA "DPC/ISR duration", LatencyMon): per-driver ISR and DPC execution
// times with their histograms, ISR-to-DPC and interrupt-to-thread latency; as text, and as HTML.
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "platform/commands.h"
#include "platform/config.h"
#include "platform/simulation.h"

namespace platform {
namespace {

const char* const kBuckets[] = {"0-1",   "1-2",   "2-3",    "3-4",     "4-5", "5-10",
                                "10-25", "25-50", "50-100", "100-250", ">250"};

struct Row {
  std::string kind, name, irq;
  std::uint64_t count = 0;
  double mean = 0, max = 0, total_ms = 0, cpu = 0;
  std::vector<std::uint64_t> buckets;
};

Row row(const std::string& kind, const YAML::Node& n, const YAML::Node& h, double sim_ms) {
  Row r;
  r.kind = kind;
  r.name = n["name"].as<std::string>();
  r.irq = n["irq"] ? n["irq"].as<std::string>() : "";
  r.count = h["count"].as<std::uint64_t>();
  r.mean = h["mean_us"].as<double>();
  r.max = h["max_us"].as<double>();
  r.total_ms = r.mean * static_cast<double>(r.count) / 1000.0;
  r.cpu = sim_ms > 0 ? 100.0 * r.total_ms / sim_ms : 0;
  for (const char* b : kBuckets) r.buckets.push_back(h["buckets"][b].as<std::uint64_t>());
  return r;
}

std::string html_escape(const std::string& s) {
  std::string o;
  for (char c : s)
    o += c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '&' ? "&amp;" : std::string(1, c);
  return o;
}

}  // namespace

int cmd_report(const std::string& stats_path, const std::string& html_path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(stats_path);
  } catch (const YAML::BadFile&) {
    throw ConfigError(fmt::format("{}: cannot read the statistics", stats_path));
  } catch (const YAML::Exception& e) {
    throw ConfigError(
        fmt::format("{}:{}: not a statistics file: {}", stats_path, e.mark.line + 1, e.msg));
  }
  const YAML::Node k = root["kernel"];
  if (!k || !k["isrs"])
    throw ConfigError(fmt::format(
        "{}: no kernel section (the report needs a run of a kernel workload with --stats)",
        stats_path));
  const double sim_ms = root["sim"]["t_ps"].as<double>() / 1e9;
  std::vector<Row> rows;
  for (const auto& n : k["isrs"]) rows.push_back(row("ISR", n, n["us"], sim_ms));
  for (const auto& n : k["dpcs"]) rows.push_back(row("DPC", n, n["us"], sim_ms));
  struct Lat {
    const char* label;
    const char* key;
  };
  const Lat lats[] = {{"ISR to DPC start", "isr_to_dpc_us"},
                      {"interrupt to thread running", "interrupt_to_thread_us"}};

  std::printf("DPC/ISR report: %s\n", stats_path.c_str());
  std::printf("  %.3f ms simulated, CPU %.0f MHz, IRQL mode %s, %llu interrupts, %llu DPCs\n\n",
              sim_ms, root["cpu0"]["clock_hz"].as<double>() / 1e6,
              k["irql_mode"].as<std::string>().c_str(),
              static_cast<unsigned long long>(k["interrupts"].as<std::uint64_t>()),
              static_cast<unsigned long long>(k["dpcs_executed"].as<std::uint64_t>()));
  std::printf("%-4s %-12s %4s %8s %9s %9s %9s %7s   %s\n", "kind", "name", "IRQ", "count",
              "mean us", "max us", "total ms", "CPU %", "histogram (us): count per bucket");
  std::string head;
  for (const char* b : kBuckets) head += fmt::format("{:>8}", b);
  std::printf("%70s%s\n", "", head.c_str());
  for (const auto& r : rows) {
    std::string hist;
    for (auto b : r.buckets) hist += fmt::format("{:>8}", b);
    std::printf("%-4s %-12s %4s %8llu %9.2f %9.2f %9.3f %6.2f%% %s\n", r.kind.c_str(),
                r.name.c_str(), r.irq.c_str(), static_cast<unsigned long long>(r.count), r.mean,
                r.max, r.total_ms, r.cpu, hist.c_str());
  }
  std::printf("\nlatency                         count   mean us    max us\n");
  for (const auto& l : lats) {
    const YAML::Node h = k[l.key];
    std::printf("%-28s %8llu %9.2f %9.2f\n", l.label,
                static_cast<unsigned long long>(h["count"].as<std::uint64_t>()),
                h["mean_us"].as<double>(), h["max_us"].as<double>());
  }
  const Row* worst = nullptr;
  for (const auto& r : rows) {
    if (worst == nullptr || r.max > worst->max) worst = &r;
  }
  if (worst != nullptr)
    std::printf("\nhighest execution time: %s %s, %.2f us\n", worst->kind.c_str(),
                worst->name.c_str(), worst->max);

  if (html_path.empty()) return kExitOk;
  std::string h = fmt::format(
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>DPC/ISR report</title>\n"
      "<style>body{{font-family:sans-serif}}table{{border-collapse:collapse}}"
      "td,th{{border:1px solid #ccc;padding:3px 6px;text-align:right}}"
      "td.n{{text-align:left}}.bar{{background:#2980b9;height:10px}}</style></head><body>\n"
      "<h1>DPC/ISR report</h1><p>{} &mdash; {:.3f} ms simulated, IRQL mode {}</p>\n"
      "<h2>Execution time by driver</h2><table><tr><th>kind</th><th>name</th><th>IRQ</th>"
      "<th>count</th><th>mean &micro;s</th><th>max &micro;s</th><th>total ms</th><th>CPU %</th>",
      html_escape(stats_path), sim_ms, k["irql_mode"].as<std::string>());
  for (const char* b : kBuckets) h += fmt::format("<th>{} &micro;s</th>", b);
  h += "</tr>\n";
  for (const auto& r : rows) {
    h += fmt::format(
        "<tr><td class=n>{}</td><td class=n>{}</td><td>{}</td><td>{}</td><td>{:.2f}</td>"
        "<td>{:.2f}</td><td>{:.3f}</td><td>{:.2f}</td>",
        r.kind, html_escape(r.name), r.irq, r.count, r.mean, r.max, r.total_ms, r.cpu);
    for (auto b : r.buckets) {
      const int w =
          r.count ? static_cast<int>(60.0 * static_cast<double>(b) / static_cast<double>(r.count))
                  : 0;
      h += fmt::format("<td>{}<div class=bar style=\"width:{}px\"></div></td>", b, w);
    }
    h += "</tr>\n";
  }
  h += "</table>\n<h2>Latency</h2><table><tr><th>path</th><th>count</th><th>mean &micro;s</th>"
       "<th>max &micro;s</th></tr>\n";
  for (const auto& l : lats) {
    const YAML::Node n = k[l.key];
    h += fmt::format("<tr><td class=n>{}</td><td>{}</td><td>{:.2f}</td><td>{:.2f}</td></tr>\n",
                     l.label, n["count"].as<std::uint64_t>(), n["mean_us"].as<double>(),
                     n["max_us"].as<double>());
  }
  h += "</table></body></html>\n";
  std::ofstream f(html_path);
  f << h;
  if (!f) throw ConfigError(fmt::format("{}: cannot write the report", html_path));
  std::printf("  outputs    %s\n", html_path.c_str());
  return kExitOk;
}

}  // namespace platform
