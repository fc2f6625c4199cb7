// The arbiter's arithmetic on its own (plain C++, no simulator): each mode against its formula.
#include "hw/bus/arbiter.h"

#include <gtest/gtest.h>

namespace {

using hw::bus::Arbiter;
using hw::bus::DmaMode;

constexpr std::uint64_t kCycle = 40'000;  // 25 MHz

// Runs a segment to completion with the CPU's demand fixed at `share`; returns cycles taken.
std::uint64_t run(Arbiter& a, DmaMode mode, std::uint64_t units, unsigned c, double share) {
  a.cpu_demand(0, share);
  std::uint64_t end = a.dma_begin(0, mode, units, c);
  std::uint64_t now = end;
  while (!a.dma_done(now, end)) now = end;
  a.dma_end(now);
  return now / kCycle;
}

TEST(Arbiter, BurstTakesOneCycleAWordWhateverTheCpuWants) {
  for (double f : {0.0, 0.3, 0.9}) {
    Arbiter a(kCycle, 1);
    EXPECT_EQ(run(a, DmaMode::burst, 1000, 1, f), 1000u) << f;
  }
  Arbiter a(kCycle, 1);
  EXPECT_EQ(run(a, DmaMode::burst, 1000, 2, 0.5), 2000u);  // memory to memory: read + write
}

TEST(Arbiter, CycleStealingGivesTheCpuItsGapAfterEveryUnit) {
  Arbiter one(kCycle, 1);
  EXPECT_EQ(run(one, DmaMode::cycle_steal, 1000, 1, 0.5), 2000u);
  Arbiter three(kCycle, 3);
  EXPECT_EQ(run(three, DmaMode::cycle_steal, 1000, 2, 0.5), 5000u);
}

TEST(Arbiter, TransparentUsesOnlyTheCyclesTheCpuLeaves) {
  for (double f : {0.0, 0.25, 0.5, 0.75}) {
    Arbiter a(kCycle, 1);
    const double expected = 1000.0 / (1.0 - f);
    EXPECT_NEAR(static_cast<double>(run(a, DmaMode::transparent, 1000, 1, f)), expected, 1.0) << f;
  }
}

TEST(Arbiter, TransparentFollowsTheCpuDemandAsItChanges) {
  Arbiter a(kCycle, 1);
  std::uint64_t end = a.dma_begin(0, DmaMode::transparent, 1000, 1);
  EXPECT_EQ(end, 1000 * kCycle);  // the CPU is not computing: every cycle is free
  // After 400 cycles the CPU starts computing with half the bus: 600 cycles left take 1200.
  EXPECT_TRUE(a.cpu_demand(400 * kCycle, 0.5));
  EXPECT_FALSE(a.dma_done(400 * kCycle, end));
  EXPECT_EQ(end, 1600 * kCycle);
  // It stops at 1000: 300 cycles were had in 600; the remaining 300 take 300.
  a.cpu_demand(1000 * kCycle, 0.0);
  EXPECT_FALSE(a.dma_done(1000 * kCycle, end));
  EXPECT_EQ(end, 1300 * kCycle);
  EXPECT_TRUE(a.dma_done(1300 * kCycle, end));
}

TEST(Arbiter, TransparentIsStarvedByACpuThatWantsEveryCycle) {
  Arbiter a(kCycle, 1);
  a.cpu_demand(0, 1.0);
  std::uint64_t end = a.dma_begin(0, DmaMode::transparent, 10, 1);
  EXPECT_EQ(end, Arbiter::kNever);
  a.cpu_demand(100 * kCycle, 0.0);
  EXPECT_FALSE(a.dma_done(100 * kCycle, end));
  EXPECT_EQ(end, 110 * kCycle);
}

TEST(Arbiter, CpuAccessesStallInBurstAndPushTransparentBack) {
  Arbiter burst(kCycle, 1);
  burst.dma_begin(0, DmaMode::burst, 100, 1);
  EXPECT_EQ(burst.cpu_access(30 * kCycle, 1), 70 * kCycle);  // waits for the release
  EXPECT_EQ(burst.cpu_access(100 * kCycle, 1), 0u);          // released
  EXPECT_EQ(burst.stats().cpu_stalled_accesses, 1u);

  Arbiter steal(kCycle, 1);
  steal.dma_begin(0, DmaMode::cycle_steal, 100, 1);
  EXPECT_EQ(steal.cpu_access(10 * kCycle, 1), kCycle);  // during a stolen cycle: waits it out
  EXPECT_EQ(steal.cpu_access(11 * kCycle, 1), 0u);      // in the CPU's gap

  Arbiter tr(kCycle, 1);
  std::uint64_t end = tr.dma_begin(0, DmaMode::transparent, 100, 1);
  EXPECT_EQ(tr.cpu_access(10 * kCycle, 4), 0u);  // the CPU never waits
  EXPECT_FALSE(tr.dma_done(100 * kCycle, end));
  EXPECT_EQ(end, 104 * kCycle);  // the DMA lost the four cycles
}

TEST(Arbiter, CpuProgressPerMode) {
  Arbiter a(kCycle, 1);
  a.dma_begin(0, DmaMode::burst, 100, 1);
  auto p = a.cpu_progress(10 * kCycle, 0.5);
  EXPECT_EQ(p.rate, 0.0);
  EXPECT_EQ(p.until, 100 * kCycle);
  EXPECT_EQ(a.cpu_progress(10 * kCycle, 0.0).rate, 1.0);  // no bus needed: not held up
  EXPECT_EQ(a.cpu_progress(100 * kCycle, 0.5).rate, 1.0);
  a.dma_end(100 * kCycle);
  a.dma_begin(100 * kCycle, DmaMode::cycle_steal, 10, 2);
  EXPECT_NEAR(a.cpu_progress(100 * kCycle, 0.5).rate, 1.0 / 3.0, 1e-12);
  a.dma_end(130 * kCycle);
  a.dma_begin(130 * kCycle, DmaMode::transparent, 10, 1);
  EXPECT_EQ(a.cpu_progress(130 * kCycle, 0.9).rate, 1.0);
}

TEST(Arbiter, HoldsTheBusOnlyWhileGranted) {
  Arbiter a(kCycle, 1);
  EXPECT_FALSE(a.holds_bus(0));
  a.dma_begin(0, DmaMode::cycle_steal, 4, 1);
  EXPECT_TRUE(a.holds_bus(0));
  EXPECT_FALSE(a.holds_bus(kCycle));
  EXPECT_TRUE(a.holds_bus(2 * kCycle));
  EXPECT_THROW(a.dma_begin(0, DmaMode::burst, 1, 1), std::logic_error);
}

}  // namespace

