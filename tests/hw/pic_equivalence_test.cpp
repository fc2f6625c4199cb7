// The RTL 8259A pair (hw/rtl) held equal to the TLM pair (hw/intc), its specification: one
// seeded random stimulus drives both side by side and every step compares INT, the values read
// and the vectors returned, and IRR/ISR/IMR of both chips. A mismatch prints the seed, the step
// and what was done. IOCOSIM_EQUIV_SEED and IOCOSIM_EQUIV_STEPS override the defaults.
#include <cstdlib>
#include <random>
#include <sstream>

#include <gtest/gtest.h>

#include "hw/intc/controller.h"
#include "hw/rtl/pic_rtl.h"
#include "tests/support/sc_test.h"
#include "util/log.h"

namespace {

constexpr unsigned kCascade = 2;

std::uint64_t env_or(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::strtoull(v, nullptr, 0) : fallback;
}

struct SideBySide {
  hw::intc::TlmPicPair tlm{"tlm", kCascade};
  hw::rtl::PicRtl rtl{"rtl", kCascade};
  std::array<hw::Pin, 16> irq;
  hw::Pin tlm_int{"tlm_int"}, rtl_int{"rtl_int"};
  tests::Initiator tlm_m{"tlm_m"}, tlm_s{"tlm_s"}, rtl_m{"rtl_m"}, rtl_s{"rtl_s"};
  tests::Initiator tlm_e{"tlm_e"}, rtl_e{"rtl_e"};  // the ELCR pair

  SideBySide() {
    for (unsigned n = 0; n < 16; ++n) {
      if (n == kCascade) continue;
      tlm.irq_input(n).bind(irq[n]);
      rtl.irq_input(n).bind(irq[n]);
    }
    tlm.intr_output().bind(tlm_int);
    rtl.intr_output().bind(rtl_int);
    tlm_m.out.bind(tlm.socket(false));
    tlm_s.out.bind(tlm.socket(true));
    rtl_m.out.bind(rtl.socket(false));
    rtl_s.out.bind(rtl.socket(true));
    tlm_e.out.bind(tlm.elcr_socket());
    rtl_e.out.bind(rtl.elcr_socket());
  }

