// The iocosim command line: run a platform, run a register-level script, benchmark, compare,
// report, list config keys. In the library, so a program with its own registered types (a
// project built against the installed package) is the same tool: platform/cli.h.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <tuple>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <systemc>

#include "platform/cli.h"
#include "platform/commands.h"
#include "platform/config.h"
#include "platform/paths.h"
#include "platform/script.h"
#include "platform/simulation.h"
#include "util/suggest.h"

namespace {

// The positional CONFIG of the commands that simulate a platform.
void add_config_arg(CLI::App* cmd, std::string& config, const std::string& help) {
  cmd->add_option("CONFIG", config, help)->check(CLI::ExistingFile);
}

// --set takes exactly one key=value each time (so `--set a=1 CONFIG` leaves CONFIG alone).
CLI::Option* add_set(CLI::App* cmd, std::vector<std::string>& sets) {
  return cmd
      ->add_option("--set", sets, "override a config key: --set cpu.clock=200MHz (repeatable)")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false);
}

void add_common(CLI::App* cmd, platform::CommonOptions& o, bool with_config_option) {
  if (with_config_option)
    cmd->add_option("--config", o.config,
                    "platform config (YAML); default: the built-in default platform")
        ->check(CLI::ExistingFile);
  add_set(cmd, o.sets);
  cmd->add_option("--until", o.until, "simulated time to run (sim.until), e.g. 10ms")
      ->type_name("TIME");
  cmd->add_option("--vcd", o.vcd, "write a VCD waveform, or FST if PATH ends in .fst (output.vcd)")
      ->type_name("PATH");
  cmd->add_option("--events", o.events, "write the event log, JSON lines (output.events)")
      ->type_name("PATH");
  cmd->add_option("--stats", o.stats, "write statistics, JSON (output.stats)")->type_name("PATH");
  cmd->add_option("--log-level", o.log_level,
                  "trace, debug, info, warn, error or off (sim.log_level)");
  cmd->add_flag("-q,--quiet", o.quiet,
                "print nothing but errors (no summary, no progress, no warnings)");
}

}  // namespace

namespace platform {

namespace {

// The command's words checked against what it takes: each "--name" / "-x" must be an option of
// the (sub)command it follows or of its parents, and a command with subcommands must be given
// one of them. "" or the message.
std::string check_words(CLI::App& app, int argc, char* argv[]) {
  auto names_of = [](const CLI::App* a, std::vector<std::string>& longs,
                     std::vector<std::string>& shorts) {
    for (const CLI::Option* o : a->get_options()) {
      for (const auto& l : o->get_lnames()) longs.push_back("--" + l);
      for (const auto& sn : o->get_snames()) shorts.push_back("-" + sn);
    }
  };
  std::vector<CLI::App*> path = {&app};
  std::string command = "iocosim";
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word == "--") break;  // the rest are values
    CLI::App* here = path.back();
    if (word.rfind("-", 0) != 0 || word == "-") {
      // A nested command where one is required: a known one, or a typo of one.
      auto subs = here->get_subcommands([](const CLI::App*) { return true; });
      if (subs.empty()) continue;
      bool found = false;
      for (CLI::App* sub : subs) {
        if (sub->get_name() == word) {
          path.push_back(sub);
          command += " " + word;
          found = true;
          break;
        }
      }
      std::vector<std::string> names;
      for (const auto* sub : subs) names.push_back(sub->get_name());
      // Where a command is optional (`compare [hal|io-space] [CONFIG]`), a word that is no file
      // and close to a command's name is taken as that command misspelt.
      std::error_code ec;
      const bool typo =
          !found && !util::closest(word, names).empty() && !std::filesystem::exists(word, ec);
      if (!found && here != &app && (here->get_require_subcommand_min() > 0 || typo)) {
        std::string list;
        for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
        return fmt::format("{}: unknown command '{}'{} (it takes {}); run {} --help", command, word,
                           util::did_you_mean(word, names), list, command);
      }
      continue;
    }
    std::vector<std::string> longs, shorts;
    for (const CLI::App* a : path) names_of(a, longs, shorts);
    if (word.rfind("--", 0) == 0) {
      const std::string name = word.substr(0, word.find('='));
      if (std::find(longs.begin(), longs.end(), name) == longs.end())
        return fmt::format("{}: unknown option '{}'{}; run {} --help", command, name,
                           util::did_you_mean(name, longs), command);
    } else if (word.size() >= 2 && !std::isdigit(static_cast<unsigned char>(word[1]))) {
      const std::string name = word.substr(0, 2);
      if (std::find(shorts.begin(), shorts.end(), name) == shorts.end())
        return fmt::format("{}: unknown option '{}'; run {} --help", command, name, command);
    }
  }
  return {};
}

