// The three DMA modes held to their analytical behaviour (hw/bus/arbiter.h), on the whole
// platform: the dma-transfer workload moves B bus words (U units of c bus cycles: c = 2 memory
// to memory, 1 fly-by from the disk) while the CPU computes needing a share f of the bus.
//   burst           transfer B cycles,            CPU loses ~B cycles
//   cycle-stealing  transfer U*(c+g) cycles,      CPU loses ~B cycles (one per word)
//   transparent     transfer B/(1-f) cycles,      CPU loses nothing
// The transfer is 512 KiB in 4-byte units: U = 131072, B = 262144 words memory to memory,
// 131072 from the disk. Tolerance: 0.5% of the analytic value. What separates the simulation
// from the formula is bounded and small next to B: the CPU's own register accesses during the
// transfer (a handful, each pushing a transparent transfer back by its cycles), rounding to
// whole bus cycles at each segment end (one per segment: 128 segments of 4 KiB, or one per
// sector from the disk: 1024), and the CPU work being counted in 100-cycle steps. 0.5% is 655
// cycles or more: room for all of those, while a mode that took one extra cycle per 200 words
// would fail.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "platform/platform.h"
#include "platform/workloads.h"
#include "tests/support/sc_test.h"

namespace {

struct Outcome {
  double transfer = 0, expected = 0, stall = 0, work_rate = 0;
  bool ok = false;
};

Outcome run(const std::string& mode, const std::string& source, double share) {
  platform::Config c;
  c.workload = "dma-transfer";
  for (const std::string& kv :
       {"workload.dma.mode=" + mode, "workload.dma.source=" + source,
        "workload.dma.cpu_bus_share=" + std::to_string(share),
        std::string("workload.dma.bytes=512KiB"),  // U = 131072 four-byte units
        std::string("workload.dma.width=4"), std::string("devices.disk0.size=1MiB"),
        // the device is never the bottleneck
        std::string("devices.disk0.command_time=0"), std::string("devices.disk0.seek_time=0"),
        std::string("devices.disk0.sector_time=0"), std::string("devices.disk0.flush_time=0")})
    platform::apply_override(c, kv);
  platform::validate(c);
  platform::Platform p("p", c);
  auto w = platform::Workload::create(p, c);
  tests::run_for(sc_core::sc_time(2, sc_core::SC_SEC));
  util::JsonWriter j(false);
  j.begin_object();
  w->write_stats(j);
  j.end_object();
  YAML::Node n = YAML::Load(j.str())["workload"];
  Outcome o;
  o.transfer = n["transfer_bus_cycles"].as<double>();
  o.expected = n["expected_bus_cycles"].as<double>();
  o.stall = n["cpu_stall_cycles"].as<double>();
  o.work_rate = n["work_rate"].as<double>();
  o.ok = w->healthy() && p.cpu.powered_off();
  return o;
}

constexpr double kTolerance = 0.005;

void expect_near_rel(double actual, double expected, const char* what) {
  EXPECT_NEAR(actual, expected, kTolerance * expected) << what;
}

struct Case {
  const char* source;
  double share;
};
class DmaModes : public ::testing::TestWithParam<Case> {};

// Each TEST runs in its own process, and SystemC elaborates once per process: one mode per test.
TEST_P(DmaModes, Burst) {
  const auto [source, f] = GetParam();
  const double words = std::string(source) == "memory" ? 2.0 * 131072 : 131072;
  Outcome o = run("burst", source, f);
  ASSERT_TRUE(o.ok);
  expect_near_rel(o.transfer, words, "transfer cycles = B");
  expect_near_rel(o.stall, words, "CPU stall = B");
  EXPECT_LT(o.work_rate, 0.01);
}

TEST_P(DmaModes, CycleStealing) {
  const auto [source, f] = GetParam();
  const double c = std::string(source) == "memory" ? 2.0 : 1.0, units = 131072, g = 1;
  Outcome o = run("cycle-stealing", source, f);
  ASSERT_TRUE(o.ok);
  expect_near_rel(o.transfer, units * (c + g), "transfer cycles = U*(c+g)");
  expect_near_rel(o.stall, units * c, "CPU stall = one cycle per word");
  EXPECT_NEAR(o.work_rate, g / (c + g), 0.01);
  // Between burst (B) and transparent (B/(1-f)) whenever f > g/(c+g); below that, stealing a
  // cycle after every CPU cycle is slower than waiting for the free ones.
  const double burst = units * c, transparent = units * c / (1.0 - f);
  EXPECT_GT(o.transfer, burst);
  if (f > g / (c + g)) {
    EXPECT_LT(o.transfer, transparent);
  }
}

TEST_P(DmaModes, Transparent) {
  const auto [source, f] = GetParam();
  const double words = std::string(source) == "memory" ? 2.0 * 131072 : 131072;
  Outcome o = run("transparent", source, f);
  ASSERT_TRUE(o.ok);
  expect_near_rel(o.transfer, words / (1.0 - f), "transfer cycles = B/(1-f)");
  EXPECT_EQ(o.stall, 0.0) << "the CPU never stalls";
  EXPECT_GT(o.work_rate, 0.99);
}

INSTANTIATE_TEST_SUITE_P(Shares, DmaModes,
                         ::testing::Values(Case{"memory", 0.25}, Case{"memory", 0.5},
                                           Case{"memory", 0.75}, Case{"disk", 0.25},
                                           Case{"disk", 0.75}),
                         [](const auto& info) {
                           return std::string(info.param.source) + "_f" +
                                  std::to_string(static_cast<int>(info.param.share * 100));
                         });

}  // namespace
