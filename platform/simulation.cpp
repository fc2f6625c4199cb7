#include "platform/simulation.h"

#include "platform/trace.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "hw/core/sim_time.h"
#include "platform/child.h"
#include "platform/gtkw.h"
#include "util/event_log.h"
#include "util/log.h"

namespace platform {
namespace {

std::atomic<int> g_signal{0};

extern "C" void on_signal(int sig) {
  g_signal.store(sig);
  hw::request_stop();  // also seen inside a slice, by the CPU's next synchronization
}

void report_handler(const sc_core::sc_report& report, const sc_core::sc_actions& actions) {
  static util::Logger log("systemc");
  if (report.get_severity() == sc_core::SC_INFO) {
    log.debug("{}: {}", report.get_msg_type(), report.get_msg());
    return;
  }
  if (report.get_severity() == sc_core::SC_WARNING) {
    log.warn("{}: {}", report.get_msg_type(), report.get_msg());
    return;
  }
  // Errors and fatals: let SystemC's default handler throw, so callers report and exit.
  sc_core::sc_report_handler::default_handler(report, actions & ~sc_core::SC_DISPLAY);
}

// After a writer we cannot ask (SystemC's VCD) has closed its file: a regular file on a
// file system with no space left may have lost its end.
std::string check_closed_output(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return {};
  const auto space = std::filesystem::space(std::filesystem::path(path).parent_path().empty()
                                                ? std::filesystem::path(".")
                                                : std::filesystem::path(path).parent_path(),
                                            ec);
  if (!ec && space.available == 0) return "the file system is full: the file may be incomplete";
  return {};
}

// SystemC heads a VCD with the host's date; for outputs that depend only on the inputs it is
// overwritten with spaces in place (same length, so nothing else moves).
void blank_vcd_date(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return;
  std::FILE* f = std::fopen(path.c_str(), "r+b");
  if (f == nullptr) return;
  char head[256] = {};
  const std::size_t n = std::fread(head, 1, sizeof head - 1, f);
  const std::string text(head, n);
  const auto from = text.find("$date\n"), to = text.find("\n$end");
  if (from == 0 && to != std::string::npos && to > 6) {
    std::fseek(f, 6, SEEK_SET);
    std::fwrite(std::string(to - 6, ' ').data(), 1, to - 6, f);
  }
  std::fclose(f);
}

// Puts the file written at `from` at `to`: a rename beside it, else (a device, another file
// system) a copy; `from` is gone afterwards. "" or why it failed.
std::string move_output(const std::string& from, const std::string& to) {
  std::error_code ec;
  const bool device = std::filesystem::exists(to, ec) && !std::filesystem::is_regular_file(to, ec);
  if (!device && std::rename(from.c_str(), to.c_str()) == 0) return {};
  std::string why;
  {
    std::FILE* in = std::fopen(from.c_str(), "rb");
    std::FILE* out = in ? std::fopen(to.c_str(), "wb") : nullptr;
    if (in == nullptr || out == nullptr) why = std::strerror(errno);
    char buffer[1 << 16];
    while (why.empty()) {
      const std::size_t n = std::fread(buffer, 1, sizeof buffer, in);
      if (n == 0) break;
      if (std::fwrite(buffer, 1, n, out) != n) why = std::strerror(errno);
    }
    if (out != nullptr && std::fclose(out) != 0 && why.empty()) why = std::strerror(errno);
    if (in != nullptr) std::fclose(in);
  }
  std::filesystem::remove(from, ec);
  return why;
}

std::string current_date() {
  const std::time_t t = std::time(nullptr);
  char text[64] = {};
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return text;
}

}  // namespace

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool signalled() {
  return g_signal.load() != 0;
}

void install_report_handler() {
  sc_core::sc_report_handler::set_handler(report_handler);
  // Deprecation chatter about the SystemC library itself is not the user's business.
  sc_core::sc_report_handler::set_actions("/IEEE_Std_1666/deprecated", sc_core::SC_DO_NOTHING);
}

void check_time_resolution() {
  if (sc_core::sc_get_time_resolution() != sc_core::sc_time(1, sc_core::SC_PS))
    throw ConfigError("SystemC time resolution is not 1 ps");
}

Session::Session(Platform& platform, const Config& config) : platform_(platform), config_(config) {
  // Log and event times include the CPU's run-ahead offset (hw/core/sim_time.h): software
  // events, and model events during its accesses, carry the time they happen at.
  util::set_time_source([] { return hw::now_ps(); });
  // One processor's events need no ordering (and are not held and copied for it).
  if (platform.cpu_count() > 1)
    util::events().set_order_key([] { return hw::cpu::Cpu::emitting_cpu(); });
  auto output = [&](const char* key, const std::string& path, const char* what) {
    if (path.empty()) return;
    if (std::string why = prepare_output(path); !why.empty())
      throw ConfigError(fmt::format("{}: key '{}': {}: cannot write the {}: {}", config.where(key),
                                    key, path, what, why));
  };
  output("output.events", config.out_events, "event log");
  output("output.stats", config.out_stats, "statistics");
  output("output.vcd", config.out_vcd, "VCD");
  if (!config.out_events.empty() && !util::events().open(config.out_events))
    throw ConfigError(fmt::format("{}: key 'output.events': {}: cannot write the event log",
                                  config.where("output.events"), config.out_events));
  if (!config.out_vcd.empty()) {
    // SystemC writes NAME.vcd for the NAME it is given. The path given is the path written: one
    // ending in .vcd directly; any other (no suffix, another one, a device) under a temporary
    // name, moved to the path at the close (so no other file, PATH.vcd, is ever touched).
    std::error_code ec;
    const bool device = std::filesystem::exists(config.out_vcd, ec) &&
                        !std::filesystem::is_regular_file(config.out_vcd, ec);
    const bool fst = hw::VcdWriter::is_fst(config.out_vcd);
    if (fst && config.out_vcd_writer == "systemc")
      throw ConfigError(
          fmt::format("{}: key 'output.vcd_writer': SystemC's writer writes VCD only, not {} (FST)",
                      config.where("output.vcd_writer"), config.out_vcd));
    const bool direct = !device && (vcd_base(config.out_vcd) != config.out_vcd || fst);
    if (direct) {
      vcd_written_ = config.out_vcd;
    } else {
      const std::filesystem::path target(config.out_vcd);
      const std::filesystem::path dir =
          device ? std::filesystem::temp_directory_path() : target.parent_path();
      vcd_written_ = (dir / fmt::format(".{}.iocosim-{}.vcd", target.filename().string(),
                                        static_cast<long>(getpid())))
                         .string();
    }
    if (config.out_vcd_writer == "systemc") {
      vcd_ = sc_core::sc_create_vcd_trace_file(vcd_base(vcd_written_).c_str());
    } else {
      own_vcd_ = std::make_unique<hw::VcdWriter>(vcd_written_);
      if (!own_vcd_->ok())
        throw ConfigError(fmt::format("{}: key 'output.vcd': {}: cannot write the VCD",
                                      config.where("output.vcd"), config.out_vcd));
      vcd_ = own_vcd_.get();
    }
    vcd_->set_time_unit(1, sc_core::SC_PS);
    platform.trace(vcd_, config.out_vcd_groups);
  }
  if (!config.out_trace.empty()) {
    // The Perfetto trace is built from the events as they happen (no log is written for it).
    // Attached last: nothing after it can fail, so the event log never keeps a sink that an
    // unfinished constructor destroyed.
    trace_ = std::make_unique<TraceOutput>(config.out_trace);
    util::events().attach(trace_.get());
  }
}

Session::~Session() {
  close();
}

std::vector<std::string> Session::close() {
  std::vector<std::string> errors;
  if (vcd_ != nullptr) {
    if (own_vcd_) {
      if (std::string why = own_vcd_->close(); !why.empty())
        errors.push_back(
            fmt::format("output.vcd: {}: writing the VCD failed: {}", config_.out_vcd, why));
      own_vcd_.reset();
    } else {
      sc_core::sc_close_vcd_trace_file(vcd_);
    }
    vcd_ = nullptr;
    if (!config_.out_host_times) blank_vcd_date(vcd_written_);
    if (vcd_written_ != config_.out_vcd) {
      if (std::string why = move_output(vcd_written_, config_.out_vcd); !why.empty())
        errors.push_back(fmt::format("output.vcd: {}: {}", config_.out_vcd, why));
    }
    if (std::string why = check_closed_output(config_.out_vcd); !why.empty())
      errors.push_back(fmt::format("output.vcd: {}: {}", config_.out_vcd, why));
  }
  if (util::events().enabled()) {
    if (std::string why = util::events().close(); !why.empty())
      errors.push_back(fmt::format("output.events: {}: writing the event log failed: {}",
                                   config_.out_events, why));
  }
  if (trace_) {
    util::events().attach(nullptr);
    if (std::string why = trace_->finish(); !why.empty())
      errors.push_back(
          fmt::format("--trace: {}: writing the trace failed: {}", config_.out_trace, why));
    trace_.reset();
  }
  for (auto& e : platform_.close_outputs()) errors.push_back(std::move(e));
  return errors;
}

RunResult Session::run(std::uint64_t until_ps, bool progress) {
  RunResult r;

  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  auto last_report = start;
  auto signalled_at = start;
  // Slices grow while they are cheap and shrink when slow, so a signal is noticed within a
  // fraction of a second of host time whatever the simulation speed.
  std::uint64_t slice = std::min<std::uint64_t>(until_ps, 1'000'000'000);  // 1 ms
  // IOCOSIM_SLICE_PS fixes the slice (a testing aid: results must not depend on it).
  const char* fixed_slice = std::getenv("IOCOSIM_SLICE_PS");
  const std::uint64_t fixed = fixed_slice != nullptr ? std::strtoull(fixed_slice, nullptr, 10) : 0;
  if (fixed != 0) slice = fixed;
  if (g_signal.load() != 0) {
    // Ctrl-C during start-up: elaborate (so every output is well formed) and stop at once.
    r.interrupted = true;
    sc_core::sc_start(sc_core::SC_ZERO_TIME);
  }
  const bool stopped_in_start_up = r.interrupted;
  while (!stopped_in_start_up && !platform_.cpu.powered_off() && hw::now_ps() < until_ps) {
    const auto t0 = clock::now();
    std::uint64_t step = std::min(slice, until_ps - hw::now_ps());
    platform_.cpu.set_run_limit(sc_core::sc_time_stamp() + hw::from_ps(step));
    sc_core::sc_start(hw::from_ps(step));
    const double dt = std::chrono::duration<double>(clock::now() - t0).count();
    if (g_signal.load() != 0 && !r.interrupted) {
      r.interrupted = true;
      signalled_at = clock::now();
    }
    // A power-off, or the CPU stopping at a consistent point after Ctrl-C (hw::request_stop).
    if (sc_core::sc_get_status() == sc_core::SC_STOPPED) break;
    if (r.interrupted) {
      // The CPU stops itself at its next synchronization outside an interrupt handler; until
      // it does (a slice can end inside a handler) the run goes on, for a bounded host time.
      if (std::chrono::duration<double>(clock::now() - signalled_at).count() > 0.25) break;
      continue;
    }
    if (fixed == 0 && dt < 0.05 && slice < (1ull << 60))
      slice *= 2;
    else if (fixed == 0 && dt > 0.25 && slice > 1000)
      slice /= 2;
    if (progress && std::chrono::duration<double>(clock::now() - last_report).count() > 2.0) {
      last_report = clock::now();
      // The time left, at the speed so far (simulated time per host second is steady enough
      // within one run to say minutes from seconds).
      const double done = static_cast<double>(hw::now_ps()) / static_cast<double>(until_ps);
      const double elapsed = std::chrono::duration<double>(clock::now() - start).count();
      const double left = done > 0 ? elapsed / done * (1.0 - done) : 0.0;
      std::fprintf(stderr, "  ... %s of %s simulated (%.0f%%), %.1f s elapsed, about %s left\n",
                   util::format_time(hw::now_ps()).c_str(), util::format_time(until_ps).c_str(),
                   100.0 * done, elapsed,
                   left < 60 ? fmt::format("{:.0f} s", left).c_str()
                             : fmt::format("{:.0f} min {:02.0f} s", std::floor(left / 60),
                                           std::fmod(left, 60.0))
                                   .c_str());
    }
  }
  r.host_seconds = std::chrono::duration<double>(clock::now() - start).count();
  // A power-off (or bug check) from a context running ahead of the kernel happened at the
  // CPU's time, which the kernel's clock has not reached.
  r.sim_ps = platform_.cpu.powered_off() ? platform_.cpu.power_off_ps() : hw::now_ps();
  if (r.interrupted) {
    r.exit_status = kExitInterrupted;
  } else if (platform_.cpu.powered_off()) {
    r.exit_status = platform_.cpu.exit_status();
  }
  util::events().flush();
  return r;
}

void Session::write_stats(const RunResult& result,
                          const std::function<void(util::JsonWriter&)>& extra) {
  if (config_.out_stats.empty()) return;
  util::JsonWriter j(true);
  j.begin_object();
  j.begin_object("sim")
      .field("t_ps", result.sim_ps)
      .field("exit_status", result.exit_status)
      .field("interrupted", result.interrupted)
      .field("warnings", util::log_count(util::Level::warn))
      .field("errors", util::log_count(util::Level::error))
      .end_object();
  // What produced these figures: the build, the config file and overrides, and every key's
  // resolved value (so a diff of two runs names the key that differs).
  j.begin_object("provenance")
      .field("version", iocosim_version())
      .field("config_file", config_.source)
      .begin_array("sets");
  for (const auto& s : config_.sets) j.value(s);
  j.end_array().begin_object("config");
  for (const auto& k : resolved_keys(config_)) {
    // An input file beside the config is recorded as the config names it (relative to the
    // config's folder), so the record does not depend on where iocosim ran from.
    if (k.input_path && !k.value.empty() && !config_.source.empty()) {
      const auto dir = std::filesystem::absolute(config_.source).parent_path();
      j.field(
          k.path,
          std::filesystem::absolute(k.value).lexically_normal().lexically_relative(dir).string());
      continue;
    }
    j.field(k.path, k.value);
  }
  j.end_object().end_object();
  if (const ke::BugCheckRecord* b = result.bug_check) {
    j.begin_object("bugcheck")
        .field("code", static_cast<std::uint64_t>(b->code))
        .field("name", ke::bug_check_name(b->code))
        .field("p1", b->p1)
        .field("p2", b->p2)
        .field("p3", b->p3)
        .field("p4", b->p4)
        .field("cpu", b->cpu)
        .field("irql", b->irql)
        .field("t_ps", b->time_ps)
        .field("contexts", b->contexts)
        .end_object();
  }
  // Everything that depends on the host, in one object a regression diff can skip
  // (output.host_times: false leaves it out).
  if (config_.out_host_times) {
    const double cycles =
        static_cast<double>(result.sim_ps) * 1e-12 * static_cast<double>(config_.cpu.clock_hz);
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    j.begin_object("host")
        .field("name", host)
        .field("date", current_date())
        .field("seconds", result.host_seconds)
        .field("sim_cycles_per_second",
               result.host_seconds > 0 ? cycles / result.host_seconds : 0.0)
        .end_object();
  }
  platform_.write_stats(j);
  if (extra) extra(j);
  j.end_object();
  if (std::string why = write_file(config_.out_stats, j.str() + "\n"); !why.empty())
    throw ConfigError(
        fmt::format("output.stats: {}: writing the statistics failed: {}", config_.out_stats, why));
}

}  // namespace platform
