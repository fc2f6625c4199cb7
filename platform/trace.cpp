// iocosim trace: a run's event log as the Trace Event Format that ui.perfetto.dev and
// chrome://tracing open (the JSON "traceEvents" form), the WPA / LatencyMon-style view:
//   - per CPU one track of nested slices: the running thread, and over it the ISRs and DPCs
//     that interrupt it, named by routine; and a counter track of the CPU's IRQL;
//   - per device model a track of its commands (command .. complete) and per DMA channel one of
//     its transfers (start .. terminal count);
//   - per I/O request a flow: from the system service on the calling thread's track, through
//     each driver's dispatch (a track per device object), completion and its routines, back to
//     the thread resuming.
// Timestamps are simulated time in microseconds, written to the picosecond.
// One builder makes it from events: those of a running simulation as they happen (run --trace,
// an util::EventSink, no event log needed), or an old log's lines parsed back into events
// (iocosim trace); the same events give the same bytes.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <fmt/compile.h>
#include <fmt/format.h>

#include "platform/child.h"
#include "platform/commands.h"
#include "platform/config.h"
#include "platform/simulation.h"
#include "platform/trace.h"
#include "util/out_buffer.h"

namespace platform {
namespace {

// One event-log line parsed back into an event: its strings unescaped into `text` (reserved
// to the line's size first, so the views into it stay valid), numbers and booleans typed as
// they were emitted; nested values (a bug check's context list) kept as their raw text.
// Returns false on a malformed line.
struct ParsedLine {
  std::string text;
  std::vector<util::EventField> fields;
  util::Event event;
};

bool parse_line(const std::string& line, ParsedLine& out) {
  out.text.clear();
  out.text.reserve(line.size());
  out.fields.clear();
  std::size_t i = 0;
  auto ws = [&] {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
  };
  auto string = [&](std::string_view& view) {
    if (i >= line.size() || line[i] != '"') return false;
    ++i;
    const std::size_t from = out.text.size();
    while (i < line.size() && line[i] != '"') {
      if (line[i] == '\\' && i + 1 < line.size()) {
        const char c = line[++i];
        if (c == 'u') {
          // \u00XX (the log writes control characters so) back to the character; others '?'.
          const unsigned long u =
              i + 4 < line.size() ? std::strtoul(line.substr(i + 1, 4).c_str(), nullptr, 16) : 0;
          out.text += u > 0 && u < 0x80 ? static_cast<char>(u) : '?';
          i += 4;
        } else {
          out.text += c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c;
        }
      } else {
        out.text += line[i];
      }
      ++i;
    }
    if (i >= line.size()) return false;
    ++i;
    view = std::string_view(out.text).substr(from);
    return true;
  };
  bool has_t = false;
  util::Event& e = out.event;
  e = util::Event();
  ws();
  if (i >= line.size() || line[i] != '{') return false;
  ++i;
  for (;;) {
    ws();
    if (i < line.size() && line[i] == '}') break;
    std::string_view key;
    if (!string(key)) return false;
    ws();
    if (i >= line.size() || line[i] != ':') return false;
    ++i;
    ws();
    if (i < line.size() && line[i] == '"') {
      std::string_view value;
      if (!string(value)) return false;
      if (key == "src") {
        e.src = value;
      } else if (key == "ev") {
        e.ev = value;
      } else {
        out.fields.emplace_back(key, value);
      }
    } else {
      int depth = 0;
      const std::size_t from = i;
      for (; i < line.size(); ++i) {
        const char c = line[i];
        if (c == '[' || c == '{') ++depth;
        if (c == ']' || c == '}') {
          if (depth == 0) break;
          --depth;
        }
        if (c == ',' && depth == 0) break;
      }
      std::string raw = line.substr(from, i - from);
      while (!raw.empty() && raw.back() == ' ') raw.pop_back();
      const bool negative = !raw.empty() && raw[0] == '-';
      const bool integer =
          raw.size() > (negative ? 1u : 0u) &&
          raw.find_first_not_of("0123456789", negative ? 1 : 0) == std::string::npos;
      if (key == "t_ps") {
        if (!integer || negative) return false;
        e.t_ps = std::strtoull(raw.c_str(), nullptr, 10);
        has_t = true;
      } else if (integer && negative) {
        out.fields.emplace_back(key,
                                static_cast<std::int64_t>(std::strtoll(raw.c_str(), nullptr, 10)));
      } else if (integer) {
        out.fields.emplace_back(
            key, static_cast<std::uint64_t>(std::strtoull(raw.c_str(), nullptr, 10)));
      } else if (raw == "true" || raw == "false") {
        out.fields.emplace_back(key, raw == "true");
      } else {
        const std::size_t at = out.text.size();
        out.text += raw;
        out.fields.emplace_back(key, std::string_view(out.text).substr(at));
      }
    }
    ws();
    if (i < line.size() && line[i] == ',') {
      ++i;
      continue;
    }
    if (i < line.size() && line[i] == '}') break;
    return false;
  }
  if (!has_t || e.src.empty() || e.ev.empty()) return false;
  e.fields = out.fields.data();
  e.field_count = out.fields.size();
  return true;
}

// A field's value as the event log writes it (a string without its quotes), made without
// allocating: a number is formatted into the object itself.
class Value {
 public:
  Value(const util::Event& e, std::string_view key) {
    const util::EventField* f = e.find(key);
    if (f == nullptr) return;
    switch (f->value.index()) {
      case 0:
        view_ = {buf_, static_cast<std::size_t>(
                           util::put_number(buf_, std::get<std::int64_t>(f->value)) - buf_)};
        break;
      case 1:
        view_ = {buf_, static_cast<std::size_t>(
                           util::put_number(buf_, std::get<std::uint64_t>(f->value)) - buf_)};
        break;
      case 2:
        view_ = std::get<bool>(f->value) ? "true" : "false";
        break;
      default:
        view_ = std::get<std::string_view>(f->value);
    }
  }
  Value(const Value&) = delete;
  Value& operator=(const Value&) = delete;
  std::string_view view() const { return view_; }
  operator std::string_view() const { return view_; }  // NOLINT: used as the text it is

