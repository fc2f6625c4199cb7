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

// The CPU runs ahead of the SystemC kernel while no other process is scheduled before its own
// time, and calls targets without catching up first (the TLM-2.0 annotated delay): a target
// acts "now" at kernel time plus that offset. Nothing else runs in between, so acting early in
// kernel time is unobservable as long as everything a target computes from the time or
// schedules goes through now_ps() and notify_after(). Whenever another process runs, the
// offset is zero.
//
// Each CPU registers its offset. Only the running process can be ahead of the kernel, and every
// CPU drops its offset before it lets another process run, so at most one registered offset is
// non-zero at any moment: the sum is the running CPU's own.
void add_time_offset_source(const sc_core::sc_time* offset);
void remove_time_offset_source(const sc_core::sc_time* offset);
namespace detail {
// The registered offsets (inline: asked on every access and traced change).
constexpr unsigned kMaxTimeOffsets = 16;
inline const sc_core::sc_time* g_offsets[kMaxTimeOffsets] = {};
inline unsigned g_offset_count = 0;
}  // namespace detail
inline sc_core::sc_time time_offset() {
  if (detail::g_offset_count == 1) return *detail::g_offsets[0];  // one CPU: the common case
  sc_core::sc_time sum = sc_core::SC_ZERO_TIME;
  for (unsigned i = 0; i < detail::g_offset_count; ++i) sum += *detail::g_offsets[i];
  return sum;
}
// The kernel's time without a library call (sc_time_stamp() is one).
inline const sc_core::sc_time& kernel_now() {
  return sc_core::sc_get_curr_simcontext()->time_stamp();
}

// The time of the access being served, or of the running process.
inline std::uint64_t now_ps() {
  return kernel_now().value() + time_offset().value();
}
// Told the time (from the kernel's now) of every notification made through notify_after(): the
// CPU keeps its cached time to the next scheduled activity current with it instead of asking
// SystemC again after every access. One hook (the CPU's); null: none.
using ScheduleHook = void (*)(const sc_core::sc_time& at);
inline ScheduleHook& schedule_hook() {
  static ScheduleHook hook = nullptr;
  return hook;
}
// Notifies `e` `delay` after now_ps(): an SC_ZERO_TIME delta becomes the access's own instant.
// A model schedules through this (not sc_event::notify) whatever may run from a CPU's access:
// a CPU running ahead relies on it to know what is now scheduled before its own time.
// (An sc_event, or an sc_event_queue for several notifications in flight.)
template <typename Event>
inline void notify_after(Event& e, const sc_core::sc_time& delay) {
  const sc_core::sc_time at = time_offset() + delay;
  e.notify(at);
  if (ScheduleHook hook = schedule_hook()) hook(at);
}

// A stop asked for from outside the simulation (a signal handler: async-signal-safe). Long
// loops inside one sc_start() (the CPU's synchronizations) look at it and end the run with
// sc_stop(), so Ctrl-C is honoured within host milliseconds whatever the slice length.
void request_stop();
bool stop_requested();

// The period of a clock, rounded to the picosecond.
inline sc_core::sc_time period_of(std::uint64_t hz) {
  return from_ps((1'000'000'000'000ULL + hz / 2) / hz);
}

}  // namespace hw
