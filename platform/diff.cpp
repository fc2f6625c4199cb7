// iocosim diff and iocosim check: two runs compared (statistics key by key with tolerances,
// event logs event by event), and a golden folder's runs re-run and compared with what it
// recorded: the regression-suite workflow (docs/regression.md).
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "platform/chart.h"
#include "platform/child.h"
#include "platform/commands.h"
#include "platform/config.h"
#include "platform/simulation.h"
#include "platform/yaml_file.h"
#include "util/units.h"

namespace fs = std::filesystem;

namespace platform {
namespace {

// Statistics that differ between two runs of the same machine for reasons other than the
// machine: the host's figures, the build, and where the run was told to write.
bool always_ignored(const std::string& key) {
  auto under = [&](const std::string& prefix) {
    return key == prefix || key.compare(0, prefix.size() + 1, prefix + ".") == 0 ||
           key.compare(0, prefix.size() + 1, prefix + "[") == 0;
  };
  return under("host") || under("provenance.version") || under("provenance.config_file") ||
         under("provenance.sets") || under("provenance.config.output");
}

bool is_under(const std::string& key, const std::string& prefix) {
  return key == prefix ||
         (key.size() > prefix.size() && key.compare(0, prefix.size(), prefix) == 0 &&
          (key[prefix.size()] == '.' || key[prefix.size()] == '['));
}

// A JSON document as (path, scalar text) in document order: "kernel.isrs[0].count".
void flatten(const YAML::Node& n, const std::string& path,
             std::vector<std::pair<std::string, std::string>>& out) {
  if (n.IsMap()) {
    for (const auto& item : n)
      flatten(item.second, path.empty() ? item.first.Scalar() : path + "." + item.first.Scalar(),
              out);
  } else if (n.IsSequence()) {
    std::size_t i = 0;
    for (const auto& e : n) flatten(e, fmt::format("{}[{}]", path, i++), out);
    if (i == 0) out.emplace_back(path, "[]");
  } else {
    out.emplace_back(path, n.IsNull() ? "null" : n.Scalar());
  }
}

bool as_number(const std::string& text, double& out) {
  if (text.empty()) return false;
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return end != nullptr && *end == '\0';
}

struct Tolerance {
  std::string key;
  double relative = 0;
};

std::vector<Tolerance> parse_tolerances(const std::vector<std::string>& specs) {
  std::vector<Tolerance> out;
  for (const auto& s : specs) {
    const auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0)
      throw ConfigError(fmt::format("--tolerance {}: expected KEY=REL (e.g. kernel.isrs=5%)", s));
    std::string rel = s.substr(eq + 1);
    double scale = 1;
    if (!rel.empty() && rel.back() == '%') {
      rel.pop_back();
      scale = 0.01;
    }
    double v = 0;
    if (!as_number(rel, v) || v < 0)
      throw ConfigError(fmt::format("--tolerance {}: '{}' is not a relative amount (0.05 or 5%)", s,
                                    s.substr(eq + 1)));
    out.push_back({s.substr(0, eq), v * scale});
  }
  return out;
}

// The files of a run: a folder's stats.json and events.jsonl, or one file (by its extension).
struct RunFiles {
  std::string stats, events;
};

RunFiles run_files(const std::string& path) {
  RunFiles r;
  if (fs::is_directory(path)) {
    if (fs::exists(fs::path(path) / "stats.json"))
      r.stats = (fs::path(path) / "stats.json").string();
    if (fs::exists(fs::path(path) / "events.jsonl"))
      r.events = (fs::path(path) / "events.jsonl").string();
    if (r.stats.empty() && r.events.empty())
      throw ConfigError(
          fmt::format("{}: neither stats.json nor events.jsonl in this folder", path));
  } else if (fs::path(path).extension() == ".jsonl") {
    r.events = path;
  } else {
    r.stats = path;
  }
  return r;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(fmt::format("{}: cannot read", path));
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Statistics compared key by key; prints what differs; returns the number of differences.
std::size_t diff_stats(const std::string& a, const std::string& b, const DiffOptions& options,
                       const std::vector<Tolerance>& tolerances, std::FILE* out) {
  auto load = [](const std::string& path) {
    try {
      std::vector<std::pair<std::string, std::string>> flat;
      const YAML::Node root = YAML::Load(read_text(path));
      // Every statistics file is an object with a "sim" section: anything else (a word, an
      // empty object, another JSON file) would compare as "same" with its kind.
      if (!root.IsMap() || !root["sim"] || !root["sim"].IsMap())
        throw ConfigError(
            fmt::format("{}: not a statistics file (no \"sim\" section; write "
                        "one with iocosim run --stats)",
                        path));
      flatten(root, "", flat);
      return flat;
    } catch (const YAML::Exception& e) {
      throw ConfigError(
          fmt::format("{}:{}: not a statistics file: {}", path, e.mark.line + 1, e.msg));
    }
  };
  const auto fa = load(a), fb = load(b);
  std::map<std::string, std::string> mb(fb.begin(), fb.end());
  std::map<std::string, std::string> ma(fa.begin(), fa.end());
  auto ignored = [&](const std::string& key) {
    if (always_ignored(key)) return true;
    for (const auto& i : options.ignores)
      if (is_under(key, i)) return true;
    return false;
  };
  std::vector<std::string> lines;
  std::size_t within = 0, compared = 0;
  auto show = [&](const std::string& key, const std::string& text) {
    lines.push_back(fmt::format("  {:<48} {}", key, text));
  };
  for (const auto& [key, va] : fa) {
    if (ignored(key)) continue;
    ++compared;
    const auto it = mb.find(key);
    if (it == mb.end()) {
      show(key, fmt::format("{} → (absent)", va));
      continue;
    }
    const std::string& vb = it->second;
    if (va == vb) continue;
    double x = 0, y = 0;
    if (as_number(va, x) && as_number(vb, y)) {
      // The longest matching prefix decides the key's tolerance.
      const Tolerance* tol = nullptr;
      for (const auto& t : tolerances)
        if (is_under(key, t.key) && (tol == nullptr || t.key.size() > tol->key.size())) tol = &t;
      const double scale = std::max(std::fabs(x), std::fabs(y));
      if (tol != nullptr && std::fabs(x - y) <= tol->relative * scale) {
        ++within;
        continue;
      }
      // The relative change to three significant digits (+0.000865%, not +0.00%).
      const double pct = x != 0 ? 100.0 * (y - x) / std::fabs(x) : 0;
      show(key, x != 0 ? fmt::format("{} → {} ({}{}%)", va, vb, pct >= 0 ? "+" : "",
                                     readable_number(pct))
                       : fmt::format("{} → {}", va, vb));
    } else {
      show(key, fmt::format("{} → {}", va, vb));
    }
  }
  for (const auto& [key, vb] : fb)
    if (!ignored(key) && ma.count(key) == 0) show(key, fmt::format("(absent) → {}", vb));
  std::fprintf(out, "stats   %s vs %s: %s (%zu keys compared%s)\n", a.c_str(), b.c_str(),
               lines.empty() ? "same" : fmt::format("{} differ", lines.size()).c_str(), compared,
               within ? fmt::format(", {} within tolerance", within).c_str() : "");
  for (std::size_t i = 0; i < lines.size() && i < options.max_shown; ++i)
    std::fprintf(out, "%s\n", lines[i].c_str());
  if (lines.size() > options.max_shown)
    std::fprintf(out, "  ... and %zu more\n", lines.size() - options.max_shown);
  return lines.size();
}

// An event log read as a stream with a bounded look-ahead: a diff holds a window of lines,
// not the whole log (a 1 GB log took 2.5-3 GB). Each line is checked to be an event as the
// event log writes them ({"t_ps":...}): a file of something else is not an event log, and two
// such files are not "the same".
class EventStream {
 public:
  explicit EventStream(const std::string& path) : path_(path), in_(path, std::ios::binary) {
    if (!in_) throw ConfigError(fmt::format("{}: cannot read", path));
  }
  // Line `k` after the current one (0 = the current), or null past the end.
  const std::string* peek(std::size_t k) {
    while (window_.size() <= k && !done_) {
      std::string line;
      if (!std::getline(in_, line)) {
        done_ = true;
        break;
      }
      ++read_;
      if (line.size() < 2 || line.rfind("{\"t_ps\":", 0) != 0 || line.back() != '}')
        throw ConfigError(
            fmt::format("{}:{}: not an event log (each line is an event, "
                        "{{\"t_ps\":...}}; write one with iocosim run --events)",
                        path_, read_));
      window_.push_back(std::move(line));
    }
    return k < window_.size() ? &window_[k] : nullptr;
  }
  void next() {
    peek(0);
    if (!window_.empty()) {
      window_.pop_front();
      ++index_;
    }
  }
  std::size_t index() const { return index_; }  // events before the current one
  std::size_t count() {                         // all events, once the stream is at its end
    while (peek(window_.size()) != nullptr) {
    }
    return index_ + window_.size();
  }

 private:
  std::string path_;
  std::ifstream in_;
  std::deque<std::string> window_;
  std::size_t index_ = 0, read_ = 0;
  bool done_ = false;
};

// The fields of one event line that differ ("t_ps 10 → 12, level true → false").
std::string field_changes(const std::string& a, const std::string& b) {
  try {
    std::vector<std::pair<std::string, std::string>> fa, fb;
    flatten(YAML::Load(a), "", fa);
    flatten(YAML::Load(b), "", fb);
    std::map<std::string, std::string> mb(fb.begin(), fb.end());
    std::vector<std::string> parts;
    for (const auto& [k, v] : fa) {
      const auto it = mb.find(k);
      if (it == mb.end())
        parts.push_back(fmt::format("{} {} → (absent)", k, v));
      else if (it->second != v)
        parts.push_back(fmt::format("{} {} → {}", k, v, it->second));
      mb.erase(k);
    }
    for (const auto& [k, v] : mb) parts.push_back(fmt::format("{} (absent) → {}", k, v));
    return fmt::format("{}", fmt::join(parts, ", "));
  } catch (const YAML::Exception&) {
    return "not comparable field by field";
  }
}

std::string event_time(const std::string& line) {
  const auto at = line.find("\"t_ps\":");
  if (at == std::string::npos) return "?";
  return util::format_time(std::strtoull(line.c_str() + at + 7, nullptr, 10));
}

// Event logs compared event by event: the first divergence in full, then each later
// difference (re-synchronizing after inserted or removed events); returns the count.
std::size_t diff_events(const std::string& a, const std::string& b, const DiffOptions& options,
                        std::FILE* out) {
  EventStream sa(a), sb(b);
  std::vector<std::string> shown;
  std::size_t differences = 0;
  constexpr std::size_t kWindow = 64;
  for (;;) {
    const std::string* x = sa.peek(0);
    const std::string* y = sb.peek(0);
    if (x == nullptr && y == nullptr) break;
    if (x != nullptr && y != nullptr && *x == *y) {
      sa.next(), sb.next();
      continue;
    }
    ++differences;
    // An event only one side has: the other side's next event turns up a few lines on.
    std::size_t skip_a = 0, skip_b = 0;
    for (std::size_t k = 1; k <= kWindow && skip_a == 0 && skip_b == 0; ++k) {
      const std::string* xa = sa.peek(k);
      const std::string* yb = sb.peek(k);
      if (y != nullptr && xa != nullptr && *xa == *y)
        skip_a = k;
      else if (x != nullptr && yb != nullptr && *x == *yb)
        skip_b = k;
    }
    const bool only_b = x == nullptr || skip_b > 0;
    const bool only_a = !only_b && (y == nullptr || skip_a > 0);
    if (shown.size() < options.max_shown) {
      if (only_b) {
        shown.push_back(
            fmt::format("  event {} (t={}): only in B: {}", sb.index() + 1, event_time(*y), *y));
      } else if (only_a) {
        shown.push_back(
            fmt::format("  event {} (t={}): only in A: {}", sa.index() + 1, event_time(*x), *x));
      } else {
        shown.push_back(fmt::format("  event {} (t={}): {}\n    A: {}\n    B: {}", sa.index() + 1,
                                    event_time(*x), field_changes(*x, *y), *x, *y));
      }
    }
    if (only_b)
      sb.next();
    else if (only_a)
      sa.next();
    else
      sa.next(), sb.next();
  }
  std::fprintf(out, "events  %s vs %s: %s (%zu and %zu events)\n", a.c_str(), b.c_str(),
               differences ? fmt::format("{} differ", differences).c_str() : "same", sa.count(),
               sb.count());
  for (const auto& line : shown) std::fprintf(out, "%s\n", line.c_str());
  if (differences > shown.size())
    std::fprintf(out, "  ... and %zu more\n", differences - shown.size());
  return differences;
}

// Compares two runs; prints to `out`; returns the number of differences (a file one run has
// and the other lacks counts as one).
std::size_t diff_runs(const std::string& a, const std::string& b, const DiffOptions& options,
                      std::FILE* out) {
  const auto tolerances = parse_tolerances(options.tolerances);
  const RunFiles ra = run_files(a), rb = run_files(b);
  std::size_t differences = 0;
  for (const auto& [name, pa, pb] :
       {std::tuple{"statistics", ra.stats, rb.stats}, {"event log", ra.events, rb.events}}) {
    if (pa.empty() && pb.empty()) continue;
    if (pa.empty() || pb.empty()) {
      std::fprintf(out, "%s only in %s\n", name, pa.empty() ? b.c_str() : a.c_str());
      ++differences;
      continue;
    }
    differences += std::string(name) == "statistics" ? diff_stats(pa, pb, options, tolerances, out)
                                                     : diff_events(pa, pb, options, out);
  }
  return differences;
}

// golden.yaml: the runs of a golden folder.
struct GoldenRun {
  std::string name, config;  // config: resolved against the folder; "" = built in
  std::vector<std::string> sets;
};

struct Golden {
  std::vector<GoldenRun> runs;
  std::vector<std::string> tolerances, ignores;
};

Golden load_golden(const std::string& dir) {
  const std::string file = (fs::path(dir) / "golden.yaml").string();
  const YAML::Node root = load_yaml_file(file, "it (a golden folder lists its runs there)");
  auto fail = [&](const YAML::Node& n, const std::string& key, const std::string& why) {
    key_error(file, n, key, why);
  };
  Golden g;
  if (!root.IsMap()) throw ConfigError(fmt::format("{}:1: expected a mapping with 'runs'", file));
  for (const auto& item : root) {
    const std::string key = item.first.Scalar();
    if (key != "runs" && key != "tolerances" && key != "ignore")
      fail(item.first, key, "unknown key (golden.yaml has runs, tolerances and ignore)");
  }
  if (const YAML::Node t = root["tolerances"]) {
    if (!t.IsMap()) fail(t, "tolerances", "expected a mapping KEY: REL");
    for (const auto& item : t)
      g.tolerances.push_back(item.first.Scalar() + "=" + item.second.Scalar());
  }
  if (const YAML::Node t = root["ignore"]) {
    if (!t.IsSequence()) fail(t, "ignore", "expected a list of keys");
    for (const auto& item : t) g.ignores.push_back(item.Scalar());
  }
  const YAML::Node runs = root["runs"];
  if (!runs || !runs.IsSequence() || runs.size() == 0)
    throw ConfigError(
        fmt::format("{}: key 'runs': expected a list of runs, each {{name: ..., "
                    "config: ..., set: [...]}}",
                    file));
  std::size_t index = 0;
  for (const auto& r : runs) {
    const std::string at = fmt::format("runs[{}]", index++);
    if (!r.IsMap()) fail(r, at, "expected {name: ..., config: ..., set: [...]}");
    GoldenRun run;
    // A value that must be one string: a mapping or a list there (`config: {file: x}`) read as
    // "" and ran the built-in platform instead.
    auto text = [&](const YAML::Node& n, const std::string& key, const char* what) {
      if (!n.IsScalar() && !n.IsNull()) fail(n, key, std::string("expected ") + what);
      return n.IsNull() ? std::string() : n.Scalar();
    };
    for (const auto& item : r) {
      const std::string key = item.first.Scalar();
      if (key == "name") {
        run.name = text(item.second, at + ".name", "the run's name");
      } else if (key == "config") {
        run.config = text(item.second, at + ".config",
                          "a config file's path (\"\" for the built-in platform)");
        if (!run.config.empty() && fs::path(run.config).is_relative())
          run.config = (fs::path(dir) / run.config).lexically_normal().string();
        if (!run.config.empty() && !fs::exists(run.config))
          fail(item.second, at + ".config", run.config + ": no such file");
      } else if (key == "set") {
        if (!item.second.IsSequence()) fail(item.second, at + ".set", "expected a list KEY=VALUE");
        for (const auto& s : item.second) {
          const std::string set = text(s, at + ".set", "KEY=VALUE");
          if (set.find('=') == std::string::npos || set[0] == '=')
            fail(s, at + ".set", "'" + set + "': expected KEY=VALUE");
          run.sets.push_back(set);
        }
      } else {
        fail(item.first, at + "." + key, "unknown key (a run has name, config and set)");
      }
    }
    if (run.name.empty() || run.name.find('/') != std::string::npos || run.name[0] == '.' ||
        run.name.find('\0') != std::string::npos)
      fail(r, at + ".name",
           run.name.empty() ? "every run needs a name, usable as a folder name"
                            : "'" + run.name + "' is not usable as a folder name");
    for (const auto& other : g.runs)
      if (other.name == run.name) fail(r, at + ".name", "'" + run.name + "' is used twice");
    g.runs.push_back(std::move(run));
  }
  return g;
}

}  // namespace

int cmd_diff(const std::string& a, const std::string& b, const DiffOptions& d) {
  const std::size_t n = diff_runs(a, b, d, stdout);
  std::printf("iocosim diff: %s\n", n == 0 ? "same" : "different");
  return n == 0 ? kExitOk : kExitFailed;
}

int cmd_check(const std::string& dir, bool update, const CommonOptions& o, const DiffOptions& d) {
  const Golden g = load_golden(dir);
  DiffOptions options = d;
  options.tolerances.insert(options.tolerances.begin(), g.tolerances.begin(), g.tolerances.end());
  options.ignores.insert(options.ignores.end(), g.ignores.begin(), g.ignores.end());
  parse_tolerances(options.tolerances);  // bad tolerances are bad input, before any run
  for (const auto& s : o.sets) {
    Config probe;
    apply_override(probe, s);
  }
  // Each run writes into a fresh folder; with --update that folder replaces the golden one.
  const fs::path work = fs::temp_directory_path() / fmt::format("iocosim-check-{}", ::getpid());
  struct Cleanup {
    fs::path p;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(p, ec);
    }
  } cleanup{work};
  std::vector<std::vector<std::string>> commands;
  std::vector<std::string> logs;
  for (const auto& r : g.runs) {
    const fs::path out = work / r.name;
    fs::create_directories(out);
    std::vector<std::string> args = {self_exe(), "run"};
    if (!r.config.empty()) args.push_back(r.config);
    for (const auto& s : r.sets) args.insert(args.end(), {"--set", s});
    for (const auto& s : o.sets) args.insert(args.end(), {"--set", s});
    // Outputs that depend only on the machine: no host figures, no VCD.
    args.insert(args.end(), {"--set", "output.host_times=false", "--set", "output.vcd=", "--stats",
                             (out / "stats.json").string(), "--events",
                             (out / "events.jsonl").string(), "--quiet"});
    commands.push_back(std::move(args));
    logs.push_back((out / "log.txt").string());
  }
  std::size_t finished = 0, failed = 0, different = 0;
  std::vector<int> status(g.runs.size(), 0);
  run_parallel(commands, o.jobs, logs, [&](std::size_t i, int rc) {
    status[i] = rc;
    ++finished;
    if (!o.quiet)
      std::fprintf(stderr, "  ... [%zu/%zu] %s%s\n", finished, g.runs.size(),
                   g.runs[i].name.c_str(),
                   rc == kExitOk ? "" : fmt::format(" (exit status {})", rc).c_str());
  });
  if (signalled()) return kExitInterrupted;
  for (std::size_t i = 0; i < g.runs.size(); ++i) {
    const auto& r = g.runs[i];
    const fs::path out = work / r.name, golden = fs::path(dir) / r.name;
    // A run may end with a status of its own (a bug-check scenario exits 3); the golden folder
    // records it in the statistics, so only a run that wrote none has failed.
    if (!fs::exists(out / "stats.json")) {
      ++failed;
      std::printf("%-20s FAILED (exit status %d): %s\n", r.name.c_str(), status[i],
                  read_text((out / "log.txt").string()).c_str());
      continue;
    }
    std::error_code ec;
    fs::remove(out / "log.txt", ec);
    if (update) {
      fs::remove_all(golden, ec);
      fs::create_directories(golden.parent_path(), ec);
      fs::copy(out, golden, fs::copy_options::recursive, ec);
      if (ec) throw ConfigError(fmt::format("{}: cannot write: {}", golden.string(), ec.message()));
      if (!o.quiet) std::printf("%-20s written to %s\n", r.name.c_str(), golden.string().c_str());
      continue;
    }
    if (!fs::is_directory(golden)) {
      ++different;
      std::printf("%-20s no golden outputs in %s (write them with --update)\n", r.name.c_str(),
                  golden.string().c_str());
      continue;
    }
    // The listing names the golden files, so a failure reads as "this golden vs this run".
    std::string text;
    {
      char* buffer = nullptr;
      std::size_t size = 0;
      std::FILE* mem = open_memstream(&buffer, &size);
      const std::size_t n = diff_runs(golden.string(), out.string(), options, mem);
      std::fclose(mem);
      text.assign(buffer, size);
      std::free(buffer);
      if (n != 0) ++different;
      // -q: only what is wrong (a run that differs, with its differences).
      if (n != 0 || !o.quiet)
        std::printf("%-20s %s\n", r.name.c_str(), n == 0 ? "same" : "DIFFERENT");
      if (n != 0) std::printf("%s", text.c_str());
    }
  }
  if (!o.quiet || different + failed != 0 || (update && failed != 0))
    std::printf("iocosim check: %zu runs, %zu same, %zu different, %zu failed%s\n", g.runs.size(),
                g.runs.size() - different - failed, different, failed, update ? " (updated)" : "");
  if (update) return failed ? kExitFailed : kExitOk;
  return different + failed == 0 ? kExitOk : kExitFailed;
}

}  // namespace platform
