#include "util/log.h"

#include <array>
#include <cstdio>

namespace util {
namespace {

TimeSource g_clock = nullptr;  // constant-initialized: no guard on the hot path

struct State {
  std::array<std::uint64_t, 6> counts{};
};

State& state() {
  static State s;
  return s;
}

}  // namespace

bool parse_level(std::string_view name, Level& out) {
  static constexpr std::pair<const char*, Level> kNames[] = {
      {"trace", Level::trace}, {"debug", Level::debug}, {"info", Level::info},
      {"warn", Level::warn},   {"error", Level::error}, {"off", Level::off}};
  for (const auto& [n, l] : kNames) {
    if (name == n) {
      out = l;
      return true;
    }
  }
  return false;
}

const char* level_name(Level level) {
  switch (level) {
    case Level::trace:
      return "trace";
    case Level::debug:
      return "debug";
    case Level::info:
      return "info";
    case Level::warn:
      return "warn";
    case Level::error:
      return "error";
    case Level::off:
      return "off";
  }
  return "?";
}

void set_time_source(TimeSource now) {
  g_clock = now;
}
std::uint64_t now_ps() {
  return g_clock != nullptr ? g_clock() : 0;
}

void set_log_level(Level level) {
  detail::g_log_level = level;
}
std::uint64_t log_count(Level level) {
  return state().counts[static_cast<std::size_t>(level)];
}
void reset_log_counts() {
  state().counts.fill(0);
}

std::string format_time(std::uint64_t ps) {
  // Pick the largest unit that keeps at least one integer digit, three decimals.
  if (ps < 1000) return fmt::format("{}ps", ps);
  if (ps < 1000000) return fmt::format("{:.3f}ns", ps / 1e3);
  if (ps < 1000000000ULL) return fmt::format("{:.3f}us", ps / 1e6);
  if (ps < 1000000000000ULL) return fmt::format("{:.3f}ms", ps / 1e9);
  return fmt::format("{:.6f}s", ps / 1e12);
}

void log_line(Level level, std::string_view source, std::string_view message) {
  auto& s = state();
  s.counts[static_cast<std::size_t>(level)]++;
  if (level < detail::g_log_level) return;
  static constexpr char kTag[] = {'T', 'D', 'I', 'W', 'E', '-'};
  std::string line = fmt::format("[{} {}] {}: {}\n", kTag[static_cast<int>(level)],
                                 format_time(now_ps()), source, message);
  std::fputs(line.c_str(), stderr);
}

}  // namespace util
