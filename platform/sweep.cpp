// iocosim sweep: a grid (or a list) of --set values over a base config, each point an
// `iocosim run` of its own, run here in parallel or as a Slurm array job; the points' key
// statistics collected into one table (CSV and JSON) and a chart. Re-running resumes: a point
// whose statistics exist for the same settings is not run again. docs/sweep.md.
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
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

namespace fs = std::filesystem;

namespace platform {
namespace {

struct Column {
  std::string name, path;  // path in the statistics: "kernel.interrupts", "devices.disk0.commands"
};

struct Sweep {
  std::string file, name, config, output;
  std::vector<std::string> sets;
  std::vector<std::string> keys;                 // the swept keys, in order
  std::vector<std::vector<std::string>> points;  // one value per key
  std::vector<Column> columns;
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
        s.columns.push_back({column, text(c.second, "collect." + column)});
      }
    } else {
      fail(item.first, key,
           "unknown key (a sweep has name, config, set, grid or points, collect, output)");
    }
  }
  if (s.points.empty())
    throw ConfigError(fmt::format("{}: a sweep needs a `grid:` or a `points:` list", file));
  if (s.columns.empty()) s.columns = default_columns();
  // Every point is checked before any runs: a bad value is bad input, not a failed point. The
  // base config is read once; a stop request ends the check (a million points take a while).
  Config base = s.config.empty() ? Config{} : load_config(s.config);
  for (const auto& set : s.sets) apply_override(base, set);
  for (const auto& p : s.points) {
    if (signalled()) return s;
    Config c = base;
    for (std::size_t k = 0; k < s.keys.size(); ++k)
      apply_override(c, s.keys[k] + "=" + p[k],
                     fmt::format("{}: point {}={}", file, s.keys[k], p[k]));
    validate(c);
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

}  // namespace