  std::string state() const {
    std::ostringstream s;
    s << std::hex << "INT tlm " << tlm_int.read() << " rtl " << rtl_int.read();
    for (bool slave : {false, true}) {
      s << (slave ? " | slave" : " | master") << " IRR " << unsigned(tlm.irr(slave)) << "/"
        << unsigned(rtl.irr(slave)) << " ISR " << unsigned(tlm.isr(slave)) << "/"
        << unsigned(rtl.isr(slave)) << " IMR " << unsigned(tlm.imr(slave)) << "/"
        << unsigned(rtl.imr(slave)) << " ELCR " << unsigned(tlm.elcr(slave)) << "/"
        << unsigned(rtl.elcr(slave));
    }
    return s.str();
  }
  // Writes both models' register and lets the instant settle, as on the platform, where each
  // access takes bus time: the pins of both (the slave's INT into the master) have then caught up.
  void write(bool slave, unsigned a0, std::uint8_t v) {
    (slave ? tlm_s : tlm_m).write(a0, v);
    (slave ? rtl_s : rtl_m).write(a0, v);
    tests::settle();
  }
  bool same() const {
    if (tlm_int.read() != rtl_int.read()) return false;
    for (bool slave : {false, true}) {
      if (tlm.irr(slave) != rtl.irr(slave) || tlm.isr(slave) != rtl.isr(slave) ||
          tlm.imr(slave) != rtl.imr(slave) || tlm.elcr(slave) != rtl.elcr(slave))
        return false;
    }
    return true;
  }
};

// A slave polled while a higher request arrives inside the poll window (between OCW3 P and
// the read, when IRR is frozen): INT falls at the read (the level read is in service, the newer
// request still frozen out) and rises as the freeze ends, so the master, edge-triggered on its
// cascade input and with that input's earlier edge already taken, latches a new request. Both
// models; before, INT stayed high and the master never saw the second request.
TEST(PicEquivalence, APolledSlaveWithAHigherRequestInsideThePollWindowGivesTheMasterANewEdge) {
  SideBySide b;
  tests::settle();
  auto write = [&](bool slave, unsigned a0, std::uint8_t v) { b.write(slave, a0, v); };
  auto read = [&](bool slave, unsigned a0) {
    const std::uint32_t t = (slave ? b.tlm_s : b.tlm_m).read(a0);
    const std::uint32_t r = (slave ? b.rtl_s : b.rtl_m).read(a0);
    tests::settle();
    EXPECT_EQ(t, r) << "tlm and rtl read different values";
    return t;
  };
  for (bool slave : {false, true}) {  // edge-triggered, cascade on IR2, 8086 mode
    write(slave, 0, 0x11);
    write(slave, 1, slave ? 0x70 : 0x08);
    write(slave, 1, slave ? 0x02 : 0x04);
    write(slave, 1, 0x01);
  }
  b.irq[12].write(true);  // slave IR4
  tests::settle();
  ASSERT_TRUE(b.same()) << b.state();
  // The master's request from the slave is taken by a poll of the master: its IR2 edge is used.
  write(false, 0, 0x0c);
  EXPECT_EQ(read(false, 0), 0x82u);
  EXPECT_EQ(b.tlm.irr(false) & 0x04, 0) << b.state();
  // Now the slave is polled, and IR1 (higher than IR4) rises inside the window.
  write(true, 0, 0x0c);
  b.irq[9].write(true);
  tests::settle();
  EXPECT_EQ(read(true, 0), 0x84u) << "the frozen request";
  EXPECT_TRUE(b.same()) << b.state();
  EXPECT_EQ(b.tlm.isr(true), 0x10) << b.state();
  EXPECT_EQ(b.tlm.irr(true) & 0x02, 0x02) << b.state();
  EXPECT_EQ(b.tlm.irr(false) & 0x04, 0x04)
      << "the master saw the slave's INT rise again; " << b.state();
  EXPECT_EQ(b.rtl.irr(false) & 0x04, 0x04) << b.state();
  // The master's EOI for IR2 lets the new request through to the CPU.
  write(false, 0, 0x20);
  EXPECT_TRUE(b.tlm_int.read()) << b.state();
  EXPECT_TRUE(b.rtl_int.read()) << b.state();
}

TEST(PicEquivalence, RtlMatchesTlmUnderRandomStimulus) {
  util::set_log_level(util::Level::off);  // random ICW1s without IC4 warn on purpose
  const std::uint64_t seed = env_or("IOCOSIM_EQUIV_SEED", 0x8259a);
  const std::uint64_t steps = env_or("IOCOSIM_EQUIV_STEPS", 100'000);
  std::mt19937_64 rng(seed);
  auto pick = [&](unsigned n) { return static_cast<unsigned>(rng() % n); };
  SideBySide b;
  tests::settle();
  auto write = [&](bool slave, unsigned a0, std::uint8_t v) { b.write(slave, a0, v); };
  auto init = [&](bool slave) {
    const bool level = pick(4) == 0;
    write(slave, 0, static_cast<std::uint8_t>(0x11 | (level ? 0x08 : 0)));
    write(slave, 1, static_cast<std::uint8_t>(pick(32) << 3));
    write(slave, 1, slave ? 0x02 : 0x04);
    std::uint8_t icw4 = 0x01;
    if (pick(4) == 0) icw4 |= 0x02;            // automatic EOI
    if (!slave && pick(3) == 0) icw4 |= 0x10;  // special fully nested
    write(slave, 1, icw4);
  };
  init(false);
  init(true);

  std::uint64_t reads = 0, intas = 0, edges = 0;
  for (std::uint64_t step = 0; step < steps; ++step) {
    std::string what;
    std::uint32_t tv = 0, rv = 0;
    bool compare_value = false;
    const unsigned r = pick(100);
    const bool slave = pick(2) == 1;
    if (r < 30) {  // an IRQ line changes
      unsigned n = pick(16);
      if (n == kCascade) n = 9;
      b.irq[n].write(!b.irq[n].read());
      what = "irq " + std::to_string(n) + " -> " + (b.irq[n].read() ? "0" : "1");
      ++edges;
    } else if (r < 36) {
      init(slave);
      what = std::string("init ") + (slave ? "slave" : "master");
    } else if (r < 44) {  // any byte to any register: partial sequences, odd commands
      const unsigned a0 = pick(2);
      const auto v = static_cast<std::uint8_t>(rng());
      write(slave, a0, v);
      what = "write a0=" + std::to_string(a0) + " " + std::to_string(v);
    } else if (r < 58) {  // OCW2: EOIs of every kind, rotation, set priority
      static constexpr std::uint8_t kOps[] = {0x20, 0x60, 0xa0, 0xe0, 0xc0, 0x80, 0x00, 0x40};
      const auto v = static_cast<std::uint8_t>(kOps[pick(8)] | pick(8));
      write(slave, 0, v);
      what = "ocw2 " + std::to_string(v);
    } else if (r < 64) {  // OCW3: special mask, status read selection, poll
      static constexpr std::uint8_t kOps[] = {0x68, 0x48, 0x0a, 0x0b, 0x0c, 0x08};
      const auto v = kOps[pick(6)];
      write(slave, 0, v);
      what = "ocw3 " + std::to_string(v);
    } else if (r < 72) {  // OCW1
      const auto v = static_cast<std::uint8_t>(pick(4) == 0 ? 0 : rng());
      write(slave, 1, v);
      what = "ocw1 " + std::to_string(v);
    } else if (r < 75) {  // ELCR: an input's edge/level control, written or read back
      const unsigned a0 = pick(2);
      if (pick(2) == 0) {
        const auto v = static_cast<std::uint8_t>(rng());
        b.tlm_e.write(a0, v);
        b.rtl_e.write(a0, v);
        what = "elcr" + std::to_string(a0 + 1) + " " + std::to_string(v);
      } else {
        tv = b.tlm_e.read(a0);
        rv = b.rtl_e.read(a0);
        compare_value = true;
        what = "read elcr" + std::to_string(a0 + 1);
      }
    } else if (r < 86) {  // read either register (a poll read acknowledges)
      const unsigned a0 = pick(2);
      tv = (slave ? b.tlm_s : b.tlm_m).read(a0);
      rv = (slave ? b.rtl_s : b.rtl_m).read(a0);
      compare_value = true;
      what = "read a0=" + std::to_string(a0);
      ++reads;
    } else {  // INTA
      tv = b.tlm.inta_export()->acknowledge();
      rv = b.rtl.acknowledge();
      compare_value = true;
      what = "inta";
      ++intas;
    }
    tests::settle();
    if (!b.same() || (compare_value && tv != rv)) {
      FAIL() << "seed " << seed << ", step " << step << " (" << what << "): values tlm " << tv
             << " rtl " << rv << "; " << b.state() << "\nrerun: IOCOSIM_EQUIV_SEED=" << seed;
    }
  }
  std::printf(
      "%llu steps equal (seed %#llx): %llu line changes, %llu reads, %llu INTA cycles, %llu RTL "
      "cycles\n",
      static_cast<unsigned long long>(steps), static_cast<unsigned long long>(seed),
      static_cast<unsigned long long>(edges), static_cast<unsigned long long>(reads),
      static_cast<unsigned long long>(intas), static_cast<unsigned long long>(b.rtl.cycles()));
  // The run must have exercised the interesting states, or equality proves little.
  EXPECT_GT(b.tlm.stats(false).acknowledges + b.tlm.stats(true).acknowledges, steps / 50);
  EXPECT_GT(b.tlm.stats(true).acknowledges, steps / 500) << "cascade acknowledges";
  EXPECT_GT(b.tlm.stats(false).spurious, 0u);
  EXPECT_GT(b.tlm.stats(false).eois + b.tlm.stats(true).eois, steps / 100);
}

}  // namespace
