#pragma once
// The Perfetto trace (Trace Event Format JSON) of a run: built from its events as they happen
// (run --trace: attached to the event log as a sink, no log file needed) or from an event log
// afterwards (iocosim trace). The same events give the same bytes. docs/viewing.md.
#include <cstddef>
#include <memory>
#include <string>

#include "util/event_log.h"

namespace platform {

class TraceOutput : public util::EventSink {
 public:
  // Opens a new file beside `path`; nothing is at `path` until finish(). Throws ConfigError.
  explicit TraceOutput(const std::string& path);
  ~TraceOutput() override;  // unfinished: the partial file is removed
  TraceOutput(const TraceOutput&) = delete;
  TraceOutput& operator=(const TraceOutput&) = delete;

  void event(const util::Event& e) override;
  // Ends whatever is still open at the last event's time and puts the trace at its path:
  // "" or why it could not (nothing is left at the path then).
  std::string finish();
  std::size_t count() const;  // events seen

 private:
  class File;
  class Builder;
  std::unique_ptr<File> file_;
  std::unique_ptr<Builder> builder_;
};

}  // namespace platform
