// The iocosim command line: run a platform, run a register-level script, benchmark, compare,
// report, list config keys. In the library, so a program with its own registered types (a
// project built against the installed package) is the same tool: platform/cli.h.
#include <cstdlib>
#include <exception>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <systemc>

#include "platform/cli.h"
#include "platform/commands.h"
#include "platform/config.h"
#include "platform/script.h"
#include "platform/simulation.h"

namespace {

void add_common(CLI::App* cmd, platform::CommonOptions& o, bool with_config_option) {
  if (with_config_option)
    cmd->add_option("--config", o.config,
                    "platform config (YAML); default: the built-in default platform")
        ->check(CLI::ExistingFile);
  cmd->add_option("--set", o.sets, "override a config key: --set cpu.clock=200MHz (repeatable)")
      ->type_name("KEY=VALUE");
  cmd->add_option("--until", o.until, "simulated time to run (sim.until), e.g. 10ms")
      ->type_name("TIME");
  cmd->add_option("--vcd", o.vcd, "write a VCD waveform (output.vcd)")->type_name("PATH");
  cmd->add_option("--events", o.events, "write the event log, JSON lines (output.events)")
      ->type_name("PATH");
  cmd->add_option("--stats", o.stats, "write statistics, JSON (output.stats)")->type_name("PATH");
  cmd->add_option("--log-level", o.log_level,
                  "trace, debug, info, warn, error or off (sim.log_level)");
  cmd->add_flag("-q,--quiet", o.quiet, "print no summary");
}

}  // namespace

namespace platform {

int cli_main(int argc, char* argv[]) {
  CLI::App app{"iocosim: a SystemC/TLM-2.0 co-simulation of a computer's I/O path"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "help for every subcommand");

  platform::CommonOptions opts;
  std::string script_path, bench_time = "1s";
  bool bench_json = false;

  auto* run = app.add_subcommand("run", "simulate a platform and its workload");
  run->add_option("CONFIG", opts.config,
                  "platform config (YAML); default: the built-in default platform")
      ->check(CLI::ExistingFile);
  add_common(run, opts, false);

  bool devices_json = false;
  auto* devices = app.add_subcommand(
      "devices",
      "the device tree after Plug and Play: each device's IDs, driver, state and resources "
      "(ports or memory, IRQ, vector, IRQL, DMA channel; who shares a line)");
  devices
      ->add_option("CONFIG", opts.config,
                   "platform config (YAML); default: the built-in default platform")
      ->check(CLI::ExistingFile);
  devices->add_option("--set", opts.sets, "override a config key (repeatable)")
      ->type_name("KEY=VALUE");
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
  bench_dma->add_option("--set", opts.sets, "override a config key (repeatable)")
      ->type_name("KEY=VALUE");
  bench->require_subcommand(1);
  for (auto* b : {bench_idle, bench_interrupt}) {
    b->add_option("--sim-time", bench_time, "simulated time to run")
        ->type_name("TIME")
        ->capture_default_str();
    b->add_flag("--json", bench_json, "print JSON");
    b->add_option("--config", opts.config, "platform config (YAML)")->check(CLI::ExistingFile);
    b->add_option("--set", opts.sets, "override a config key (repeatable)")->type_name("KEY=VALUE");
  }

  std::string cmp_json = "traces/compare-dma.json", cmp_svg = "traces/compare-dma.svg";
  auto* compare_dma = app.add_subcommand(
      "compare-dma",
      "one DMA block transfer while the CPU computes, in burst, cycle-stealing and transparent "
      "mode: a table, JSON and an SVG chart");
  compare_dma
      ->add_option("CONFIG", opts.config,
                   "platform config (YAML); workload.dma.* set the transfer; default: built-in")
      ->check(CLI::ExistingFile);
  compare_dma->add_option("--set", opts.sets, "override a config key (repeatable)")
      ->type_name("KEY=VALUE");
  compare_dma->add_option("--json", cmp_json, "write the results as JSON ('' = none)")
      ->capture_default_str();
  compare_dma->add_option("--svg", cmp_svg, "write a bar chart as SVG ('' = none)")
      ->capture_default_str();
  compare_dma->add_option("--log-level", opts.log_level, "log level of the runs");
  compare_dma->add_flag("-q,--quiet", opts.quiet, "no progress lines");

  std::string compare_only, compare_json = "traces/compare.json";
  auto* compare = app.add_subcommand(
      "compare",
      "the I/O path's choices side by side: polling vs interrupt-driven disk and serial "
      "drivers, fast I/O vs IRPs (throughput, CPU left for other work, interrupts, latency)");
  compare->add_option("CONFIG", opts.config, "platform config (YAML); default: built-in")
      ->check(CLI::ExistingFile);
  compare->add_option("--only", compare_only, "one comparison: disk, serial or fastio")
      ->check(CLI::IsMember({"disk", "serial", "fastio"}));
  compare->add_option("--set", opts.sets, "override a config key (repeatable)")
      ->type_name("KEY=VALUE");
  compare->add_option("--json", compare_json, "write the results as JSON ('' = none)")
      ->capture_default_str();
  compare->add_flag("-q,--quiet", opts.quiet, "no progress lines");
  std::string io_json = "traces/compare-io-space.json", io_svg = "traces/compare-io-space.svg";
  auto* compare_io = compare->add_subcommand(
      "io-space",
      "the io workload's disk on PCI with its registers behind an I/O BAR vs a memory BAR "
      "(isolated vs memory-mapped I/O), by PIO and by DMA: CPU and bus cycles per request, "
      "latency; a table, JSON and an SVG chart");
  compare_io->add_option("CONFIG", opts.config, "platform config (YAML); default: the built-in one")
      ->check(CLI::ExistingFile);
  compare_io->add_option("--set", opts.sets, "override a config key (repeatable)")
      ->type_name("KEY=VALUE");
  compare_io->add_option("--json", io_json, "write the results as JSON ('' = none)")
      ->capture_default_str();
  compare_io->add_option("--svg", io_svg, "write a bar chart as SVG ('' = none)")
      ->capture_default_str();
  compare_io->add_flag("-q,--quiet", opts.quiet, "no progress lines");

  std::string hal_json = "traces/compare-hal.json", hal_svg = "traces/compare-hal.svg";
  auto* compare_hal = compare->add_subcommand(
      "hal",
      "the PIC HAL on one CPU vs the APIC HAL on one and four CPUs, same workload: throughput, "
      "compute done, IRQL-change accesses (PIC masks vs TPR), interrupt latency; a table, JSON "
      "and an SVG chart");
  compare_hal
      ->add_option("CONFIG", opts.config, "platform config (YAML); default: the built-in one")
      ->check(CLI::ExistingFile);
  compare_hal->add_option("--set", opts.sets, "override a config key (repeatable)")
      ->type_name("KEY=VALUE");
  compare_hal->add_option("--json", hal_json, "write the results as JSON ('' = none)")
      ->capture_default_str();
  compare_hal->add_option("--svg", hal_svg, "write a bar chart as SVG ('' = none)")
      ->capture_default_str();
  compare_hal->add_flag("-q,--quiet", opts.quiet, "no progress lines");

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

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return platform::kExitBadInput;
  }

  try {
    if (*run) return platform::cmd_run(opts);
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
