#include "hw/core/sim_time.h"

#include <atomic>
#include <stdexcept>

namespace hw {
namespace {
std::atomic<bool> g_stop{false};
}  // namespace

void request_stop() {
  g_stop.store(true, std::memory_order_relaxed);
}
bool stop_requested() {
  return g_stop.load(std::memory_order_relaxed);
}

void add_time_offset_source(const sc_core::sc_time* offset) {
  using namespace detail;
  if (g_offset_count == kMaxTimeOffsets)
    throw std::logic_error("more CPUs than time-offset sources");
  g_offsets[g_offset_count++] = offset;
}

void remove_time_offset_source(const sc_core::sc_time* offset) {
  using namespace detail;
  for (unsigned i = 0; i < g_offset_count; ++i) {
    if (g_offsets[i] != offset) continue;
    g_offsets[i] = g_offsets[--g_offset_count];
    g_offsets[g_offset_count] = nullptr;
    return;
  }
}

}  // namespace hw
