// The resource arbiter on its own: windows placed aligned inside their range around what is
// taken, fixed resources honoured, IRQs shared only between level-sensitive shareable
// claimants and only when no free line is left, a device's list assigned whole or not at all.
#include <gtest/gtest.h>

#include "sw/io/resources.h"

namespace {

using io::ResourceArbiter;
using io::ResourceRequirement;
using io::ResourceType;
using io::Share;

ResourceRequirement ports(std::uint64_t length, std::uint64_t min, std::uint64_t max,
                          std::uint64_t align) {
  ResourceRequirement r;
  r.type = ResourceType::port;
  r.length = length;
  r.alignment = align;
  r.minimum = min;
  r.maximum = max;
  return r;
}

ResourceRequirement fixed_ports(std::uint64_t base, std::uint64_t length) {
  return ports(length, base, base + length - 1, 1);
}

ResourceRequirement irq(std::vector<unsigned> choices, bool level_shared) {
  ResourceRequirement r;
  r.type = ResourceType::interrupt;
  r.choices = std::move(choices);
  r.level = level_shared;
  r.share = level_shared ? Share::shared : Share::exclusive;
  return r;
}

TEST(ResourceArbiter, WindowsAreAlignedInsideTheRangeAndSkipWhatIsTaken) {
  ResourceArbiter a;
  std::string why;
  auto legacy = a.assign("legacy", {fixed_ports(0xc004, 4)}, why);
  ASSERT_TRUE(legacy) << why;
  // 16 bytes aligned to 16 in 0xc000-0xc03f: 0xc000 overlaps the legacy window, so 0xc010.
  auto first = a.assign("first", {ports(16, 0xc000, 0xc03f, 16)}, why);
  ASSERT_TRUE(first) << why;
  EXPECT_EQ((*first)[0].start, 0xc010u);
  auto second = a.assign("second", {ports(16, 0xc000, 0xc03f, 16)}, why);
  ASSERT_TRUE(second) << why;
  EXPECT_EQ((*second)[0].start, 0xc020u);
  auto third = a.assign("third", {ports(16, 0xc000, 0xc03f, 16)}, why);
  ASSERT_TRUE(third) << why;
  EXPECT_EQ((*third)[0].start, 0xc030u);
  // The range is full: the fourth is refused, and the reason names who holds it.
  auto fourth = a.assign("fourth", {ports(16, 0xc000, 0xc03f, 16)}, why);
  EXPECT_FALSE(fourth);
  EXPECT_NE(why.find("no free window"), std::string::npos) << why;
  EXPECT_NE(why.find("second"), std::string::npos) << why;
}

TEST(ResourceArbiter, AFixedWindowThatCollidesIsRefused) {
  ResourceArbiter a;
  std::string why;
  ASSERT_TRUE(a.assign("pic", {fixed_ports(0x20, 2)}, why));
  EXPECT_FALSE(a.assign("other", {fixed_ports(0x21, 2)}, why));
  EXPECT_NE(why.find("pic"), std::string::npos) << why;
}

TEST(ResourceArbiter, IrqsAreSharedOnlyWhenTheFreeLinesRunOutAndOnlyLevelSensitive) {
  ResourceArbiter a;
  std::string why;
  auto x = a.assign("x", {irq({9, 11}, true)}, why);
  auto y = a.assign("y", {irq({9, 11}, true)}, why);
  ASSERT_TRUE(x && y) << why;
  EXPECT_EQ((*x)[0].irq, 9u);
  EXPECT_EQ((*y)[0].irq, 11u) << "a free line before a shared one";
  auto z = a.assign("z", {irq({9, 11}, true)}, why);
  auto w = a.assign("w", {irq({9, 11}, true)}, why);
  ASSERT_TRUE(z && w) << why;
  EXPECT_EQ((*z)[0].irq, 9u) << "the line with the fewest devices";
  EXPECT_EQ((*w)[0].irq, 11u);
  EXPECT_EQ(a.irq_users(9), (std::vector<std::string>{"x", "z"}));
  // An edge-triggered device cannot join a shared line, nor a line join an edge one.
  EXPECT_FALSE(a.assign("edge", {irq({9, 11}, false)}, why));
  ASSERT_TRUE(a.assign("legacy", {irq({4}, false)}, why));
  EXPECT_FALSE(a.assign("level", {irq({4}, true)}, why));
  EXPECT_NE(why.find("legacy"), std::string::npos) << why;
}

TEST(ResourceArbiter, ADeviceGetsEverythingOrNothing) {
  ResourceArbiter a;
  std::string why;
  ResourceRequirement dma;
  dma.type = ResourceType::dma;
  dma.choices = {1};
  ASSERT_TRUE(a.assign("disk0", {dma}, why));
  // Ports are free but the DMA channel is not: nothing is taken for disk1.
  EXPECT_FALSE(a.assign("disk1", {fixed_ports(0x170, 8), irq({15}, false), dma}, why));
  EXPECT_NE(why.find("DMA channel 1"), std::string::npos) << why;
  EXPECT_TRUE(a.irq_users(15).empty());
  EXPECT_TRUE(a.assign("other", {fixed_ports(0x170, 8)}, why)) << "disk1's ports were not kept";
  // Releasing gives them back.
  a.release("disk0");
  EXPECT_TRUE(a.assign("disk1", {dma}, why)) << why;
}

}  // namespace
