#pragma once
// Child runs for the commands that compare configurations (SystemC elaborates once per process,
// so each configuration is an `iocosim run` of its own), and their output files.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "platform/commands.h"

namespace platform {

// This executable's path (for running itself).
std::string self_exe();
// Creates an output's folder and proves the file takes a write: "" or why not.
std::string prepare_output(const std::string& path);
// Writes an output file (creating its folder), checking every write and the close: "" on
// success, else why not ("No space left on device").
std::string write_file(const std::string& path, const std::string& text);
// Runs `args` (args[0] the program) and returns its exit status, 128+signal if it was killed,
// or -1 if it could not be run.
int run_child(const std::vector<std::string>& args);
// Runs `commands` (each args[0] the program), up to `jobs` at a time (0 = the core count);
// each child's standard output and error go to logs[i] when given (else inherited).
// `done(i, status)` is called, in this thread, as each ends (status as run_child's). After
// Ctrl-C no further command starts; the running ones get the signal too and end.
void run_parallel(const std::vector<std::vector<std::string>>& commands, unsigned jobs,
                  const std::vector<std::string>& logs,
                  const std::function<void(std::size_t, int)>& done);
// The core count (at least 1).
unsigned core_count();

// The child runs of one comparison: each an `iocosim run` of the command's config and `--set`
// overrides (and `--log-level`), then the variant's own settings, with no VCD or event log and
// its statistics in a temporary folder that goes with this object.
class ChildRuns {
 public:
  // `command` names the comparison in messages ("compare io-space").
  ChildRuns(std::string command, const CommonOptions& options);
  ~ChildRuns();
  ChildRuns(const ChildRuns&) = delete;
  ChildRuns& operator=(const ChildRuns&) = delete;

  // The temporary folder (for a comparison's own input files).
  const std::filesystem::path& folder() const { return folder_; }
  // Runs one variant with `sets` after the command's overrides, printing "  ... PROGRESS" unless
  // quiet; `read` parses its statistics. On failure prints "iocosim COMMAND: ..." naming
  // `variant` (or the unreadable file) and returns the comparison's exit status (130 if the
  // child was interrupted, else 1); 0 on success.
  int run(const std::string& variant, const std::string& progress,
          const std::vector<std::string>& sets,
          const std::function<void(const std::string&)>& read);

 private:
  std::string command_;
  const CommonOptions& options_;
  std::filesystem::path folder_;
  int runs_ = 0;
};

// A comparison's outputs: the JSON document and the SVG chart (made only if wanted), each
// skipped when its path is "". Prints the "outputs" line; on a failed write prints
// "iocosim COMMAND: --json PATH: cannot write: why" and returns the bad-input status (else 0).
int write_comparison_outputs(const std::string& command, const std::string& json_path,
                             const std::string& json, const std::string& svg_path,
                             const std::function<std::string()>& svg);

}  // namespace platform
