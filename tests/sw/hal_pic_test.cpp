// The HAL's 8259A programming on a fake processor: the exact port sequence matters, because
// the hardware is programmed by it (ICW order, EOI order for cascaded IRQs, spurious checks).
#include "sw/hal/pic.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "sw/hal/hal.h"
#include "sw/hal/pit.h"
#include "tests/support/fake_processor.h"

namespace {

using Writes = std::vector<std::pair<std::uint16_t, std::uint8_t>>;

TEST(HalPic, InitializeProgramsBothChipsInIcwOrderAndMasksAllButCascade) {
  tests::FakeProcessor cpu;
  hal::PicPair pic(cpu, {});
  pic.initialize(0x30, 0x38);
  Writes want = {{0x20, 0x11}, {0x21, 0x30}, {0x21, 0x04}, {0x21, 0x01}, {0xa0, 0x11},
                 {0xa1, 0x38}, {0xa1, 0x02}, {0xa1, 0x01}, {0x21, 0xfb}, {0xa1, 0xff}};
  EXPECT_EQ(cpu.port_writes(), want);
  EXPECT_EQ(pic.mask(), 0xfffb);
}

TEST(HalPic, MaskWritesOnlyTheChipThatChanged) {
  tests::FakeProcessor cpu;
  hal::PicPair pic(cpu, {});
  pic.initialize(0x30, 0x38);
  cpu.log.clear();
  pic.enable_irq(0);
  pic.enable_irq(12);
  pic.disable_irq(12);
  Writes want = {{0x21, 0xfa}, {0xa1, 0xef}, {0xa1, 0xff}};
  EXPECT_EQ(cpu.port_writes(), want);
}

TEST(HalPic, EoiForASlaveIrqGoesToTheSlaveThenTheCascadeLevel) {
  tests::FakeProcessor cpu;
  hal::PicPair pic(cpu, {});
  pic.end_of_interrupt(3);
  pic.end_of_interrupt(14);
  Writes want = {{0x20, 0x63}, {0xa0, 0x66}, {0x20, 0x62}};
  EXPECT_EQ(cpu.port_writes(), want);
}

TEST(HalPic, SpuriousIrq7IsDetectedByAClearIsrBitAndGetsNoEoi) {
  tests::FakeProcessor cpu;
  hal::PicPair pic(cpu, {});
  cpu.reads[0x20] = {0x00};
  EXPECT_TRUE(pic.is_spurious(7));
  Writes want = {{0x20, 0x0b}};  // OCW3 read ISR, no EOI
  EXPECT_EQ(cpu.port_writes(), want);
}

TEST(HalPic, RealIrq7IsNotSpurious) {
  tests::FakeProcessor cpu;
  hal::PicPair pic(cpu, {});
  cpu.reads[0x20] = {0x80};
  EXPECT_FALSE(pic.is_spurious(7));
}

TEST(HalPic, SpuriousIrq15StillEoisTheMastersCascadeLevel) {
  tests::FakeProcessor cpu;
  hal::PicPair pic(cpu, {});
  cpu.reads[0xa0] = {0x00};
  EXPECT_TRUE(pic.is_spurious(15));
  Writes want = {{0xa0, 0x0b}, {0x20, 0x62}};
  EXPECT_EQ(cpu.port_writes(), want);
}

TEST(HalPic, OtherIrqsAreNeverSpuriousAndReadNothing) {
  tests::FakeProcessor cpu;
  hal::PicPair pic(cpu, {});
  EXPECT_FALSE(pic.is_spurious(3));
  EXPECT_TRUE(cpu.log.empty());
}

TEST(HalPic, VectorToIrq) {
  tests::FakeProcessor cpu;
  hal::PicPair pic(cpu, {});
  pic.initialize(0x30, 0x38);
  EXPECT_EQ(pic.irq_of_vector(0x30), 0);
  EXPECT_EQ(pic.irq_of_vector(0x3f), 15);
  EXPECT_EQ(pic.irq_of_vector(0x2f), -1);
  EXPECT_EQ(pic.irq_of_vector(0x40), -1);
}

TEST(HalPit, DivisorRoundsAndClamps) {
  EXPECT_EQ(hal::pit_divisor(1'193'182, 1000), 1193u);
  EXPECT_EQ(hal::pit_divisor(1'193'182, 100), 11932u);
  EXPECT_EQ(hal::pit_divisor(1'193'182, 10), 0x10000u)
      << "clamped to the 16-bit counter (written as 0)";
  EXPECT_EQ(hal::pit_divisor(1'193'182, 1'000'000), 2u) << "mode 2 needs at least 2";
}

TEST(HalPit, StartPeriodicWritesControlWordThenLsbMsb) {
  tests::FakeProcessor cpu;
  hal::pit_start_periodic(cpu, 0x40, 0x10000);
  Writes want = {{0x43, 0x34}, {0x40, 0x00}, {0x40, 0x00}};
  EXPECT_EQ(cpu.port_writes(), want);
}

}  // namespace

namespace {

// Level-triggered lines: the HAL writes ELCR (master's byte, then the slave's) after the ICWs,
// as firmware would, and translates those lines as level-sensitive and shareable; with none it
// leaves ELCR at its power-on value.
TEST(HalPic, LevelTriggeredLinesAreWrittenToElcrAfterInitialization) {
  tests::FakeProcessor cpu;
  hal::HalConfig hc;
  hc.level_irqs = (1u << 5) | (1u << 11);
  hal::Hal hal(cpu, hc);
  hal.initialize();
  const Writes writes = cpu.port_writes();
  const auto elcr1 = std::find(writes.begin(), writes.end(),
                               std::make_pair<std::uint16_t, std::uint8_t>(0x4d0, 0x20));
  ASSERT_NE(elcr1, writes.end());
  ASSERT_NE(elcr1 + 1, writes.end());
  EXPECT_EQ(*(elcr1 + 1), (std::pair<std::uint16_t, std::uint8_t>{0x4d1, 0x08}));
  EXPECT_TRUE(hal.level_triggered(11));
  EXPECT_FALSE(hal.level_triggered(4));

  tests::FakeProcessor plain;
  hal::Hal edge(plain, hal::HalConfig{});
  edge.initialize();
  for (const auto& [port, value] : plain.port_writes()) EXPECT_NE(port & 0xfffe, 0x4d0);
}

}  // namespace
