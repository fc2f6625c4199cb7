#include "hw/core/sim_time.h"

namespace hw {
namespace {
const sc_core::sc_time* g_offset = nullptr;
}  // namespace

void set_time_offset_source(const sc_core::sc_time* offset) {
  g_offset = offset;
}
sc_core::sc_time time_offset() {
  return g_offset != nullptr ? *g_offset : sc_core::SC_ZERO_TIME;
}

}  // namespace hw
