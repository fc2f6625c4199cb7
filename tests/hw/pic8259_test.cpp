// Model bench for the 8259A pair: every initialization and operation command word, driven
// through the register socket and the IR pins, checked against the datasheet's behaviour.
#include <array>

#include "hw/intc/pic8259.h"

#include <gtest/gtest.h>

#include "tests/support/sc_test.h"

namespace {

using hw::intc::Pic8259;

constexpr std::uint8_t kMasterBase = 0x20;
constexpr std::uint8_t kSlaveBase = 0x28;

// Master + slave on IR2, as in a PC/AT; IRQ n is master IRn for n < 8, slave IR(n-8) above.
struct Bench {
  Pic8259 master{"master", true};
  Pic8259 slave{"slave", false};
  tests::Initiator io_m{"io_m"}, io_s{"io_s"};
  hw::Pin intr{"intr"}, slave_int{"slave_int"};
  // The master's IR2: the slave's INT through a relay, which a test may hold (the wire's
  // propagation delay, which direct-call pins do not have).
  hw::Pin master_ir2{"master_ir2"};
  hw::PinIn relay;
  bool hold_cascade = false;
  std::array<hw::Pin, 16> irq;

  Bench() {
    io_m.out.bind(master.in);
    io_s.out.bind(slave.in);
    master.intr.bind(intr);
    slave.intr.bind(slave_int);
    master.cascade.bind(slave.cascade_target);
    for (unsigned i = 0; i < 8; ++i) {
      master.ir[i].bind(i == 2 ? master_ir2 : irq[i]);
      slave.ir[i].bind(irq[8 + i]);
    }
    relay.bind(slave_int);
    relay.on_change([this](bool level) {
      if (!hold_cascade) master_ir2.write(level);
    });
    tests::settle();
  }

