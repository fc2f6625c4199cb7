#pragma once
// The one rule every command keeps about files: no output path, given or derived (a VCD's
// GTKWave view), may name an input (a config, a disk image, a statistics file being read) or
// another output, however it is spelled; a device such as /dev/null may be named any number
// of times. Breaking it is bad input (exit 2) before anything is written.
#include <string>
#include <vector>

namespace platform {

// A file a command reads or writes, and how to name it in a message: its label ("--html",
// "CONFIG", "output.vcd") and, for a config key, where it was set ("default.yaml:12").
struct FileRole {
  std::string label, path;
  std::string where;
  bool output = false;
  bool in_place = false;  // read and written (a disk image): one role's alone
};

// Whether two paths name one file (the same inode, or the same canonical path for files not
// written yet). Character devices never are.
bool same_file(const std::string& a, const std::string& b);

// Throws ConfigError naming the writer and what it would overwrite. Blame goes to the writer:
// an output before a file written in place, either before an input; between two of a kind,
// the later one.
void check_files(const std::vector<FileRole>& files);

}  // namespace platform
