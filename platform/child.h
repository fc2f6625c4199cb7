#pragma once
// Child runs for the commands that compare configurations (SystemC elaborates once per process,
// so each configuration is an `iocosim run` of its own), and their output files.
#include <functional>
#include <string>
#include <vector>

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
// One run of a comparison: `args` (a child `iocosim run` command line) with no VCD or event log
// and its statistics written to `stats`, which `read` then parses. On failure it prints
// "iocosim COMMAND: ..." naming `variant` (or the unreadable file) and returns the comparison's
// exit status (130 if the child was interrupted, else 1); 0 on success.
int run_variant(const std::string& command, const std::string& variant,
                std::vector<std::string> args, const std::string& stats,
                const std::function<void(const std::string&)>& read);

// A comparison's outputs: the JSON document and the SVG chart (made only if wanted), each
// skipped when its path is "". Prints the "outputs" line; on a failed write prints
// "iocosim COMMAND: --json PATH: cannot write: why" and returns the bad-input status (else 0).
int write_comparison_outputs(const std::string& command, const std::string& json_path,
                             const std::string& json, const std::string& svg_path,
                             const std::function<std::string()>& svg);

}  // namespace platform