int cmd_sweep(const std::string& sweep_path, const std::string& executor,
              const std::string& out_dir, const CommonOptions& o) {
  const Sweep s = load_sweep(sweep_path);
  if (signalled()) return kExitInterrupted;
  for (const auto& set : o.sets) {
    if (std::string c = control_character(set); !c.empty())
      throw ConfigError(fmt::format("--set {}: a control character ({}): not allowed in a sweep",
                                    set.substr(0, set.find_first_of("\n\r")), c));
    Config probe;
    apply_override(probe, set);
  }
  const fs::path out =
      out_dir.empty()
          ? (s.output.empty() ? fs::path("traces") / ("sweep-" + s.name) : fs::path(s.output))
          : fs::path(out_dir);
  std::error_code ec;
  fs::create_directories(out / "points", ec);
  if (ec)
    throw ConfigError(
        fmt::format("{}: cannot create the results folder: {}", out.string(), ec.message()));
  const std::size_t n = s.points.size();
  auto point_dir = [&](std::size_t i) {
    return fs::absolute(out / "points" / fmt::format("{:04}", i));
  };

  // Resume: a point whose folder holds statistics of the same settings is done.
  std::vector<std::size_t> todo;
  for (std::size_t i = 0; i < n; ++i) {
    if (signalled()) return kExitInterrupted;  // before writing a million folders
    const fs::path dir = point_dir(i);
    fs::create_directories(dir, ec);
    std::string settings;
    for (const auto& set : point_sets(s, i)) settings += set + "\n";
    for (const auto& set : o.sets) settings += set + "\n";
    std::string recorded;
    {
      std::ifstream in(dir / "point.txt");
      recorded.assign(std::istreambuf_iterator<char>(in), {});
    }
    if (recorded == settings && fs::exists(dir / "stats.json")) continue;
    fs::remove(dir / "stats.json", ec);
    if (std::string why = write_file((dir / "point.txt").string(), settings); !why.empty())
      throw ConfigError(fmt::format("{}: cannot write: {}", (dir / "point.txt").string(), why));
    todo.push_back(i);
  }
  if (!o.quiet)
    std::fprintf(stderr, "sweep %s: %zu points (%zu done before), %s, results in %s\n",
                 s.name.c_str(), n, n - todo.size(),
                 executor == "slurm"
                     ? "Slurm array job"
                     : fmt::format("{} at a time", o.jobs ? o.jobs : core_count()).c_str(),
                 out.string().c_str());

  std::map<std::size_t, int> status;
  if (executor == "local") {
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
      status[todo[k]] = rc;
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
    // One array task per point left to do; each runs the line of commands.txt it is given.
    std::string commands;
    for (std::size_t i : todo) {
      std::string line;
      for (const auto& a : point_command(s, o, i, point_dir(i))) line += shell_quote(a) + " ";
      line += "> " + shell_quote((point_dir(i) / "log.txt").string()) + " 2>&1";
      commands += line + "\n";
    }
    const fs::path list = fs::absolute(out / "commands.txt"),
                   script = fs::absolute(out / "sweep.sbatch");
    // Nothing of the sweep's text goes into the script or through a shell: the script only
    // picks its line of commands.txt (every argument single-quoted there, and no line can hold
    // a newline: load_sweep refuses control characters); the job's name, array and log folder
    // are sbatch's own arguments, passed without a shell.
    const std::string sbatch =
        "#!/bin/bash\n"
        "# iocosim sweep: one array task per point (written by iocosim sweep --executor slurm)\n"
        "line=$(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" " +
        shell_quote(list.string()) +
        ")\n"
        "eval \"$line\"\n";
    for (const auto& [path, text] : {std::pair{list, commands}, {script, sbatch}})
      if (std::string why = write_file(path.string(), text); !why.empty())
        throw ConfigError(fmt::format("{}: cannot write: {}", path.string(), why));
    if (!o.quiet)
      std::fprintf(stderr, "  submitting %s (sbatch --wait)\n", script.string().c_str());
    // A job name of letters, digits, '.', '_' and '-' (Slurm shows it in squeue's columns).
    std::string job = "iocosim-";
    for (const char c : s.name)
      job +=
          std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' ? c : '_';
    // --wait: sbatch returns when every task has ended, so the results can be collected here.
    const int rc = run_child(
        {"/usr/bin/env", "sbatch", "--wait", "--quiet", "--job-name=" + job,
         fmt::format("--array=0-{}{}", todo.size() - 1, o.jobs ? fmt::format("%{}", o.jobs) : ""),
         "--ntasks=1", "--output=" + (fs::absolute(out) / "slurm-%A_%a.log").string(),
         script.string()});
    if (rc == 127 || rc < 0)
      throw ConfigError("--executor slurm: cannot run sbatch (is Slurm installed and on PATH?)");
    if (signalled()) return kExitInterrupted;
    for (std::size_t i : todo)
      status[i] = fs::exists(point_dir(i) / "stats.json") ? kExitOk : kExitFailed;
  }

  // The table: the swept keys, then the collected statistics; a failed point keeps its row.
  util::JsonWriter j(true);
  j.begin_object().field("sweep", s.name).field("config", s.config).begin_array("sets");
  for (const auto& set : s.sets) j.value(set);
  j.end_array().begin_array("points");
  std::string csv = "point";
  for (const auto& k : s.keys) csv += "," + csv_field(k);
  for (const auto& c : s.columns) csv += "," + csv_field(c.name);
  csv += ",status\n";
  std::size_t failed = 0;
  std::vector<std::string> labels;
  std::vector<std::vector<double>> values(s.columns.size());
  for (std::size_t i = 0; i < n; ++i) {
    const fs::path stats = point_dir(i) / "stats.json";
    YAML::Node doc;
    bool ok = fs::exists(stats);
    if (ok) {
      try {
        doc = YAML::LoadFile(stats.string());
      } catch (const YAML::Exception&) {
        ok = false;
      }
    }
    if (!ok) ++failed;
    j.begin_object().field("point", static_cast<std::uint64_t>(i));
    j.begin_object("set");
    for (std::size_t k = 0; k < s.keys.size(); ++k) j.field(s.keys[k], s.points[i][k]);
    j.end_object().begin_object("results");
    csv += std::to_string(i);
    for (std::size_t k = 0; k < s.keys.size(); ++k) csv += "," + csv_field(s.points[i][k]);
    for (std::size_t c = 0; c < s.columns.size(); ++c) {
      const std::string v = ok ? stat_at(doc, s.columns[c].path) : std::string{};
      csv += "," + csv_field(v);
      char* end = nullptr;
      const double d = std::strtod(v.c_str(), &end);
      if (!v.empty() && end && *end == '\0') {
        j.field(s.columns[c].name, d);
        values[c].push_back(d);
      } else {
        j.field(s.columns[c].name, v);
        values[c].push_back(0);
      }
    }
    j.end_object();
    const std::string state = ok ? "ok" : "failed";
    j.field("status", state);
    if (!ok) j.field("log", (point_dir(i) / "log.txt").string());
    j.end_object();
    csv += "," + state + "\n";
    labels.push_back(point_label(s, i));
  }
  j.end_array().end_object();

  std::vector<ChartPanel> panels;
  for (std::size_t c = 0; c < s.columns.size(); ++c)
    panels.push_back({s.columns[c].name, s.columns[c].path, values[c]});
  // One panel per collected statistic, each a row: a sweep has many points. Bars are labelled
  // with the point's values (the keys are in the title).
  std::vector<std::string> short_labels;
  for (std::size_t i = 0; i < n; ++i) {
    std::string l;
    for (const auto& v : s.points[i]) l += (l.empty() ? "" : " ") + v;
    short_labels.push_back(l);
  }
  std::string keys;
  for (const auto& k : s.keys) keys += (keys.empty() ? "" : ", ") + k;
  const std::string svg =
      svg_bar_chart(fmt::format("sweep {}: {}", s.name, keys), short_labels, panels, 1);
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
    if (status.count(i) && status[i] != kExitOk && !fs::exists(point_dir(i) / "stats.json"))
      std::fprintf(stderr, "iocosim sweep: point %zu (%s) failed (exit status %d); log: %s\n", i,
                   point_label(s, i).c_str(), status[i],
                   (point_dir(i) / "log.txt").string().c_str());
  }
  return failed == 0 ? kExitOk : kExitFailed;
}

}  // namespace platform
