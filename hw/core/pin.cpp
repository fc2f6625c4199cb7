#include "hw/core/pin.h"

#include "hw/core/sim_time.h"

namespace hw {

void PinIn::notify(sc_core::sc_event& e) {
  // A delta notification at the change's time (a CPU running ahead changes the line at its
  // own time): the waiter runs after every process already due at that instant, as it would
  // behind a signal, so what those do at the instant (a DMA segment's end announced with its
  // terminal-count interrupt) is seen with the line, whatever order SystemC runs them in.
  hw::notify_after(e, sc_core::SC_ZERO_TIME);
}

}  // namespace hw