int run_command(int argc, char* argv[]) {
  CLI::App app{"iocosim: a SystemC/TLM-2.0 co-simulation of a computer's I/O path"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "help for every subcommand");
  app.set_version_flag("--version", std::string("iocosim ") + platform::iocosim_version());

  platform::CommonOptions opts;
  std::string script_path, bench_time = "1s";
  bool bench_json = false;

  auto* run = app.add_subcommand("run", "simulate a platform and its workload");
  add_config_arg(run, opts.config,
                 "platform config (YAML); default: the built-in default platform");
  add_common(run, opts, true);
  run->add_option("--trace", opts.trace,
                  "also write a Perfetto / chrome://tracing trace (Trace Event Format JSON)")
      ->type_name("PATH");
  run->add_option("--outdir", opts.outdir,
                  "one folder for every output, under fixed names: run.vcd and its view "
                  "run.gtkw, events.jsonl, trace.json, stats.json, config.yaml (--vcd, "
                  "--events, --trace, --stats still name their own)")
      ->type_name("DIR");

  bool devices_json = false;
  auto* devices = app.add_subcommand(
      "devices",
      "the device tree after Plug and Play: each device's IDs, driver, state and resources "
      "(ports or memory, IRQ, vector, IRQL, DMA channel; who shares a line)");
  add_config_arg(devices, opts.config,
                 "platform config (YAML); default: the built-in default platform");
  add_set(devices, opts.sets);
  devices->add_flag("--json", devices_json, "print the tree as JSON");
  devices->add_option("--log-level", opts.log_level,
                      "trace, debug, info, warn, error or off (sim.log_level)");

  auto* script =
      app.add_subcommand("script", "run a register-level script on the CPU instead of software");
  script->add_option("FILE", script_path, "the script (docs/script.md)")->required();
  add_common(script, opts, true);

  auto* bench = app.add_subcommand("bench", "measure simulation speed");
  auto* bench_idle = bench->add_subcommand(
      "idle", "the idle platform: host time per timer interrupt, simulated cycles per host second");
  auto* bench_interrupt = bench->add_subcommand(
      "interrupt",
      "the kernel's device path: host time per interrupt from device line to waiting thread");
  std::string bench_mode, bench_bytes = "64MiB";
  auto* bench_dma = bench->add_subcommand(
      "dma", "host time to simulate one memory-to-memory DMA transfer in each mode");
  bench_dma
      ->add_option("--mode", bench_mode, "burst, cycle-stealing or transparent (default: each)")
      ->check(CLI::IsMember({"burst", "cycle-stealing", "transparent"}));
  bench_dma->add_option("--bytes", bench_bytes, "transfer size")->capture_default_str();
  bench_dma->add_flag("--json", bench_json, "print JSON lines");
  bench_dma->add_option("--config", opts.config, "platform config (YAML)")
      ->check(CLI::ExistingFile);
  add_set(bench_dma, opts.sets);
  bench->require_subcommand(1);
  for (auto* b : {bench_idle, bench_interrupt}) {
    b->add_option("--sim-time", bench_time, "simulated time to run")
        ->type_name("TIME")
        ->capture_default_str();
    b->add_flag("--json", bench_json, "print JSON");
    b->add_option("--config", opts.config, "platform config (YAML)")->check(CLI::ExistingFile);
    add_set(b, opts.sets);
  }

  std::string cmp_json = "traces/compare-dma.json", cmp_svg = "traces/compare-dma.svg";
  auto* compare_dma = app.add_subcommand(
      "compare-dma",
      "one DMA block transfer while the CPU computes, in burst, cycle-stealing and transparent "
      "mode: a table, JSON and an SVG chart");
  add_config_arg(compare_dma, opts.config,
                 "platform config (YAML); workload.dma.* set the transfer; default: built-in");
  add_set(compare_dma, opts.sets);
  compare_dma->add_option("--json", cmp_json, "write the results as JSON ('' = none)")
      ->capture_default_str();
  compare_dma->add_option("--svg", cmp_svg, "write a bar chart as SVG ('' = none)")
      ->capture_default_str();
  compare_dma->add_option("--log-level", opts.log_level, "log level of the runs");
  compare_dma->add_flag("-q,--quiet", opts.quiet,
                        "nothing but errors: the results are --json/--svg");

  std::string compare_only, compare_json = "traces/compare.json";
  auto* compare = app.add_subcommand(
      "compare",
      "the I/O path's choices side by side: polling vs interrupt-driven disk and serial "
      "drivers, fast I/O vs IRPs (throughput, CPU left for other work, interrupts, latency)");
  add_config_arg(compare, opts.config, "platform config (YAML); default: built-in");
  compare->add_option("--only", compare_only, "one comparison: disk, serial or fastio")
      ->check(CLI::IsMember({"disk", "serial", "fastio"}));
  add_set(compare, opts.sets);
  compare->add_option("--json", compare_json, "write the results as JSON ('' = none)")
      ->capture_default_str();
  compare->add_flag("-q,--quiet", opts.quiet, "nothing but errors: the results are --json");
  std::string io_json = "traces/compare-io-space.json", io_svg = "traces/compare-io-space.svg";
  auto* compare_io = compare->add_subcommand(
      "io-space",
      "the io workload's disk on PCI with its registers behind an I/O BAR vs a memory BAR "
      "(isolated vs memory-mapped I/O), by PIO and by DMA: CPU and bus cycles per request, "
      "latency; a table, JSON and an SVG chart");
  add_config_arg(compare_io, opts.config, "platform config (YAML); default: the built-in one");
  add_set(compare_io, opts.sets);
  compare_io->add_option("--json", io_json, "write the results as JSON ('' = none)")
      ->capture_default_str();
  compare_io->add_option("--svg", io_svg, "write a bar chart as SVG ('' = none)")
      ->capture_default_str();
  compare_io->add_flag("-q,--quiet", opts.quiet,
                       "nothing but errors: the results are --json/--svg");

  std::string hal_json = "traces/compare-hal.json", hal_svg = "traces/compare-hal.svg";
  auto* compare_hal = compare->add_subcommand(
      "hal",
      "the PIC HAL on one CPU vs the APIC HAL on one and four CPUs, same workload: throughput, "
      "compute done, IRQL-change accesses (PIC masks vs TPR), interrupt latency; a table, JSON "
      "and an SVG chart");
  add_config_arg(compare_hal, opts.config, "platform config (YAML); default: the built-in one");
  add_set(compare_hal, opts.sets);
  compare_hal->add_option("--json", hal_json, "write the results as JSON ('' = none)")
      ->capture_default_str();
  compare_hal->add_option("--svg", hal_svg, "write a bar chart as SVG ('' = none)")
      ->capture_default_str();
  compare_hal->add_flag("-q,--quiet", opts.quiet,
                        "nothing but errors: the results are --json/--svg");

  std::string report_stats, report_html;
  auto* report = app.add_subcommand(
      "report",
      "a run's DPC/ISR latency report: per-driver ISR and DPC times, histograms, "
      "ISR-to-DPC and interrupt-to-thread latency");
  report->add_option("STATS", report_stats, "statistics file of a run (--stats)")
      ->required()
      ->check(CLI::ExistingFile);
  report->add_option("--html", report_html, "also write the report as HTML");

  bool keys_markdown = false;
  auto* keys = app.add_subcommand(
      "keys",
      "list every config key with its default and meaning, from the registered device, driver "
      "and workload types");
  keys->add_flag("--markdown", keys_markdown, "print the reference table of docs/config.md");

  auto* config_cmd = app.add_subcommand(
      "config", "print the resolved config as YAML: every key, after the file and the overrides");
  add_config_arg(config_cmd, opts.config,
                 "platform config (YAML); default: the built-in default platform");
  add_set(config_cmd, opts.sets);

  std::vector<std::string> tolerances, ignores;
  std::size_t diff_shown = 20;
  std::string diff_a, diff_b;
  auto* diff = app.add_subcommand(
      "diff",
      "compare two runs (statistics key by key, event logs event by event); exit 0 when the "
      "same, 1 when different, with a list of what changed");
  diff->add_option("RUN_A", diff_a, "a run: its folder (stats.json, events.jsonl) or a file")
      ->required()
      ->check(CLI::ExistingPath);
  diff->add_option("RUN_B", diff_b, "the other run, of the same kind")
      ->required()
      ->check(CLI::ExistingPath);
  auto add_tolerances = [&](CLI::App* cmd) {
    cmd->add_option("--tolerance", tolerances,
                    "KEY=REL: statistics under KEY (a prefix, e.g. kernel.isrs) may differ by the "
                    "relative amount REL (0.05 or 5%) (repeatable)")
        ->type_name("KEY=REL")
        ->allow_extra_args(false);
    cmd->add_option("--ignore", ignores,
                    "KEY: leave statistics under KEY out of the comparison (repeatable; host.* "
                    "and the provenance's version, file, overrides and output paths always are)")
        ->type_name("KEY")
        ->allow_extra_args(false);
  };
  add_tolerances(diff);
  diff->add_option("--max", diff_shown, "differences listed per file")->capture_default_str();

  std::string golden_dir;
  bool golden_update = false;
  auto* check = app.add_subcommand(
      "check",
      "re-run the runs a golden folder records (its golden.yaml) and diff each against its "
      "golden outputs: the regression suite for your models and drivers");
  check->add_option("GOLDEN_DIR", golden_dir, "the folder (golden.yaml and one folder per run)")
      ->required()
      ->check(CLI::ExistingDirectory);
  check->add_flag("--update", golden_update,
                  "write the golden outputs anew from this build (after a wanted change)");
  add_set(check, opts.sets)
      ->description(
          "override a config key in every run (e.g. to see what a model change would do)");
  add_tolerances(check);
  check->add_option("-j,--jobs", opts.jobs, "runs at a time (default: the core count)");
  check->add_flag("-q,--quiet", opts.quiet, "only the runs that differ or fail");

  std::string trace_in, trace_out;
  auto* trace = app.add_subcommand(
      "trace",
      "convert an event log to a Perfetto / chrome://tracing trace: per CPU thread, ISR and "
      "DPC slices and an IRQL counter, per device its commands and DMA transfers, each IRP as "
      "a flow from the system service down the stack and back to the thread");
  trace->add_option("EVENTS", trace_in, "event log of a run (--events)")
      ->required()
      ->check(CLI::ExistingFile);
  trace->add_flag("-q,--quiet", opts.quiet, "print nothing but errors");
  trace->add_option("-o,--output", trace_out, "the trace (JSON); open it in ui.perfetto.dev")
      ->required();

  std::string sweep_file;
  platform::SweepOptions sweep_opts;
  auto* sweep = app.add_subcommand(
      "sweep",
      "run a grid or list of --set values over a base config, in parallel locally or as a "
      "Slurm array job; one table (CSV, JSON) of every run's key statistics and charts");
  sweep->add_option("SWEEP", sweep_file, "the sweep description (YAML; docs/sweep.md)")
      ->required()
      ->check(CLI::ExistingFile);
  sweep->add_option("-j,--jobs", opts.jobs,
                    "runs at a time (default: the core count; on Slurm: tasks at a time)");
  sweep
      ->add_option("--executor", sweep_opts.executor,
                   "local: child processes here; slurm: an sbatch array job, one task per point")
      ->check(CLI::IsMember({"local", "slurm"}))
      ->capture_default_str();
  sweep->add_option("-o,--output", sweep_opts.out,
                    "results folder (default: the sweep's `output`, else traces/sweep-NAME)");
  sweep->add_flag("--no-wait", sweep_opts.no_wait,
                  "slurm: submit and return; table the results later with --collect");
  sweep->add_flag("--collect", sweep_opts.collect,
                  "run nothing: table the points' results as their folders hold them now");
  sweep->add_option("--partition", sweep_opts.slurm.partition, "slurm: the partition (-p)");
  sweep->add_option("--account", sweep_opts.slurm.account, "slurm: the account to charge (-A)");
  sweep->add_option("--time", sweep_opts.slurm.time,
                    "slurm: each task's time limit (sbatch --time: 30, 1:00:00, 1-0)");
  sweep->add_option("--mem", sweep_opts.slurm.mem, "slurm: memory per node (sbatch --mem: 2G)");
  sweep->add_option("--sbatch", sweep_opts.slurm.lines,
                    "slurm: another sbatch option (repeatable: --sbatch=--qos=low)");
  sweep->add_flag("-q,--quiet", opts.quiet,
                  "nothing but errors (failed points): the table is in the results folder");

  // Before CLI11 sees the words: a misspelt option or nested command gets "did you mean".
  // CLI11 alone takes `run --unitl 5ms` as the CONFIG 5ms ("File does not exist: 5ms") and
  // `bench idel` as a missing subcommand.
  if (std::string why = check_words(app, argc, argv); !why.empty()) {
    fmt::print(stderr, "{}\n", why);
    return platform::kExitBadInput;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // A mistyped subcommand ("iocosim runn") reads as an extra argument; name the closest.
    if (argc > 1 && argv[1][0] != '-' && app.get_subcommands().empty()) {
      std::vector<std::string> names;
      for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; }))
        names.push_back(sub->get_name());
      bool known = false;
      for (const auto& n : names) known |= n == argv[1];
      if (!known) {
        fmt::print(stderr, "iocosim: unknown command '{}'{}; run iocosim --help\n", argv[1],
                   util::did_you_mean(argv[1], names));
        return platform::kExitBadInput;
      }
    }
    app.exit(e);
    return platform::kExitBadInput;
  }

  try {
    // The commands whose files are options here (run's are config keys: validate() checks
    // them): no output may name an input or another output (platform/paths.h).
    auto output = [](const char* label, const std::string& path) {
      return platform::FileRole{label, path, "", true, false};
    };
    auto input = [](const char* label, const std::string& path) {
      return platform::FileRole{label, path, "", false, false};
    };
    if (*trace) platform::check_files({input("EVENTS", trace_in), output("--output", trace_out)});
    if (*report)
      platform::check_files({input("STATS", report_stats), output("--html", report_html)});
    for (const auto& [cmd, json, svg] :
         {std::tuple{compare_dma, &cmp_json, &cmp_svg},
          {compare_io, &io_json, &io_svg},
          {compare_hal, &hal_json, &hal_svg},
          {compare, &compare_json, static_cast<std::string*>(nullptr)}})
      if (*cmd)
        platform::check_files({input("CONFIG", opts.config), output("--json", *json),
                               output("--svg", svg ? *svg : std::string())});
    // -q: nothing but errors. These commands print their table on standard output; quiet, their
    // results are the files they write (and the exit status), and errors go to standard error.
    if (opts.quiet && (*compare_dma || *compare || *compare_io || *compare_hal || *sweep || *trace))
      if (std::freopen("/dev/null", "w", stdout) == nullptr) return platform::kExitBadInput;
    if (*run) return platform::cmd_run(opts);
    if (*config_cmd) return platform::cmd_config(opts);
    if (*diff) return platform::cmd_diff(diff_a, diff_b, {tolerances, ignores, diff_shown});
    if (*check)
      return platform::cmd_check(golden_dir, golden_update, opts, {tolerances, ignores, 20});
    if (*trace) return platform::cmd_trace(trace_in, trace_out);
    if (*sweep) return platform::cmd_sweep(sweep_file, sweep_opts, opts);
    if (*devices) return platform::cmd_devices(opts, devices_json);
    if (*script) return platform::cmd_script(opts, script_path);
    if (*bench_idle) return platform::cmd_bench(opts, "idle", bench_time, bench_json);
    if (*bench_interrupt) return platform::cmd_bench(opts, "interrupt", bench_time, bench_json);
    if (*bench_dma) return platform::cmd_bench_dma(opts, bench_mode, bench_bytes, bench_json);
    if (*keys) return platform::cmd_keys(keys_markdown);
    if (*report) return platform::cmd_report(report_stats, report_html);
    if (*compare_io) return platform::cmd_compare_io_space(opts, io_json, io_svg);
    if (*compare_hal) return platform::cmd_compare_hal(opts, hal_json, hal_svg);
    if (*compare) return platform::cmd_compare(opts, compare_only, compare_json);
    if (*compare_dma) return platform::cmd_compare_dma(opts, cmp_json, cmp_svg);
  } catch (const platform::ConfigError& e) {
    fmt::print(stderr, "iocosim: error: {}\n", e.what());
    return platform::kExitBadInput;
  } catch (const platform::ScriptError& e) {
    fmt::print(stderr, "iocosim: error: {}\n", e.what());
    return platform::kExitBadInput;
  } catch (const sc_core::sc_report& e) {
    fmt::print(stderr, "iocosim: simulation error: {}\n", e.what());
    return platform::kExitFailed;
  } catch (const std::exception& e) {
    fmt::print(stderr, "iocosim: error: {}\n", e.what());
    return platform::kExitFailed;
  }
  return platform::kExitBadInput;
}

}  // namespace

int cli_main(int argc, char* argv[]) {
  const int status = run_command(argc, argv);
  // What a command printed must have reached its destination: standard output on a full disk
  // (`iocosim keys > /dev/full`) is an error, not a silent success.
  errno = 0;
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    fmt::print(stderr, "iocosim: error: cannot write the standard output: {}\n",
               errno != 0 ? std::strerror(errno) : "write error");
    return status == platform::kExitOk || status == platform::kExitFailed ? platform::kExitBadInput
                                                                          : status;
  }
  return status;
}

int program_main(int argc, char* argv[]) {
  // SystemC prints its banner while it initializes, before sc_main runs, and the banner is
  // noise in every command's output.
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  // Before anything slow (SystemC's start-up, elaboration, a disk image, the outputs): Ctrl-C
  // from here on ends the command with 130 and complete outputs, never by the signal.
  install_signal_handlers();
  return sc_core::sc_elab_and_sim(argc, argv);
}

}  // namespace platform
