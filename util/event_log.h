#pragma once
// The event log: JSON lines, one event a line, {"t_ps":<int>,"src":"<path>","ev":"<name>",...}.
// Emitting is a no-op unless the platform opened a file or attached a sink, so models may call
// it on hot paths behind `events().enabled()`. Schema: docs/event-log.md.
#include <cstdint>
#include <cstdio>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "util/out_buffer.h"

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

// One event as a sink sees it: views valid only during the call.
struct Event {
  std::uint64_t t_ps = 0;
  std::string_view src, ev;
  const EventField* fields = nullptr;
  std::size_t field_count = 0;

  const EventField* find(std::string_view key) const {
    for (std::size_t i = 0; i < field_count; ++i)
      if (fields[i].key == key) return &fields[i];
    return nullptr;
  }
  bool has(std::string_view key) const { return find(key) != nullptr; }
  // A string field's text ("" if absent or not a string).
  std::string_view text(std::string_view key) const;
  // An integer field (negative ones wrap), a bool as 0/1; 0 if absent or a string.
  std::uint64_t number(std::string_view key) const;
};

// A consumer of the events besides the file (the Perfetto trace written during a run). It sees
// them in the file's order: each instant's processor events sorted as the file has them.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void event(const Event& e) = 0;
};

class EventLog {
 public:
  ~EventLog();
  // Returns false (and leaves the log closed) if the file cannot be opened.
  bool open(const std::string& path);
  // Delivers the held events and closes the file. Returns "" if every line reached it, else why
  // not (a full disk).
  std::string close();
  // Events also go to `sink` (nullptr: none) until it is detached; not owned.
  void attach(EventSink* sink);
  bool enabled() const { return enabled_; }
  // Delivers the held events (to the file's buffer and the sink) and flushes the file.
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
  void deliver(const Event& e);  // to the file's buffer and the sink
  void format(const Event& e);   // appends its line to out_
  void hold(int key, const Event& e);
  void deliver_held();  // the held events of one instant, in processor order
  void drain();         // out_ to the file

  std::FILE* file_ = nullptr;
  EventSink* sink_ = nullptr;
  bool enabled_ = false;
  std::function<int()> order_key_;
  // Lines not yet written to the file, written in large pieces (one fwrite per line cost more
  // than composing the line).
  OutBuffer out_;
  std::uint64_t time_ps_ = 0;  // the last line's time, and its digits
  char time_text_[24] = {};
  std::size_t time_size_ = 0;
  // Processors' events of the instant held_t_, not yet delivered: copied (their strings into
  // held_text_), because the emitter's strings do not outlive the call.
  struct HeldField {
    std::size_t key_at, key_size;
    int type;  // EventValue's index
    std::uint64_t number;
    std::size_t text_at, text_size;
  };
  struct Held {
    int key;
    std::size_t src_at, src_size, ev_at, ev_size;
    std::size_t first_field, field_count;
  };
  std::vector<Held> held_;
  std::vector<HeldField> held_fields_;
  std::string held_text_;
  std::vector<EventField> replay_;  // one held event's fields, rebuilt for delivery
  std::vector<EventField> joined_;  // an emitted event's two field lists as one
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
