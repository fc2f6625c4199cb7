#include "util/units.h"

#include <cctype>
#include <cmath>

#include <fmt/format.h>

namespace util {
namespace {

// Splits "1.5us" into a non-negative decimal number and the unit that follows it.
bool split_number(std::string_view text, long double& number, std::string& unit) {
  std::string t = trim(text);
  std::size_t i = 0;
  bool digits = false;
  while (i < t.size() && (std::isdigit(static_cast<unsigned char>(t[i])) || t[i] == '.')) {
    digits |= t[i] != '.';
    ++i;
  }
  if (!digits) return false;
  std::string num = t.substr(0, i);
  if (num.find('.') != num.rfind('.')) return false;
  try {
    number = std::stold(num);
  } catch (...) {
    return false;
  }
  std::size_t u = i;
  while (u < t.size() && t[u] == ' ') ++u;
  unit = t.substr(u);
  return true;
}

bool scaled(long double number, long double scale, std::uint64_t& out) {
  long double v = number * scale;
  if (v > 1.8e19L) return false;
  long double r = std::roundl(v);
  // A value that does not land on a whole unit (0.5ps) is a typo, not a rounding request.
  if (std::fabs(static_cast<double>(v - r)) > 1e-6 * std::max<long double>(1.0L, v)) return false;
  out = static_cast<std::uint64_t>(r);
  return true;
}

}  // namespace

std::string trim(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

bool parse_u64(std::string_view text, std::uint64_t& out) {
  std::string t = trim(text);
  unsigned base = 10;
  std::size_t i = 0;
  if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
    base = 16;
    i = 2;
  } else if (t.size() > 2 && t[0] == '0' && (t[1] == 'b' || t[1] == 'B')) {
    base = 2;
    i = 2;
  }
  if (i >= t.size()) return false;
  std::uint64_t v = 0;
  bool any = false;
  for (; i < t.size(); ++i) {
    char c = t[i];
    if (c == '_' && any) continue;
    unsigned d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      d = c - 'A' + 10;
    else
      return false;
    if (d >= base) return false;
    if (v > (UINT64_MAX - d) / base) return false;
    v = v * base + d;
    any = true;
  }
  if (!any) return false;
  out = v;
  return true;
}

bool parse_duration_ps(std::string_view text, std::uint64_t& out) {
  long double n;
  std::string unit;
  if (!split_number(text, n, unit)) return false;
  if (unit.empty()) {
    if (n != 0) return false;  // a bare non-zero number has no unit: ambiguous, reject
    out = 0;
    return true;
  }
  static constexpr std::pair<const char*, long double> kUnits[] = {
      {"ps", 1}, {"ns", 1e3L}, {"us", 1e6L}, {"\u00b5s", 1e6L}, {"ms", 1e9L}, {"s", 1e12L}};
  for (const auto& [name, scale] : kUnits) {
    if (unit == name) return scaled(n, scale, out);
  }
  return false;
}

bool parse_frequency_hz(std::string_view text, std::uint64_t& out) {
  long double n;
  std::string unit;
  if (!split_number(text, n, unit)) return false;
  static constexpr std::pair<const char*, long double> kUnits[] = {
      {"Hz", 1}, {"kHz", 1e3L}, {"MHz", 1e6L}, {"GHz", 1e9L}};
  for (const auto& [name, scale] : kUnits) {
    if (unit == name) return scaled(n, scale, out) && out > 0;
  }
  return false;
}

bool parse_size(std::string_view text, std::uint64_t& out) {
  if (parse_u64(text, out)) return true;
  long double n;
  std::string unit;
  if (!split_number(text, n, unit)) return false;
  static constexpr std::pair<const char*, long double> kUnits[] = {
      {"B", 1}, {"KiB", 1024.0L}, {"MiB", 1048576.0L}, {"GiB", 1073741824.0L}};
  for (const auto& [name, scale] : kUnits) {
    if (unit == name) return scaled(n, scale, out);
  }
  return false;
}

bool parse_bool(std::string_view text, bool& out) {
  std::string t = trim(text);
  if (t == "true" || t == "yes" || t == "on" || t == "1") {
    out = true;
    return true;
  }
  if (t == "false" || t == "no" || t == "off" || t == "0") {
    out = false;
    return true;
  }
  return false;
}

std::string format_hz(std::uint64_t hz) {
  if (hz % 1000000 == 0) return fmt::format("{}MHz", hz / 1000000);
  if (hz % 1000 == 0) return fmt::format("{}kHz", hz / 1000);
  return fmt::format("{}Hz", hz);
}

std::string format_size(std::uint64_t bytes) {
  for (auto [unit, scale] : {std::pair{"GiB", 30}, std::pair{"MiB", 20}, std::pair{"KiB", 10}})
    if (bytes != 0 && bytes % (std::uint64_t{1} << scale) == 0)
      return std::to_string(bytes >> scale) + unit;
  return std::to_string(bytes) + "B";
}

}  // namespace util
