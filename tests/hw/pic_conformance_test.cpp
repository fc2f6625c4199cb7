// The 8259A datasheet's rules that the randomized equivalence test cannot judge (it only holds
// the two models equal), each run on both controllers: the TLM pair and the Verilated RTL.
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "hw/intc/controller.h"
#include "hw/rtl/pic_rtl.h"
#include "tests/support/sc_test.h"

namespace {

constexpr unsigned kCascade = 2;
constexpr std::uint8_t kMasterBase = 0x20, kSlaveBase = 0x28;

struct Bench {
  std::unique_ptr<hw::intc::TlmPicPair> tlm;
  std::unique_ptr<hw::rtl::PicRtl> rtl;
  hw::intc::InterruptController* pic = nullptr;
  std::array<hw::Pin, 16> irq;
  hw::Pin intr{"intr"};
  tests::Initiator io_m{"io_m"}, io_s{"io_s"}, io_elcr{"io_elcr"};

  explicit Bench(const std::string& model) {
    if (model == "rtl") {
      rtl = std::make_unique<hw::rtl::PicRtl>("rtl", kCascade);
      pic = rtl.get();
    } else {
      tlm = std::make_unique<hw::intc::TlmPicPair>("tlm", kCascade);
      pic = tlm.get();
    }
    for (unsigned n = 0; n < 16; ++n)
      if (n != kCascade) pic->irq_input(n).bind(irq[n]);
    pic->intr_output().bind(intr);
    io_m.out.bind(pic->socket(false));
    io_s.out.bind(pic->socket(true));
    io_elcr.out.bind(pic->elcr_socket());
    tests::settle();
  }
  void init(std::uint8_t master_icw4 = 0x01, std::uint8_t slave_icw4 = 0x01) {
    write(false, 0, 0x11);  // edge-triggered, cascade, IC4
    write(false, 1, kMasterBase);
    write(false, 1, 1u << kCascade);
    write(false, 1, master_icw4);
    write(true, 0, 0x11);
    write(true, 1, kSlaveBase);
    write(true, 1, kCascade);
    write(true, 1, slave_icw4);
  }
  void write(bool slave, unsigned a0, std::uint8_t v) {
    (slave ? io_s : io_m).write(a0, v);
    tests::settle();
  }
  std::uint8_t read(bool slave, unsigned a0) {
    auto v = static_cast<std::uint8_t>((slave ? io_s : io_m).read(a0));
    tests::settle();
    return v;
  }
  void write_elcr(unsigned a0, std::uint8_t v) {
    io_elcr.write(a0, v);
    tests::settle();
  }
  std::uint8_t read_elcr(unsigned a0) {
    auto v = static_cast<std::uint8_t>(io_elcr.read(a0));
    tests::settle();
    return v;
  }
  void set(unsigned n, bool level) {
    irq[n].write(level);
    tests::settle();
  }
  bool int_line() {
    tests::settle();
    return intr.read();
  }
  std::uint8_t inta() {
    std::uint8_t v = pic->inta_export()->acknowledge();
    tests::settle();
    return v;
  }
};

class PicConformance : public ::testing::TestWithParam<std::string> {};

// Datasheet, Special Mask Mode: "An IS bit that is masked by an IMR bit will not be cleared by a
// non-specific EOI if the 8259A is in the Special Mask Mode." On the master.
TEST_P(PicConformance, SpecialMaskNonSpecificEoiSkipsMaskedInService) {
  Bench b(GetParam());
  b.init();
  b.set(3, true);
  EXPECT_EQ(b.inta(), kMasterBase + 3);
  b.write(false, 1, 0x08);  // mask IR3, in service
  b.write(false, 0, 0x68);  // special mask mode
  b.set(5, true);
  EXPECT_EQ(b.inta(), kMasterBase + 5) << "special mask admits IR5 below masked IR3";
  EXPECT_EQ(b.pic->isr(false), 0x28);
  b.write(false, 0, 0x20);  // non-specific EOI
  EXPECT_EQ(b.pic->isr(false), 0x08) << "the EOI ends IR5; masked IR3 stays in service";
  b.write(false, 0, 0x20);
  EXPECT_EQ(b.pic->isr(false), 0x08) << "no unmasked level in service: nothing is cleared";
  b.write(false, 0, 0x48);  // leave special mask mode
  b.write(false, 0, 0x20);
  EXPECT_EQ(b.pic->isr(false), 0x00);
}

// The same rule on the slave, with rotation on the non-specific EOI.
TEST_P(PicConformance, SpecialMaskNonSpecificEoiOnTheSlave) {
  Bench b(GetParam());
  b.init();
  b.set(9, true);  // slave IR1
  EXPECT_EQ(b.inta(), kSlaveBase + 1);
  b.write(true, 1, 0x02);  // mask slave IR1, in service
  b.write(true, 0, 0x68);
  b.write(false, 0, 0x20);  // the master's cascade level ends
  b.set(12, true);          // slave IR4
  EXPECT_EQ(b.inta(), kSlaveBase + 4);
  EXPECT_EQ(b.pic->isr(true), 0x12);
  b.write(true, 0, 0xa0);  // rotate on non-specific EOI
  EXPECT_EQ(b.pic->isr(true), 0x02) << "IR4 ends and becomes lowest; masked IR1 stays";
}

// Datasheet, Poll Command: "Interrupt is frozen from WR to RD". A request that rises, or one
// that goes away, between the poll command and its read does not change the answer.
TEST_P(PicConformance, PollFreezesRequestsFromWriteToRead) {
  Bench b(GetParam());
  b.init();
  b.write(false, 0, 0x0c);  // poll
  b.set(4, true);
  EXPECT_EQ(b.read(false, 0), 0x00) << "IR4 rose after the poll command";
  EXPECT_EQ(b.pic->isr(false), 0x00);
  // Thawed: IR4 (still latched) answers the next poll.
  b.write(false, 0, 0x0c);
  b.set(1, true);
  EXPECT_EQ(b.read(false, 0), 0x84) << "IR1 rose after the command: IR4 is the answer";
  EXPECT_EQ(b.pic->isr(false), 0x10);
  b.write(false, 0, 0x20);
  // A request withdrawn between the command and the read is still the answer.
  b.write(false, 0, 0x0c);
  b.set(1, false);
  EXPECT_EQ(b.read(false, 0), 0x81);
  EXPECT_EQ(b.pic->isr(false), 0x02);
}

// docs/models.md: an OCW3 without P between the poll command and its read cancels the poll;
// the read returns the status register that OCW3 selects and acknowledges nothing.
TEST_P(PicConformance, Ocw3BetweenPollAndReadCancelsThePoll) {
  Bench b(GetParam());
  b.init();
  b.set(6, true);
  b.write(false, 0, 0x0c);  // poll
  b.write(false, 0, 0x0b);  // OCW3: read ISR
  EXPECT_EQ(b.read(false, 0), 0x00) << "ISR, not a poll answer";
  EXPECT_EQ(b.pic->isr(false), 0x00) << "nothing acknowledged";
  EXPECT_TRUE(b.int_line());
  EXPECT_EQ(b.inta(), kMasterBase + 6);
}

// A slave in automatic-EOI mode with two requests pending: its INT falls at the first INTA pulse
// (the ISR bit is set) and rises at the end of the second (automatic EOI), so the master's
// edge-triggered IR2 sees a new edge and the second request is delivered too.
TEST_P(PicConformance, AutoEoiSlaveDeliversBothPendingRequests) {
  Bench b(GetParam());
  b.init(0x03, 0x03);  // both in automatic EOI
  b.set(9, true);
  b.set(11, true);
  EXPECT_EQ(b.inta(), kSlaveBase + 1);
  EXPECT_TRUE(b.int_line()) << "the second request reaches the CPU";
  EXPECT_EQ(b.inta(), kSlaveBase + 3);
  EXPECT_FALSE(b.int_line());
  EXPECT_EQ(b.pic->isr(false), 0x00);
  EXPECT_EQ(b.pic->isr(true), 0x00);
  EXPECT_EQ(b.pic->stats(false).spurious, 0u);
}

// The same with the master in normal EOI mode: the slave's new edge is latched on IR2 and
// delivered once the master's cascade level ends.
TEST_P(PicConformance, AutoEoiSlaveSecondRequestWaitsForTheMastersEoi) {
  Bench b(GetParam());
  b.init(0x01, 0x03);
  b.set(9, true);
  b.set(11, true);
  EXPECT_EQ(b.inta(), kSlaveBase + 1);
  EXPECT_FALSE(b.int_line()) << "IR2 in service on the master";
  b.write(false, 0, 0x20);
  EXPECT_TRUE(b.int_line());
  EXPECT_EQ(b.inta(), kSlaveBase + 3);
}

// The chipset's edge/level control (ELCR, PC chipsets' ports 0x4D0/0x4D1): an input marked
// level-sensitive requests while its line is high, so after the EOI a line still held high
// interrupts again (the shared, level-triggered PCI line); an edge-sensitive one needs a new
// rising edge. The master's cascade input stays edge-sensitive; ICW1 leaves ELCR alone.
TEST_P(PicConformance, ElcrMakesAnInputLevelSensitive) {
  Bench b(GetParam());
  b.init();
  EXPECT_EQ(b.read_elcr(0), 0x00) << "power-on: all edge";
  b.write_elcr(0, 0xff);
  // The PIIX's write masks: IRQ0, IRQ1 and the cascade input, IRQ8 and IRQ13 stay edge.
  EXPECT_EQ(b.read_elcr(0), 0xf8 & ~(1u << kCascade)) << "IRQ0, 1 and the cascade stay edge";
  b.write_elcr(1, 0xff);
  EXPECT_EQ(b.read_elcr(1), 0xde) << "IRQ8 and IRQ13 stay edge";
  b.write_elcr(1, 0x00);
  b.write_elcr(0, 0x08);  // IR3 level, IR4 edge
  b.set(3, true);
  b.set(4, true);
  EXPECT_EQ(b.inta(), kMasterBase + 3);
  b.write(false, 0, 0x20);  // EOI with IR3 still high
  EXPECT_TRUE(b.int_line());
  EXPECT_EQ(b.inta(), kMasterBase + 3) << "a level input held high requests again";
  b.write(false, 0, 0x20);
  b.set(3, false);
  EXPECT_EQ(b.inta(), kMasterBase + 4);
  b.write(false, 0, 0x20);  // EOI with IR4 still high
  EXPECT_FALSE(b.int_line()) << "an edge input needs a new rising edge";
  b.write(false, 0, 0x11);  // ICW1 again
  EXPECT_EQ(b.read_elcr(0), 0x08) << "ICW1 does not reset ELCR";
  b.write(false, 1, kMasterBase);
  b.write(false, 1, 1u << kCascade);
  b.write(false, 1, 0x01);
  // The slave's inputs through ELCR2: slave IR3 (IRQ11) level.
  b.write_elcr(1, 0x08);
  EXPECT_EQ(b.read_elcr(1), 0x08);
  EXPECT_EQ(b.pic->elcr(true), 0x08);
  b.set(11, true);
  EXPECT_EQ(b.inta(), kSlaveBase + 3);
  b.write(true, 0, 0x20);
  b.write(false, 0, 0x20);
  EXPECT_EQ(b.inta(), kSlaveBase + 3) << "the slave's level input requests again";
}

INSTANTIATE_TEST_SUITE_P(Models, PicConformance, ::testing::Values("tlm", "rtl"),
                         [](const auto& info) { return info.param; });

}  // namespace
