// iocosim sweep: a grid (or a list) of --set values over a base config, each point an
// `iocosim run` of its own, run here in parallel or as a Slurm array job; the points' key
// statistics collected into one table (CSV and JSON) and a chart. A point is ok only if its run
// exited 0 with whole statistics; re-running resumes, reusing only ok points of the same
// settings. docs/sweep.md.
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
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
#include "util/json.h"
#include "util/log.h"
#include "util/suggest.h"
#include "util/units.h"

namespace fs = std::filesystem;

namespace platform {
namespace {

struct Column {
  std::string name, path;  // path in the statistics: "kernel.interrupts", "devices.disk0.commands"
  int line = 0;            // where the sweep file names it (0: a default column)
};

struct Sweep {
  std::string file, name, config, output;
  std::vector<std::string> sets;
  std::vector<std::string> keys;                 // the swept keys, in order
  std::vector<std::vector<std::string>> points;  // one value per key
  std::vector<Column> columns;
  SlurmOptions slurm;  // the file's `slurm:` section
};

// Statistics every sweep tabulates unless it names its own (`collect:`).
const std::vector<Column>& default_columns() {
  static const std::vector<Column> c = {
      {"sim_time_ps", "sim.t_ps"},
      {"bus_utilization", "bus.utilization"},
      {"interrupts", "kernel.interrupts"},
      {"dpcs", "kernel.dpcs_executed"},
      {"isr_mean_us", "kernel.isr_us.mean_us"},
      {"dpc_mean_us", "kernel.dpc_us.mean_us"},
      {"int_to_thread_mean_us", "kernel.interrupt_to_thread_us.mean_us"},
  };
  return c;
}

// The first control character of `text` (newline, tab, escape, DEL...) as "\\n" or "\\x1b";
// "" if none. A sweep's text reaches command lines, file names and the Slurm script: a newline
// there splits one point's command into two lines of commands.txt.
std::string control_character(const std::string& text) {
  for (const unsigned char c : text) {
    if (c >= 0x20 && c != 0x7f) continue;
    if (c == '\n') return "\\n";
    if (c == '\t') return "\\t";
    if (c == '\r') return "\\r";
    return fmt::format("\\x{:02x}", c);
  }
  return {};
}

Sweep load_sweep(const std::string& file) {
  const YAML::Node root = load_yaml_file(file, "the sweep");
  auto fail = [&](const YAML::Node& n, const std::string& key, const std::string& why) {
    key_error(file, n, key, why);
  };
  // Every text of the sweep: a scalar with no control character in it.
  auto text = [&](const YAML::Node& n, const std::string& key) {
    if (!n.IsScalar()) fail(n, key, "expected a single value");
    const std::string t = n.Scalar();
    if (std::string c = control_character(t); !c.empty())
      fail(n, key,
           "a control character (" + c + ") in '" + t.substr(0, t.find_first_of("\n\r")) +
               "...': not allowed in a sweep");
    return t;
  };
  if (!root.IsMap()) throw ConfigError(fmt::format("{}:1: a sweep is a mapping of keys", file));
  Sweep s;
  s.file = file;
  s.name = fs::path(file).stem().string();
  const fs::path dir = fs::path(file).parent_path();
  for (const auto& item : root) {
    const std::string key = item.first.Scalar();
    const YAML::Node& v = item.second;
    if (key == "name") {
      s.name = text(v, "name");
      // The name names the results folder (traces/sweep-NAME): one folder, not a path.
      if (s.name.empty() || s.name.find('/') != std::string::npos || s.name == "." ||
          s.name == "..")
        fail(v, "name", "'" + s.name + "' is not a folder name (no '/', not empty, '.' or '..')");
    } else if (key == "config") {
      s.config = text(v, "config");
      if (!s.config.empty() && fs::path(s.config).is_relative())
        s.config = (dir / s.config).lexically_normal().string();
      if (!s.config.empty() && !fs::exists(s.config))
        fail(v, "config", s.config + ": no such file");
    } else if (key == "output") {
      s.output = text(v, "output");
    } else if (key == "set") {
      if (!v.IsSequence()) fail(v, "set", "expected a list of KEY=VALUE");
      for (const auto& e : v) s.sets.push_back(text(e, "set"));
    } else if (key == "grid") {
      if (!v.IsMap() || v.size() == 0) fail(v, "grid", "expected a mapping KEY: [values...]");
      std::vector<std::vector<std::string>> axes;
      for (const auto& axis : v) {
        if (!axis.second.IsSequence() || axis.second.size() == 0)
          fail(axis.second, "grid." + axis.first.Scalar(), "expected a list of values");
        const std::string k = text(axis.first, "grid");
        s.keys.push_back(k);
        axes.emplace_back();
        for (const auto& e : axis.second) axes.back().push_back(text(e, "grid." + k));
      }
      // Every combination, the last key varying fastest.
      s.points = {{}};
      for (const auto& axis : axes) {
        std::vector<std::vector<std::string>> next;
        for (const auto& p : s.points)
          for (const auto& value : axis) {
            next.push_back(p);
            next.back().push_back(value);
          }
        s.points = std::move(next);
      }
    } else if (key == "points") {
      if (!v.IsSequence() || v.size() == 0) fail(v, "points", "expected a list of {KEY: VALUE}");
      for (const auto& p : v)
        if (!p.IsMap()) fail(p, "points", "each point is a mapping KEY: VALUE");
      for (const auto& k : v[0]) s.keys.push_back(text(k.first, "points"));
      for (const auto& p : v) {
        std::vector<std::string> values;
        if (p.size() != s.keys.size()) fail(p, "points", "every point sets the same keys");
        for (const auto& k : s.keys) {
          if (!p[k]) fail(p, "points", "this point does not set '" + k + "'");
          values.push_back(text(p[k], "points." + k));
        }
        s.points.push_back(std::move(values));
      }
    } else if (key == "collect") {
      if (!v.IsMap()) fail(v, "collect", "expected a mapping COLUMN: statistics.path");
      for (const auto& c : v) {
        const std::string column = text(c.first, "collect");
        s.columns.push_back(
            {column, text(c.second, "collect." + column), c.second.Mark().line + 1});
      }
    } else if (key == "slurm") {
      if (!v.IsMap())
        fail(v, "slurm", "expected a mapping (partition, account, time, mem, sbatch)");
      for (const auto& o : v) {
        const std::string k = text(o.first, "slurm");
        const std::string at = "slurm." + k;
        if (k == "partition") {
          s.slurm.partition = text(o.second, at);
        } else if (k == "account") {
          s.slurm.account = text(o.second, at);
        } else if (k == "time") {
          s.slurm.time = text(o.second, at);
        } else if (k == "mem") {
          s.slurm.mem = text(o.second, at);
        } else if (k == "sbatch") {
          if (!o.second.IsSequence()) fail(o.second, at, "expected a list of sbatch options");
          for (const auto& e : o.second) s.slurm.lines.push_back(text(e, at));
        } else {
          fail(o.first, at,
               "unknown key (slurm has partition, account, time, mem, sbatch)" +
                   util::did_you_mean(k, {"partition", "account", "time", "mem", "sbatch"}));
        }
      }
      if (std::string why = check_slurm_options(s.slurm); !why.empty()) fail(v, "slurm", why);
    } else {
      fail(item.first, key,
           "unknown key (a sweep has name, config, set, grid or points, collect, slurm, output)" +
               util::did_you_mean(
                   key, {"name", "config", "set", "grid", "points", "collect", "slurm", "output"}));
    }
  }
  if (s.points.empty())
    throw ConfigError(fmt::format("{}: a sweep needs a `grid:` or a `points:` list", file));
  if (s.columns.empty()) s.columns = default_columns();
  // Every point is checked before any runs: a bad value is bad input, not a failed point. The
  // base config is read once; a stop request ends the check (a million points take a while).
  Config base = s.config.empty() ? Config{} : load_config(s.config);
  for (const auto& set : s.sets) apply_override(base, set);
  // Points run at once (and in any order): two that write one file (a disk image, a serial
  // output) would corrupt each other's results, so that is refused too. Each point's VCD,
  // event log and statistics are the sweep's own, in its folder.
  std::map<std::string, std::pair<std::size_t, std::string>> writers;  // file -> (point, key)
  for (std::size_t i = 0; i < s.points.size(); ++i) {
    if (signalled()) return s;
    const auto& p = s.points[i];
    Config c = base;
    for (std::size_t k = 0; k < s.keys.size(); ++k)
      apply_override(c, s.keys[k] + "=" + p[k],
                     fmt::format("{}: point {}={}", file, s.keys[k], p[k]));
    validate(c);
    c.out_vcd.clear();
    c.out_events.clear();
    c.out_stats.clear();
    for (const auto& f : written_files(c)) {
      std::error_code ec;
      const std::string id = fs::weakly_canonical(f.path, ec).string();
      if (f.path.rfind("/dev/", 0) == 0) continue;
      const auto [it, fresh] = writers.emplace(id, std::pair{i, f.label});
      if (!fresh && it->second.first != i)
        throw ConfigError(fmt::format(
            "{}: points {} and {} both write {} ({}): points run at once and would corrupt each "
            "other's results; give each point its own file (sweep the key), or none (`set: "
            "[{}=]`: a temporary disk image)",
            file, it->second.first, i, f.path, f.label, f.label));
    }
  }
  return s;
}

// The sets of one point, in order: the sweep's own, then the point's.
std::vector<std::string> point_sets(const Sweep& s, std::size_t i) {
  std::vector<std::string> out = s.sets;
  for (std::size_t k = 0; k < s.keys.size(); ++k) out.push_back(s.keys[k] + "=" + s.points[i][k]);
  return out;
}

std::string point_label(const Sweep& s, std::size_t i) {
  std::string out;
  for (std::size_t k = 0; k < s.keys.size(); ++k)
    out += (out.empty() ? "" : " ") + s.keys[k] + "=" + s.points[i][k];
  return out;
}

// The command that runs point `i` into `dir`.
std::vector<std::string> point_command(const Sweep& s, const CommonOptions& o, std::size_t i,
                                       const fs::path& dir) {
  std::vector<std::string> args = {self_exe(), "run"};
  if (!s.config.empty()) args.push_back(fs::absolute(s.config).string());
  for (const auto& set : point_sets(s, i)) args.insert(args.end(), {"--set", set});
  for (const auto& set : o.sets) args.insert(args.end(), {"--set", set});
  args.insert(args.end(), {"--set", "output.vcd=", "--set", "output.events=", "--stats",
                           (dir / "stats.json").string(), "--quiet"});
  return args;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// A statistics value by path ("kernel.isrs[0].count"), "" if absent. (Node::reset moves the
// handle: yaml-cpp's operator= would write into the document.)
std::string stat_at(const YAML::Node& root, const std::string& path) {
  YAML::Node n;
  n.reset(root);
  std::size_t i = 0;
  while (i < path.size() && n) {
    std::size_t end = path.find_first_of(".[", i);
    if (path[i] == '[') {
      const std::size_t close = path.find(']', i);
      if (close == std::string::npos) return {};
      const auto index = std::strtoul(path.substr(i + 1, close - i - 1).c_str(), nullptr, 10);
      if (!n.IsSequence() || index >= n.size()) return {};
      n.reset(n[index]);
      i = close + 1;
      if (i < path.size() && path[i] == '.') ++i;
      continue;
    }
    const std::string key = path.substr(i, end == std::string::npos ? std::string::npos : end - i);
    if (!n.IsMap() || !n[key]) return {};
    n.reset(n[key]);
    i = end == std::string::npos ? path.size() : (path[end] == '.' ? end + 1 : end);
  }
  return n && n.IsScalar() ? n.Scalar() : std::string{};
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string format_eta(double seconds) {
  if (seconds < 60) return fmt::format("{:.0f} s", seconds);
  return fmt::format("{:.0f} min {:02.0f} s", seconds / 60 - 0.5, std::fmod(seconds, 60.0));
}

std::string read_small(const fs::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// What a point's folder says about its run. A point is `ok` only if its run exited 0 and wrote
// whole statistics of a run that was neither interrupted nor stopped by a bug check.
struct PointResult {
  bool ok = false;
  std::string reason;  // why not
  YAML::Node stats;    // loaded when readable
};

// A Slurm task's own log, when it says Slurm ended the task ("" if not, or not a Slurm point).
std::string slurm_verdict(const fs::path& out, const fs::path& dir) {
  std::istringstream ids(read_small(dir / "slurm.txt"));
  std::string job, task;
  if (!(ids >> job >> task)) return {};
  const std::string log = read_small(out / fmt::format("slurm-{}_{}.log", job, task));
  if (log.find("DUE TO TIME LIMIT") != std::string::npos)
    return fmt::format("killed at Slurm's time limit (task {}_{})", job, task);
  if (log.find("CANCELLED") != std::string::npos)
    return fmt::format("cancelled by Slurm (task {}_{})", job, task);
  return {};
}

PointResult evaluate_point(const fs::path& out, const fs::path& dir) {
  PointResult r;
  const std::string slurm = slurm_verdict(out, dir);
  int exit_status = 0;
  std::istringstream exit_text(read_small(dir / "exit.txt"));
  const bool have_exit = static_cast<bool>(exit_text >> exit_status);
  auto failed = [&](const std::string& why) {
    r.ok = false;
    r.reason = slurm.empty() ? why : slurm + "; " + why;
    return r;
  };
  const fs::path stats = dir / "stats.json";
  if (!fs::exists(stats))
    return failed(have_exit ? fmt::format("exit {}, no statistics", exit_status)
                            : "no statistics (not run yet, still running, or killed)");
  try {
    r.stats = YAML::LoadFile(stats.string());
  } catch (const YAML::Exception&) {
    return failed("statistics unreadable (cut short?)");
  }
  const YAML::Node sim = r.stats.IsMap() ? r.stats["sim"] : YAML::Node();
  if (!sim || !sim.IsMap() || !sim["exit_status"] || !sim["t_ps"])
    return failed("statistics without a whole `sim` section");
  if (sim["interrupted"] && sim["interrupted"].Scalar() == "true")
    return failed("interrupted at " + util::format_time(sim["t_ps"].as<std::uint64_t>(0)));
  const int sim_status = sim["exit_status"].as<int>(-1);
  if (sim_status != 0) {
    const YAML::Node b = r.stats["bugcheck"];
    return failed(b && b["name"]
                      ? fmt::format("exit {} (bug check {})", sim_status, b["name"].Scalar())
                      : fmt::format("exit {}", sim_status));
  }
  if (!have_exit) return failed("no exit status recorded (the run did not end normally)");
  if (exit_status != 0) return failed(fmt::format("exit {}", exit_status));
  if (!slurm.empty()) return failed(slurm);
  r.ok = true;
  return r;
}

// Every path of a statistics document ("kernel.isr_us.mean_us", "cpus[1].interrupts") with
// whether it holds a value (else an object or a list), in stat_at()'s syntax.
void flatten_paths(const YAML::Node& n, const std::string& at, std::map<std::string, bool>& out) {
  if (n.IsMap()) {
    if (!at.empty()) out[at] = false;
    for (const auto& item : n)
      flatten_paths(item.second, at.empty() ? item.first.Scalar() : at + "." + item.first.Scalar(),
                    out);
  } else if (n.IsSequence()) {
    if (!at.empty()) out[at] = false;
    for (std::size_t i = 0; i < n.size(); ++i)
      flatten_paths(n[i], fmt::format("{}[{}]", at, i), out);
  } else {
    out[at] = true;
  }
}

// The statistics a point writes, from runs of the first and the last point cut to one
// microsecond: `collect` paths are checked against them before any point runs. Default columns
// the runs do not write are left out (a kernel-less workload has no ISR times); a named one that
// is missing or names an object is an error naming the sweep file's line, with "did you mean".
void check_columns(Sweep& s, const CommonOptions& o) {
  const fs::path dir = fs::temp_directory_path() /
                       fmt::format("iocosim-sweep-probe-{}", static_cast<long>(getpid()));
  std::error_code ec;
  fs::create_directories(dir, ec);
  std::map<std::string, bool> paths;
  std::vector<std::size_t> probes = {0};
  if (s.points.size() > 1) probes.push_back(s.points.size() - 1);
  for (std::size_t i : probes) {
    std::vector<std::string> cmd = point_command(s, o, i, dir);
    cmd.insert(cmd.end(), {"--set", "sim.until=1us"});
    fs::remove(dir / "stats.json", ec);
    run_parallel({cmd}, 1, {(dir / "log.txt").string()}, [](std::size_t, int) {});
    try {
      flatten_paths(YAML::LoadFile((dir / "stats.json").string()), "", paths);
    } catch (const YAML::Exception&) {
      // No statistics from the probe: the points will fail the same way and say why.
    }
    if (signalled()) break;
  }
  fs::remove_all(dir, ec);
  if (paths.empty()) return;
  std::vector<std::string> values;
  for (const auto& [path, is_value] : paths)
    if (is_value) values.push_back(path);
  std::vector<Column> kept;
  for (const auto& c : s.columns) {
    const auto it = paths.find(c.path);
    if (it != paths.end() && it->second) {
      kept.push_back(c);
      continue;
    }
    if (c.line == 0) continue;  // a default column this workload does not write
    std::string why;
    if (it == paths.end()) {
      why = "no such statistic in this sweep's runs" + util::did_you_mean(c.path, values);
    } else {
      std::string fields;
      int shown = 0;
      for (const auto& v : values) {
        if (v.rfind(c.path + ".", 0) != 0 && v.rfind(c.path + "[", 0) != 0) continue;
        if (shown++ == 6) {
          fields += ", ...";
          break;
        }
        fields += (fields.empty() ? "" : ", ") + v;
      }
      why = "names an object, not a value; its values: " + fields;
    }
    throw ConfigError(
        fmt::format("{}:{}: key 'collect.{}': '{}' {}", s.file, c.line, c.name, c.path, why));
  }
  s.columns = std::move(kept);
}

// How a swept key's values go into the table: as numbers in SI base units, the unit in the
// column's name, when every value of the key has one; as numbers when all are plain numbers;
// else as text.
struct Axis {
  std::string column;
  std::vector<std::optional<double>> values;  // per point; none: text
};

Axis axis_of(const Sweep& s, std::size_t k) {
  Axis a{s.keys[k], {}};
  auto all = [&](auto parse) {
    for (const auto& p : s.points)
      if (!parse(p[k])) return false;
    return true;
  };
  auto plain = [](const std::string& v) {
    char* end = nullptr;
    std::strtod(v.c_str(), &end);
    return !v.empty() && end && *end == '\0';
  };
  auto has_unit = [&](const std::string& v) { return !plain(v); };
  std::uint64_t u = 0;
  if (all(plain)) {
    for (const auto& p : s.points) a.values.push_back(std::strtod(p[k].c_str(), nullptr));
  } else if (all([&](const std::string& v) {
               return has_unit(v) && util::parse_duration_ps(v, u);
             })) {
    a.column += "_s";
    for (const auto& p : s.points) {
      util::parse_duration_ps(p[k], u);
      a.values.push_back(static_cast<double>(u) * 1e-12);
    }
  } else if (all([&](const std::string& v) {
               return has_unit(v) && util::parse_frequency_hz(v, u);
             })) {
    a.column += "_hz";
    for (const auto& p : s.points) {
      util::parse_frequency_hz(p[k], u);
      a.values.push_back(static_cast<double>(u));
    }
  } else if (all([&](const std::string& v) { return has_unit(v) && util::parse_size(v, u); })) {
    a.column += "_bytes";
    for (const auto& p : s.points) {
      util::parse_size(p[k], u);
      a.values.push_back(static_cast<double>(u));
    }
  } else {
    a.values.assign(s.points.size(), std::nullopt);
  }
  return a;
}

std::string number_text(double v) {
  return fmt::format("{}", v);
}

// The largest array a Slurm job may have (scontrol's MaxArraySize; Slurm's default 1001 when it
// cannot be read): indices run 0..MaxArraySize-1.
std::size_t max_array_size(const fs::path& out) {
  const fs::path log = out / "scontrol.txt";
  std::size_t size = 1001;
  run_parallel({{"/usr/bin/env", "scontrol", "show", "config"}}, 1, {log.string()},
               [](std::size_t, int) {});
  std::istringstream in(read_small(log));
  std::error_code ec;
  fs::remove(log, ec);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("MaxArraySize", 0) != 0) continue;
    const auto eq = line.find('=');
    if (eq == std::string::npos) break;
    const unsigned long v = std::strtoul(line.c_str() + eq + 1, nullptr, 10);
    if (v > 0) size = v;
    break;
  }
  return size;
}

}  // namespace

std::string check_slurm_options(const SlurmOptions& s) {
  for (const auto& [what, v] : {std::pair{"partition", &s.partition},
                                {"account", &s.account},
                                {"time", &s.time},
                                {"mem", &s.mem}}) {
    if (std::string c = control_character(*v); !c.empty())
      return fmt::format("{}: a control character ({})", what, c);
    if (v->rfind("-", 0) == 0) return fmt::format("{} '{}': a value, not an option", what, *v);
  }
  for (const auto& l : s.lines) {
    if (std::string c = control_character(l); !c.empty())
      return fmt::format("sbatch option: a control character ({})", c);
    std::string opt = l.rfind("#SBATCH", 0) == 0 ? util::trim(l.substr(7)) : l;
    if (opt.rfind("-", 0) != 0)
      return fmt::format("'{}' is not an sbatch option (options start with '-': --qos=low)", l);
  }
  return {};
}

int cmd_sweep(const std::string& sweep_path, const SweepOptions& so, const CommonOptions& o) {
  Sweep s = load_sweep(sweep_path);
  if (signalled()) return kExitInterrupted;
  for (const auto& set : o.sets) {
    if (std::string c = control_character(set); !c.empty())
      throw ConfigError(fmt::format("--set {}: a control character ({}): not allowed in a sweep",
                                    set.substr(0, set.find_first_of("\n\r")), c));
    Config probe;
    apply_override(probe, set);
  }
  // The command line's Slurm options over the file's.
  SlurmOptions slurm = s.slurm;
  for (const auto& [mine, given] : {std::pair{&slurm.partition, &so.slurm.partition},
                                    {&slurm.account, &so.slurm.account},
                                    {&slurm.time, &so.slurm.time},
                                    {&slurm.mem, &so.slurm.mem}})
    if (!given->empty()) *mine = *given;
  slurm.lines.insert(slurm.lines.end(), so.slurm.lines.begin(), so.slurm.lines.end());
  if (std::string why = check_slurm_options(so.slurm); !why.empty())
    throw ConfigError("--sbatch/--partition/--account/--time/--mem: " + why);
  const bool on_slurm = so.executor == "slurm";
  if (so.no_wait && !on_slurm)
    throw ConfigError("--no-wait: only with --executor slurm (a local sweep runs here)");

  const fs::path out = so.out.empty() ? (s.output.empty() ? fs::path("traces") / ("sweep-" + s.name)
                                                          : fs::path(s.output))
                                      : fs::path(so.out);
  std::error_code ec;
  fs::create_directories(out / "points", ec);
  if (ec)
    throw ConfigError(
        fmt::format("{}: cannot create the results folder: {}", out.string(), ec.message()));
  const std::size_t n = s.points.size();
  auto point_dir = [&](std::size_t i) {
    return fs::absolute(out / "points" / fmt::format("{:04}", i));
  };
  // The statistics paths to collect, checked before anything runs.
  check_columns(s, o);
  if (signalled()) return kExitInterrupted;

  // Resume: a point whose folder holds an `ok` run of the same settings is done; any other
  // (failed, interrupted, cut short, of other settings) runs again from scratch.
  std::vector<std::size_t> todo;
  for (std::size_t i = 0; i < n && !so.collect; ++i) {
    if (signalled()) return kExitInterrupted;  // before writing a million folders
    const fs::path dir = point_dir(i);
    fs::create_directories(dir, ec);
    std::string settings;
    for (const auto& set : point_sets(s, i)) settings += set + "\n";
    for (const auto& set : o.sets) settings += set + "\n";
    if (read_small(dir / "point.txt") == settings && evaluate_point(out, dir).ok) continue;
    for (const char* f : {"stats.json", "exit.txt", "slurm.txt", "log.txt"})
      fs::remove(dir / f, ec);
    if (std::string why = write_file((dir / "point.txt").string(), settings); !why.empty())
      throw ConfigError(fmt::format("{}: cannot write: {}", (dir / "point.txt").string(), why));
    todo.push_back(i);
  }
  if (!o.quiet && !so.collect)
    std::fprintf(stderr, "sweep %s: %zu points (%zu done before), %s, results in %s\n",
                 s.name.c_str(), n, n - todo.size(),
                 on_slurm ? "Slurm array job"
                          : fmt::format("{} at a time", o.jobs ? o.jobs : core_count()).c_str(),
                 out.string().c_str());

  if (so.collect) {
    // Nothing runs: the table is made of what the point folders hold now.
  } else if (!on_slurm) {
    std::vector<std::vector<std::string>> commands;
    std::vector<std::string> logs;
    for (std::size_t i : todo) {
      commands.push_back(point_command(s, o, i, point_dir(i)));
      logs.push_back((point_dir(i) / "log.txt").string());
    }
    const auto start = std::chrono::steady_clock::now();
    std::size_t finished = 0;
    const bool bar = !o.quiet;
    run_parallel(commands, o.jobs, logs, [&](std::size_t k, int rc) {
      // The run's exit status, kept with its results: a point is ok only if it was 0.
      write_file((point_dir(todo[k]) / "exit.txt").string(), fmt::format("{}\n", rc));
      ++finished;
      if (!bar) return;
      const double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const double eta =
          elapsed / static_cast<double>(finished) * static_cast<double>(todo.size() - finished);
      const int width = 30;
      const int filled = static_cast<int>(width * finished / todo.size());
      std::fprintf(
          stderr, "\r  [%s%s] %zu/%zu  %s elapsed, ETA %s%s", std::string(filled, '#').c_str(),
          std::string(width - filled, '.').c_str(), finished, todo.size(),
          format_eta(elapsed).c_str(), format_eta(eta).c_str(),
          rc == kExitOk ? "" : fmt::format("  (point {} failed: exit {})", todo[k], rc).c_str());
      if (finished == todo.size() || !isatty(STDERR_FILENO)) std::fprintf(stderr, "\n");
    });
    if (signalled()) return kExitInterrupted;
  } else if (!todo.empty()) {
    // One array task per point left to do; each runs the line of its list it is given. Arrays
    // larger than the cluster allows are split into several jobs, submitted together.
    const std::size_t chunk = std::max<std::size_t>(1, max_array_size(out));
    const fs::path script = fs::absolute(out / "sweep.sbatch");
    // Nothing of the sweep's text goes into the script or through a shell: the script only
    // picks its line of the list it is given (every argument single-quoted there, and no line
    // can hold a newline: load_sweep refuses control characters); the job's name, array, log
    // folder and Slurm options are sbatch's own arguments, passed without a shell.
    const std::string sbatch =
        "#!/bin/bash\n"
        "# iocosim sweep: one array task per point (written by iocosim sweep --executor slurm);\n"
        "# $1 is the list of the points' command lines.\n"
        "line=$(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" \"$1\")\n"
        "eval \"$line\"\n";
    if (std::string why = write_file(script.string(), sbatch); !why.empty())
      throw ConfigError(fmt::format("{}: cannot write: {}", script.string(), why));
    // A job name of letters, digits, '.', '_' and '-' (Slurm shows it in squeue's columns).
    std::string job = "iocosim-";
    for (const char c : s.name)
      job +=
          std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' ? c : '_';
    std::vector<std::vector<std::string>> submissions;
    std::vector<std::string> submit_logs;
    for (std::size_t first = 0, part = 0; first < todo.size(); first += chunk, ++part) {
      const std::size_t count = std::min(chunk, todo.size() - first);
      std::string commands;
      for (std::size_t k = first; k < first + count; ++k) {
        const fs::path dir = point_dir(todo[k]);
        // The task names itself (for its verdict: a time-limit kill is in its Slurm log),
        // runs the point and keeps the exit status with the results.
        std::string line = "echo \"$SLURM_ARRAY_JOB_ID $SLURM_ARRAY_TASK_ID\" > " +
                           shell_quote((dir / "slurm.txt").string()) + "; ";
        for (const auto& a : point_command(s, o, todo[k], dir)) line += shell_quote(a) + " ";
        line += "> " + shell_quote((dir / "log.txt").string()) + " 2>&1; echo $? > " +
                shell_quote((dir / "exit.txt").string());
        commands += line + "\n";
      }
      const fs::path list =
          fs::absolute(out / (todo.size() <= chunk ? std::string("commands.txt")
                                                   : fmt::format("commands-{}.txt", part)));
      if (std::string why = write_file(list.string(), commands); !why.empty())
        throw ConfigError(fmt::format("{}: cannot write: {}", list.string(), why));
      std::vector<std::string> args = {"/usr/bin/env", "sbatch", "--parsable"};
      // --wait: sbatch returns when every task has ended, so the results can be collected here.
      if (!so.no_wait) args.push_back("--wait");
      args.insert(
          args.end(),
          {"--job-name=" + job,
           fmt::format("--array=0-{}{}", count - 1, o.jobs ? fmt::format("%{}", o.jobs) : ""),
           "--ntasks=1", "--output=" + (fs::absolute(out) / "slurm-%A_%a.log").string()});
      if (!slurm.partition.empty()) args.push_back("--partition=" + slurm.partition);
      if (!slurm.account.empty()) args.push_back("--account=" + slurm.account);
      if (!slurm.time.empty()) args.push_back("--time=" + slurm.time);
      if (!slurm.mem.empty()) args.push_back("--mem=" + slurm.mem);
      for (const auto& l : slurm.lines)
        args.push_back(l.rfind("#SBATCH", 0) == 0 ? util::trim(l.substr(7)) : l);
      args.insert(args.end(), {script.string(), list.string()});
      submissions.push_back(std::move(args));
      submit_logs.push_back((fs::absolute(out) / fmt::format("submit-{}.txt", part)).string());
    }
    if (!o.quiet)
      std::fprintf(stderr, "  submitting %s: %zu array job%s of up to %zu tasks%s\n",
                   script.string().c_str(), submissions.size(), submissions.size() == 1 ? "" : "s",
                   chunk, so.no_wait ? "" : " (sbatch --wait)");
    std::vector<int> rcs(submissions.size(), 0);
    run_parallel(submissions, static_cast<unsigned>(submissions.size()), submit_logs,
                 [&](std::size_t k, int rc) { rcs[k] = rc; });
    if (signalled()) return kExitInterrupted;
    std::vector<std::string> ids;
    for (std::size_t k = 0; k < submissions.size(); ++k) {
      const std::string said = util::trim(read_small(submit_logs[k]));
      if (rcs[k] == 127 || rcs[k] < 0)
        throw ConfigError("--executor slurm: cannot run sbatch (is Slurm installed and on PATH?)");
      const std::string id = said.substr(0, said.find_first_of(";\n"));
      if (rcs[k] != 0 &&
          (so.no_wait || id.empty() || id.find_first_not_of("0123456789") != std::string::npos))
        throw ConfigError(fmt::format("--executor slurm: sbatch refused the job (exit {}): {}",
                                      rcs[k], util::printable(said)));
      ids.push_back(id);
    }
    if (so.no_wait) {
      std::string list;
      for (const auto& id : ids) list += (list.empty() ? "" : " ") + id;
      // Kept with the results too (with -q nothing is printed): the jobs to wait for, and how
      // to table the results once they have ended.
      const std::string jobs = (out / "jobs.txt").string();
      if (std::string why = write_file(jobs, fmt::format("{}\niocosim sweep {} --collect -o {}\n",
                                                         list, s.file, out.string()));
          !why.empty())
        throw ConfigError(fmt::format("{}: cannot write: {}", jobs, why));
      std::printf(
          "sweep %s: submitted Slurm job%s %s (%zu points) from %s; when they have ended:\n"
          "  iocosim sweep %s --collect -o %s\n",
          s.name.c_str(), ids.size() == 1 ? "" : "s", list.c_str(), todo.size(),
          out.string().c_str(), s.file.c_str(), out.string().c_str());
      return kExitOk;
    }
  }

  // The table: the swept keys (numbers in SI base units where they have units), then the
  // collected statistics, then the status and why a point failed. A failed point keeps its row,
  // with no values.
  std::vector<Axis> axes;
  for (std::size_t k = 0; k < s.keys.size(); ++k) axes.push_back(axis_of(s, k));
  util::JsonWriter j(true);
  j.begin_object().field("sweep", s.name).field("config", s.config).begin_array("sets");
  for (const auto& set : s.sets) j.value(set);
  j.end_array().begin_array("points");
  std::string csv = "point";
  for (const auto& a : axes) csv += "," + csv_field(a.column);
  for (const auto& c : s.columns) csv += "," + csv_field(c.name);
  csv += ",status,reason\n";
  std::size_t failed = 0;
  std::vector<std::vector<std::optional<double>>> values(s.columns.size());
  std::vector<PointResult> results;
  for (std::size_t i = 0; i < n; ++i) {
    PointResult r = evaluate_point(out, point_dir(i));
    if (!r.ok) ++failed;
    j.begin_object().field("point", static_cast<std::uint64_t>(i));
    j.begin_object("set");
    for (std::size_t k = 0; k < s.keys.size(); ++k) j.field(s.keys[k], s.points[i][k]);
    j.end_object().begin_object("values");
    csv += std::to_string(i);
    for (std::size_t k = 0; k < axes.size(); ++k) {
      const auto& v = axes[k].values[i];
      if (v) {
        j.field(axes[k].column, *v);
        csv += "," + number_text(*v);
      } else {
        j.field(axes[k].column, s.points[i][k]);
        csv += "," + csv_field(s.points[i][k]);
      }
    }
    j.end_object().begin_object("results");
    for (std::size_t c = 0; c < s.columns.size(); ++c) {
      const std::string v = r.ok ? stat_at(r.stats, s.columns[c].path) : std::string{};
      char* end = nullptr;
      const double d = std::strtod(v.c_str(), &end);
      if (!v.empty() && end && *end == '\0') {
        j.field(s.columns[c].name, d);
        csv += "," + number_text(d);
        values[c].push_back(d);
      } else if (v.empty()) {
        j.null_field(s.columns[c].name);  // missing: null, not ""
        csv += ",";
        values[c].push_back(std::nullopt);
      } else {
        j.field(s.columns[c].name, v);
        csv += "," + csv_field(v);
        values[c].push_back(std::nullopt);
      }
    }
    j.end_object();
    j.field("status", r.ok ? "ok" : "failed");
    if (!r.ok) j.field("reason", r.reason).field("log", (point_dir(i) / "log.txt").string());
    j.end_object();
    csv += std::string(",") + (r.ok ? "ok" : "failed") + "," + csv_field(r.reason) + "\n";
    results.push_back(std::move(r));
  }
  j.end_array().end_object();

  std::vector<SweepPanel> panels;
  for (std::size_t c = 0; c < s.columns.size(); ++c)
    panels.push_back({s.columns[c].name, s.columns[c].path, values[c]});
  const std::string svg = svg_sweep_chart("sweep " + s.name, s.keys, s.points, panels);
  for (const auto& [name, text] :
       {std::pair{"results.csv", csv}, {"results.json", j.str() + "\n"}, {"results.svg", svg}}) {
    const std::string path = (out / name).string();
    if (std::string why = write_file(path, text); !why.empty())
      throw ConfigError(fmt::format("{}: cannot write: {}", path, why));
  }
  // The table on the terminal too.
  std::printf("%s", csv.c_str());
  std::printf("sweep %s: %zu points, %zu failed; %s, results.json, results.svg in %s\n",
              s.name.c_str(), n, failed, "results.csv", out.string().c_str());
  for (std::size_t i = 0; i < n; ++i) {
    if (results[i].ok) continue;
    std::fprintf(stderr, "iocosim sweep: point %zu (%s) failed: %s; log: %s\n", i,
                 point_label(s, i).c_str(), results[i].reason.c_str(),
                 (point_dir(i) / "log.txt").string().c_str());
  }
  return failed == 0 ? kExitOk : kExitFailed;
}

}  // namespace platform
