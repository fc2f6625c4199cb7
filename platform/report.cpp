// iocosim report: a run's statistics as a DPC/ISR latency report in the style of Windows'
// analysis tools (xperf/WPA "DPC/ISR duration", LatencyMon): per-driver ISR and DPC execution
// times with their histograms, ISR-to-DPC and interrupt-to-thread latency; as text, and as HTML.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "platform/child.h"
#include "platform/commands.h"
#include "platform/config.h"
#include "platform/simulation.h"
#include "platform/yaml_file.h"

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

// Reads fields of a statistics document; a missing or wrong-typed field is an error naming the
// file and the field ("kernel.isrs[2].us.mean_us"), not a YAML exception.
struct Fields {
  const std::string& file;
  template <typename T>
  T get(const YAML::Node& n, const std::string& field) const {
    if (!n || n.IsNull()) throw ConfigError(fmt::format("{}: field '{}' is missing", file, field));
    if (!n.IsScalar())
      throw ConfigError(fmt::format("{}: field '{}' is not a {}", file, field, what<T>()));
    try {
      return n.as<T>();
    } catch (const YAML::Exception&) {
      throw ConfigError(
          fmt::format("{}: field '{}' is not a {}: '{}'", file, field, what<T>(), n.Scalar()));
    }
  }
  // `n`'s member `key`; `path` names `n` in messages ("" for the document).
  YAML::Node sub(const YAML::Node& n, const std::string& key, const std::string& path) const {
    if (!n) throw ConfigError(fmt::format("{}: field '{}' is missing", file, path));
    if (!n.IsMap()) throw ConfigError(fmt::format("{}: field '{}' is not an object", file, path));
    return n[key];
  }
  // The value of `n`'s member `key`, named `path.key` in messages.
  template <typename T>
  T field(const YAML::Node& n, const std::string& key, const std::string& path) const {
    return get<T>(sub(n, key, path), path.empty() ? key : path + "." + key);
  }
  template <typename T>
  static const char* what() {
    if constexpr (std::is_same_v<T, std::string>) return "string";
    return "number";
  }
};

