#pragma once
// A traced model variable that says when it changes. iocosim's VCD writer (hw/core/vcd_writer.h)
// then looks, at the end of a timestep, only at the variables that changed in it, instead of
// comparing every traced variable at every timestep (what a sampling sc_trace_file does, and
// half of what a VCD cost). It reads as its value; assignments and compound assignments that
// change it report the change. Traced with hw::trace(); SystemC's own writer samples it as a
// plain variable.
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include <systemc>

#include "hw/core/sim_time.h"

namespace hw {

// The changes of watched variables since the VCD writer last looked, each with its own time:
// kernel time plus the running CPU's run-ahead offset (hw/core/sim_time.h), so a CPU running
// ahead of the kernel need not catch up before a traced change for the VCD to show it at its
// time. One writer watches at a time (process-wide, like the simulation), so a Traced never
// points at a writer that has gone; `generation` tells a new writer's variables from an old one's.
struct ChangeList {
  struct Change {
    std::uint64_t t_ps;
    std::uint64_t value, old;  // the raw values (as the writer reads them) after and before
    std::uint32_t var;
  };
  const void* owner = nullptr;  // the writer watching, or none
  std::uint32_t generation = 0;
  std::vector<Change> changes;
  // A writer that samples nothing is not called by the kernel at every timestep: it takes the
  // changes when this many have gathered (and at its close).
  void (*flush)(void* writer) = nullptr;
  std::size_t flush_at = 0;
  void changed(std::uint32_t gen, std::uint32_t var, std::uint64_t value, std::uint64_t old) {
    if (owner == nullptr || gen != generation) return;
    changes.push_back({now_ps(), value, old, var});
    if (flush != nullptr && changes.size() >= flush_at) flush(const_cast<void*>(owner));
  }
  static ChangeList& instance();
};
namespace detail {
inline ChangeList g_changes;  // (a namespace-scope variable: no guard on every report)
}  // namespace detail
inline ChangeList& ChangeList::instance() {
  return detail::g_changes;
}

// A traced value as the writer reads it: bool as 0/1, an integer's bits zero-extended.
template <typename T>
std::uint64_t raw_value(T v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v ? 1 : 0;
  } else {
    return static_cast<std::uint64_t>(static_cast<std::make_unsigned_t<T>>(v));
  }
}

template <typename T>
class Traced {
  static_assert(std::is_integral_v<T>, "bool and integers are traced");

 public:
  Traced() = default;
  Traced(T v) : value_(v) {}  // NOLINT: a Traced<T> is initialized as a T
  // A copy is the value, not the registration.
  Traced(const Traced& other) : value_(other.value_) {}
  Traced& operator=(const Traced& other) { return *this = other.value_; }

  operator T() const { return value_; }  // NOLINT: reads as the value
  const T& value() const { return value_; }

  // Small enough to inline everywhere (untraced, a compare and a store); the report is a call.
  Traced& operator=(T v) {
    if (v != value_) {
      const T old = value_;
      value_ = v;
      if (watched_) report(old);
    }
    return *this;
  }
  Traced& operator|=(T v) { return *this = static_cast<T>(value_ | v); }
  Traced& operator&=(T v) { return *this = static_cast<T>(value_ & v); }
  Traced& operator^=(T v) { return *this = static_cast<T>(value_ ^ v); }
  Traced& operator+=(T v) { return *this = static_cast<T>(value_ + v); }
  Traced& operator-=(T v) { return *this = static_cast<T>(value_ - v); }
  Traced& operator++() { return *this += 1; }
  Traced& operator--() { return *this -= 1; }
  T operator++(int) {
    const T old = value_;
    *this += 1;
    return old;
  }
  T operator--(int) {
    const T old = value_;
    *this -= 1;
    return old;
  }

  // Watched by the writer watching now (an earlier writer's registration does not count).
  bool watched() const { return watched_ && generation_ == ChangeList::instance().generation; }
  std::uint32_t var() const { return var_; }
  // The VCD writer's variable `var` (hw::trace).
  void watch(std::uint32_t var) const {
    watched_ = true;
    var_ = var;
    generation_ = ChangeList::instance().generation;
  }

 private:
  T value_{};
  [[gnu::noinline]] void report(T old) const {
    ChangeList::instance().changed(generation_, var_, raw_value(value_), raw_value(old));
  }
  // Set by tracing, which does not change the value (trace() functions are const).
  mutable bool watched_ = false;
  mutable std::uint32_t var_ = 0, generation_ = 0;
};

// Whether `tf` is iocosim's writer, which takes watched variables' changes with their own
// times (a CPU need not catch up with the kernel before a traced change for it).
bool reports_changes(sc_core::sc_trace_file* tf);

// iocosim's writer, if `tf` is one, registers the variable as one that reports its changes
// (returns false otherwise, or when another writer already watches).
bool watch_variable(sc_core::sc_trace_file* tf, const void* object, unsigned bytes, bool is_signed,
                    int width, const std::string& name, std::uint32_t& var);
// The same variable traced again under another name: shown from the first one's changes.
bool watch_alias(sc_core::sc_trace_file* tf, std::uint32_t first, const std::string& name);

template <typename T>
void trace(sc_core::sc_trace_file* tf, const Traced<T>& t, const std::string& name) {
  constexpr unsigned bytes = std::is_same_v<T, bool> ? 0u : static_cast<unsigned>(sizeof(T));
  constexpr int width = std::is_same_v<T, bool> ? 1 : static_cast<int>(8 * sizeof(T));
  std::uint32_t var = 0;
  if (t.watched()
          ? watch_alias(tf, t.var(), name)
          : watch_variable(tf, &t.value(), bytes, std::is_signed_v<T> && !std::is_same_v<T, bool>,
                           width, name, var)) {
    if (!t.watched()) t.watch(var);
  } else {
    sc_core::sc_trace(tf, t.value(), name);
  }
}

}  // namespace hw
