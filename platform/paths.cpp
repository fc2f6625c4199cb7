#include "platform/paths.h"

#include <filesystem>

#include <fmt/format.h>

#include "platform/config.h"

namespace platform {

bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  if (std::filesystem::is_character_file(a, ec) || std::filesystem::is_character_file(b, ec))
    return false;
  if (std::filesystem::equivalent(a, b, ec) && !ec) return true;
  // Absolute first: weakly_canonical leaves a relative path none of which exists relative
  // ("x.img" and "./x.img" would differ).
  const auto ca = std::filesystem::weakly_canonical(std::filesystem::absolute(a, ec), ec);
  if (ec) return false;
  const auto cb = std::filesystem::weakly_canonical(std::filesystem::absolute(b, ec), ec);
  return !ec && ca == cb;
}

void check_files(const std::vector<FileRole>& files) {
  for (std::size_t i = 0; i < files.size(); ++i) {
    for (std::size_t j = 0; j < files.size(); ++j) {
      const FileRole& a = files[i];
      const FileRole& b = files[j];
      if (j == i || a.path.empty() || b.path.empty()) continue;
      if (!a.output && !a.in_place) continue;
      if (a.output && b.output && j > i) continue;
      if (a.in_place && (b.output || (b.in_place && j > i))) continue;
      if (!same_file(a.path, b.path)) continue;
      const std::string subject =
          a.where.empty() ? a.label : fmt::format("{}: key '{}'", a.where, a.label);
      const std::string other =
          b.where.empty() ? b.label : fmt::format("{} ({})", b.label, b.where);
      throw ConfigError(fmt::format(
          "{}: {} is also {}: {}", subject, a.path, other,
          a.output ? "refusing to overwrite it" : "a file written in place is one key's alone"));
    }
  }
}

}  // namespace platform
