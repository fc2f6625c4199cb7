#include "util/event_log.h"

#include <fmt/format.h>

#include "util/json.h"
#include "util/log.h"

namespace util {

EventLog::~EventLog() {
  close();
}

bool EventLog::open(const std::string& path) {
  close();
  file_ = std::fopen(path.c_str(), "w");
  return file_ != nullptr;
}

void EventLog::close() {
  if (file_) std::fclose(file_);
  file_ = nullptr;
}

void EventLog::flush() {
  if (file_) std::fflush(file_);
}

void EventLog::emit(std::string_view src, std::string_view ev,
                    std::initializer_list<EventField> fields) {
  if (!file_) return;
  std::string line = fmt::format(R"({{"t_ps":{},"src":"{}","ev":"{}")", now_ps(), json_escape(src),
                                 json_escape(ev));
  for (const auto& f : fields) {
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
  line += "}\n";
  std::fputs(line.c_str(), file_);
  ++count_;
}

EventLog& events() {
  static EventLog log;
  return log;
}

}  // namespace util
