#pragma once
// Bus arbitration between the CPU and the DMA engine, accounted per bus cycle without a clock.
//
// The DMA engine asks for the bus one *segment* at a time: `units` transfer units of
// `cycles_per_unit` bus cycles each (1 for a fly-by device<->memory unit, 2 for memory-to-memory:
// a read and a write). How the segment shares the bus depends on its mode:
//   burst        HOLD/HLDA for the whole segment: it ends after units*c cycles; the CPU's bus
//                accesses stall until it ends, and so does computation that needs the bus.
//   cycle_steal  one unit at a time, then the bus goes back to the CPU for `gap` cycles (the
//                8237's single-transfer mode gives the CPU one full machine cycle): the segment
//                ends after units*(c+gap) cycles; the CPU loses the c cycles of every unit.
//   transparent  the DMA uses only cycles the CPU leaves free: with the CPU needing a share f
//                of the cycles, the segment takes units*c/(1-f) cycles; the CPU never stalls,
//                and each of its bus accesses pushes the segment back by that access's cycles.
// The arithmetic is exact between the instants the CPU's demand changes (the start and end of
// each computation), so a segment's end is projected and re-projected only when that happens.
// Plain C++ on picoseconds: unit tests hold it to the formulas without a simulator.
#include <cstdint>
#include <limits>

namespace hw::bus {

enum class DmaMode : std::uint8_t { burst = 0, cycle_steal = 1, transparent = 2 };
const char* to_string(DmaMode mode);

class Arbiter {
 public:
  static constexpr std::uint64_t kNever = std::numeric_limits<std::uint64_t>::max();

  struct Progress {
    double rate = 1.0;             // how fast the CPU's work advances (1 = unhindered)
    std::uint64_t until = kNever;  // the time (ps) this rate holds to, as far as known now
  };
  struct Stats {
    std::uint64_t dma_cycles = 0;    // bus cycles the DMA used (units * c)
    std::uint64_t dma_segments = 0;  // bus grants (HOLD/HLDA handshakes)
    std::uint64_t dma_busy_ps = 0;   // time a segment was in progress
    std::uint64_t cpu_stalled_accesses = 0;
  };

  Arbiter(std::uint64_t cycle_ps, unsigned steal_gap_cycles)
      : cycle_ps_(cycle_ps), gap_(steal_gap_cycles) {}

  std::uint64_t cycle_ps() const { return cycle_ps_; }
  unsigned steal_gap() const { return gap_; }

  // --- the DMA engine (one segment at a time)
  // Starts a segment at `now`; returns its projected end.
  std::uint64_t dma_begin(std::uint64_t now, DmaMode mode, std::uint64_t units,
                          unsigned cycles_per_unit);
  // At `now` (>= the last projection): true if the segment is complete; otherwise `end` gets
  // the new projection (transparent segments move with the CPU's demand and accesses).
  bool dma_done(std::uint64_t now, std::uint64_t& end);
  void dma_end(std::uint64_t now);
  bool dma_active() const { return active_; }
  DmaMode dma_mode() const { return mode_; }
  bool holds_bus(std::uint64_t now) const;  // HLDA: burst, or a cycle-steal unit in progress
  // From when the segment in progress no longer delays a CPU access (cpu_access() returns 0):
  // its end for burst and cycle-stealing, kNever for transparent (the CPU's accesses move it),
  // 0 with no segment.
  std::uint64_t steals_until() const {
    return !active_ ? 0 : mode_ == DmaMode::transparent ? kNever : end_;
  }

  // --- the CPU
  // Progress of computation at `now` that needs a share `share` of the bus cycles.
  Progress cpu_progress(std::uint64_t now, double share) const;
  // A bus access of `cycles` at `now`: returns how long it waits for the bus (ps).
  std::uint64_t cpu_access(std::uint64_t now, std::uint64_t cycles);
  // The CPU's share of bus cycles from `now` on (0 when it is not computing). Returns whether a
  // transparent segment's projection moved (the DMA engine must look again).
  bool cpu_demand(std::uint64_t now, double share);

  const Stats& stats() const { return stats_; }

 private:
  void accrue(std::uint64_t now);  // transparent: free cycles up to now
  std::uint64_t project(std::uint64_t now) const;

  std::uint64_t cycle_ps_;
  unsigned gap_;
  bool active_ = false;
  DmaMode mode_ = DmaMode::burst;
  std::uint64_t start_ = 0, end_ = 0, units_ = 0;
  unsigned c_ = 1;
  double demand_ = 0.0;     // the CPU's share of bus cycles now
  double needed_ = 0.0;     // transparent: cycles the segment needs
  double free_ = 0.0;       // transparent: free cycles it has had
  std::uint64_t last_ = 0;  // transparent: time free_ is accrued to
  Stats stats_;
};

}  // namespace hw::bus
