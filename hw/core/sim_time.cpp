#include "hw/core/sim_time.h"

#include <atomic>
#include <stdexcept>

namespace hw {
namespace {
constexpr unsigned kMaxSources = 16;
const sc_core::sc_time* g_offsets[kMaxSources] = {};
unsigned g_count = 0;
std::atomic<bool> g_stop{false};
}  // namespace

void request_stop() {
  g_stop.store(true, std::memory_order_relaxed);
}
bool stop_requested() {
  return g_stop.load(std::memory_order_relaxed);
}

void add_time_offset_source(const sc_core::sc_time* offset) {
  if (g_count == kMaxSources) throw std::logic_error("more CPUs than time-offset sources");
  g_offsets[g_count++] = offset;
}

void remove_time_offset_source(const sc_core::sc_time* offset) {
  for (unsigned i = 0; i < g_count; ++i) {
    if (g_offsets[i] != offset) continue;
    g_offsets[i] = g_offsets[--g_count];
    g_offsets[g_count] = nullptr;
    return;
  }
}

sc_core::sc_time time_offset() {
  if (g_count == 1) return *g_offsets[0];  // one CPU: the common case, on every access
  sc_core::sc_time sum = sc_core::SC_ZERO_TIME;
  for (unsigned i = 0; i < g_count; ++i) sum += *g_offsets[i];
  return sum;
}

}  // namespace hw