  // ICW1 (edge or level, cascade, IC4), ICW2, ICW3, ICW4 on both chips.
  void init(bool level = false, std::uint8_t master_icw4 = 0x01, std::uint8_t slave_icw4 = 0x01) {
    const std::uint8_t icw1 = 0x11 | (level ? 0x08 : 0);
    io_m.write(0, icw1);
    io_m.write(1, kMasterBase);
    io_m.write(1, 0x04);  // slave on IR2
    io_m.write(1, master_icw4);
    io_s.write(0, icw1);
    io_s.write(1, kSlaveBase);
    io_s.write(1, 0x02);  // identity 2
    io_s.write(1, slave_icw4);
    tests::settle();
  }
  void raise(unsigned n) { set(n, true); }
  void lower(unsigned n) { set(n, false); }
  void set(unsigned n, bool level) {
    irq[n].write(level);
    tests::settle();
  }
  bool int_line() {
    tests::settle();
    return intr.read();
  }
  std::uint8_t inta() {
    std::uint8_t v = master.inta->acknowledge();
    tests::settle();
    return v;
  }
  void command(bool slave_chip, std::uint8_t v) {
    (slave_chip ? io_s : io_m).write(0, v);
    tests::settle();
  }
  void ocw1(bool slave_chip, std::uint8_t v) {
    (slave_chip ? io_s : io_m).write(1, v);
    tests::settle();
  }
  std::uint8_t read_irr(bool slave_chip = false) {
    auto& io = slave_chip ? io_s : io_m;
    io.write(0, 0x0a);
    return static_cast<std::uint8_t>(io.read(0));
  }
  std::uint8_t read_isr(bool slave_chip = false) {
    auto& io = slave_chip ? io_s : io_m;
    io.write(0, 0x0b);
    return static_cast<std::uint8_t>(io.read(0));
  }
};

TEST(Pic8259, NoInterruptBeforeInitialization) {
  Bench b;
  b.raise(3);
  EXPECT_FALSE(b.int_line());
  EXPECT_FALSE(b.master.initialized());
}

TEST(Pic8259, InitializationSequenceAndImrReadBack) {
  Bench b;
  b.init();
  EXPECT_TRUE(b.master.initialized());
  EXPECT_TRUE(b.slave.initialized());
  EXPECT_EQ(b.master.vector_base(), kMasterBase);
  EXPECT_EQ(b.slave.vector_base(), kSlaveBase);
  EXPECT_EQ(b.io_m.read(1), 0x00u) << "ICW1 clears the IMR";
  b.ocw1(false, 0xb8);
  EXPECT_EQ(b.io_m.read(1), 0xb8u);
}

TEST(Pic8259, SingleModeSkipsIcw3) {
  Bench b;
  b.io_m.write(0, 0x13);  // ICW1: single, IC4
  b.io_m.write(1, 0x40);  // ICW2
  b.io_m.write(1, 0x01);  // ICW4 (not ICW3)
  EXPECT_TRUE(b.master.initialized());
  b.io_m.write(1, 0xfe);  // now OCW1
  EXPECT_EQ(b.master.imr(), 0xfe);
  b.raise(0);
  EXPECT_EQ(b.inta(), 0x40);
}

TEST(Pic8259, Icw1ClearsEdgeSenseSoARaisedLineNeedsANewEdge) {
  Bench b;
  b.raise(4);
  b.init();
  EXPECT_FALSE(b.int_line())
      << "a line already high at ICW1 must make a new low-to-high transition";
  b.lower(4);
  b.raise(4);
  EXPECT_TRUE(b.int_line());
  EXPECT_EQ(b.inta(), kMasterBase + 4);
}

TEST(Pic8259, VectorIsIcw2PlusLevelAndIsrFollowsInta) {
  Bench b;
  b.init();
  b.raise(3);
  EXPECT_TRUE(b.int_line());
  EXPECT_EQ(b.read_irr(), 0x08);
  EXPECT_EQ(b.inta(), kMasterBase + 3);
  EXPECT_EQ(b.read_isr(), 0x08);
  EXPECT_EQ(b.read_irr(), 0x00) << "edge mode: the request is consumed by INTA";
  EXPECT_FALSE(b.int_line());
}

TEST(Pic8259, FullyNestedBlocksLowerAndAdmitsHigher) {
  Bench b;
  b.init();
  b.raise(5);
  EXPECT_EQ(b.inta(), kMasterBase + 5);
  b.raise(6);
  EXPECT_FALSE(b.int_line()) << "IR6 is lower than IR5 in service";
  b.raise(3);
  EXPECT_TRUE(b.int_line()) << "IR3 is higher than IR5 in service";
  EXPECT_EQ(b.inta(), kMasterBase + 3);
  EXPECT_EQ(b.read_isr(), 0x28);
  b.command(false, 0x20);  // non-specific EOI: clears IR3, the highest in service
  EXPECT_EQ(b.read_isr(), 0x20);
  EXPECT_FALSE(b.int_line()) << "IR6 still below IR5";
  b.command(false, 0x20);
  EXPECT_TRUE(b.int_line());
  EXPECT_EQ(b.inta(), kMasterBase + 6);
}

TEST(Pic8259, SpecificEoiClearsTheNamedLevel) {
  Bench b;
  b.init();
  b.raise(5);
  b.inta();
  b.raise(1);
  b.inta();
  EXPECT_EQ(b.read_isr(), 0x22);
  b.command(false, 0x60 | 5);
  EXPECT_EQ(b.read_isr(), 0x02);
  EXPECT_EQ(b.master.stats().eois, 1u);
}

TEST(Pic8259, AutomaticEoiLeavesIsrClear) {
  Bench b;
  b.init(false, 0x03, 0x03);
  b.raise(4);
  EXPECT_EQ(b.inta(), kMasterBase + 4);
  EXPECT_EQ(b.read_isr(), 0x00);
  b.raise(6);
  EXPECT_TRUE(b.int_line()) << "nothing in service blocks IR6";
}

TEST(Pic8259, RotateOnNonSpecificEoiMakesServicedLevelLowest) {
  Bench b;
  b.init();
  b.raise(3);
  b.inta();
  b.command(false, 0xa0);  // rotate on non-specific EOI: IR3 becomes lowest
  b.raise(1);
  b.raise(4);
  // Priority order is now 4 5 6 7 0 1 2 3: IR4 beats IR1.
  EXPECT_EQ(b.inta(), kMasterBase + 4);
}

TEST(Pic8259, RotateOnSpecificEoi) {
  Bench b;
  b.init();
  b.raise(6);
  b.inta();
  b.command(false, 0xe0 | 6);  // rotate on specific EOI 6: IR6 lowest, IR7 highest
  b.raise(0);
  b.raise(7);
  EXPECT_EQ(b.inta(), kMasterBase + 7);
}

TEST(Pic8259, SetPriorityCommand) {
  Bench b;
  b.init();
  b.command(false, 0xc0 | 4);  // IR4 lowest: order 5 6 7 0 1 2 3 4
  b.raise(4);
  b.raise(5);
  b.raise(0);
  EXPECT_EQ(b.inta(), kMasterBase + 5);
  EXPECT_FALSE(b.int_line()) << "IR0 and IR4 now rank below IR5 in service";
  b.command(false, 0x60 | 5);
  EXPECT_EQ(b.inta(), kMasterBase + 0) << "IR0 outranks IR4 under the new order";
}

TEST(Pic8259, RotateInAutomaticEoiMode) {
  Bench b;
  b.init(false, 0x03, 0x03);
  b.command(false, 0x80);  // set rotate in AEOI
  b.raise(1);
  EXPECT_EQ(b.inta(), kMasterBase + 1);  // AEOI with rotation: IR1 becomes lowest
  b.raise(0);
  b.raise(3);
  EXPECT_EQ(b.inta(), kMasterBase + 3) << "after rotation IR3 outranks IR0";
  b.command(false, 0x00);  // clear rotate in AEOI; IR3 stays lowest: order 4 5 6 7 0 1 2 3
  b.raise(4);
  EXPECT_EQ(b.inta(), kMasterBase + 4);
  // Had IR4 rotated to lowest, IR0 (still pending) would now outrank a new IR4 request.
  b.lower(4);
  b.raise(4);
  EXPECT_EQ(b.inta(), kMasterBase + 4) << "no rotation after it was cleared";
}

TEST(Pic8259, Ocw3StatusReadIsRemembered) {
  Bench b;
  b.init();
  b.raise(3);
  b.io_m.write(0, 0x0b);  // read ISR
  EXPECT_EQ(b.io_m.read(0), 0x00u);
  b.inta();
  EXPECT_EQ(b.io_m.read(0), 0x08u) << "ISR selection persists without a new OCW3";
  b.io_m.write(0, 0x0a);  // read IRR
  b.raise(6);
  EXPECT_EQ(b.io_m.read(0), 0x40u);
}

TEST(Pic8259, PollCommandActsAsAcknowledge) {
  Bench b;
  b.init();
  b.ocw1(false, 0x00);
  b.io_m.write(0, 0x0c);  // OCW3 poll
  EXPECT_EQ(b.io_m.read(0), 0x00u) << "no request: I bit clear";
  b.raise(5);
  b.io_m.write(0, 0x0c);
  EXPECT_EQ(b.io_m.read(0), 0x85u);
  EXPECT_EQ(b.read_isr(), 0x20) << "the poll read set the in-service bit";
  EXPECT_FALSE(b.int_line());
}

TEST(Pic8259, SpecialMaskModeAdmitsLowerLevels) {
  Bench b;
  b.init();
  b.raise(3);
  b.inta();
  b.ocw1(false, 0x08);  // mask IR3 (in service)
  b.raise(5);
  EXPECT_FALSE(b.int_line()) << "without special mask, IR3 in service still blocks IR5";
  b.command(false, 0x68);  // OCW3: ESMM|SMM (0x68 = 0110 1000)
  EXPECT_TRUE(b.master.special_mask());
  EXPECT_TRUE(b.int_line()) << "special mask: masked in-service IR3 no longer inhibits IR5";
  EXPECT_EQ(b.inta(), kMasterBase + 5);
  b.command(false, 0x48);  // OCW3: ESMM, SMM=0: leave special mask mode
  EXPECT_FALSE(b.master.special_mask());
}

TEST(Pic8259, EdgeTriggeredLineHeldHighDoesNotRetrigger) {
  Bench b;
  b.init(false);
  b.raise(4);
  b.inta();
  b.command(false, 0x60 | 4);
  EXPECT_FALSE(b.int_line());
  b.lower(4);
  b.raise(4);
  EXPECT_TRUE(b.int_line());
}

TEST(Pic8259, LevelTriggeredLineHeldHighInterruptsAgainAfterEoi) {
  Bench b;
  b.init(true);
  b.raise(4);
  EXPECT_EQ(b.inta(), kMasterBase + 4);
  EXPECT_EQ(b.read_irr(), 0x10) << "level mode: IRR follows the line";
  EXPECT_FALSE(b.int_line()) << "blocked by its own in-service bit";
  b.command(false, 0x60 | 4);
  EXPECT_TRUE(b.int_line());
  b.lower(4);
  EXPECT_FALSE(b.int_line());
}

TEST(Pic8259, RequestThatVanishesBeforeIntaGivesSpuriousIr7) {
  Bench b;
  b.init();
  b.raise(4);
  EXPECT_TRUE(b.int_line());
  b.lower(4);
  EXPECT_FALSE(b.int_line());
  EXPECT_EQ(b.inta(), kMasterBase + 7);
  EXPECT_EQ(b.read_isr(), 0x00) << "a default IR7 sets no in-service bit";
  EXPECT_EQ(b.master.stats().spurious, 1u);
}

TEST(Pic8259, MaskingAPendingRequestDropsInt) {
  Bench b;
  b.init();
  b.raise(6);
  EXPECT_TRUE(b.int_line());
  b.ocw1(false, 0x40);
  EXPECT_FALSE(b.int_line());
  EXPECT_EQ(b.read_irr(), 0x40) << "the request stays latched while masked";
  b.ocw1(false, 0x00);
  EXPECT_TRUE(b.int_line());
}

TEST(Pic8259, CascadeDeliversTheSlaveVector) {
  Bench b;
  b.init();
  b.raise(10);  // slave IR2
  EXPECT_TRUE(b.int_line());
  EXPECT_EQ(b.inta(), kSlaveBase + 2);
  EXPECT_EQ(b.read_isr(false), 0x04) << "master: cascade level in service";
  EXPECT_EQ(b.read_isr(true), 0x04) << "slave: its IR2 in service";
  // EOI order: slave, then the cascade level on the master.
  b.command(true, 0x60 | 2);
  b.command(false, 0x60 | 2);
  EXPECT_EQ(b.read_isr(false), 0x00);
  EXPECT_EQ(b.read_isr(true), 0x00);
}

TEST(Pic8259, SlaveMaskedOnMasterCascadeLevel) {
  Bench b;
  b.init();
  b.ocw1(false, 0x04);  // mask the cascade input
  b.raise(12);
  EXPECT_FALSE(b.int_line());
  b.ocw1(false, 0x00);
  EXPECT_TRUE(b.int_line());
  EXPECT_EQ(b.inta(), kSlaveBase + 4);
}

TEST(Pic8259, FullyNestedLocksOutAHigherSlaveRequest) {
  Bench b;
  b.init();
  b.raise(13);
  EXPECT_EQ(b.inta(), kSlaveBase + 5);
  b.raise(9);  // higher priority inside the same slave
  EXPECT_FALSE(b.int_line()) << "without SFNM the master's IR2 in service blocks the slave";
}

TEST(Pic8259, SpecialFullyNestedAdmitsAHigherSlaveRequest) {
  Bench b;
  b.init(false, 0x11, 0x01);  // master ICW4: 8086 + SFNM
  b.raise(13);
  EXPECT_EQ(b.inta(), kSlaveBase + 5);
  b.raise(15);
  EXPECT_FALSE(b.int_line()) << "IRQ15 is lower than IRQ13 inside the slave";
  b.raise(9);
  EXPECT_TRUE(b.int_line()) << "SFNM: a higher request from the in-service slave gets through";
  EXPECT_EQ(b.inta(), kSlaveBase + 1);
  b.raise(5);
  EXPECT_FALSE(b.int_line()) << "SFNM does not admit lower master levels";
}

TEST(Pic8259, SpuriousIrq15WhenTheSlaveRequestVanishesDuringPropagation) {
  Bench b;
  b.init();
  b.raise(11);
  EXPECT_TRUE(b.int_line());
  // The device drops IRQ11; the slave sees it at once, but its INT output reaches the master's
  // IR2 only after the wire's delay (held here). An INTA in that window finds the master's
  // request still up and the slave's gone: the slave answers with its IR7 (IRQ15).
  b.hold_cascade = true;
  b.irq[11].write(false);
  ASSERT_EQ(b.slave.irr() & 0x08, 0) << "the slave sees the line drop at once";
  ASSERT_FALSE(b.slave_int.read()) << "the slave's INT fell";
  ASSERT_TRUE(b.master_ir2.read()) << "the master's IR2 is still high";
  const std::uint8_t v = b.master.inta->acknowledge();
  tests::settle();
  EXPECT_EQ(v, kSlaveBase + 7);
  EXPECT_EQ(b.read_isr(true), 0x00) << "the slave sets no in-service bit";
  EXPECT_EQ(b.read_isr(false), 0x04) << "the master's cascade level is in service and needs an EOI";
  EXPECT_EQ(b.slave.stats().spurious, 1u);
}

TEST(Pic8259, ReinitializationClearsInService) {
  Bench b;
  b.init();
  b.raise(1);
  b.inta();
  EXPECT_EQ(b.master.isr(), 0x02);
  b.init();
  EXPECT_EQ(b.master.isr(), 0x00);
}

TEST(Pic8259, WrongWidthIsATlmErrorNotACrash) {
  Bench b;
  std::uint32_t v = 0;
  EXPECT_EQ(b.io_m.access(tlm::TLM_READ_COMMAND, 0, 2, v), tlm::TLM_BURST_ERROR_RESPONSE);
  EXPECT_EQ(b.io_m.access(tlm::TLM_WRITE_COMMAND, 2, 1, v), tlm::TLM_ADDRESS_ERROR_RESPONSE);
}

}  // namespace
