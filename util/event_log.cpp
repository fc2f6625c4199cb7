#include "util/event_log.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "util/json.h"
#include "util/log.h"

namespace util {

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
  std::string line =
      fmt::format(R"({{"t_ps":{},"src":"{}","ev":"{}")", t, json_escape(src), json_escape(ev));
  for (const auto* list : {&fields, &more}) {
    for (const auto& f : *list) {
      line += fmt::format(R"(,"{}":)", json_escape(f.key));
      std::visit(
          [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, bool>) {
              line += v ? "true" : "false";
            } else if constexpr (std::is_same_v<T, std::string_view>) {
              line += '"' + json_escape(v) + '"';
            } else {
              line += fmt::format("{}", v);
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
    write(line);
    return;
  }
  if (!held_.empty() && t != held_t_) write_held();
  held_t_ = t;
  held_.push_back({key, std::move(line)});
}

void EventLog::write(const std::string& line) {
  if (std::fputs(line.c_str(), file_) == EOF && write_errno_ == 0) write_errno_ = errno;
}

void EventLog::write_held() {
  if (held_.empty()) return;
  std::stable_sort(held_.begin(), held_.end(),
                   [](const Held& a, const Held& b) { return a.key < b.key; });
  for (const auto& h : held_) write(h.line);
  held_.clear();
}

}  // namespace util