Row row(const Fields& f, const std::string& kind, const YAML::Node& n, const std::string& at,
        double sim_ms) {
  Row r;
  r.kind = kind;
  r.name = f.field<std::string>(n, "name", at);
  const YAML::Node irq = f.sub(n, "irq", at);
  r.irq = irq ? f.get<std::string>(irq, at + ".irq") : "";
  const YAML::Node h = f.sub(n, "us", at);
  const std::string hat = at + ".us";
  r.count = f.field<std::uint64_t>(h, "count", hat);
  r.mean = f.field<double>(h, "mean_us", hat);
  r.max = f.field<double>(h, "max_us", hat);
  r.total_ms = r.mean * static_cast<double>(r.count) / 1000.0;
  r.cpu = sim_ms > 0 ? 100.0 * r.total_ms / sim_ms : 0;
  const YAML::Node buckets = f.sub(h, "buckets", hat);
  for (const char* b : kBuckets)
    r.buckets.push_back(f.field<std::uint64_t>(buckets, b, hat + ".buckets"));
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
  const YAML::Node root = load_yaml_file(stats_path, "the statistics", "not a statistics file: ");
  const Fields f{stats_path};
  if (!root.IsMap())
    throw ConfigError(fmt::format("{}: not a statistics file (not a JSON object)", stats_path));
  const YAML::Node k = root["kernel"];
  if (!k || !k.IsMap() || !k["isrs"])
    throw ConfigError(fmt::format(
        "{}: no kernel section (the report needs a run of a kernel workload with --stats)",
        stats_path));
  const double sim_ms = f.field<double>(f.sub(root, "sim", ""), "t_ps", "sim") / 1e9;
  std::vector<Row> rows;
  for (const char* list : {"isrs", "dpcs"}) {
    const YAML::Node items = k[list];
    if (!items || !items.IsSequence())
      throw ConfigError(
          fmt::format("{}: field 'kernel.{}' is missing or not a list", stats_path, list));
    for (std::size_t i = 0; i < items.size(); ++i)
      rows.push_back(row(f, list[0] == 'i' ? "ISR" : "DPC", items[i],
                         fmt::format("kernel.{}[{}]", list, i), sim_ms));
  }
  struct LatencyFigures {
    std::uint64_t count;
    double mean, max;
  };
  auto latency = [&](const char* key) {
    const std::string at = std::string("kernel.") + key;
    const YAML::Node h = f.sub(k, key, "kernel");
    return LatencyFigures{f.field<std::uint64_t>(h, "count", at), f.field<double>(h, "mean_us", at),
                          f.field<double>(h, "max_us", at)};
  };
  const double clock_hz = f.field<double>(f.sub(root, "cpu0", ""), "clock_hz", "cpu0");
  const auto irql_mode = f.field<std::string>(k, "irql_mode", "kernel");
  const auto interrupts = f.field<std::uint64_t>(k, "interrupts", "kernel");
  const auto dpcs = f.field<std::uint64_t>(k, "dpcs_executed", "kernel");
  struct Lat {
    const char* label;
    const char* key;
  };
  const Lat lats[] = {{"ISR to DPC start", "isr_to_dpc_us"},
                      {"interrupt to thread running", "interrupt_to_thread_us"}};
  // Where the figures came from (runs before provenance was recorded say so).
  std::string config_file = "unknown", version = "unknown";
  if (const YAML::Node prov = root["provenance"]; prov && prov.IsMap()) {
    if (prov["config_file"] && prov["config_file"].IsScalar())
      config_file = prov["config_file"].Scalar().empty() ? "built-in default platform"
                                                         : prov["config_file"].Scalar();
    if (prov["version"] && prov["version"].IsScalar()) version = prov["version"].Scalar();
  }
  // An empty row's mean and maximum are not zero: there is none.
  auto us = [](std::uint64_t count, double v) {
    return count ? fmt::format("{:.2f}", v) : std::string("\u2014");
  };
  // Histogram bars on a log scale, so one rare long ISR still shows beside thousands of short.
  auto log_share = [](std::uint64_t n, std::uint64_t total) {
    return total ? std::log1p(static_cast<double>(n)) / std::log1p(static_cast<double>(total))
                 : 0.0;
  };
  const Row* worst = nullptr;
  for (const auto& r : rows) {
    if (r.count > 0 && (worst == nullptr || r.max > worst->max)) worst = &r;
  }

  std::printf("DPC/ISR report: %s\n", stats_path.c_str());
  std::printf("  config %s, iocosim %s\n", config_file.c_str(), version.c_str());
  std::printf("  %.3f ms simulated, CPU %.0f MHz, IRQL mode %s, %llu interrupts, %llu DPCs\n\n",
              sim_ms, clock_hz / 1e6, irql_mode.c_str(),
              static_cast<unsigned long long>(interrupts), static_cast<unsigned long long>(dpcs));
  std::printf("%-4s %-12s %4s %8s %9s %9s %9s %7s   %s\n", "kind", "name", "IRQ", "count",
              "mean us", "max us", "total ms", "CPU %",
              "histogram (us): count per bucket, and a bar per bucket on a log scale");
  std::string head;
  for (const char* b : kBuckets) head += fmt::format("{:>8}", b);
  std::printf("%70s%s\n", "", head.c_str());
  static const char* const kLevels[] = {" ",      "\u2581", "\u2582", "\u2583", "\u2584",
                                        "\u2585", "\u2586", "\u2587", "\u2588"};
  for (const auto& r : rows) {
    std::string hist, bar;
    for (auto b : r.buckets) {
      hist += fmt::format("{:>8}", b);
      // Any count at all shows at least the lowest bar.
      const double share = log_share(b, r.count);
      bar += kLevels[b == 0 ? 0 : std::max(1, static_cast<int>(share * 8 + 0.5))];
    }
    // fmt pads by displayed width ("—" is one column; printf would count its bytes).
    fmt::print("{:<4} {:<12} {:>4} {:>8} {:>9} {:>9} {:>9.3f} {:>6.2f}% {}  |{}|\n", r.kind, r.name,
               r.irq.empty() ? "\u2014" : r.irq, r.count, us(r.count, r.mean), us(r.count, r.max),
               r.total_ms, r.cpu, hist, bar);
  }
  std::printf("\nlatency                         count   mean us    max us\n");
  for (const auto& l : lats) {
    const LatencyFigures h = latency(l.key);
    fmt::print("{:<28} {:>8} {:>9} {:>9}\n", l.label, h.count, us(h.count, h.mean),
               us(h.count, h.max));
  }
  // Several processors: each one's share (kernel.processors, written for cpu.count > 1).
  struct Cpu {
    std::uint64_t n, interrupts, dpcs, ipis;
    double passive, dispatch, device, high, spin_us;
  };
  std::vector<Cpu> cpus;
  if (const YAML::Node procs = k["processors"]; procs && procs.IsSequence()) {
    for (std::size_t i = 0; i < procs.size(); ++i) {
      const std::string at = fmt::format("kernel.processors[{}]", i);
      const YAML::Node& pn = procs[i];
      const YAML::Node t = f.sub(pn, "irql_us", at);
      const std::string tat = at + ".irql_us";
      cpus.push_back({f.field<std::uint64_t>(pn, "cpu", at),
                      f.field<std::uint64_t>(pn, "interrupts", at),
                      f.field<std::uint64_t>(pn, "dpcs_executed", at),
                      f.field<std::uint64_t>(pn, "ipis_received", at),
                      f.field<double>(t, "passive", tat) + f.field<double>(t, "apc", tat),
                      f.field<double>(t, "dispatch", tat), f.field<double>(t, "device", tat),
                      f.field<double>(t, "high", tat), f.field<double>(pn, "spin_wait_us", at)});
    }
  }
  if (!cpus.empty()) {
    std::printf(
        "\nper processor  interrupts     DPCs  IPIs in   passive us  dispatch us  device us"
        "   high us  spin-wait us\n");
    for (const auto& c : cpus)
      std::printf("cpu%-11llu %10llu %8llu %8llu %12.1f %12.1f %10.1f %9.1f %13.2f\n",
                  static_cast<unsigned long long>(c.n),
                  static_cast<unsigned long long>(c.interrupts),
                  static_cast<unsigned long long>(c.dpcs), static_cast<unsigned long long>(c.ipis),
                  c.passive, c.dispatch, c.device, c.high, c.spin_us);
  }
  const std::string highest =
      worst == nullptr
          ? std::string("\u2014 (no ISR or DPC ran)")
          : fmt::format("{} {}{}, {:.2f} us", worst->kind, worst->name,
                        worst->irq.empty() ? "" : " (IRQ " + worst->irq + ")", worst->max);
  std::printf("\nhighest execution time: %s\n", highest.c_str());

  if (html_path.empty()) return kExitOk;
  std::string h = fmt::format(
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>DPC/ISR report</title>\n"
      "<style>body{{font-family:sans-serif}}table{{border-collapse:collapse}}"
      "td,th{{border:1px solid #ccc;padding:3px 6px;text-align:right}}"
      "td.n{{text-align:left}}.bar{{background:#2980b9;height:10px}}</style></head><body>\n"
      "<h1>DPC/ISR report</h1><p>{} &mdash; {:.3f} ms simulated, IRQL mode {}</p>\n"
      "<p>config <b>{}</b>, iocosim {}</p>\n"
      "<h2>Highest execution time</h2><p id=highest>{}</p>\n"
      "<h2>Execution time by driver</h2><p>Histogram bars are on a log scale (a single long "
      "execution still shows).</p><table><tr><th>kind</th><th>name</th><th>IRQ</th>"
      "<th>count</th><th>mean &micro;s</th><th>max &micro;s</th><th>total ms</th><th>CPU %</th>",
      html_escape(stats_path), sim_ms, irql_mode, html_escape(config_file), html_escape(version),
      html_escape(highest));
  for (const char* b : kBuckets) h += fmt::format("<th>{} &micro;s</th>", b);
  h += "</tr>\n";
  for (const auto& r : rows) {
    h += fmt::format(
        "<tr><td class=n>{}</td><td class=n>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td>{}</td><td>{:.3f}</td><td>{:.2f}</td>",
        r.kind, html_escape(r.name), r.irq.empty() ? "\u2014" : r.irq, r.count, us(r.count, r.mean),
        us(r.count, r.max), r.total_ms, r.cpu);
    for (auto b : r.buckets) {
      const int w = b == 0 ? 0 : std::max(2, static_cast<int>(60.0 * log_share(b, r.count)));
      h += fmt::format("<td>{}<div class=bar style=\"width:{}px\"></div></td>", b, w);
    }
    h += "</tr>\n";
  }
  h += "</table>\n<h2>Latency</h2><table><tr><th>path</th><th>count</th><th>mean &micro;s</th>"
       "<th>max &micro;s</th></tr>\n";
  for (const auto& l : lats) {
    const LatencyFigures n = latency(l.key);
    h += fmt::format("<tr><td class=n>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n", l.label,
                     n.count, us(n.count, n.mean), us(n.count, n.max));
  }
  h += "</table>\n";
  if (!cpus.empty()) {
    h += "<h2>Per processor</h2><table><tr><th>CPU</th><th>interrupts</th><th>DPCs</th>"
         "<th>IPIs in</th><th>passive &micro;s</th><th>dispatch &micro;s</th>"
         "<th>device &micro;s</th><th>high &micro;s</th><th>spin-wait &micro;s</th></tr>\n";
    for (const auto& c : cpus)
      h += fmt::format(
          "<tr><td class=n>cpu{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1f}</td>"
          "<td>{:.1f}</td><td>{:.1f}</td><td>{:.1f}</td><td>{:.2f}</td></tr>\n",
          c.n, c.interrupts, c.dpcs, c.ipis, c.passive, c.dispatch, c.device, c.high, c.spin_us);
    h += "</table>\n";
  }
  h += "</body></html>\n";
  if (const std::string err = write_file(html_path, h); !err.empty())
    throw ConfigError(fmt::format("--html {}: cannot write the report: {}", html_path, err));
  std::printf("  outputs    %s\n", html_path.c_str());
  return kExitOk;
}

}  // namespace platform
