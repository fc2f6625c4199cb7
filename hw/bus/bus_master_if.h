#pragma once
// The bus masters' side of arbitration (hw/bus/arbiter.h). The CPU tells the bus about the
// cycles it uses outside b_transport (DMI accesses, the bus share of its computation) and asks
// how long they wait; the DMA engine asks for the bus one segment at a time.
#include <cstdint>

#include <systemc>

#include "hw/bus/arbiter.h"

namespace hw::bus {

class bus_master_if : public virtual sc_core::sc_interface {
 public:
  // Master `master` uses `bus_cycles` bus cycles for an access at the current time plus
  // `offset`. Returns how long it additionally waits for the bus (zero unless DMA holds it).
  virtual sc_core::sc_time use_bus(unsigned master, std::uint64_t bus_cycles,
                                   const sc_core::sc_time& offset) = 0;
  // Counts `bus_cycles` of computation's bus share to `master` (their timing is cpu_progress).
  virtual void account(unsigned master, std::uint64_t bus_cycles) = 0;
  // How fast computation that needs a share `share` of the bus cycles advances at the current
  // time plus `offset`, and until when (Arbiter::Progress; `until` in ps of simulated time).
  virtual Arbiter::Progress cpu_progress(double share, const sc_core::sc_time& offset) = 0;
  // The CPU's share of bus cycles from the current time plus `offset` on.
  virtual void cpu_demand(double share, const sc_core::sc_time& offset) = 0;
  // Notified when a DMA segment starts or ends: computation in progress looks again.
  virtual const sc_core::sc_event& arbitration_event() const = 0;
  virtual std::uint64_t bus_clock_hz() const = 0;
  // No DMA segment is in progress: until one starts (from the DMA engine's process), an access
  // never waits for the bus, and use_bus() is just account().
  virtual bool dma_idle() const = 0;
  // The time (ps) from which the segment in progress takes no more bus cycles from the CPU, as
  // far as known now: its end for burst and cycle-stealing segments (fixed when they start),
  // never for a transparent one (its end moves with the CPU's own accesses), 0 with none.
  virtual std::uint64_t dma_steals_until() const = 0;
};

// The DMA engine's side: it runs in its own process at kernel time (no offset).
class dma_bus_if : public virtual sc_core::sc_interface {
 public:
  // Starts a segment of `units` units of `cycles_per_unit` bus cycles; returns its projected
  // end. The engine waits for it (and for demand_event()) and then asks segment_done().
  virtual sc_core::sc_time begin_segment(DmaMode mode, std::uint64_t units,
                                         unsigned cycles_per_unit) = 0;
  // True when the segment is complete; otherwise `end` is its new projected end.
  virtual bool segment_done(sc_core::sc_time& end) = 0;
  virtual void end_segment() = 0;
  // Notified when the CPU's demand moves a transparent segment's end.
  virtual const sc_core::sc_event& demand_event() const = 0;
};

}  // namespace hw::bus
