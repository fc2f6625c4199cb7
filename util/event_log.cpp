#include "util/event_log.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "util/log.h"
#include "util/out_buffer.h"

namespace util {
namespace {

constexpr std::size_t kDrainAt = 64 * 1024;  // out_ is written to the file past this size

}  // namespace

std::string_view Event::text(std::string_view key) const {
  const EventField* f = find(key);
  if (f == nullptr) return {};
  const auto* s = std::get_if<std::string_view>(&f->value);
  return s != nullptr ? *s : std::string_view();
}

std::uint64_t Event::number(std::string_view key) const {
  const EventField* f = find(key);
  if (f == nullptr) return 0;
  switch (f->value.index()) {
    case 0:
      return static_cast<std::uint64_t>(std::get<std::int64_t>(f->value));
    case 1:
      return std::get<std::uint64_t>(f->value);
    case 2:
      return std::get<bool>(f->value) ? 1 : 0;
    default:
      return 0;
  }
}

EventLog::~EventLog() {
  close();
}

bool EventLog::open(const std::string& path) {
  close();
  write_errno_ = 0;
  file_ = std::fopen(path.c_str(), "w");
  enabled_ = file_ != nullptr || sink_ != nullptr;
  return file_ != nullptr;
}

std::string EventLog::close() {
  deliver_held();  // to the sink as well, with or without a file
  if (!file_) return {};
  drain();
  if (std::fflush(file_) != 0 && write_errno_ == 0) write_errno_ = errno;
  if (std::fclose(file_) != 0 && write_errno_ == 0) write_errno_ = errno;
  file_ = nullptr;
  enabled_ = sink_ != nullptr;
  return write_errno_ != 0 ? std::strerror(write_errno_) : std::string();
}

void EventLog::attach(EventSink* sink) {
  deliver_held();  // what was held goes where the log went when it was emitted
  sink_ = sink;
  enabled_ = file_ != nullptr || sink_ != nullptr;
}

void EventLog::flush() {
  deliver_held();
  if (!file_) return;
  drain();
  if (std::fflush(file_) != 0 && write_errno_ == 0) write_errno_ = errno;
}

void EventLog::emit(std::string_view src, std::string_view ev,
                    std::initializer_list<EventField> fields) {
  emit(src, ev, fields, {});
}

void EventLog::emit(std::string_view src, std::string_view ev,
                    std::initializer_list<EventField> fields,
                    std::initializer_list<EventField> more) {
  if (!enabled_) return;
  Event e;
  e.t_ps = now_ps();
  e.src = src;
  e.ev = ev;
  ++count_;
  const int key = order_key_ ? order_key_() : -1;
  // The two lists as one: a list alone as it is, both copied into a buffer kept for it.
  if (more.size() == 0) {
    e.fields = fields.begin();
    e.field_count = fields.size();
  } else if (fields.size() == 0) {
    e.fields = more.begin();
    e.field_count = more.size();
  } else {
    joined_.assign(fields.begin(), fields.end());
    joined_.insert(joined_.end(), more.begin(), more.end());
    e.fields = joined_.data();
    e.field_count = joined_.size();
  }
  if (key < 0) {
    if (!held_.empty()) deliver_held();
    deliver(e);
    return;
  }
  if (!held_.empty() && e.t_ps != held_t_) deliver_held();
  held_t_ = e.t_ps;
  hold(key, e);
}

void EventLog::deliver(const Event& e) {
  if (file_) format(e);
  if (sink_) sink_->event(e);
}

void EventLog::format(const Event& e) {
  // Room for the line at its longest, then written in place.
  std::size_t bound = 64 + json_escaped_bound(e.src) + json_escaped_bound(e.ev);
  for (std::size_t i = 0; i < e.field_count; ++i) {
    const auto& f = e.fields[i];
    bound += 32 + json_escaped_bound(f.key);
    if (const auto* s = std::get_if<std::string_view>(&f.value)) bound += json_escaped_bound(*s);
  }
  char* p = out_.room(bound);
  p = put(p, R"({"t_ps":)");
  // Events come in runs at one instant: its digits are made once (copied as a whole block; the
  // bound leaves room for it).
  if (e.t_ps != time_ps_ || time_size_ == 0) {
    time_ps_ = e.t_ps;
    time_size_ = static_cast<std::size_t>(put_number(time_text_, e.t_ps) - time_text_);
  }
  std::memcpy(p, time_text_, sizeof time_text_);
  p += time_size_;
  p = put(p, R"(,"src":")");
  p = put_json_escaped(p, e.src);
  p = put(p, R"(","ev":")");
  p = put_json_escaped(p, e.ev);
  *p++ = '"';
  for (std::size_t i = 0; i < e.field_count; ++i) {
    const auto& f = e.fields[i];
    p = put(p, R"(,")");
    p = put_json_escaped(p, f.key);
    p = put(p, R"(":)");
    switch (f.value.index()) {
      case 0:
        p = put_number(p, std::get<std::int64_t>(f.value));
        break;
      case 1:
        p = put_number(p, std::get<std::uint64_t>(f.value));
        break;
      case 2:
        p = std::get<bool>(f.value) ? put(p, "true") : put(p, "false");
        break;
      default:
        *p++ = '"';
        p = put_json_escaped(p, std::get<std::string_view>(f.value));
        *p++ = '"';
    }
  }
  p = put(p, "}\n");
  out_.commit(p);
  if (out_.size() >= kDrainAt) drain();
}

void EventLog::hold(int key, const Event& e) {
  auto text = [&](std::string_view s) {
    const std::size_t at = held_text_.size();
    held_text_.append(s.data(), s.size());
    return at;
  };
  Held h{key,         text(e.src),         e.src.size(), text(e.ev),
         e.ev.size(), held_fields_.size(), e.field_count};
  for (std::size_t i = 0; i < e.field_count; ++i) {
    const auto& f = e.fields[i];
    HeldField hf{text(f.key), f.key.size(), static_cast<int>(f.value.index()), 0, 0, 0};
    switch (f.value.index()) {
      case 0:
        hf.number = static_cast<std::uint64_t>(std::get<std::int64_t>(f.value));
        break;
      case 1:
        hf.number = std::get<std::uint64_t>(f.value);
        break;
      case 2:
        hf.number = std::get<bool>(f.value) ? 1 : 0;
        break;
      default: {
        const auto s = std::get<std::string_view>(f.value);
        hf.text_at = text(s);
        hf.text_size = s.size();
      }
    }
    held_fields_.push_back(hf);
  }
  held_.push_back(h);
}

void EventLog::deliver_held() {
  if (held_.empty()) return;
  // Mostly one processor's events, already in order: sorted only when they are not.
  const auto by_key = [](const Held& a, const Held& b) { return a.key < b.key; };
  if (!std::is_sorted(held_.begin(), held_.end(), by_key))
    std::stable_sort(held_.begin(), held_.end(), by_key);
  const char* base = held_text_.data();
  auto view = [&](std::size_t at, std::size_t size) { return std::string_view(base + at, size); };
  for (const auto& h : held_) {
    replay_.clear();
    for (std::size_t i = 0; i < h.field_count; ++i) {
      const HeldField& f = held_fields_[h.first_field + i];
      const std::string_view key = view(f.key_at, f.key_size);
      switch (f.type) {
        case 0:
          replay_.emplace_back(key, static_cast<std::int64_t>(f.number));
          break;
        case 1:
          replay_.emplace_back(key, f.number);
          break;
        case 2:
          replay_.emplace_back(key, f.number != 0);
          break;
        default:
          replay_.emplace_back(key, view(f.text_at, f.text_size));
      }
    }
    Event e;
    e.t_ps = held_t_;
    e.src = view(h.src_at, h.src_size);
    e.ev = view(h.ev_at, h.ev_size);
    e.fields = replay_.data();
    e.field_count = replay_.size();
    deliver(e);
  }
  held_.clear();
  held_fields_.clear();
  held_text_.clear();
}

void EventLog::drain() {
  if (out_.size() == 0) return;
  if (std::fwrite(out_.data(), 1, out_.size(), file_) != out_.size() && write_errno_ == 0)
    write_errno_ = errno;
  out_.clear();
}

}  // namespace util
