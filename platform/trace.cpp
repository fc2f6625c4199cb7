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

#include <fmt/format.h>

#include "platform/child.h"
#include "platform/commands.h"
#include "platform/config.h"
#include "platform/simulation.h"
#include "util/json.h"

namespace platform {
namespace {

// One event-log line: its fields as raw JSON text (strings unquoted and unescaped).
struct Event {
  std::uint64_t t_ps = 0;
  std::map<std::string, std::string> fields;
  const std::string& get(const std::string& k) const {
    static const std::string none;
    const auto it = fields.find(k);
    return it == fields.end() ? none : it->second;
  }
  bool has(const std::string& k) const { return fields.count(k) != 0; }
};

// The event log's lines are flat objects written by util::EventLog; nested values (a bug
// check's context list) are kept as their raw text. Returns false on a malformed line.
bool parse_line(const std::string& line, Event& e) {
  std::size_t i = 0;
  auto ws = [&] {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
  };
  auto string = [&](std::string& out) {
    if (i >= line.size() || line[i] != '"') return false;
    ++i;
    while (i < line.size() && line[i] != '"') {
      if (line[i] == '\\' && i + 1 < line.size()) {
        const char c = line[++i];
        out += c == 'n' ? '\n' : c == 't' ? '\t' : c;
        if (c == 'u') {
          out.pop_back();
          out += '?';
          i += 4;
        }
      } else {
        out += line[i];
      }
      ++i;
    }
    if (i >= line.size()) return false;
    ++i;
    return true;
  };
  ws();
  if (i >= line.size() || line[i] != '{') return false;
  ++i;
  for (;;) {
    ws();
    if (i < line.size() && line[i] == '}') break;
    std::string key, value;
    if (!string(key)) return false;
    ws();
    if (i >= line.size() || line[i] != ':') return false;
    ++i;
    ws();
    if (i < line.size() && line[i] == '"') {
      if (!string(value)) return false;
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
      value = line.substr(from, i - from);
      while (!value.empty() && value.back() == ' ') value.pop_back();
    }
    e.fields[key] = value;
    ws();
    if (i < line.size() && line[i] == ',') {
      ++i;
      continue;
    }
    if (i < line.size() && line[i] == '}') break;
    return false;
  }
  if (!e.has("t_ps") || !e.has("src") || !e.has("ev")) return false;
  e.t_ps = std::strtoull(e.get("t_ps").c_str(), nullptr, 10);
  return true;
}

std::string us(std::uint64_t ps) {
  return fmt::format("{}.{:06}", ps / 1'000'000, ps % 1'000'000);
}

// Writes the trace as it goes (to a file it does not own): the trace of a long log is not
// held in memory, once as events and again as the file's text.
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

