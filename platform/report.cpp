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

#include "platform/chart.h"
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
  std::string kind, name, irq, driver;
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
  if (const YAML::Node d = n["driver"]; d && d.IsScalar()) r.driver = d.Scalar();
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

// Microsoft's guidance ("Example 15: Measuring DPC/ISR Time", Windows driver docs): a DPC
// should not run longer than 100 microseconds and an ISR no longer than 25.
constexpr double kIsrLimitUs = 25, kDpcLimitUs = 100;
double limit_of(const Row& r) {
  return r.kind == "ISR" ? kIsrLimitUs : kDpcLimitUs;
}
std::string who(const Row& r) {
  return r.kind + " " + r.name + (r.driver.empty() ? "" : " (" + r.driver + ")");
}

// The highest execution of each routine against its limit, as horizontal bars on a µs axis
// with the limits dashed.
std::string svg_highest(const std::vector<Row>& rows) {
  std::vector<const Row*> ran;
  for (const auto& r : rows)
    if (r.count > 0) ran.push_back(&r);
  if (ran.empty()) return {};
  double max = kDpcLimitUs;
  std::size_t label = 10;
  for (const Row* r : ran) {
    max = std::max(max, r->max);
    label = std::max(label, who(*r).size());
  }
  const double step = nice_step(max);
  const double top = std::ceil(max / step) * step;
  const int left = static_cast<int>(label) * 7 + 20, plot = 560, bar_h = 18, gap = 6;
  const int height = 40 + static_cast<int>(ran.size()) * (bar_h + gap) + 50;
  auto x_of = [&](double v) { return left + static_cast<int>(v / top * plot); };
  std::string s = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" "
      "font-family=\"sans-serif\" font-size=\"12\" id=highest-chart>\n",
      left + plot + 40, height);
  const int y_axis = height - 40;
  for (double v = 0; v <= top * 1.0001; v += step) {
    const int x = x_of(v);
    s += fmt::format(
        "<line x1=\"{0}\" y1=\"30\" x2=\"{0}\" y2=\"{1}\" stroke=\"#ddd\"/>"
        "<text x=\"{0}\" y=\"{2}\" text-anchor=\"middle\">{3}</text>\n",
        x, y_axis, y_axis + 16, readable_number(v));
  }
  s += fmt::format(
      "<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"black\"/>"
      "<text x=\"{3}\" y=\"{4}\" text-anchor=\"middle\">highest execution time (&#181;s)</text>\n",
      left, y_axis, left + plot, left + plot / 2, y_axis + 34);
  for (std::size_t i = 0; i < ran.size(); ++i) {
    const Row& r = *ran[i];
    const int y = 30 + static_cast<int>(i) * (bar_h + gap);
    const bool over = r.max > limit_of(r);
    s += fmt::format(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>"
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{}: {:.2f} &#181;s "
        "(limit {} &#181;s)</title></rect>"
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#c0392b\" stroke-width=\"2\" "
        "stroke-dasharray=\"4,2\"/><text x=\"{}\" y=\"{}\">{:.2f}</text>\n",
        left - 6, y + 13, html_escape(who(r)), left, y, std::max(1, x_of(r.max) - left), bar_h,
        over ? "#c0392b" : (r.kind == "ISR" ? "#e67e22" : "#2980b9"), html_escape(who(r)), r.max,
        limit_of(r), x_of(limit_of(r)), y - 2, x_of(limit_of(r)), y + bar_h + 2, x_of(r.max) + 4,
        y + 13, r.max);
  }
  s += "</svg>\n";
  return s;
}

