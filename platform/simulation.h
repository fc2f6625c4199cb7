#pragma once
// Running a platform: outputs (VCD, event log, statistics) opened before the simulation and
// flushed however it ends (normal end, error, Ctrl-C); the simulation advanced in slices so
// that Ctrl-C stops it cleanly and long runs report progress.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <systemc>

#include "hw/core/vcd_writer.h"
#include "platform/platform.h"
#include "sw/ke/bugcheck.h"

namespace platform {

class TraceOutput;

// The build's version: the project version and `git describe` (cmake/version.cmake).
const char* iocosim_version();

// Exit statuses of every iocosim command (docs/cli.md).
enum ExitStatus : int {
  kExitOk = 0,
  kExitFailed = 1,    // a simulation error, or a failed script expectation
  kExitBadInput = 2,  // bad command line, config or script
  kExitBugCheck = 3,  // the simulated software bug-checked
  kExitInterrupted = 130,
};

// SIGINT and SIGTERM, for the whole process, only set a flag: a run stops at its next
// synchronization (Session::run), and start-up and write-out finish what they are doing, so
// the outputs are complete up to the stop and the command exits 130 (signalled()).
void install_signal_handlers();
bool signalled();

// SystemC's warnings go to the log (and are counted); its errors are thrown as exceptions.
void install_report_handler();
// Fails with ConfigError unless SystemC's time resolution is 1 ps (hw/core/sim_time.h).
void check_time_resolution();

struct RunResult {
  int exit_status = kExitOk;
  bool interrupted = false;  // Ctrl-C / SIGTERM
  std::uint64_t sim_ps = 0;  // where the run ended: its end, the stop, or a power-off/bug check
  double host_seconds = 0;
  const ke::BugCheckRecord* bug_check = nullptr;  // the stop, if the software bug-checked
};

class Session {
 public:
  // Opens the configured outputs; throws ConfigError if one cannot be opened.
  Session(Platform& platform, const Config& config);
  ~Session();  // flushes and closes everything that is open
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Runs until `until_ps`, a power-off, or a signal. `progress`: report on stderr every few
  // seconds of host time.
  RunResult run(std::uint64_t until_ps, bool progress);
  // Writes the statistics file (if configured) with `extra` adding workload sections.
  void write_stats(const RunResult& result,
                   const std::function<void(util::JsonWriter&)>& extra = {});
  // Closes every output; returns what could not be written completely ("key: path: why").
  std::vector<std::string> close();

 private:
  Platform& platform_;
  Config config_;
  sc_core::sc_trace_file* vcd_ = nullptr;
  std::unique_ptr<hw::VcdWriter> own_vcd_;  // output.vcd_writer: iocosim
  std::unique_ptr<TraceOutput> trace_;      // --trace
  std::string vcd_written_;  // the file SystemC writes: output.vcd, or a temporary moved there
};

}  // namespace platform
