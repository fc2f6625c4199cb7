#include "util/json.h"

#include <array>
#include <cmath>
#include <iterator>

#include <fmt/format.h>

namespace util {

void append_json_escaped(std::string& out, std::string_view s) {
  // Most text needs no escape: appended in runs between the characters that do.
  static constexpr auto kEscaped = [] {
    std::array<bool, 256> t{};
    for (unsigned c = 0; c < 0x20; ++c) t[c] = true;
    t['"'] = t['\\'] = true;
    return t;
  }();
  std::size_t run = 0;
  while (run < s.size() && !kEscaped[static_cast<unsigned char>(s[run])]) ++run;
  out.append(s.data(), run);
  if (run == s.size()) return;
  s.remove_prefix(run);
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out += c;
        }
    }
  }
}

std::string json_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  append_json_escaped(out, s);
  return out;
}

void JsonWriter::newline() {
  if (!pretty_) return;
  out_ += '\n';
  out_.append(2 * first_.size(), ' ');
}

void JsonWriter::separate(std::string_view key) {
  if (!first_.empty()) {
    if (!first_.back()) out_ += ',';
    first_.back() = false;
    newline();
  }
  if (!key.empty()) {
    out_ += '"';
    out_ += json_escape(key);
    out_ += pretty_ ? "\": " : "\":";
  }
}

JsonWriter& JsonWriter::begin_object(std::string_view key) {
  separate(key);
  out_ += '{';
  first_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::end_object() {
  bool empty = first_.back();
  first_.pop_back();
  if (!empty) newline();
  out_ += '}';
  return *this;
}

JsonWriter& JsonWriter::begin_array(std::string_view key) {
  separate(key);
  out_ += '[';
  first_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::end_array() {
  bool empty = first_.back();
  first_.pop_back();
  if (!empty) newline();
  out_ += ']';
  return *this;
}

JsonWriter& JsonWriter::field(std::string_view key, std::string_view v) {
  separate(key);
  out_ += '"';
  out_ += json_escape(v);
  out_ += '"';
  return *this;
}

JsonWriter& JsonWriter::null_field(std::string_view key) {
  separate(key);
  out_ += "null";
  return *this;
}

JsonWriter& JsonWriter::field(std::string_view key, bool v) {
  separate(key);
  out_ += v ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::field(std::string_view key, double v) {
  separate(key);
  // JSON has no NaN or infinity; null is the honest rendering of "no value".
  out_ += std::isfinite(v) ? fmt::format("{}", v) : "null";
  return *this;
}

JsonWriter& JsonWriter::field(std::string_view key, std::uint64_t v) {
  separate(key);
  out_ += fmt::format("{}", v);
  return *this;
}

JsonWriter& JsonWriter::field(std::string_view key, std::int64_t v) {
  separate(key);
  out_ += fmt::format("{}", v);
  return *this;
}

JsonWriter& JsonWriter::value(std::uint64_t v) {
  return field({}, v);
}
JsonWriter& JsonWriter::value(double v) {
  return field({}, v);
}
JsonWriter& JsonWriter::value(std::string_view v) {
  return field({}, v);
}

}  // namespace util
