#include "util/event_log.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "util/json.h"
#include "util/log.h"

namespace util {
namespace {
// Integers without a format string to parse (fmt::format_int).
template <typename T>
void append_number(std::string& out, T v) {
  const fmt::format_int f(v);
  out.append(f.data(), f.size());
}
}  // namespace

EventLog::~EventLog() {
  close();
}

bool EventLog::open(const std::string& path) {
  close();
  write_errno_ = 0;
  file_ = std::fopen(path.c_str(), "w");
  return file_ != nullptr;
}

std::string EventLog::close() {
  if (!file_) return {};
  write_held();
  if (std::fflush(file_) != 0 && write_errno_ == 0) write_errno_ = errno;
  if (std::fclose(file_) != 0 && write_errno_ == 0) write_errno_ = errno;
  file_ = nullptr;
  return write_errno_ != 0 ? std::strerror(write_errno_) : std::string();
}

void EventLog::flush() {
  if (file_) write_held();
  if (file_ && std::fflush(file_) != 0 && write_errno_ == 0) write_errno_ = errno;
}

void EventLog::emit(std::string_view src, std::string_view ev,
                    std::initializer_list<EventField> fields) {
  emit(src, ev, fields, {});
}

void EventLog::emit(std::string_view src, std::string_view ev,
                    std::initializer_list<EventField> fields,
                    std::initializer_list<EventField> more) {
  if (!file_) return;
  const std::uint64_t t = now_ps();
  // One buffer, reused: the line is appended in place (no string per field, no temporaries).
  std::string& line = line_;
  line.clear();
  line += R"({"t_ps":)";
  append_number(line, t);
  line += R"(,"src":")";
  append_json_escaped(line, src);
  line += R"(","ev":")";
  append_json_escaped(line, ev);
  line += '"';
  for (const auto* list : {&fields, &more}) {
    for (const auto& f : *list) {
      line += R"(,")";
      append_json_escaped(line, f.key);
      line += R"(":)";
      std::visit(
          [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, bool>) {
              line += v ? "true" : "false";
            } else if constexpr (std::is_same_v<T, std::string_view>) {
              line += '"';
              append_json_escaped(line, v);
              line += '"';
            } else {
              append_number(line, v);
            }
          },
          f.value);
    }
  }
  line += "}\n";
  ++count_;
  const int key = order_key_ ? order_key_() : -1;
  if (key < 0) {
    write_held();
    write(line.data(), line.size());
    return;
  }
  if (!held_.empty() && t != held_t_) write_held();
  held_t_ = t;
  held_.push_back({key, held_text_.size(), line.size()});
  held_text_ += line;
}

void EventLog::write(const char* data, std::size_t size) {
  if (std::fwrite(data, 1, size, file_) != size && write_errno_ == 0) write_errno_ = errno;
}

void EventLog::write_held() {
  if (held_.empty()) return;
  std::stable_sort(held_.begin(), held_.end(),
                   [](const Held& a, const Held& b) { return a.key < b.key; });
  for (const auto& h : held_) write(held_text_.data() + h.offset, h.size);
  held_.clear();
  held_text_.clear();
}

}  // namespace util
