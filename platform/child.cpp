#include "platform/child.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <utility>

#include <yaml-cpp/yaml.h>

#include "platform/simulation.h"

namespace platform {

std::string self_exe() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("iocosim") : p.string();
}

namespace {

// Starts `args` (args[0] the program), its output to `log` unless "": the child's pid, or -1.
// A stop request must reach the child whatever the moment: between fork and exec the child
// still has this process's signal handlers, which would swallow a SIGTERM forwarded to it
// (the flag they set dies with the exec) and the run would go on for its whole length. So the
// stop signals are blocked around the fork; the child puts them back to their defaults before
// unblocking (a pending one then ends it), and a stop already asked for ends it at once.
pid_t spawn(const std::vector<std::string>& args, const std::string& log) {
  std::fflush(nullptr);
  sigset_t stops, before;
  sigemptyset(&stops);
  sigaddset(&stops, SIGINT);
  sigaddset(&stops, SIGTERM);
  ::sigprocmask(SIG_BLOCK, &stops, &before);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    ::sigprocmask(SIG_SETMASK, &before, nullptr);
    if (signalled()) ::_exit(130);
    if (!log.empty()) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        ::close(fd);
      }
    }
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    std::fprintf(stderr, "iocosim: cannot run %s: %s\n", argv[0], std::strerror(errno));
    ::_exit(127);
  }
  ::sigprocmask(SIG_SETMASK, &before, nullptr);
  return pid;
}

}  // namespace

