// Model bench for the 8254 counter 0: OUT edges at the times the datasheet gives for modes 0
// and 2, counted in input clocks, without any per-clock process.
#include "hw/timer/pit8254.h"

#include <gtest/gtest.h>

#include "hw/core/sim_time.h"
#include "tests/support/sc_test.h"
#include "util/log.h"

namespace {

using hw::timer::Pit8254;

// 1 MHz input: one clock per microsecond keeps the expected times readable.
constexpr std::uint64_t kHz = 1'000'000;
constexpr std::uint64_t kClockPs = 1'000'000;

struct Bench : sc_core::sc_module {
  Pit8254 pit;
  tests::Initiator io{"io"};
  hw::Pin out{"out"};
  hw::PinIn sense;
  std::vector<std::pair<std::uint64_t, bool>> edges;  // (time ps, level)

  explicit Bench(std::uint64_t hz = kHz, const sc_core::sc_module_name& name = "bench")
      : sc_module(name), pit("pit", hz) {
    io.out.bind(pit.in);
    pit.out.bind(out);
    sense.bind(out);
    sense.on_change([this](bool level) { edges.emplace_back(hw::now_ps(), level); });
  }
  // Each helper first ends elaboration if needed: a module must not start the simulation from
  // its own constructor.
  void control(std::uint8_t v) {
    tests::settle();
    io.write(3, v);
    tests::settle();
  }
  void count(std::uint8_t v) {
    tests::settle();
    io.write(0, v);
    tests::settle();
  }
  std::uint8_t read() { return static_cast<std::uint8_t>(io.read(0)); }
  void run_us(std::uint64_t us) {
    tests::run_for(sc_core::sc_time(static_cast<double>(us), sc_core::SC_US));
  }
};

TEST(Pit8254, Mode2RateGeneratorPeriodAndLowPulse) {
  Bench b;
  b.control(0x34);  // counter 0, LSB then MSB, mode 2
  EXPECT_TRUE(b.pit.out_level()) << "mode 2: OUT high after the control word";
  b.count(10);
  b.count(0);
  b.run_us(35);
  // The count loads on the first clock after the write (t = 1 clock); OUT falls when the count
  // reaches 1 and rises one clock later, every 10 clocks.
  std::vector<std::pair<std::uint64_t, bool>> want = {
      {0, true},  // control word
      {10 * kClockPs, false},
      {11 * kClockPs, true},  // first period ends at 1 + 10
      {20 * kClockPs, false},
      {21 * kClockPs, true},
      {30 * kClockPs, false},
      {31 * kClockPs, true}};
  EXPECT_EQ(b.edges, want);
  EXPECT_EQ(b.pit.stats().out_rising, 4u);
}

TEST(Pit8254, Mode0InterruptOnTerminalCount) {
  Bench b;
  b.control(0x30);  // mode 0
  EXPECT_FALSE(b.pit.out_level());
  b.count(5);
  b.count(0);
  b.run_us(20);
  ASSERT_EQ(b.edges.size(), 1u) << "OUT rises once and stays high";
  EXPECT_EQ(b.edges[0], std::make_pair(6 * kClockPs, true)) << "N+1 clocks after the count write";
}

TEST(Pit8254, Mode0FirstByteStopsCounting) {
  Bench b;
  b.control(0x30);
  b.count(5);
  b.count(0);
  b.run_us(2);
  b.count(3);  // LSB of a new count: counting stops, OUT stays low
  b.run_us(10);
  EXPECT_TRUE(b.edges.empty());
  b.count(0);  // MSB: new count 3 loads
  b.run_us(10);
  ASSERT_EQ(b.edges.size(), 1u);
  EXPECT_EQ(b.edges[0].first, (2 + 10 + 3 + 1) * kClockPs);
}

TEST(Pit8254, CounterLatchFreezesTheReadValue) {
  Bench b;
  b.control(0x34);
  b.count(100);
  b.count(0);
  b.run_us(11);     // loaded at 1us: 10 clocks elapsed -> count 90
  b.control(0x00);  // latch counter 0
  b.run_us(5);
  std::uint16_t lsb = b.read();
  std::uint16_t msb = b.read();
  EXPECT_EQ(lsb | msb << 8, 90);
  // Unlatched reads follow the count: 15 clocks elapsed now.
  std::uint16_t live = b.read();
  live |= static_cast<std::uint16_t>(b.read() << 8);
  EXPECT_EQ(live, 85);
}

TEST(Pit8254, LsbOnlyAndMsbOnlyAccessModes) {
  Bench b;
  b.control(0x14);  // LSB only, mode 2
  b.count(8);
  b.run_us(20);
  EXPECT_EQ(b.pit.current_count(), 8 - (20 - 1) % 8);
  b.control(0x24);  // MSB only: count 0x0100
  b.count(0x01);
  b.run_us(1);
  EXPECT_EQ(b.read(), 0x01) << "MSB-only read returns the high byte";
}

TEST(Pit8254, Mode2NewCountTakesEffectAtPeriodEnd) {
  Bench b;
  b.control(0x34);
  b.count(10);
  b.count(0);
  b.run_us(5);
  b.count(4);
  b.count(0);  // written mid-period
  b.run_us(30);
  // First period still ends at 11us; then periods of 4 clocks: rises at 15, 19, 23, 27, 31, 35.
  std::vector<std::uint64_t> rises;
  for (auto& [t, level] : b.edges) {
    if (level && t > 0) rises.push_back(t / kClockPs);
  }
  std::vector<std::uint64_t> want = {11, 15, 19, 23, 27, 31, 35};
  EXPECT_EQ(rises, want);
}

TEST(Pit8254, ZeroCountMeans65536) {
  Bench b;
  b.control(0x34);
  b.count(0);
  b.count(0);
  b.run_us(65537 + 2);
  ASSERT_GE(b.edges.size(), 3u);
  EXPECT_EQ(b.edges[2].first, (1 + 65536) * kClockPs);
}

TEST(Pit8254, UnsupportedControlWordsAreReportedNotFatal) {
  Bench b;
  util::reset_log_counts();
  util::set_log_level(util::Level::off);
  b.control(0x74);  // counter 1
  b.control(0xc2);  // read-back
  b.control(0x36);  // mode 3
  EXPECT_EQ(b.pit.stats().unsupported, 3u);
  EXPECT_GE(util::log_count(util::Level::warn) + util::log_count(util::Level::error), 3u);
  b.count(10);
  b.count(0);
  b.run_us(30);
  EXPECT_FALSE(b.pit.counting()) << "an unmodeled mode leaves the counter stopped";
}

TEST(Pit8254, ReadOfTheControlPortIsABusError) {
  Bench b;
  tests::settle();
  std::uint32_t v = 0;
  EXPECT_EQ(b.io.access(tlm::TLM_READ_COMMAND, 3, 1, v), tlm::TLM_COMMAND_ERROR_RESPONSE);
  EXPECT_EQ(b.io.access(tlm::TLM_READ_COMMAND, 1, 1, v), tlm::TLM_ADDRESS_ERROR_RESPONSE)
      << "counter 1 is not modeled";
}

TEST(Pit8254, PcRateIsExactOverManyPeriods) {
  // The PC's 1.193182 MHz clock has a non-integer period in picoseconds. Edges are computed
  // from the load instant (one clock after the write, truncated to the picosecond), not
  // accumulated: after 1000 periods the error is still under 1 ps.
  Bench b(1'193'182);
  b.control(0x34);
  b.count(1193 & 0xff);
  b.count(1193 >> 8);
  tests::run_for(sc_core::sc_time(1001, sc_core::SC_MS));
  std::vector<std::uint64_t> rises;
  for (auto& [t, level] : b.edges) {
    if (level) rises.push_back(t);
  }
  ASSERT_GE(rises.size(), 1001u);  // the control word's rise, then one per period
  const std::uint64_t load_ps = 1'000'000'000'000ull / 1'193'182;
  EXPECT_EQ(rises[1000], load_ps + 1000ull * 1193 * 1'000'000'000'000ull / 1'193'182);
}

}  // namespace