 private:
  char buf_[24];
  std::string_view view_;
};

// C++17 builds the returned object in place: its view stays valid.
Value value(const util::Event& e, std::string_view key) {
  return Value(e, key);
}

using util::json_escaped_bound;
using util::put;
using util::put_json_escaped;

// Writes the trace as it goes (to a file it does not own): the trace of a long run is not
// held in memory. Each trace event is composed in place in one buffer (util/out_buffer.h).
class TraceWriter {
 public:
  // Process ids: CPUs, devices, I/O (each a group of tracks in the viewer).
  static constexpr int kCpus = 1, kDevices = 2, kIo = 3, kMemory = 4;

  explicit TraceWriter(std::FILE* out) : out_(out) {
    std::fputs(
        "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"source\":\"iocosim\"},"
        "\"traceEvents\":[\n",
        out_);
  }

  // A track's id, its metadata written the first time it is named.
  int track(int pid, std::string_view name) {
    // Events come in runs on one track (a request's steps on its device's): the last one asked
    // for is kept, no map search for it.
    if (pid == last_track_pid_ && name == last_track_name_) return last_track_tid_;
    const int tid = find_track(pid, name);
    last_track_pid_ = pid;
    last_track_name_.assign(name);
    last_track_tid_ = tid;
    return tid;
  }
  int find_track(int pid, std::string_view name) {
    auto& tracks = tids_[pid];
    const auto it = tracks.find(name);
    if (it != tracks.end()) return it->second;
    const int tid = next_tid_++;
    tracks.emplace(std::string(name), tid);
    meta("thread_name", pid, tid, name);
    meta("thread_sort_index", pid, tid, "", tid);
    return tid;
  }
  void process(int pid, std::string_view name) {
    meta("process_name", pid, 0, name);
    meta("process_sort_index", pid, 0, "", pid);
  }
  void begin(int pid, int tid, std::uint64_t t, std::string_view name, std::string_view cat,
             std::string_view args = {}) {
    char* p = named(start('B', pid, tid, t, name, cat.size() + args.size()), name);
    p = put(p, R"(,"cat":")");
    p = put(p, cat);
    *p++ = '"';
    finish_event(arguments(p, args));
  }
  // An end names the slice it ends: viewers that pair B and E by name (speedscope) need it.
  void end(int pid, int tid, std::uint64_t t, std::string_view name) {
    finish_event(named(start('E', pid, tid, t, name, 0), name));
  }
  // A request's lifetime as an async slice (its own track in the viewer, under the I/O
  // process): "b" when the I/O manager gets it, "e" when it is done.
  void async(const char* ph, std::uint64_t id, std::uint64_t t, std::string_view name,
             std::string_view args = {}) {
    char* p = room(name, args.size());
    p = put(p, R"({"ph":")");
    p = put(p, std::string_view(ph));
    p = put(p, R"(","pid":)");
    p = util::put_number(p, kIo);
    p = put(p, R"(,"tid":0,"ts":)");
    p = time(p, t);
    p = put(p, R"(,"id":)");
    p = util::put_number(p, id);
    p = named(p, name);
    p = put(p, R"(,"cat":"irp")");
    finish_event(arguments(p, args));
  }
  // A zero-length mark of an I/O step (a flow needs a slice to bind to).
  void mark(int pid, int tid, std::uint64_t t, std::string_view name, std::string_view args) {
    char* p = start('X', pid, tid, t, name, args.size());
    p = put(p, R"(,"dur":0.001)");
    p = named(p, name);
    p = put(p, R"(,"cat":"io","args":{)");
    p = put(p, args);
    *p++ = '}';
    finish_event(p);
  }
  // ph: "s" start, "t" step, "f" finish (bound to the enclosing slice).
  void flow(const char* ph, int pid, int tid, std::uint64_t t, std::uint64_t id) {
    char* p = start(ph[0], pid, tid, t, {}, 0);
    p = put(p, R"(,"id":)");
    p = util::put_number(p, id);
    p = put(p, R"(,"name":"IRP","cat":"irp")");
    if (ph[0] != 's') p = put(p, R"(,"bp":"e")");
    finish_event(p);
  }
  void counter(int pid, std::string_view name, std::uint64_t t, std::string_view value) {
    char* p = room(name, value.size());
    p = put(p, R"({"ph":"C","pid":)");
    p = util::put_number(p, pid);
    p = put(p, R"(,"ts":)");
    p = time(p, t);
    p = named(p, name);
    p = put(p, R"(,"args":{"IRQL":)");
    p = put(p, value);
    *p++ = '}';
    finish_event(p);
  }
  void finish() {
    buf_.commit(put(buf_.room(8), "\n]}\n"));
    drain();
  }