  int track(int pid, const std::string& name) {
    const auto key = std::make_pair(pid, name);
    auto it = tids_.find(key);
    if (it != tids_.end()) return it->second;
    const int tid = next_tid_++;
    tids_.emplace(key, tid);
    meta("thread_name", pid, tid, name);
    meta("thread_sort_index", pid, tid, "", tid);
    return tid;
  }
  void process(int pid, const std::string& name) {
    meta("process_name", pid, 0, name);
    meta("process_sort_index", pid, 0, "", pid);
  }
  void begin(int pid, int tid, std::uint64_t t, const std::string& name, const std::string& cat,
             const std::string& args = {}) {
    add(fmt::format(R"({{"ph":"B","pid":{},"tid":{},"ts":{},"name":"{}","cat":"{}"{}}})", pid, tid,
                    us(t), util::json_escape(name), cat,
                    args.empty() ? "" : ",\"args\":{" + args + "}"));
  }
  // An end names the slice it ends: viewers that pair B and E by name (speedscope) need it.
  void end(int pid, int tid, std::uint64_t t, const std::string& name) {
    add(fmt::format(R"({{"ph":"E","pid":{},"tid":{},"ts":{},"name":"{}"}})", pid, tid, us(t),
                    util::json_escape(name)));
  }
  // A request's lifetime as an async slice (its own track in the viewer, under the I/O
  // process): "b" when the I/O manager gets it, "e" when it is done.
  void async(const char* ph, std::uint64_t id, std::uint64_t t, const std::string& name,
             const std::string& args = {}) {
    add(fmt::format(R"({{"ph":"{}","pid":{},"tid":0,"ts":{},"id":{},"name":"{}","cat":"irp"{}}})",
                    ph, kIo, us(t), id, util::json_escape(name),
                    args.empty() ? "" : ",\"args\":{" + args + "}"));
  }
  // A zero-length mark of an I/O step (a flow needs a slice to bind to).
  void mark(int pid, int tid, std::uint64_t t, const std::string& name, const std::string& args) {
    add(fmt::format(
        R"({{"ph":"X","pid":{},"tid":{},"ts":{},"dur":0.001,"name":"{}","cat":"io","args":{{{}}}}})",
        pid, tid, us(t), util::json_escape(name), args));
  }
  // ph: "s" start, "t" step, "f" finish (bound to the enclosing slice).
  void flow(const char* ph, int pid, int tid, std::uint64_t t, std::uint64_t id) {
    add(fmt::format(R"({{"ph":"{}","pid":{},"tid":{},"ts":{},"id":{},"name":"IRP","cat":"irp"{}}})",
                    ph, pid, tid, us(t), id, ph[0] == 's' ? "" : R"(,"bp":"e")"));
  }
  void counter(int pid, const std::string& name, std::uint64_t t, const std::string& value) {
    add(fmt::format(R"({{"ph":"C","pid":{},"ts":{},"name":"{}","args":{{"IRQL":{}}}}})", pid, us(t),
                    util::json_escape(name), value));
  }
  void finish() { std::fputs("\n]}\n", out_); }

