#pragma once
// One logging facility for hardware models, software and the platform:
//   [D 12.345us] platform.pic0: IRQ3 raised
// Plain C++ so that sw/ can use it without SystemC; the platform installs the clock.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace util {

enum class Level { trace, debug, info, warn, error, off };

// Returns false for a name that is not a level, leaving `out` unchanged.
bool parse_level(std::string_view name, Level& out);
const char* level_name(Level level);

// The simulated time source, in picoseconds. Defaults to 0 until the platform installs one.
// A plain function: it is read for every event-log line.
using TimeSource = std::uint64_t (*)();
void set_time_source(TimeSource now_ps);
std::uint64_t now_ps();

namespace detail {
// The level, read on every debug line a model considers (a plain variable: inline, no call).
inline Level g_log_level = Level::info;
}  // namespace detail
void set_log_level(Level level);
inline Level log_level() {
  return detail::g_log_level;
}
// Counts of warnings and errors logged so far; tests treat a nonzero count as failure.
std::uint64_t log_count(Level level);
void reset_log_counts();

// Formats picoseconds the way log lines and reports show them: "12.345us".
std::string format_time(std::uint64_t ps);

void log_line(Level level, std::string_view source, std::string_view message);

// A named source of log lines; models hold one named after their hierarchical path.
class Logger {
 public:
  explicit Logger(std::string name = "") : name_(std::move(name)) {}
  const std::string& name() const { return name_; }
  void rename(std::string name) { name_ = std::move(name); }

  bool enabled(Level level) const { return level >= log_level(); }

  template <typename... Args>
  void log(Level level, fmt::format_string<Args...> f, Args&&... args) const {
    // Warnings and errors are always counted, even when not printed.
    if (enabled(level) || level >= Level::warn)
      log_line(level, name_, fmt::format(f, std::forward<Args>(args)...));
  }
  template <typename... Args>
  void trace(fmt::format_string<Args...> f, Args&&... a) const {
    log(Level::trace, f, std::forward<Args>(a)...);
  }
  template <typename... Args>
  void debug(fmt::format_string<Args...> f, Args&&... a) const {
    log(Level::debug, f, std::forward<Args>(a)...);
  }
  template <typename... Args>
  void info(fmt::format_string<Args...> f, Args&&... a) const {
    log(Level::info, f, std::forward<Args>(a)...);
  }
  template <typename... Args>
  void warn(fmt::format_string<Args...> f, Args&&... a) const {
    log(Level::warn, f, std::forward<Args>(a)...);
  }
  template <typename... Args>
  void error(fmt::format_string<Args...> f, Args&&... a) const {
    log(Level::error, f, std::forward<Args>(a)...);
  }

 private:
  std::string name_;
};

}  // namespace util