 private:
  // Room for an event: its fixed text, a name and `more` bytes; the separator from the last
  // event is written at once.
  char* room(std::string_view name, std::size_t more) {
    char* p = buf_.room(160 + json_escaped_bound(name) + more);
    if (!first_) p = put(p, ",\n");
    first_ = false;
    return p;
  }
  // {"ph":"PH","pid":P,"tid":T,"ts":TIME, with room for the name and `more` after it.
  char* start(char ph, int pid, int tid, std::uint64_t t, std::string_view name, std::size_t more) {
    char* p = room(name, more);
    p = put(p, R"({"ph":")");
    *p++ = ph;
    p = put(p, R"(","pid":)");
    p = util::put_number(p, pid);
    p = put(p, R"(,"tid":)");
    p = util::put_number(p, tid);
    p = put(p, R"(,"ts":)");
    return time(p, t);
  }
  void meta(const char* what, int pid, int tid, std::string_view name, int index = -1) {
    char* p = room(name, 0);
    p = fmt::format_to(p, FMT_COMPILE(R"({{"ph":"M","pid":{},"tid":{},"name":"{}","args":{{)"), pid,
                       tid, what);
    if (index >= 0) {
      p = fmt::format_to(p, FMT_COMPILE(R"("sort_index":{})"), index);
    } else {
      p = put(p, R"("name":")");
      p = put_json_escaped(p, name);
      *p++ = '"';
    }
    *p++ = '}';
    finish_event(p);
  }
  // Simulated time in microseconds, to the picosecond.
  // Trace events come in runs at one instant: its text is made once and copied as a block
  // (the room reserved leaves space for it).
  char* time(char* p, std::uint64_t ps) {
    if (ps != time_ps_ || time_size_ == 0) {
      time_ps_ = ps;
      char* end = util::put_number(time_text_, ps / 1'000'000);
      *end++ = '.';
      end = util::put_padded(end, ps % 1'000'000, 6);
      time_size_ = static_cast<std::size_t>(end - time_text_);
    }
    std::memcpy(p, time_text_, sizeof time_text_);
    return p + time_size_;
  }
  static char* named(char* p, std::string_view name) {
    p = put(p, R"(,"name":")");
    p = put_json_escaped(p, name);
    *p++ = '"';
    return p;
  }
  static char* arguments(char* p, std::string_view args) {
    if (args.empty()) return p;
    p = put(p, R"(,"args":{)");
    p = put(p, args);
    *p++ = '}';
    return p;
  }
  void finish_event(char* p) {
    *p++ = '}';
    buf_.commit(p);
    if (buf_.size() >= 64 * 1024) drain();
  }
  void drain() {
    std::fwrite(buf_.data(), 1, buf_.size(), out_);
    buf_.clear();
  }
  util::OutBuffer buf_;
  std::uint64_t time_ps_ = 0;  // the last event's time, and its text
  char time_text_[32] = {};
  std::size_t time_size_ = 0;
  std::map<std::string, int, std::less<>> tids_[kMemory + 1];  // per process, by track name
  int next_tid_ = 1;
  int last_track_pid_ = -1, last_track_tid_ = 0;  // track()'s last answer
  std::string last_track_name_;
  std::FILE* out_;
  bool first_ = true;
};

}  // namespace

// The trace is written to a new file beside its destination and renamed over it when
// complete: a failed or interrupted conversion never leaves a half trace (or an empty file)
// where the trace should be.
class TraceOutput::File {
 public:
  explicit File(const std::string& path) : path_(path) {
    const std::filesystem::path p(path);
    std::error_code ec;
    if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
    std::string pattern = path + ".partial-XXXXXX";
    const int fd = ::mkstemp(pattern.data());
    if (fd < 0)
      throw ConfigError(fmt::format("{}: cannot write the trace: {}", path, std::strerror(errno)));
    temp_ = pattern;
    // mkstemp makes the file private (0600); the trace gets the mode any new file would.
    const mode_t mask = ::umask(0);
    ::umask(mask);
    ::fchmod(fd, 0666 & ~mask);
    file_ = ::fdopen(fd, "wb");
  }
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File() {
    if (file_ != nullptr) std::fclose(file_);
    if (!temp_.empty()) std::remove(temp_.c_str());
  }
  std::FILE* file() { return file_; }
  // Closes and renames into place: "" or why it failed (the temporary file is then removed).
  std::string commit() {
    int err = std::ferror(file_) ? EIO : 0;
    if (std::fflush(file_) != 0 && err == 0) err = errno;
    if (std::fclose(std::exchange(file_, nullptr)) != 0 && err == 0) err = errno;
    if (err == 0 && std::rename(temp_.c_str(), path_.c_str()) != 0) err = errno;
    if (err != 0) return std::strerror(err);
    temp_.clear();
    return {};
  }

