#pragma once
// Simulated time in integer picoseconds. SystemC's time resolution is left at its default of
// 1 ps (checked by the platform at start), so sc_time's raw value is picoseconds.
#include <cstdint>

#include <systemc>

namespace hw {

inline std::uint64_t to_ps(const sc_core::sc_time& t) {
  return t.value();
}
inline sc_core::sc_time from_ps(std::uint64_t ps) {
  return sc_core::sc_time::from_value(ps);
}
inline std::uint64_t now_ps() {
  return sc_core::sc_time_stamp().value();
}
// The period of a clock, rounded to the picosecond.
inline sc_core::sc_time period_of(std::uint64_t hz) {
  return from_ps((1'000'000'000'000ULL + hz / 2) / hz);
}

}  // namespace hw
