#include "hw/core/sim_time.h"

#include <atomic>

namespace hw {
namespace {
const sc_core::sc_time* g_offset = nullptr;
std::atomic<bool> g_stop{false};
}  // namespace

void request_stop() {
  g_stop.store(true, std::memory_order_relaxed);
}
bool stop_requested() {
  return g_stop.load(std::memory_order_relaxed);
}

void set_time_offset_source(const sc_core::sc_time* offset) {
  g_offset = offset;
}
sc_core::sc_time time_offset() {
  return g_offset != nullptr ? *g_offset : sc_core::SC_ZERO_TIME;
}

}  // namespace hw