 private:
  std::string path_, temp_;
  std::FILE* file_ = nullptr;
};

// The trace's builder: each event, in the log's order, to slices, counters and flows.
class TraceOutput::Builder {
 public:
  explicit Builder(std::FILE* out) : w_(out) {
    w_.process(TraceWriter::kCpus, "CPUs");
    w_.process(TraceWriter::kDevices, "devices");
    w_.process(TraceWriter::kIo, "I/O requests");
    w_.process(TraceWriter::kMemory, "memory manager");
  }
  void event(const util::Event& e);
  void finish();
  std::uint64_t last_t() const { return last_t_; }
  std::size_t count() const { return count_; }

 private:
  struct Open {
    std::string name;
    const char* kind;  // "thread", "isr", "dpc"
  };
  // Text made for one trace event (a mark's name, its arguments): formatted into a buffer
  // kept from event to event, with no string of its own.
  template <typename... Args>
  std::string_view text(fmt::memory_buffer& b, Args&&... args) {
    b.clear();
    fmt::format_to(fmt::appender(b), std::forward<Args>(args)...);
    return {b.data(), b.size()};
  }
  // "ISR name" or "DPC name" (on every ISR and DPC: plain appends, no formatting).
  std::string_view routine_name(bool isr, std::string_view name) {
    routine_name_.assign(isr ? "ISR " : "DPC ");
    routine_name_.append(name);
    return routine_name_;
  }
  std::string routine_name_;

