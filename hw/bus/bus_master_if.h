#pragma once
// The bus masters' hook for cycles they use outside b_transport: DMI accesses and the bus share
// of CPU computation. Today it accounts; the DMA engine's arbiter (burst, cycle-stealing,
// transparent) answers through the same call with the time a master stalls.
#include <cstdint>

#include <systemc>

namespace hw::bus {

class bus_master_if : public virtual sc_core::sc_interface {
 public:
  // Master `master` uses `bus_cycles` bus cycles starting at the current time plus `offset`.
  // Returns how long it additionally waits for the bus (zero while no other master competes).
  virtual sc_core::sc_time use_bus(unsigned master, std::uint64_t bus_cycles,
                                   const sc_core::sc_time& offset) = 0;
  virtual std::uint64_t bus_clock_hz() const = 0;
};

}  // namespace hw::bus
