// The idle workload on a fake processor: boot, then each halt ends with an interrupt.
#include "sw/apps/idle.h"

#include <gtest/gtest.h>

#include "tests/support/fake_processor.h"
#include "util/log.h"

namespace {

apps::IdleParams params() {
  apps::IdleParams p;
  p.vector_base = 0x30;
  return p;
}

TEST(IdleLoop, BootsProgramsTheClockAndCountsTicksWithEoi) {
  tests::FakeProcessor cpu;
  apps::IdleLoop idle(cpu, params());
  cpu.on_halt = [&] { cpu.raise(0x30); };
  idle.run(3);
  EXPECT_EQ(idle.counts().ticks, 3u);
  auto w = cpu.port_writes();
  // Boot: 10 PIC writes, 3 PIT writes, unmask IRQ0; then one specific EOI per tick.
  ASSERT_EQ(w.size(), 10u + 3u + 1u + 3u);
  EXPECT_EQ(w[10], std::make_pair(std::uint16_t{0x43}, std::uint8_t{0x34}));
  EXPECT_EQ(w[13], std::make_pair(std::uint16_t{0x21}, std::uint8_t{0xfa}));
  for (std::size_t i = 14; i < w.size(); ++i)
    EXPECT_EQ(w[i], std::make_pair(std::uint16_t{0x20}, std::uint8_t{0x60}));
  EXPECT_FALSE(cpu.interrupts_enabled()) << "run() returns with interrupts off";
}

TEST(IdleLoop, SpuriousIrq7IsCountedNotTickedAndNotEoied) {
  tests::FakeProcessor cpu;
  apps::IdleLoop idle(cpu, params());
  int halts = 0;
  cpu.on_halt = [&] {
    if (halts++ == 0) {
      cpu.reads[0x20] = {0x00};  // ISR bit 7 clear: the request vanished
      cpu.raise(0x37);
    } else {
      cpu.raise(0x30);
    }
  };
  idle.run(1);
  EXPECT_EQ(idle.counts().spurious, 1u);
  EXPECT_EQ(idle.counts().ticks, 1u);
  auto w = cpu.port_writes();
  EXPECT_EQ(std::count(w.begin(), w.end(), std::make_pair(std::uint16_t{0x20}, std::uint8_t{0x67})),
            0)
      << "no EOI for a spurious IRQ7";
}

TEST(IdleLoop, ForeignVectorIsUnexpectedAndGetsNoEoi) {
  tests::FakeProcessor cpu;
  util::set_log_level(util::Level::off);
  apps::IdleLoop idle(cpu, params());
  int halts = 0;
  cpu.on_halt = [&] { cpu.raise(halts++ == 0 ? 0x80 : 0x30); };
  idle.run(1);
  EXPECT_EQ(idle.counts().unexpected, 1u);
  EXPECT_EQ(cpu.port_writes().size(), 10u + 3u + 1u + 1u) << "only the tick's EOI";
}

}  // namespace