  // Where a DPC was last queued from an ISR (its CPU and time).
  struct Queued {
    unsigned cpu = 0;
    std::uint64_t t = 0;
  };
  int cpu_tid(unsigned cpu) {
    if (cpu >= cpu_tids_.size()) cpu_tids_.resize(cpu + 1, -1);
    if (cpu_tids_[cpu] < 0)
      cpu_tids_[cpu] = w_.track(TraceWriter::kCpus, fmt::format(FMT_COMPILE("cpu{}"), cpu));
    return cpu_tids_[cpu];
  }
  void close_to(unsigned cpu, std::size_t depth, std::uint64_t t) {
    auto& s = stacks_[cpu];
    while (s.size() > depth) {
      w_.end(TraceWriter::kCpus, cpu_tid(cpu), t, s.back().name);
      s.pop_back();
    }
  }
  int io_track(std::string_view name) { return w_.track(TraceWriter::kIo, name); }
  int thread_track(const util::Event& e) {
    return io_track(text(track_name_, FMT_COMPILE("thread {}"), value(e, "thread").view()));
  }
  void kernel(const util::Event& e);
  void io(const util::Event& e);
  void memory(const util::Event& e);
  void device(const util::Event& e);

  TraceWriter w_;
  // Per CPU, the open slices bottom first: the thread, then ISRs and DPCs over it.
  std::map<unsigned, std::vector<Open>> stacks_;
  std::vector<int> cpu_tids_;
  std::vector<std::string> irql_names_;
  // A device track's open command or transfer (its slice name), by track.
  std::map<std::string, std::string, std::less<>> busy_;
  // A request completed in a DPC passes through the ISR that queued that DPC, and its flow is
  // drawn through both on the CPU tracks.
  std::map<std::string, Queued> queued_by_isr_;
  // IRPs with an async slice open: its name (the end repeats it).
  std::map<std::uint64_t, std::string> lifetimes_;
  // Each IRP's device tracks by stack location (-1: a device without a name).
  std::map<std::uint64_t, std::vector<int>> irp_devices_;
  // IRPs whose flow has started, and whether a thread waits for it (a system service's
  // request ends at the thread; one the PnP manager or a driver sent ends when it is done).
  std::map<std::uint64_t, bool> flowing_;
  fmt::memory_buffer name_, args_, track_name_;
  std::uint64_t last_t_ = 0;
  std::size_t count_ = 0;
};

void TraceOutput::Builder::event(const util::Event& e) {
  last_t_ = e.t_ps;
  ++count_;
  if (e.src == "ke") {
    kernel(e);
  } else if (e.src == "io") {
    if (e.has("irp")) io(e);
  } else if (e.src == "mm") {
    memory(e);
  } else if (e.src.compare(0, 9, "platform.") == 0) {
    device(e);
  }
}

void TraceOutput::Builder::kernel(const util::Event& e) {
  const auto cpu = static_cast<unsigned>(e.number("cpu"));
  const std::string_view ev = e.ev;
  const std::uint64_t t = e.t_ps;
  // IRQL changes first: a third of all events.
  if (ev == "irql") {
    if (cpu >= irql_names_.size()) irql_names_.resize(cpu + 1);
    if (irql_names_[cpu].empty()) irql_names_[cpu] = fmt::format(FMT_COMPILE("cpu{} IRQL"), cpu);
    w_.counter(TraceWriter::kCpus, irql_names_[cpu], t, value(e, "to").view());
    return;
  }
  auto& s = stacks_[cpu];
  if (ev == "thread_switch") {
    close_to(cpu, 0, t);
    s.push_back({std::string(value(e, "to").view()), "thread"});
    w_.begin(TraceWriter::kCpus, cpu_tid(cpu), t, s.back().name, "thread");
  } else if (ev == "isr_enter" || ev == "dpc_enter") {
    const bool isr = ev == "isr_enter";
    const std::string_view name = routine_name(isr, value(e, "name").view());
    w_.begin(TraceWriter::kCpus, cpu_tid(cpu), t, name, isr ? "isr" : "dpc",
             isr ? text(args_, FMT_COMPILE(R"("irq":{},"irql":{})"), value(e, "irq").view(),
                        value(e, "irql").view())
                 : "");
    s.push_back({std::string(name), isr ? "isr" : "dpc"});
  } else if (ev == "isr_exit" || ev == "dpc_exit") {
    const std::string_view name = routine_name(ev == "isr_exit", value(e, "name").view());
    // Close down to the matching slice (anything above it was left open by a lost exit).
    for (std::size_t d = s.size(); d > 0; --d) {
      if (s[d - 1].name == name) {
        close_to(cpu, d - 1, t);
        break;
      }
    }
  } else if (ev == "dpc_queue") {
    if (!s.empty() && std::strcmp(s.back().kind, "isr") == 0)
      queued_by_isr_[fmt::format(FMT_COMPILE("DPC {}"), value(e, "name").view())] = {cpu, t};
  } else if (ev == "thread_exit") {
    if (!s.empty() && s.front().name == value(e, "thread").view()) close_to(cpu, 0, t);
  }
}

void TraceOutput::Builder::io(const util::Event& e) {
  const std::uint64_t irp = e.number("irp");
  const std::string_view ev = e.ev;
  const std::uint64_t t = e.t_ps;
  char args_text[32];  // "irp":N (on every I/O event: no formatting library)
  const std::string_view args(
      args_text,
      static_cast<std::size_t>(util::put_number(put(args_text, R"("irp":)"), irp) - args_text));
  // The first event of an IRP starts its flow; later ones are its steps.
  auto step = [&](int tid) {
    const auto [it, first] = flowing_.try_emplace(irp, false);
    w_.flow(first ? "s" : "t", TraceWriter::kIo, tid, t, irp);
  };
  // The request's lifetime: from the I/O manager taking it to its completion.
  auto live = [&](std::string_view major, std::string_view device) {
    if (lifetimes_.count(irp)) return;
    std::string name =
        fmt::format(FMT_COMPILE("IRP {} {}{}{}"), irp, major, device.empty() ? "" : " ", device);
    w_.async("b", irp, t, name, args);
    lifetimes_[irp] = std::move(name);
  };
  auto lifetime_ends = [&] {
    const auto it = lifetimes_.find(irp);
    if (it == lifetimes_.end()) return;
    w_.async("e", irp, t, it->second, args);
    lifetimes_.erase(it);
  };
  if (ev == "request") {
    const int tid = thread_track(e);
    const Value major = value(e, "major");
    w_.mark(TraceWriter::kIo, tid, t, text(name_, FMT_COMPILE("{} (IRP {})"), major.view(), irp),
            args);
    w_.flow("s", TraceWriter::kIo, tid, t, irp);
    flowing_[irp] = true;
    live(major, value(e, "device"));
  } else if (ev == "dispatch" || ev == "start_io") {
    const Value device = value(e, "device"), major = value(e, "major");
    const int tid = io_track(device);
    if (ev == "dispatch") {
      const auto loc = e.number("location");
      auto& v = irp_devices_[irp];
      if (v.size() <= loc) v.resize(loc + 1, -1);
      v[loc] = device.view().empty() ? -1 : tid;
    }
    live(major, device);
    w_.mark(TraceWriter::kIo, tid, t,
            text(name_, FMT_COMPILE("{} {} (IRP {})"), ev == "dispatch" ? "dispatch" : "StartIo",
                 major.view(), irp),
            args);
    step(tid);
  } else if (ev == "complete_request" || ev == "completion_routine") {
    const Value given = value(e, "device");
    const std::string_view device = given;
    int known = -1;  // the dispatch's track, for a completion that names no device
    if (device.empty()) {
      const auto loc = e.number("location");
      const auto& v = irp_devices_[irp];
      if (loc < v.size()) known = v[loc];
    }
    // Completed in a DPC: the flow passes through the ISR that queued it and the DPC, on
    // the CPU tracks that ran them (each step binds to the slice open there then).
    if (ev == "complete_request" && flowing_.count(irp)) {
      const auto cpu = static_cast<unsigned>(e.number("cpu"));
      const auto& st = stacks_[cpu];
      if (!st.empty() && std::strcmp(st.back().kind, "dpc") == 0) {
        const auto q = queued_by_isr_.find(st.back().name);
        if (q != queued_by_isr_.end())
          w_.flow("t", TraceWriter::kCpus, cpu_tid(q->second.cpu), q->second.t, irp);
        w_.flow("t", TraceWriter::kCpus, cpu_tid(cpu), t, irp);
      }
    }
    const int tid = !device.empty() ? io_track(device)
                    : known >= 0    ? known
                                    : io_track("I/O manager");
    w_.mark(TraceWriter::kIo, tid, t,
            text(name_, FMT_COMPILE("{} (IRP {}{}{})"),
                 ev == "complete_request" ? "complete" : "completion routine", irp,
                 e.has("status") ? ", " : "", value(e, "status").view()),
            args);
    step(tid);
  } else if (ev == "request_done") {
    const int tid = io_track("I/O manager");
    w_.mark(TraceWriter::kIo, tid, t,
            text(name_, FMT_COMPILE("done (IRP {}, {} bytes)"), irp, value(e, "bytes").view()),
            args);
    w_.flow("t", TraceWriter::kIo, tid, t, irp);
    lifetime_ends();
  } else if (ev == "thread_resumed") {
    const int tid = thread_track(e);
    w_.mark(TraceWriter::kIo, tid, t, text(name_, FMT_COMPILE("resumed (IRP {})"), irp), args);
    lifetime_ends();
    if (flowing_.count(irp)) w_.flow("f", TraceWriter::kIo, tid, t, irp);
    flowing_.erase(irp);
    irp_devices_.erase(irp);
  }
}

void TraceOutput::Builder::memory(const util::Event& e) {
  // A hard fault is a slice on its thread's I/O track, around the paging IRP it sends (whose
  // flow starts there); the other faults, trims and paging writes are marks of their own.
  const std::string_view ev = e.ev;
  const std::uint64_t t = e.t_ps;
  auto hex = [&](const char* key) { return fmt::format(FMT_COMPILE("{:#x}"), e.number(key)); };
  if (ev == "paging_read") {
    const int tid = thread_track(e);
    w_.begin(TraceWriter::kIo, tid, t, "hard fault " + hex("address"), "fault",
             fmt::format(FMT_COMPILE(R"("slot":{})"), value(e, "slot").view()));
  } else if (ev == "paging_read_done") {
    w_.end(TraceWriter::kIo, thread_track(e), t, "hard fault " + hex("address"));
  } else if (ev == "fault") {
    w_.mark(TraceWriter::kMemory, w_.track(TraceWriter::kMemory, "page faults"), t,
            fmt::format(FMT_COMPILE("{} fault {}"), value(e, "kind").view(), hex("address")), "");
  } else if (ev == "fault_at_raised_irql") {
    w_.mark(TraceWriter::kMemory, w_.track(TraceWriter::kMemory, "page faults"), t,
            fmt::format(FMT_COMPILE("fault at IRQL {} in {}: {}"), value(e, "irql").view(),
                        value(e, "routine").view(), hex("address")),
            "");
  } else if (ev == "trim") {
    w_.mark(TraceWriter::kMemory, w_.track(TraceWriter::kMemory, "working-set trimming"), t,
            fmt::format(FMT_COMPILE("trim {} pages ({} available)"), value(e, "pages").view(),
                        value(e, "available").view()),
            "");
  } else if (ev == "paging_write") {
    w_.mark(
        TraceWriter::kMemory, w_.track(TraceWriter::kMemory, "modified page writer"), t,
        fmt::format(FMT_COMPILE("write {} to slot {}"), hex("address"), value(e, "slot").view()),
        "");
  }
}

void TraceOutput::Builder::device(const util::Event& e) {
  const std::string_view model = e.src.substr(9);
  const std::string_view ev = e.ev;
  const std::uint64_t t = e.t_ps;
  // A track's open slice, made the first time the track is.
  auto open_on = [&](std::string_view track) -> std::string& {
    auto it = busy_.find(track);
    if (it == busy_.end()) it = busy_.emplace(std::string(track), std::string()).first;
    return it->second;
  };
  if (ev == "command") {
    const int tid = w_.track(TraceWriter::kDevices, model);
    std::string& open = open_on(model);
    if (!open.empty()) w_.end(TraceWriter::kDevices, tid, t, open);
    open = text(name_, FMT_COMPILE("{} lba {} x{}{}"), value(e, "command").view(),
                value(e, "lba").view(), value(e, "count").view(),
                e.number("dma") != 0 ? " (DMA)" : "");
    w_.begin(TraceWriter::kDevices, tid, t, open, "device");
  } else if (ev == "complete" || ev == "error" || ev == "reset") {
    const auto it = busy_.find(model);
    if (it != busy_.end() && !it->second.empty()) {
      w_.end(TraceWriter::kDevices, w_.track(TraceWriter::kDevices, model), t, it->second);
      it->second.clear();
    }
  }
  if (model == "dma" && (ev == "start" || ev == "terminal_count" || ev == "error")) {
    const std::string_view channel =
        text(track_name_, FMT_COMPILE("dma ch{}"), value(e, "channel").view());
    const int tid = w_.track(TraceWriter::kDevices, channel);
    std::string& open = open_on(channel);
    if (!open.empty()) {
      w_.end(TraceWriter::kDevices, tid, t, open);
      open.clear();
    }
    if (ev == "start") {
      open = text(name_, FMT_COMPILE("{} {} bytes"), value(e, "mode").view(),
                  value(e, "bytes").view());
      w_.begin(TraceWriter::kDevices, tid, t, open, "dma");
    }
  }
}

void TraceOutput::Builder::finish() {
  // Whatever is still running at the last event ends there.
  for (auto& [cpu, s] : stacks_) close_to(cpu, 0, last_t_);
  for (auto& [name, open] : busy_)
    if (!open.empty())
      w_.end(TraceWriter::kDevices, w_.track(TraceWriter::kDevices, name), last_t_, open);
  // Requests still in flight at the end end there.
  for (auto& [irp, name] : lifetimes_)
    w_.async("e", irp, last_t_, name,
             fmt::format(FMT_COMPILE(R"("irp":{},"unfinished":true)"), irp));
  w_.finish();
}

TraceOutput::TraceOutput(const std::string& path)
    : file_(std::make_unique<File>(path)), builder_(std::make_unique<Builder>(file_->file())) {}

TraceOutput::~TraceOutput() = default;

void TraceOutput::event(const util::Event& e) {
  builder_->event(e);
}

std::size_t TraceOutput::count() const {
  return builder_->count();
}

std::string TraceOutput::finish() {
  if (!file_) return {};
  builder_->finish();
  std::string why = file_->commit();
  file_.reset();
  return why;
}

int cmd_trace(const std::string& events_path, const std::string& out_path) {
  std::ifstream in(events_path);
  if (!in) throw ConfigError(fmt::format("{}: cannot read the event log", events_path));
  TraceOutput trace(out_path);
  ParsedLine parsed;
  std::uint64_t last_t = 0;
  std::size_t line_number = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_number;
    if (line.empty()) continue;
    if (!parse_line(line, parsed))
      throw ConfigError(fmt::format("{}:{}: not an event-log line (iocosim run --events)",
                                    events_path, line_number));
    if (parsed.event.t_ps < last_t)
      throw ConfigError(fmt::format("{}:{}: time goes backwards", events_path, line_number));
    last_t = parsed.event.t_ps;
    trace.event(parsed.event);
  }
  if (std::string why = trace.finish(); !why.empty())
    throw ConfigError(fmt::format("{}: cannot write the trace: {}", out_path, why));
  std::printf("trace: %zu events of %s -> %s (open in ui.perfetto.dev or chrome://tracing)\n",
              trace.count(), events_path.c_str(), out_path.c_str());
  return kExitOk;
}

}  // namespace platform
