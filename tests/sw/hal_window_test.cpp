// Register windows on a fake processor: offsets become accesses in the window's own space at
// base + offset, of the width asked for; an access outside the window is counted.
#include "sw/hal/window.h"

#include <gtest/gtest.h>

#include "tests/support/fake_processor.h"
#include "util/log.h"

namespace {

using Access = tests::FakeProcessor::Access;

TEST(HalWindow, OffsetsBecomeAccessesInTheWindowsSpace) {
  tests::FakeProcessor cpu;
  hal::RegisterWindow ports(cpu, hw::Space::io, 0x1f0, 0x10);
  hal::RegisterWindow mmio(cpu, hw::Space::memory, 0xfebf0000, 0x10);
  cpu.reads[0x1f9].push_back(0x42);
  cpu.reads[0xfebf0009].push_back(0x43);
  EXPECT_EQ(ports.read8(9), 0x42);
  EXPECT_EQ(mmio.read8(9), 0x43) << "the same offset, the same driver code, in memory space";
  ports.write16(0, 0xbeef);
  mmio.write32(4, 0x12345678);
  const std::vector<Access> want = {{hw::Space::io, 0x1f9, 1, false, 0x42},
                                    {hw::Space::memory, 0xfebf0009, 1, false, 0x43},
                                    {hw::Space::io, 0x1f0, 2, true, 0xbeef},
                                    {hw::Space::memory, 0xfebf0004, 4, true, 0x12345678}};
  EXPECT_EQ(cpu.log, want);
  EXPECT_EQ(ports.outside() + mmio.outside(), 0u);
}

TEST(HalWindow, AnAccessOutsideTheWindowIsCounted) {
  util::set_log_level(util::Level::off);  // the first one is logged as an error
  tests::FakeProcessor cpu;
  hal::RegisterWindow w(cpu, hw::Space::io, 0x3f8, 4);
  EXPECT_TRUE(w.contains(3, 1));
  EXPECT_FALSE(w.contains(3, 2)) << "a 2-byte access at the last byte straddles the end";
  w.write8(3, 1);
  EXPECT_EQ(w.outside(), 0u);
  w.write16(3, 1);
  w.read32(0x10);
  EXPECT_EQ(w.outside(), 2u);
  EXPECT_EQ(cpu.log.size(), 3u) << "the hardware still sees what a wild access would do";
}

}  // namespace