namespace {

// steals_until(): from then on no CPU access waits (the CPU's block copies go whole again).
TEST(Arbiter, AFixedSegmentStealsUntilItsEndATransparentOneAsLongAsItLasts) {
  Arbiter a(kCycle, 1);
  EXPECT_EQ(a.steals_until(), 0u) << "no segment";
  const std::uint64_t end = a.dma_begin(1'000'000, DmaMode::burst, 100, 1);
  EXPECT_EQ(a.steals_until(), end);
  EXPECT_GT(a.cpu_access(end - 1, 1), 0u) << "inside the burst an access waits";
  EXPECT_EQ(a.cpu_access(end, 1), 0u) << "from steals_until() on it does not";
  a.dma_end(end);
  EXPECT_EQ(a.steals_until(), 0u);
  const std::uint64_t steal_end = a.dma_begin(end, DmaMode::cycle_steal, 10, 1);
  EXPECT_EQ(a.steals_until(), steal_end);
  for (std::uint64_t t = steal_end; t < steal_end + 20 * kCycle; t += kCycle / 4)
    EXPECT_EQ(a.cpu_access(t, 1), 0u) << t;
  a.dma_end(steal_end);
  a.dma_begin(steal_end, DmaMode::transparent, 10, 1);
  EXPECT_EQ(a.steals_until(), Arbiter::kNever) << "the CPU's own accesses move its end";
}

}  // namespace