 private:
  void meta(const char* what, int pid, int tid, const std::string& name, int index = -1) {
    add(index >= 0
            ? fmt::format(
                  R"({{"ph":"M","pid":{},"tid":{},"name":"{}","args":{{"sort_index":{}}}}})", pid,
                  tid, what, index)
            : fmt::format(R"({{"ph":"M","pid":{},"tid":{},"name":"{}","args":{{"name":"{}"}}}})",
                          pid, tid, what, util::json_escape(name)));
  }
  void add(const std::string& e) {
    if (!first_) std::fputs(",\n", out_);
    first_ = false;
    std::fwrite(e.data(), 1, e.size(), out_);
  }
  std::map<std::pair<int, std::string>, int> tids_;
  int next_tid_ = 1;
  std::FILE* out_;
  bool first_ = true;
};

// The trace is written to a new file beside its destination and renamed over it when
// complete: a failed or interrupted conversion never leaves a half trace (or an empty file)
// where the trace should be.
class PendingFile {
 public:
  explicit PendingFile(const std::string& path) : path_(path) {
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
  PendingFile(const PendingFile&) = delete;
  PendingFile& operator=(const PendingFile&) = delete;
  ~PendingFile() {
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

}  // namespace

int cmd_trace(const std::string& events_path, const std::string& out_path) {
  std::ifstream in(events_path);
  if (!in) throw ConfigError(fmt::format("{}: cannot read the event log", events_path));
  PendingFile out(out_path);
  TraceWriter w(out.file());
  w.process(TraceWriter::kCpus, "CPUs");
  w.process(TraceWriter::kDevices, "devices");
  w.process(TraceWriter::kIo, "I/O requests");
  w.process(TraceWriter::kMemory, "memory manager");
  // Per CPU, the open slices bottom first: the thread, then ISRs and DPCs over it.
  struct Open {
    std::string name, kind;
  };
  std::map<unsigned, std::vector<Open>> stacks;
  std::map<std::string, std::string> busy;  // a device track's open command (its slice name)
  // Where each DPC was last queued from an ISR (its CPU and time): a request completed in that
  // DPC passes through that ISR, and its flow is drawn through both on the CPU tracks.
  struct Queued {
    unsigned cpu = 0;
    std::uint64_t t = 0;
  };
  std::map<std::string, Queued> queued_by_isr;
  // IRPs with an async slice open: its name (the end repeats it).
  std::map<std::uint64_t, std::string> lifetimes;
  std::map<std::uint64_t, std::vector<std::string>> irp_devices;  // by location
  // IRPs whose flow has started, and whether a thread waits for it (a system service's
  // request ends at the thread; one the PnP manager or a driver sent ends when it is done).
  std::map<std::uint64_t, bool> flowing;
  std::uint64_t last_t = 0;
  std::size_t line_number = 0, events = 0;
  auto cpu_of = [](const Event& e) {
    return e.has("cpu") ? static_cast<unsigned>(std::strtoul(e.get("cpu").c_str(), nullptr, 10))
                        : 0u;
  };
  auto cpu_tid = [&](unsigned cpu) {
    return w.track(TraceWriter::kCpus, fmt::format("cpu{}", cpu));
  };
  auto close_to = [&](unsigned cpu, std::size_t depth, std::uint64_t t) {
    auto& s = stacks[cpu];
    while (s.size() > depth) {
      w.end(TraceWriter::kCpus, cpu_tid(cpu), t, s.back().name);
      s.pop_back();
    }
  };
  auto io_track = [&](const std::string& name) { return w.track(TraceWriter::kIo, name); };
  for (std::string line; std::getline(in, line);) {
    ++line_number;
    if (line.empty()) continue;
    Event e;
    if (!parse_line(line, e))
      throw ConfigError(fmt::format("{}:{}: not an event-log line (iocosim run --events)",
                                    events_path, line_number));
    if (e.t_ps < last_t)
      throw ConfigError(fmt::format("{}:{}: time goes backwards", events_path, line_number));
    last_t = e.t_ps;
    ++events;
    const std::string& src = e.get("src");
    const std::string& ev = e.get("ev");
    const std::uint64_t t = e.t_ps;
    if (src == "ke") {
      const unsigned cpu = cpu_of(e);
      auto& s = stacks[cpu];
      if (ev == "thread_switch") {
        close_to(cpu, 0, t);
        s.push_back({e.get("to"), "thread"});
        w.begin(TraceWriter::kCpus, cpu_tid(cpu), t, e.get("to"), "thread");
      } else if (ev == "isr_enter" || ev == "dpc_enter") {
        const bool isr = ev == "isr_enter";
        const std::string name = (isr ? "ISR " : "DPC ") + e.get("name");
        s.push_back({name, isr ? "isr" : "dpc"});
        w.begin(TraceWriter::kCpus, cpu_tid(cpu), t, name, isr ? "isr" : "dpc",
                isr ? fmt::format(R"("irq":{},"irql":{})", e.get("irq"), e.get("irql")) : "");
      } else if (ev == "isr_exit" || ev == "dpc_exit") {
        const std::string name = (ev == "isr_exit" ? "ISR " : "DPC ") + e.get("name");
        // Close down to the matching slice (anything above it was left open by a lost exit).
        for (std::size_t d = s.size(); d > 0; --d) {
          if (s[d - 1].name == name) {
            close_to(cpu, d - 1, t);
            break;
          }
        }
      } else if (ev == "dpc_queue") {
        if (!s.empty() && s.back().kind == "isr") queued_by_isr["DPC " + e.get("name")] = {cpu, t};
      } else if (ev == "irql") {
        w.counter(TraceWriter::kCpus, fmt::format("cpu{} IRQL", cpu), t, e.get("to"));
      } else if (ev == "thread_exit") {
        if (!s.empty() && s.front().name == e.get("thread")) close_to(cpu, 0, t);
      }
    } else if (src == "io" && e.has("irp")) {
      const std::uint64_t irp = std::strtoull(e.get("irp").c_str(), nullptr, 10);
      const std::string args = fmt::format(R"("irp":{})", irp);
      // The first event of an IRP starts its flow; later ones are its steps.
      auto step = [&](int tid) {
        const bool first = flowing.count(irp) == 0;
        if (first) flowing[irp] = false;
        w.flow(first ? "s" : "t", TraceWriter::kIo, tid, t, irp);
      };
      // The request's lifetime: from the I/O manager taking it to its completion.
      auto live = [&](const std::string& major, const std::string& device) {
        if (lifetimes.count(irp)) return;
        const std::string name =
            fmt::format("IRP {} {}{}", irp, major, device.empty() ? "" : " " + device);
        lifetimes[irp] = name;
        w.async("b", irp, t, name, args);
      };
      auto lifetime_ends = [&] {
        const auto it = lifetimes.find(irp);
        if (it == lifetimes.end()) return;
        w.async("e", irp, t, it->second, args);
        lifetimes.erase(it);
      };
      if (ev == "request") {
        const int tid = io_track("thread " + e.get("thread"));
        w.mark(TraceWriter::kIo, tid, t, fmt::format("{} (IRP {})", e.get("major"), irp), args);
        w.flow("s", TraceWriter::kIo, tid, t, irp);
        flowing[irp] = true;
        live(e.get("major"), e.get("device"));
      } else if (ev == "dispatch" || ev == "start_io") {
        const std::string device = e.get("device");
        if (ev == "dispatch") {
          const auto loc = std::strtoull(e.get("location").c_str(), nullptr, 10);
          auto& v = irp_devices[irp];
          if (v.size() <= loc) v.resize(loc + 1);
          v[loc] = device;
        }
        const int tid = io_track(device);
        live(e.get("major"), device);
        w.mark(TraceWriter::kIo, tid, t,
               fmt::format("{} {} (IRP {})", ev == "dispatch" ? "dispatch" : "StartIo",
                           e.get("major"), irp),
               args);
        step(tid);
      } else if (ev == "complete_request" || ev == "completion_routine") {
        std::string device = e.get("device");
        if (device.empty()) {
          const auto loc = std::strtoull(e.get("location").c_str(), nullptr, 10);
          const auto& v = irp_devices[irp];
          device = loc < v.size() && !v[loc].empty() ? v[loc] : "I/O manager";
        }
        // Completed in a DPC: the flow passes through the ISR that queued it and the DPC, on
        // the CPU tracks that ran them (each step binds to the slice open there then).
        if (ev == "complete_request" && flowing.count(irp)) {
          const unsigned cpu = cpu_of(e);
          const auto& st = stacks[cpu];
          if (!st.empty() && st.back().kind == "dpc") {
            const auto q = queued_by_isr.find(st.back().name);
            if (q != queued_by_isr.end())
              w.flow("t", TraceWriter::kCpus, cpu_tid(q->second.cpu), q->second.t, irp);
            w.flow("t", TraceWriter::kCpus, cpu_tid(cpu), t, irp);
          }
        }
        const int tid = io_track(device);
        w.mark(TraceWriter::kIo, tid, t,
               fmt::format("{} (IRP {}{})",
                           ev == "complete_request" ? "complete" : "completion routine", irp,
                           e.has("status") ? ", " + e.get("status") : ""),
               args);
        step(tid);
      } else if (ev == "request_done") {
        const int tid = io_track("I/O manager");
        w.mark(TraceWriter::kIo, tid, t,
               fmt::format("done (IRP {}, {} bytes)", irp, e.get("bytes")), args);
        w.flow("t", TraceWriter::kIo, tid, t, irp);
        lifetime_ends();
      } else if (ev == "thread_resumed") {
        const int tid = io_track("thread " + e.get("thread"));
        w.mark(TraceWriter::kIo, tid, t, fmt::format("resumed (IRP {})", irp), args);
        lifetime_ends();
        if (flowing.count(irp)) w.flow("f", TraceWriter::kIo, tid, t, irp);
        flowing.erase(irp);
        irp_devices.erase(irp);
      }
    } else if (src == "mm") {
      // A hard fault is a slice on its thread's I/O track, around the paging IRP it sends (whose
      // flow starts there); the other faults, trims and paging writes are marks of their own.
      auto hex = [&](const char* key) {
        return fmt::format("{:#x}", std::strtoull(e.get(key).c_str(), nullptr, 10));
      };
      if (ev == "paging_read") {
        const int tid = io_track("thread " + e.get("thread"));
        w.begin(TraceWriter::kIo, tid, t, "hard fault " + hex("address"), "fault",
                fmt::format(R"("slot":{})", e.get("slot")));
      } else if (ev == "paging_read_done") {
        w.end(TraceWriter::kIo, io_track("thread " + e.get("thread")), t,
              "hard fault " + hex("address"));
      } else if (ev == "fault") {
        w.mark(TraceWriter::kMemory, w.track(TraceWriter::kMemory, "page faults"), t,
               fmt::format("{} fault {}", e.get("kind"), hex("address")), "");
      } else if (ev == "fault_at_raised_irql") {
        w.mark(TraceWriter::kMemory, w.track(TraceWriter::kMemory, "page faults"), t,
               fmt::format("fault at IRQL {} in {}: {}", e.get("irql"), e.get("routine"),
                           hex("address")),
               "");
      } else if (ev == "trim") {
        w.mark(TraceWriter::kMemory, w.track(TraceWriter::kMemory, "working-set trimming"), t,
               fmt::format("trim {} pages ({} available)", e.get("pages"), e.get("available")), "");
      } else if (ev == "paging_write") {
        w.mark(TraceWriter::kMemory, w.track(TraceWriter::kMemory, "modified page writer"), t,
               fmt::format("write {} to slot {}", hex("address"), e.get("slot")), "");
      }
    } else if (src.compare(0, 9, "platform.") == 0) {
      const std::string model = src.substr(9);
      if (ev == "command") {
        const int tid = w.track(TraceWriter::kDevices, model);
        if (!busy[model].empty()) w.end(TraceWriter::kDevices, tid, t, busy[model]);
        busy[model] = fmt::format("{} lba {} x{}{}", e.get("command"), e.get("lba"), e.get("count"),
                                  e.get("dma") == "true" ? " (DMA)" : "");
        w.begin(TraceWriter::kDevices, tid, t, busy[model], "device");
      } else if ((ev == "complete" || ev == "error" || ev == "reset") && !busy[model].empty()) {
        w.end(TraceWriter::kDevices, w.track(TraceWriter::kDevices, model), t, busy[model]);
        busy[model].clear();
      } else if (model == "dma" && (ev == "start" || ev == "terminal_count" || ev == "error")) {
        const std::string channel = "dma ch" + e.get("channel");
        const int tid = w.track(TraceWriter::kDevices, channel);
        if (!busy[channel].empty()) {
          w.end(TraceWriter::kDevices, tid, t, busy[channel]);
          busy[channel].clear();
        }
        if (ev == "start") {
          busy[channel] = fmt::format("{} {} bytes", e.get("mode"), e.get("bytes"));
          w.begin(TraceWriter::kDevices, tid, t, busy[channel], "dma");
        }
      }
    }
  }
  // Whatever is still running at the end of the log ends there.
  for (auto& [cpu, s] : stacks) close_to(cpu, 0, last_t);
  for (auto& [name, open] : busy)
    if (!open.empty())
      w.end(TraceWriter::kDevices, w.track(TraceWriter::kDevices, name), last_t, open);
  // Requests still in flight at the end of the log end there.
  for (auto& [irp, name] : lifetimes)
    w.async("e", irp, last_t, name, fmt::format(R"("irp":{},"unfinished":true)", irp));
  w.finish();
  if (std::string why = out.commit(); !why.empty())
    throw ConfigError(fmt::format("{}: cannot write the trace: {}", out_path, why));
  std::printf("trace: %zu events of %s -> %s (open in ui.perfetto.dev or chrome://tracing)\n",
              events, events_path.c_str(), out_path.c_str());
  return kExitOk;
}

}  // namespace platform
