#pragma once
// Interrupt and request lines as direct calls between models. A change reaches every reader at
// once, in the writer's call, instead of a delta cycle later through an sc_signal's update
// phase: nothing is left pending at the writer's instant, so a CPU that lowered a device's
// request by a register write (or acknowledged the controller) sees INTR as it now is and may
// run ahead without first letting SystemC settle the signals (docs/speed.md).
//
//   Pin     the line: the wired-OR of its drivers (each PinOut bound to it counts while high,
//           and write() is one driver more, a script's or a test's), read by its PinIns
//   PinOut  a model's output, bound to one Pin
//   PinIn   a model's input, bound to one Pin: calls its owner back on every change, and
//           notifies SystemC events (created on demand) for processes that wait on the line
//
// A change made from a CPU running ahead of the kernel takes effect at that CPU's time
// (hw/core/sim_time.h): readers compute from now_ps() and schedule with notify_after().
// The VCD records a Pin's level (trace()) as a variable that reports its changes
// (hw/core/traced.h).
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <systemc>

#include "hw/core/traced.h"

namespace hw {

class PinIn;
class PinOut;

class Pin {
 public:
  explicit Pin(std::string name = "pin") : name_(std::move(name)) {}
  Pin(const Pin&) = delete;
  Pin& operator=(const Pin&) = delete;

  bool read() const { return level_; }
  const std::string& name() const { return name_; }
  // One driver of its own: a register-level script's line, a test bench's stimulus.
  void write(bool level) {
    if (level == own_) return;
    own_ = level;
    drive(level);
  }
  // The number of outputs bound to it (its own write() not counted).
  unsigned drivers() const { return drivers_; }
  void trace(sc_core::sc_trace_file* tf, const std::string& name) const {
    hw::trace(tf, level_, name);
  }

 private:
  friend class PinIn;
  friend class PinOut;
  // A driver went high (`rise`) or low: the line is high while any driver is.
  inline void drive(bool rise);

  std::string name_;
  unsigned high_ = 0;     // drivers high now
  unsigned drivers_ = 0;  // outputs bound
  Traced<bool> level_ = false;
  bool own_ = false;
  std::vector<PinIn*> sinks_;
};

class PinOut {
 public:
  explicit PinOut(std::string name = "out") : name_(std::move(name)) {}
  PinOut(const PinOut&) = delete;
  PinOut& operator=(const PinOut&) = delete;

  // Once, before the output is driven high (elaboration).
  void bind(Pin& pin) {
    pin_ = &pin;
    ++pin.drivers_;
    if (level_) pin.drive(true);
  }
  void operator()(Pin& pin) { bind(pin); }
  // Unbound, the level is kept and shows in read() (a model tested on its own).
  void write(bool level) {
    if (level == level_) return;
    level_ = level;
    if (pin_ != nullptr) pin_->drive(level);
  }
  bool read() const { return level_; }
  Pin* pin() const { return pin_; }
  const std::string& name() const { return name_; }
  // The output's own level (what this driver puts on the line).
  void trace(sc_core::sc_trace_file* tf, const std::string& name) const {
    hw::trace(tf, level_, name);
  }

 private:
  std::string name_;
  Pin* pin_ = nullptr;
  Traced<bool> level_ = false;
};

class PinIn {
 public:
  using Sink = std::function<void(bool)>;
  PinIn() = default;
  PinIn(const PinIn&) = delete;
  PinIn& operator=(const PinIn&) = delete;

  // The owner's reaction to a change, called in the writer's call (set at construction).
  void on_change(Sink sink) { sink_ = std::move(sink); }
  // Once, at elaboration. An unbound input reads low.
  void bind(Pin& pin) {
    pin_ = &pin;
    pin.sinks_.push_back(this);
  }
  void operator()(Pin& pin) { bind(pin); }
  bool read() const { return pin_ != nullptr && pin_->level_; }
  bool bound() const { return pin_ != nullptr; }
  Pin* pin() const { return pin_; }
  // For processes that wait on the line: notified at the change's time, one delta later.
  const sc_core::sc_event& posedge_event() { return event(posedge_); }
  const sc_core::sc_event& value_changed_event() { return event(changed_); }
  void trace(sc_core::sc_trace_file* tf, const std::string& name) const {
    if (pin_ != nullptr)
      pin_->trace(tf, name);
    else
      sc_core::sc_trace(tf, kLow, name);
  }

 private:
  friend class Pin;
  void changed(bool level) {
    if (changed_) notify(*changed_);
    if (level && posedge_) notify(*posedge_);
    if (sink_) sink_(level);
  }
  static const sc_core::sc_event& event(std::unique_ptr<sc_core::sc_event>& e) {
    if (!e) e = std::make_unique<sc_core::sc_event>();
    return *e;
  }
  static void notify(sc_core::sc_event& e);

  static inline const bool kLow = false;
  Pin* pin_ = nullptr;
  Sink sink_;
  std::unique_ptr<sc_core::sc_event> posedge_, changed_;
};

void Pin::drive(bool rise) {
  if (rise ? high_++ != 0 : --high_ != 0) return;
  level_ = rise;
  for (PinIn* s : sinks_) s->changed(rise);
}

}  // namespace hw
