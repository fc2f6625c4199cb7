#include "hw/bus/arbiter.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace hw::bus {

const char* to_string(DmaMode mode) {
  switch (mode) {
    case DmaMode::burst:
      return "burst";
    case DmaMode::cycle_steal:
      return "cycle-stealing";
    case DmaMode::transparent:
      return "transparent";
  }
  return "?";
}

std::uint64_t Arbiter::dma_begin(std::uint64_t now, DmaMode mode, std::uint64_t units,
                                 unsigned cycles_per_unit) {
  // Only the DMA engine calls this, one segment at a time: a second one is a model bug.
  if (active_) throw std::logic_error("arbiter: DMA segment started while one is in progress");
  active_ = true;
  mode_ = mode;
  start_ = now;
  units_ = units;
  c_ = std::max(1u, cycles_per_unit);
  ++stats_.dma_segments;
  stats_.dma_cycles += units * c_;
  switch (mode) {
    case DmaMode::burst:
      end_ = now + units * c_ * cycle_ps_;
      break;
    case DmaMode::cycle_steal:
      // Every unit is followed by the CPU's gap, the last one too: the next segment's first
      // unit cannot follow without it.
      end_ = now + units * (c_ + gap_) * cycle_ps_;
      break;
    case DmaMode::transparent:
      needed_ = static_cast<double>(units * c_);
      free_ = 0.0;
      last_ = now;
      end_ = project(now);
      break;
  }
  return end_;
}

void Arbiter::accrue(std::uint64_t now) {
  if (now <= last_) return;
  free_ += static_cast<double>(now - last_) / static_cast<double>(cycle_ps_) * (1.0 - demand_);
  last_ = now;
}

std::uint64_t Arbiter::project(std::uint64_t now) const {
  const double missing = needed_ - free_;
  if (missing <= 1e-9) return now;
  if (demand_ >= 1.0) return kNever;  // starved until the CPU's demand falls
  // Whole cycles: the DMA finishes at a bus-cycle boundary after its last free cycle.
  const double cycles = std::ceil(missing / (1.0 - demand_) - 1e-9);
  return now + static_cast<std::uint64_t>(cycles) * cycle_ps_;
}

bool Arbiter::dma_done(std::uint64_t now, std::uint64_t& end) {
  if (!active_) return true;
  if (mode_ != DmaMode::transparent) {
    end = end_;
    return now >= end_;
  }
  accrue(now);
  end_ = project(now);
  end = end_;
  return end_ <= now;
}

void Arbiter::dma_end(std::uint64_t now) {
  if (!active_) return;
  stats_.dma_busy_ps += now - start_;
  active_ = false;
}

bool Arbiter::holds_bus(std::uint64_t now) const {
  if (!active_ || now < start_ || now >= end_) return false;
  if (mode_ == DmaMode::burst) return true;
  if (mode_ == DmaMode::cycle_steal)
    return (now - start_) % ((c_ + gap_) * cycle_ps_) < c_ * cycle_ps_;
  return false;
}

Arbiter::Progress Arbiter::cpu_progress(std::uint64_t now, double share) const {
  Progress p;
  if (!active_ || share <= 0.0 || now >= end_ || now < start_) return p;
  switch (mode_) {
    case DmaMode::burst:
      p.rate = 0.0;
      p.until = end_;
      break;
    case DmaMode::cycle_steal:
      p.rate = static_cast<double>(gap_) / static_cast<double>(c_ + gap_);
      p.until = end_;
      break;
    case DmaMode::transparent:
      break;
  }
  return p;
}

std::uint64_t Arbiter::cpu_access(std::uint64_t now, std::uint64_t cycles) {
  if (!active_ || now < start_ || now >= end_) return 0;
  std::uint64_t stall = 0;
  switch (mode_) {
    case DmaMode::burst:
      stall = end_ - now;
      break;
    case DmaMode::cycle_steal: {
      const std::uint64_t phase = (now - start_) % ((c_ + gap_) * cycle_ps_);
      if (phase < c_ * cycle_ps_) stall = c_ * cycle_ps_ - phase;
      break;
    }
    case DmaMode::transparent:
      accrue(now);
      free_ -= static_cast<double>(cycles);  // the DMA does not get the cycles the CPU uses
      end_ = project(now);
      break;
  }
  if (stall) ++stats_.cpu_stalled_accesses;
  return stall;
}

bool Arbiter::cpu_demand(std::uint64_t now, double share) {
  share = std::clamp(share, 0.0, 1.0);
  if (share == demand_) return false;
  if (active_ && mode_ == DmaMode::transparent) {
    accrue(now);
    demand_ = share;
    end_ = project(now);
    return true;
  }
  demand_ = share;
  return false;
}

}  // namespace hw::bus
