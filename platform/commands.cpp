#include "platform/commands.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "hw/core/sim_time.h"
#include "platform/child.h"
#include "platform/config.h"
#include "platform/gtkw.h"
#include "platform/platform.h"
#include "platform/script.h"
#include "platform/simulation.h"
#include "platform/workloads.h"
#include "util/event_log.h"
#include "util/log.h"
#include "util/units.h"

namespace platform {

Config build_config(const CommonOptions& o) {
  Config c = o.config.empty() ? Config{} : load_config(o.config);
  c.source = o.config;
  for (const auto& s : o.sets) {
    apply_override(c, s);
    c.sets.push_back(s);
  }
  // Command-line options are overrides of their keys, so they validate the same way (and
  // errors quote the option as typed).
  auto option = [&](const std::string& value, const char* key, const char* flag) {
    if (value.empty()) return;
    apply_override(c, std::string(key) + "=" + value, fmt::format("{} {}", flag, value));
    c.sets.push_back(std::string(key) + "=" + value);
  };
  option(o.until, "sim.until", "--until");
  option(o.vcd, "output.vcd", "--vcd");
  option(o.events, "output.events", "--events");
  option(o.stats, "output.stats", "--stats");
  option(o.log_level, "sim.log_level", "--log-level");
  c.out_trace = o.trace;
  validate(c);
  util::Level level = util::Level::warn;
  util::parse_level(c.sim_log_level, level);
  // -q: nothing but errors (a level asked for by --log-level stands). Printing only: the
  // statistics count warnings whatever is printed, and the config keeps its key.
  if (o.quiet && o.log_level.empty() && level < util::Level::error) level = util::Level::error;
  util::set_log_level(level);
  install_report_handler();
  check_time_resolution();
  return c;
}

// cmd_run without --trace.
int run_platform(const CommonOptions& o);

namespace {

std::string outputs_line(const Config& c) {
  std::string s;
  for (const auto* p : {&c.out_vcd, &c.out_events, &c.out_stats, &c.out_trace}) {
    if (!p->empty()) s += (s.empty() ? "" : ", ") + *p;
    std::error_code ec;
    if (p == &c.out_vcd && !p->empty() && std::filesystem::is_regular_file(*p, ec))  // its view
      s += ", " + vcd_base(*p) + ".gtkw";
  }
  return s.empty() ? "none" : s;
}

void print_summary(const char* what, const std::string& source, const Platform& p,
                   const RunResult& r, const Workload& workload) {
  std::printf("iocosim %s: %s\n", what, source.c_str());
  std::printf("  simulated  %s in %.3f s host", util::format_time(r.sim_ps).c_str(),
              r.host_seconds);
  if (r.host_seconds > 0)
    std::printf(" (%.0f simulated CPU cycles per host second)",
                static_cast<double>(r.sim_ps) * 1e-12 * static_cast<double>(p.cpu.clock_hz()) /
                    r.host_seconds);
  std::printf("%s\n", r.interrupted ? "  [interrupted]" : "");
  if (const ke::BugCheckRecord* b = r.bug_check)
    std::printf("  bugcheck   %#010x %s (%#llx, %#llx, %#llx, %#llx) on cpu%u at IRQL %u, %s\n",
                b->code, ke::bug_check_name(b->code), static_cast<unsigned long long>(b->p1),
                static_cast<unsigned long long>(b->p2), static_cast<unsigned long long>(b->p3),
                static_cast<unsigned long long>(b->p4), b->cpu, b->irql,
                util::format_time(b->time_ps).c_str());
  for (unsigned i = 0; i < p.cpu_count(); ++i) {
    const auto c = p.cpu_at(i).stats();
    std::printf(
        "  %-10s %llu interrupts, %llu bus errors, halted %.1f%% of the time",
        fmt::format("cpu{}", i).c_str(), static_cast<unsigned long long>(c.interrupts),
        static_cast<unsigned long long>(c.bus_errors),
        r.sim_ps ? 100.0 * static_cast<double>(c.halted_ps) / static_cast<double>(r.sim_ps) : 0.0);
    if (p.apic()) {
      const auto& l = p.lapics[i]->stats();
      std::printf("; local APIC %llu TPR writes, %llu EOIs, %llu IPIs sent",
                  static_cast<unsigned long long>(l.tpr_writes),
                  static_cast<unsigned long long>(l.eois),
                  static_cast<unsigned long long>(l.ipis_sent));
    }
    std::printf("\n");
  }
  std::fflush(stdout);
  workload.print_summary(stdout);
  if (p.apic()) {
    const auto& io = p.ioapic->stats();
    std::printf("  ioapic     %llu interrupt messages, %llu EOI broadcasts, %llu lost edges\n",
                static_cast<unsigned long long>(io.messages),
                static_cast<unsigned long long>(io.eois),
                static_cast<unsigned long long>(io.lost_edges));
  }
  for (bool slave : {false, true}) {
    const auto s = p.intc->stats(slave);
    std::printf(
        "  %-10s %llu acknowledged, %llu spurious, %llu EOIs, %llu register accesses (%s)\n",
        slave ? "pic_slave" : "pic_master", static_cast<unsigned long long>(s.acknowledges),
        static_cast<unsigned long long>(s.spurious), static_cast<unsigned long long>(s.eois),
        static_cast<unsigned long long>(s.reads + s.writes), p.intc->model_name());
  }
  for (unsigned i = 0; i < p.bus.master_stats().size(); ++i) {
    const auto& m = p.bus.master_stats()[i];
    std::printf("  bus        %s: %llu transactions, %llu bus cycles; %llu unmapped accesses\n",
                m.name.c_str(), static_cast<unsigned long long>(m.transactions),
                static_cast<unsigned long long>(p.bus.master_cycles(i)),
                static_cast<unsigned long long>(p.bus.unmapped_accesses()));
  }
  std::uint64_t dma_bytes = 0, dma_done = 0, dma_errors = 0;
  for (unsigned i = 0; i < p.dma.channels(); ++i) {
    dma_bytes += p.dma.stats(i).bytes;
    dma_done += p.dma.stats(i).completed;
    dma_errors += p.dma.stats(i).errors;
  }
  std::printf("  dma        %llu bytes, %llu transfers, %llu errors\n",
              static_cast<unsigned long long>(dma_bytes), static_cast<unsigned long long>(dma_done),
              static_cast<unsigned long long>(dma_errors));
  for (const auto& d : p.devices) {
    const std::string line = d->summary();
    if (!line.empty())
      std::printf("  %-10s %s: %s\n", d->name().c_str(), d->instance().type.c_str(), line.c_str());
  }
  std::printf("  outputs    %s\n", outputs_line(p.config()).c_str());
  std::fflush(stdout);
}

// Writes the statistics and closes every output, checking each write: what was lost is printed
// (naming the key and the file) and returned.
std::vector<std::string> finish(Session& s, const RunResult& r,
                                const std::function<void(util::JsonWriter&)>& extra) {
  std::vector<std::string> lost;
  try {
    s.write_stats(r, extra);
  } catch (const ConfigError& e) {
    lost.emplace_back(e.what());
  }
  for (auto& e : s.close()) lost.push_back(std::move(e));
  for (const auto& e : lost) std::fprintf(stderr, "iocosim: error: %s\n", e.c_str());
  return lost;
}

// A run's exit status: the simulation's own (interrupted, bug check, power-off status) first;
// then lost output (2: an output file could not be written); then an unhealthy workload (1).
int exit_status(const RunResult& r, const std::vector<std::string>& lost, bool healthy) {
  if (r.exit_status != kExitOk) return r.exit_status;
  if (signalled()) return kExitInterrupted;  // Ctrl-C while the outputs were being written
  if (!lost.empty()) return kExitBadInput;
  return healthy ? kExitOk : kExitFailed;
}

}  // namespace

int cmd_config(const CommonOptions& o) {
  const Config c = build_config(o);
  std::fputs(resolved_yaml(c).c_str(), stdout);
  return kExitOk;
}

int cmd_run(const CommonOptions& given) {
  CommonOptions o = given;
  // --outdir: every output in one folder under fixed names (gem5's m5out), each unless its own
  // option names it; the resolved config beside them says how the run was made.
  std::string outdir_config;
  if (!o.outdir.empty()) {
    const std::filesystem::path dir(o.outdir);
    std::error_code ec;
    if (std::filesystem::exists(dir, ec) && !std::filesystem::is_directory(dir, ec))
      throw ConfigError(fmt::format("--outdir {}: not a folder", o.outdir));
    auto in_dir = [&](std::string& option, const char* name) {
      if (option.empty()) option = (dir / name).string();
    };
    in_dir(o.vcd, "run.vcd");
    in_dir(o.events, "events.jsonl");
    in_dir(o.stats, "stats.json");
    in_dir(o.trace, "trace.json");
    outdir_config = (dir / "config.yaml").string();
    const Config probe = build_config(o);
    check_files({FileRole{"--outdir's config.yaml", outdir_config, "", true, false},
                 FileRole{"output.vcd", probe.out_vcd, "", true, false},
                 FileRole{"output.events", probe.out_events, "", true, false},
                 FileRole{"output.stats", probe.out_stats, "", true, false},
                 FileRole{"--trace", o.trace, "", true, false},
                 FileRole{"the config file", probe.source, "", false, false}});
    if (std::string why = write_file(outdir_config, resolved_yaml(probe)); !why.empty())
      throw ConfigError(
          fmt::format("--outdir {}: cannot write {}: {}", o.outdir, outdir_config, why));
  }
  if (!o.trace.empty()) {
    // The config first: it checks the trace against every input and output before the trace
    // file is touched. The run's session builds the trace from its events as they happen.
    build_config(o);
    if (std::string why = prepare_output(o.trace); !why.empty())
      throw ConfigError(fmt::format("--trace {}: cannot write the trace: {}", o.trace, why));
  }
  return run_platform(o);
}

int run_platform(const CommonOptions& o) {
  Config c = build_config(o);
  Platform p("platform", c);
  std::unique_ptr<Workload> workload = Workload::create(p, c);
  Session s(p, c);
  RunResult r = s.run(c.sim_until_ps, !o.quiet && isatty(STDERR_FILENO));
  r.bug_check = workload->bug_check();
  std::vector<std::string> lost =
      finish(s, r, [&](util::JsonWriter& j) { workload->write_stats(j); });
  std::error_code ec;
  if (!c.out_vcd.empty() && lost.empty() && std::filesystem::is_regular_file(c.out_vcd, ec)) {
    // The GTKWave view of this VCD, made from it (so it always matches the machine; a VCD sent
    // to a device such as /dev/null has none).
    GtkwNames names;
    names.title = o.config.empty() ? "built-in default platform" : o.config;
    names.irqs = p.used_irqs();
    names.timer_irq = c.timer_irq;
    names.irqls = workload->irql_names();
    names.threads = workload->thread_names();
    names.routines = workload->routine_names();
    for (const auto& d : p.devices)
      for (const auto& [signal, describe] : d->value_names())
        names.device_values[d->name() + "." + signal] = describe;
    if (std::string why = write_gtkw(c.out_vcd, names); !why.empty()) {
      std::fprintf(stderr, "iocosim: error: output.vcd: the GTKWave save file: %s\n", why.c_str());
      lost.push_back(why);
    }
  }
  if (!o.quiet)
    print_summary("run", o.config.empty() ? "built-in default platform" : o.config, p, r,
                  *workload);
  return exit_status(r, lost, workload->healthy());
}

int cmd_script(const CommonOptions& o, const std::string& script_path) {
  Script script = parse_script(script_path);
  CommonOptions opts = o;
  // A script runs until its last line unless told otherwise.
  if (opts.until.empty()) opts.sets.insert(opts.sets.begin(), "sim.until=1000s");
  // The script is the software: no workload runs (nor is checked against the platform).
  opts.sets.insert(opts.sets.begin(), "workload.kind=none");
  Config c = build_config(opts);
  Platform p("platform", c, /*external_irqs=*/true);
  ScriptRunner runner(p, script);
  runner.check();
  p.cpu.boot([&] { runner.run(); });
  Session s(p, c);
  RunResult r = s.run(c.sim_until_ps, false);
  const std::vector<std::string> lost = finish(s, r, [&](util::JsonWriter& j) {
    j.begin_object("script")
        .field("file", script.file)
        .field("commands", runner.executed())
        .field("checks", runner.checks())
        .field("failures", runner.failures())
        .end_object();
  });
  const bool complete = runner.executed() == static_cast<int>(script.commands.size());
  if (!o.quiet)
    std::printf("script %s: %d of %zu commands run, %d checks, %d failed%s\n", script.file.c_str(),
                runner.executed(), script.commands.size(), runner.checks(), runner.failures(),
                r.interrupted ? " [interrupted]" : (complete ? "" : " [stopped early: sim.until]"));
  if (r.interrupted || signalled()) return kExitInterrupted;
  if (!lost.empty()) return kExitBadInput;
  if (runner.failures() > 0 || !complete || r.exit_status != kExitOk) return kExitFailed;
  return kExitOk;
}

int cmd_bench(const CommonOptions& o, const std::string& what, const std::string& sim_time,
              bool json) {
  CommonOptions opts = o;
  opts.until = sim_time;
  // idle: the pre-kernel machine, halted between timer ticks. interrupt: a thread computing
  // while its device interrupts it every 10 us; each interrupt takes the whole path (line, PIC,
  // INTA, ISR, EOI, DPC) and returns to the thread.
  if (what == "idle") {
    opts.sets.insert(opts.sets.begin(), "workload.kind=idle");
  } else {
    opts.sets.insert(opts.sets.begin(), "workload.device_loop.period=10us");
    opts.sets.insert(opts.sets.begin(), "workload.kind=device-loop");
  }
  opts.sets.insert(opts.sets.begin(), "output.vcd=");
  Config c = build_config(opts);
  Platform p("platform", c);
  std::unique_ptr<Workload> workload = Workload::create(p, c);
  Session s(p, c);
  RunResult r = s.run(c.sim_until_ps, false);
  s.close();
  // Every processor's interrupts and cycles (with hal: apic and cpu.count N: the IPIs too).
  std::uint64_t interrupts = 0;
  for (unsigned i = 0; i < p.cpu_count(); ++i) interrupts += p.cpu_at(i).stats().interrupts;
  const auto device = workload->device_interrupts();
  const double cycles = static_cast<double>(r.sim_ps) * 1e-12 *
                        static_cast<double>(c.cpu.clock_hz) * static_cast<double>(p.cpu_count());
  const double ns_per_interrupt =
      interrupts ? r.host_seconds * 1e9 / static_cast<double>(interrupts) : 0.0;
  const double ns_per_device = device ? r.host_seconds * 1e9 / static_cast<double>(device) : 0.0;
  const double cycles_per_second = r.host_seconds > 0 ? cycles / r.host_seconds : 0.0;
  if (json) {
    util::JsonWriter j(true);
    j.begin_object()
        .field("benchmark", what)
        .field("sim_ps", r.sim_ps)
        .field("host_seconds", r.host_seconds)
        .field("interrupts", interrupts)
        .field("device_interrupts", device)
        .field("host_ns_per_interrupt", ns_per_interrupt)
        .field("host_ns_per_device_interrupt", ns_per_device)
        .field("sim_cpu_cycles_per_host_second", cycles_per_second)
        .field("quantum_ps", c.cpu.quantum_ps)
        .field("hal", c.hal)
        .field("cpus", p.cpu_count())
        .end_object();
    std::printf("%s\n", j.str().c_str());
  } else {
    std::printf("%s benchmark: %s simulated, timer %s, quantum %s, IRQL %s, %s HAL, %u CPU%s\n",
                what.c_str(), util::format_time(r.sim_ps).c_str(),
                util::format_hz(c.workload_tick_hz).c_str(),
                util::format_time(c.cpu.quantum_ps).c_str(), c.kernel_irql_mode.c_str(),
                c.hal == "apic" ? "APIC" : "PIC", p.cpu_count(), p.cpu_count() == 1 ? "" : "s");
    std::printf("  host time                      %.3f s\n", r.host_seconds);
    std::printf("  interrupts (all)               %llu, %.0f ns host each\n",
                static_cast<unsigned long long>(interrupts), ns_per_interrupt);
    if (device)
      std::printf(
          "  device interrupts (full path)  %llu, %.0f ns host each (all work of the run "
          "included)\n",
          static_cast<unsigned long long>(device), ns_per_device);
    std::printf("  simulated CPU cycles/s         %.3g (every CPU at %s)\n", cycles_per_second,
                util::format_hz(c.cpu.clock_hz).c_str());
  }
  if (r.interrupted) return kExitInterrupted;
  return r.exit_status;
}

int cmd_keys(bool markdown) {
  if (markdown) {
    // docs/config.md's reference table, generated (the cli.keys test compares them).
    std::printf("| key | default | meaning |\n|---|---|---|\n");
    for (const auto& k : config_keys())
      std::printf("| `%s` | `%s` | %s |\n", k.path.c_str(),
                  k.value.empty() ? "\"\"" : k.value.c_str(), k.help.c_str());
    return kExitOk;
  }
  for (const auto& k : config_keys())
    std::printf("%-36s %-16s %s\n", k.path.c_str(), k.value.empty() ? "\"\"" : k.value.c_str(),
                k.help.c_str());
  return kExitOk;
}

}  // namespace platform
