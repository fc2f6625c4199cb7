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

namespace hw {

// The variables changed since the VCD writer last looked (one writer watches at a time: it is
// process-wide, like the simulation, so a Traced never points at a writer that has gone).
struct ChangeList {
  const void* owner = nullptr;  // the writer watching, or none
  std::vector<std::uint8_t> pending;
  std::vector<std::uint32_t> list;
  void changed(std::uint32_t var) {
    if (var < pending.size() && pending[var] == 0) {
      pending[var] = 1;
      list.push_back(var);
    }
  }
  static ChangeList& instance() {
    static ChangeList l;
    return l;
  }
};

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

  Traced& operator=(T v) {
    if (v != value_) {
      value_ = v;
      if (watched_) ChangeList::instance().changed(var_);
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

  bool watched() const { return watched_; }
  // The VCD writer's variable `var` (hw::trace).
  void watch(std::uint32_t var) const {
    watched_ = true;
    var_ = var;
  }

 private:
  T value_{};
  // Set by tracing, which does not change the value (trace() functions are const).
  mutable bool watched_ = false;
  mutable std::uint32_t var_ = 0;
};

// iocosim's writer, if `tf` is one, registers the variable as one that reports its changes
// (returns false otherwise, or when another writer already watches).
bool watch_variable(sc_core::sc_trace_file* tf, const void* object, unsigned bytes, bool is_signed,
                    int width, const std::string& name, std::uint32_t& var);

template <typename T>
void trace(sc_core::sc_trace_file* tf, const Traced<T>& t, const std::string& name) {
  constexpr unsigned bytes = std::is_same_v<T, bool> ? 0u : static_cast<unsigned>(sizeof(T));
  constexpr int width = std::is_same_v<T, bool> ? 1 : static_cast<int>(8 * sizeof(T));
  std::uint32_t var = 0;
  // One variable reports a Traced's changes; traced again (under a second name), it is sampled.
  if (!t.watched() &&
      watch_variable(tf, &t.value(), bytes, std::is_signed_v<T> && !std::is_same_v<T, bool>, width,
                     name, var)) {
    t.watch(var);
  } else {
    sc_core::sc_trace(tf, t.value(), name);
  }
}

}  // namespace hw
