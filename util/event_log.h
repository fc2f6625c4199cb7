#pragma once
// The event log: JSON lines, one event a line, {"t_ps":<int>,"src":"<path>","ev":"<name>",...}.
// Emitting is a no-op unless the platform opened a file, so models may call it on hot paths
// behind `events().enabled()`. Schema: docs/event-log.md.
#include <cstdint>
#include <cstdio>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace util {

using EventValue = std::variant<std::int64_t, std::uint64_t, bool, std::string_view>;

struct EventField {
  std::string_view key;
  EventValue value;
  EventField(std::string_view k, std::uint64_t v) : key(k), value(v) {}
  EventField(std::string_view k, unsigned v) : key(k), value(std::uint64_t{v}) {}
  EventField(std::string_view k, std::int64_t v) : key(k), value(v) {}
  EventField(std::string_view k, int v) : key(k), value(std::int64_t{v}) {}
  EventField(std::string_view k, bool v) : key(k), value(v) {}
  EventField(std::string_view k, std::string_view v) : key(k), value(v) {}
  EventField(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  EventField(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
};

class EventLog {
 public:
  ~EventLog();
  // Returns false (and leaves the log closed) if the file cannot be opened.
  bool open(const std::string& path);
  // Closes the file. Returns "" if every line reached it, else why not (a full disk).
  std::string close();
  bool enabled() const { return file_ != nullptr; }
  void flush();
  std::uint64_t count() const { return count_; }

  void emit(std::string_view src, std::string_view ev,
            std::initializer_list<EventField> fields = {});
  // The same line with `more` fields after `fields` (for emitters that add some only at times).
  void emit(std::string_view src, std::string_view ev, std::initializer_list<EventField> fields,
            std::initializer_list<EventField> more);

  // Who emits the next event: a processor's number, or -1 for a model's own process. Events of
  // several processors at one instant are written in processor order (each processor's in the
  // order it emitted them), not in the order the simulator happened to run the processors,
  // which whatever is traced can change. Unset: the order of emission.
  void set_order_key(std::function<int()> key) { order_key_ = std::move(key); }

 private:
  void write(const char* data, std::size_t size);
  void write_held();  // the held events of one instant, in processor order
  std::FILE* file_ = nullptr;
  std::function<int()> order_key_;
  std::string line_;  // the line being composed, reused
  struct Held {
    int key;
    std::size_t offset, size;  // in held_text_
  };
  std::vector<Held> held_;  // processors' events of the instant held_t_, not yet written
  std::string held_text_;   // their lines, one after another
  std::uint64_t held_t_ = 0;
  std::uint64_t count_ = 0;
  int write_errno_ = 0;  // the first failed write's errno (0: none)
};

// The process-wide event log (one simulation per process). Inline: models ask
// `events().enabled()` on hot paths.
inline EventLog& events() {
  static EventLog log;
  return log;
}

}  // namespace util