// The WPA view: per processor, the share of each bucket of time spent in ISRs and in DPCs,
// stacked, against simulated time.
std::string svg_timeline(const YAML::Node& timeline) {
  if (!timeline || !timeline.IsMap() || !timeline["cpus"] || !timeline["cpus"].IsSequence())
    return {};
  const double bucket_us = timeline["bucket_us"].as<double>(0);
  const YAML::Node cpus = timeline["cpus"];
  if (bucket_us <= 0 || cpus.size() == 0) return {};
  const std::size_t n = cpus[0]["isr_us"] ? cpus[0]["isr_us"].size() : 0;
  if (n == 0) return {};
  const int left = 60, plot_w = 760, plot_h = 110, gap = 46;
  const int height = 40 + static_cast<int>(cpus.size()) * (plot_h + gap) + 30;
  const double total_ms = bucket_us * static_cast<double>(n) / 1000.0;
  const double step = nice_step(total_ms);
  std::string s = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" "
      "font-family=\"sans-serif\" font-size=\"12\" id=timeline-chart>\n"
      "<rect x=\"{}\" y=\"6\" width=\"12\" height=\"12\" fill=\"#e67e22\"/><text x=\"{}\" "
      "y=\"16\">ISR</text><rect x=\"{}\" y=\"6\" width=\"12\" height=\"12\" fill=\"#2980b9\"/>"
      "<text x=\"{}\" y=\"16\">DPC</text><text x=\"{}\" y=\"16\" fill=\"#555\">share of each "
      "{} &#181;s of simulated time</text>\n",
      left + plot_w + 20, height, left, left + 16, left + 60, left + 76, left + 130,
      readable_number(bucket_us));
  for (std::size_t c = 0; c < cpus.size(); ++c) {
    const int top = 44 + static_cast<int>(c) * (plot_h + gap);
    const YAML::Node isr = cpus[c]["isr_us"], dpc = cpus[c]["dpc_us"];
    auto y_of = [&](double share) { return top + plot_h - static_cast<int>(share * plot_h); };
    s += fmt::format(
        "<text x=\"{}\" y=\"{}\" font-weight=\"bold\">cpu{}</text><text x=\"4\" y=\"{}\" "
        "fill=\"#555\" transform=\"rotate(-90 12 {})\">% of CPU</text>\n",
        left, top - 6, c, top + plot_h / 2 + 20, top + plot_h / 2 + 20);
    for (int pct = 0; pct <= 100; pct += 50)
      s += fmt::format(
          "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#ddd\"/><text x=\"{}\" "
          "y=\"{}\" text-anchor=\"end\">{}%</text>\n",
          left, y_of(pct / 100.0), left + plot_w, y_of(pct / 100.0), left - 4,
          y_of(pct / 100.0) + 4, pct);
    // Stacked: ISR from 0, DPC on top of it; each bucket a column.
    const double w = static_cast<double>(plot_w) / static_cast<double>(n);
    for (std::size_t b = 0; b < n; ++b) {
      const double i_share =
          std::min(1.0, (isr && b < isr.size() ? isr[b].as<double>(0) : 0) / bucket_us);
      const double d_share =
          std::min(1.0 - i_share, (dpc && b < dpc.size() ? dpc[b].as<double>(0) : 0) / bucket_us);
      const int x = left + static_cast<int>(static_cast<double>(b) * w);
      const int bw = std::max(1, static_cast<int>(w + 0.999));
      if (i_share > 0)
        s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#e67e22\"/>", x,
                         y_of(i_share), bw, top + plot_h - y_of(i_share));
      if (d_share > 0)
        s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#2980b9\"/>", x,
                         y_of(i_share + d_share), bw, y_of(i_share) - y_of(i_share + d_share));
    }
    s += fmt::format(
        "\n<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"black\"/>"
        "<line x1=\"{0}\" y1=\"{3}\" x2=\"{0}\" y2=\"{1}\" stroke=\"black\"/>\n",
        left, top + plot_h, left + plot_w, top);
    for (double t = 0; t <= total_ms * 1.0001; t += step) {
      const int x = left + static_cast<int>(t / total_ms * plot_w);
      s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>", x,
                       top + plot_h + 14, readable_number(t));
    }
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">simulated time (ms)</text>\n",
                     left + plot_w / 2, top + plot_h + 30);
  }
  s += "</svg>\n";
  return s;
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

  // LatencyMon's verdict: every routine's highest execution against Microsoft's limits.
  std::vector<const Row*> offenders;
  for (const auto& r : rows)
    if (r.count > 0 && r.max > limit_of(r)) offenders.push_back(&r);
  std::sort(offenders.begin(), offenders.end(), [](const Row* a, const Row* b) {
    return a->max / limit_of(*a) > b->max / limit_of(*b);
  });
  std::string verdict;
  if (offenders.empty()) {
    verdict = fmt::format(
        "OK: no ISR ran longer than {} us and no DPC longer than {} us (Microsoft's guidance, "
        "\"Example 15: Measuring DPC/ISR Time\")",
        readable_number(kIsrLimitUs), readable_number(kDpcLimitUs));
  } else {
    const Row& o = *offenders.front();
    verdict = fmt::format(
        "PROBLEM: {} ran {:.2f} us, over the {} us {}s should not exceed (Microsoft's guidance, "
        "\"Example 15: Measuring DPC/ISR Time\"){}",
        who(o), o.max, readable_number(limit_of(o)), o.kind,
        offenders.size() > 1 ? fmt::format("; {} more over their limit", offenders.size() - 1)
                             : std::string());
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
  std::printf("verdict: %s\n", verdict.c_str());
  for (const Row* o : offenders)
    std::printf("  over the limit: %s %.2f us (limit %s us)\n", who(*o).c_str(), o->max,
                readable_number(limit_of(*o)).c_str());

  if (html_path.empty()) return kExitOk;
  std::string h = fmt::format(
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>DPC/ISR report</title>\n"
      "<style>body{{font-family:sans-serif}}table{{border-collapse:collapse}}"
      "td,th{{border:1px solid #ccc;padding:3px 6px;text-align:right}}"
      "td.n{{text-align:left}}.bar{{background:#2980b9;height:10px}}"
      ".ok{{color:#1e8449;font-weight:bold}}.problem{{color:#c0392b;font-weight:bold}}"
      "</style></head><body>\n"
      "<h1>DPC/ISR report</h1><p>{} &mdash; {:.3f} ms simulated, IRQL mode {}</p>\n"
      "<p>config <b>{}</b>, iocosim {}</p>\n"
      "<h2>Verdict</h2><p id=verdict class={}>{}</p>{}\n"
      "<h2>Highest execution time</h2><p id=highest>{}</p>\n{}"
      "<h2>Timeline</h2><p>Each processor's time in ISRs and DPCs over the run (the WPA "
      "view).</p>\n{}"
      "<h2>Execution time by driver</h2><p>Histogram bars are on a log scale (a single long "
      "execution still shows).</p><table><tr><th>kind</th><th>name</th><th>IRQ</th>"
      "<th>count</th><th>mean &micro;s</th><th>max &micro;s</th><th>total ms</th><th>CPU %</th>",
      html_escape(stats_path), sim_ms, irql_mode, html_escape(config_file), html_escape(version),
      offenders.empty() ? "ok" : "problem", html_escape(verdict),
      [&] {
        std::string list;
        for (const Row* o : offenders)
          list += fmt::format("<li>{}: {:.2f} &#181;s, limit {} &#181;s</li>", html_escape(who(*o)),
                              o->max, readable_number(limit_of(*o)));
        return list.empty() ? list : "<ul id=offenders>" + list + "</ul>";
      }(),
      html_escape(highest), svg_highest(rows), svg_timeline(k["timeline"]));
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
