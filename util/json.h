#pragma once
// A small streaming JSON writer: the event log and the statistics are flat enough not to need a
// DOM.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace util {

std::string json_escape(std::string_view s);
// The same, appended to `out` (no string of its own: the event log's hot path).
void append_json_escaped(std::string& out, std::string_view s);

class JsonWriter {
 public:
  // pretty: newline and indent per member (statistics); compact: one line (event log).
  explicit JsonWriter(bool pretty = false) : pretty_(pretty) {}

  JsonWriter& begin_object(std::string_view key = {});
  JsonWriter& end_object();
  JsonWriter& begin_array(std::string_view key = {});
  JsonWriter& end_array();

  JsonWriter& field(std::string_view key, std::string_view v);
  JsonWriter& field(std::string_view key, const char* v) { return field(key, std::string_view(v)); }
  JsonWriter& field(std::string_view key, const std::string& v) {
    return field(key, std::string_view(v));
  }
  JsonWriter& field(std::string_view key, bool v);
  JsonWriter& null_field(std::string_view key);  // "key": null (a value that is missing)
  JsonWriter& field(std::string_view key, double v);
  JsonWriter& field(std::string_view key, std::uint64_t v);
  JsonWriter& field(std::string_view key, std::int64_t v);
  JsonWriter& field(std::string_view key, unsigned v) { return field(key, std::uint64_t{v}); }
  JsonWriter& field(std::string_view key, int v) { return field(key, std::int64_t{v}); }
  // Array elements.
  JsonWriter& value(std::uint64_t v);
  JsonWriter& value(double v);
  JsonWriter& value(std::string_view v);

  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void separate(std::string_view key);
  void newline();

  bool pretty_;
  std::string out_;
  std::vector<bool> first_;  // per open container: no member written yet
};

}  // namespace util