// Runs the child and returns its exit status (or -1 if it could not run).
int run_child(const std::vector<std::string>& args) {
  const pid_t pid = spawn(args, {});
  if (pid < 0) return -1;
  int status = 0;
  bool forwarded = false;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
    // A stop request (SIGTERM to this process alone, not its group) ends the child too: it
    // finishes its outputs and exits 130, and the wait goes on for that.
    if (signalled() && !std::exchange(forwarded, true)) ::kill(pid, SIGTERM);
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

unsigned core_count() {
  const long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<unsigned>(n) : 1u;
}

void run_parallel(const std::vector<std::vector<std::string>>& commands, unsigned jobs,
                  const std::vector<std::string>& logs,
                  const std::function<void(std::size_t, int)>& done) {
  if (jobs == 0) jobs = core_count();
  std::map<pid_t, std::size_t> running;
  std::size_t next = 0;
  bool forwarded = false;
  auto status_of = [](int status) {
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  while (next < commands.size() || !running.empty()) {
    while (next < commands.size() && running.size() < jobs && !signalled()) {
      const std::size_t i = next++;
      const pid_t pid = spawn(commands[i], i < logs.size() ? logs[i] : std::string());
      if (pid < 0) {
        done(i, -1);
        continue;
      }
      running.emplace(pid, i);
    }
    if (running.empty()) break;  // a signal stopped the starts and nothing is left
    // A stop request ends the running children too (SIGTERM to this process alone left them
    // running); no new ones start (the loop above), and the waits go on. Asked before each
    // wait and again when a signal interrupts one.
    if (signalled() && !std::exchange(forwarded, true))
      for (const auto& entry : running) ::kill(entry.first, SIGTERM);
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;
    }
    const auto it = running.find(pid);
    if (it == running.end()) continue;
    const std::size_t i = it->second;
    running.erase(it);
    done(i, status_of(status));
  }
}

namespace {

// Creates `path`'s folder, opens it with `mode`, writes `text`, and checks the write, the flush
// and the close: "" or why the first of them failed.
std::string write_checked(const std::string& path, const char* mode, const std::string& text) {
  std::filesystem::path p(path);
  std::error_code ec;
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
  if (std::filesystem::is_directory(p, ec)) return "is a directory";
  std::FILE* f = std::fopen(path.c_str(), mode);
  if (f == nullptr) return std::strerror(errno);
  int err = 0;
  if (std::fwrite(text.data(), 1, text.size(), f) != text.size()) err = errno;
  if (std::fflush(f) != 0 && err == 0) err = errno;
  if (std::fclose(f) != 0 && err == 0) err = errno;
  return err != 0 ? std::strerror(err) : std::string();
}

}  // namespace

// A full disk, or /dev/full, fails here, before the run, rather than silently at the end. Nothing
// is left behind: a new file is probed with a byte and removed again (its writer creates it), an
// existing file is only opened for appending (its writer replaces it; the run may fail before
// that, and the file must then be as it was), a device gets the byte.
std::string prepare_output(const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (std::filesystem::is_regular_file(status)) return write_checked(path, "ab", "");
  if (std::filesystem::exists(status)) return write_checked(path, "ab", "\n");  // a device
  std::string why = write_checked(path, "wb", "\n");
  std::filesystem::remove(path, ec);
  return why;
}

std::string write_file(const std::string& path, const std::string& text) {
  return write_checked(path, "wb", text);
}

ChildRuns::ChildRuns(std::string command, const CommonOptions& options)
    : command_(std::move(command)), options_(options) {
  std::string tag = command_;
  std::replace(tag.begin(), tag.end(), ' ', '-');
  folder_ = std::filesystem::temp_directory_path() /
            ("iocosim-" + tag + "-" + std::to_string(static_cast<long>(::getpid())));
  std::filesystem::create_directories(folder_);
}

ChildRuns::~ChildRuns() {
  std::error_code ignored;
  std::filesystem::remove_all(folder_, ignored);
}

int ChildRuns::run(const std::string& variant, const std::string& progress,
                   const std::vector<std::string>& sets,
                   const std::function<void(const std::string&)>& read) {
  const std::string stats = (folder_ / (std::to_string(runs_++) + ".json")).string();
  std::vector<std::string> args = {self_exe(), "run"};
  if (!options_.config.empty()) args.push_back(options_.config);
  for (const auto& s : options_.sets) args.insert(args.end(), {"--set", s});
  for (const auto& s : sets) args.insert(args.end(), {"--set", s});
  if (!options_.log_level.empty()) args.insert(args.end(), {"--log-level", options_.log_level});
  args.insert(args.end(),
              {"--set", "output.vcd=", "--set", "output.events=", "--stats", stats, "--quiet"});
  if (!options_.quiet) std::fprintf(stderr, "  ... %s\n", progress.c_str());
  const int rc = run_child(args);
  if (rc != kExitOk) {
    std::fprintf(stderr, "iocosim %s: %s failed (exit status %d)\n", command_.c_str(),
                 variant.c_str(), rc);
    return rc == kExitInterrupted ? kExitInterrupted : kExitFailed;
  }
  try {
    read(stats);
  } catch (const YAML::Exception& e) {
    std::fprintf(stderr, "iocosim %s: %s: %s\n", command_.c_str(), stats.c_str(), e.what());
    return kExitFailed;
  }
  return kExitOk;
}

int write_comparison_outputs(const std::string& command, const std::string& json_path,
                             const std::string& json, const std::string& svg_path,
                             const std::function<std::string()>& svg) {
  std::vector<std::string> written;
  for (const auto& [option, path] : {std::pair{"--json", &json_path}, {"--svg", &svg_path}}) {
    if (path->empty()) continue;
    const std::string text = path == &json_path ? json : svg();
    if (const std::string err = write_file(*path, text); !err.empty()) {
      std::fprintf(stderr, "iocosim %s: %s %s: cannot write: %s\n", command.c_str(), option,
                   path->c_str(), err.c_str());
      return kExitBadInput;
    }
    written.push_back(*path);
  }
  if (!written.empty()) {
    std::string list;
    for (const auto& w : written) list += (list.empty() ? "" : ", ") + w;
    std::printf("  outputs    %s\n", list.c_str());
  }
  return kExitOk;
}

}  // namespace platform
