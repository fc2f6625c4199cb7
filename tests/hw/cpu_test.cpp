// The CPU model on the assembled platform: when interrupts are taken, what they cost, how
// temporal decoupling bounds the error, bus errors as traps, DMI, execution contexts.
#define SC_INCLUDE_DYNAMIC_PROCESSES
#include "hw/cpu/cpu.h"

#include <gtest/gtest.h>

#include <cstring>

#include "hw/apic/apic.h"
#include "hw/core/sim_time.h"
#include "platform/platform.h"
#include "sw/hal/pic.h"
#include "tests/support/sc_test.h"
#include "util/units.h"

namespace {

using platform::Config;
using platform::Platform;

constexpr std::uint64_t kNs = 1000;
constexpr std::uint64_t kUs = 1000 * kNs;

// Records what the CPU delivers; the handler does `handler_cycles` of work and EOIs.
struct Recorder : hw::TrapHandler {
  hw::Processor& cpu;
  hal::PicPair pic;
  std::vector<std::pair<std::uint64_t, std::uint8_t>> interrupts;  // (entry time, vector)
  std::vector<hw::BusFault> faults;
  unsigned handler_cycles = 0;
  std::function<void()> on_interrupt;  // what the handler does first
  explicit Recorder(hw::Processor& c) : cpu(c), pic(c, {}) {}
  void interrupt(std::uint8_t vector) override {
    interrupts.emplace_back(cpu.now_ps(), vector);
    if (on_interrupt) on_interrupt();
    cpu.consume(handler_cycles);
    pic.end_of_interrupt(static_cast<unsigned>(pic.irq_of_vector(vector)));
  }
  void bus_error(const hw::BusFault& f) override { faults.push_back(f); }
};

Config quiet_config() {
  Config c;
  c.workload = "none";
  return c;
}

// Cost of accepting an interrupt before the handler's first instruction, at the default timing.
std::uint64_t entry_ps(const Config& c) {
  return (c.cpu.inta + c.cpu.interrupt_entry + c.cpu.context_save) *
         (1'000'000'000'000ull / c.cpu.clock_hz);
}

void raise_at(Platform& p, unsigned irq, std::uint64_t at_ps) {
  sc_core::sc_spawn([&p, irq, at_ps] {
    sc_core::wait(hw::from_ps(at_ps) - sc_core::sc_time_stamp());
    p.drive_irq(irq, true);
  });
}

// The preamble of most tests: take interrupts through `r`, program the PIC pair, unmask `irqs`
// and enable interrupts, then run `body` on the boot context.
void boot_with_irqs(Platform& p, Recorder& r, std::initializer_list<unsigned> irqs,
                    std::function<void()> body) {
  p.cpu.boot([&p, &r, irqs = std::vector<unsigned>(irqs), body] {
    p.cpu.set_trap_handler(&r);
    r.pic.initialize(0x30, 0x38);
    for (unsigned irq : irqs) r.pic.enable_irq(irq);
    p.cpu.enable_interrupts();
    body();
  });
}

TEST(Cpu, InterruptTakenAtTheInstantIntrRisesWithQuantumZero) {
  Config c = quiet_config();
  Platform p("p", c, true);
  Recorder r(p.cpu);
  r.handler_cycles = 100;
  std::uint64_t work_start = 0, work_end = 0;
  boot_with_irqs(p, r, {3}, [&] {
    work_start = p.cpu.now_ps();
    p.cpu.consume(100'000);  // 1 ms at 100 MHz
    work_end = p.cpu.now_ps();
  });
  raise_at(p, 3, 123'456'789);
  tests::run_for(sc_core::sc_time(2, sc_core::SC_MS));
  ASSERT_EQ(r.interrupts.size(), 1u);
  EXPECT_EQ(r.interrupts[0].second, 0x33);
  EXPECT_EQ(r.interrupts[0].first, 123'456'789 + entry_ps(c));
  // The interrupted work resumes where it was: it ends late by exactly the interrupt's cost
  // (entry, handler, one EOI port write, restore).
  const std::uint64_t eoi_ps = c.cpu.io_access * 10 * kNs + (1 + c.bus_io_wait_states) * 40 * kNs;
  const std::uint64_t cost =
      entry_ps(c) + r.handler_cycles * 10 * kNs + eoi_ps + c.cpu.context_restore * 10 * kNs;
  EXPECT_EQ(work_end - work_start, 1'000 * kUs + cost);
}

TEST(Cpu, AnInterruptThatBecomesPendingDuringAHandlerIsTakenRightAfterIret) {
  // IRQ3 and IRQ4 rise together: IRQ3 is taken; IRQ4's INTR edge comes while the handler runs
  // with IF clear (at its EOI). The CPU must take IRQ4 at the IRET, not wait for another edge.
  Config c = quiet_config();
  Platform p("p", c, true);
  Recorder r(p.cpu);
  r.handler_cycles = 100;
  boot_with_irqs(p, r, {3, 4}, [&] {
    p.cpu.consume(100'000);  // 1 ms: both interrupts must land inside it
  });
  raise_at(p, 3, 100 * kUs);
  raise_at(p, 4, 100 * kUs);
  tests::run_for(sc_core::sc_time(2, sc_core::SC_MS));
  ASSERT_EQ(r.interrupts.size(), 2u);
  EXPECT_EQ(r.interrupts[0].second, 0x33);
  EXPECT_EQ(r.interrupts[1].second, 0x34);
  const std::uint64_t eoi_ps = c.cpu.io_access * 10 * kNs + (1 + c.bus_io_wait_states) * 40 * kNs;
  const std::uint64_t first_done = r.interrupts[0].first + r.handler_cycles * 10 * kNs + eoi_ps +
                                   c.cpu.context_restore * 10 * kNs;
  EXPECT_EQ(r.interrupts[1].first, first_done + entry_ps(c)) << "taken at the IRET";
}

TEST(Cpu, QuantumBoundsTheInterruptLatencyError) {
  Config c = quiet_config();
  c.cpu.quantum_ps = 2 * kUs;
  Platform p("p", c, true);
  Recorder r(p.cpu);
  boot_with_irqs(p, r, {3}, [&] {
    for (int i = 0; i < 2000; ++i) p.cpu.consume(37);  // small steps, as software does
  });
  const std::uint64_t raise = 300 * kUs + 123;
  raise_at(p, 3, raise);
  tests::run_for(sc_core::sc_time(1, sc_core::SC_MS));
  ASSERT_EQ(r.interrupts.size(), 1u);
  const std::uint64_t exact = raise + entry_ps(c);
  EXPECT_GE(r.interrupts[0].first, exact);
  EXPECT_LE(r.interrupts[0].first, exact + c.cpu.quantum_ps) << "late by at most one quantum";
}

TEST(Cpu, QuantumBoundsTheLatencyInsideOneLongComputation) {
  // One consume() far longer than the quantum: the CPU must still look at INTR every quantum.
  Config c = quiet_config();
  c.cpu.quantum_ps = 2 * kUs;
  Platform p("p", c, true);
  Recorder r(p.cpu);
  boot_with_irqs(p, r, {3}, [&] {
    p.cpu.consume(100'000);  // 1 ms in one call
  });
  const std::uint64_t raise = 300 * kUs + 123;
  raise_at(p, 3, raise);
  tests::run_for(sc_core::sc_time(2, sc_core::SC_MS));
  ASSERT_EQ(r.interrupts.size(), 1u);
  const std::uint64_t exact = raise + entry_ps(c);
  EXPECT_GE(r.interrupts[0].first, exact);
  EXPECT_LE(r.interrupts[0].first, exact + c.cpu.quantum_ps) << "late by at most one quantum";
}

// docs/models.md: with a quantum Q, an interrupt is accepted at most Q after the instant it
// would be accepted with quantum 0. Many interrupts at every phase of the quantum, with
// handlers that leave the CPU part-way into a quantum (their work and EOI run ahead), and work
// in small and large steps: every latency error is in [0, Q]. Work of a quantum or more is one
// wait woken by INTR (exact); stretches of small steps between the large ones are long
// enough (18 us) for the offset to reach every quantum but the largest, so the worst error
// comes near Q.
class QuantumLatency : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(QuantumLatency, EveryInterruptIsLateByAtMostOneQuantum) {
  Config c = quiet_config();
  c.cpu.quantum_ps = GetParam();
  Platform p("p", c, true);
  Recorder r(p.cpu);
  r.handler_cycles = 150;
  boot_with_irqs(p, r, {3}, [&] {
    for (int i = 0;; ++i) p.cpu.consume(i % 50 == 0 ? 2500 : 37);
  });
  // Raise times spread over every phase of the quantum; the line drops 1 ns before each
  // raise, so every raise is a new edge.
  std::vector<std::uint64_t> raises;
  const std::uint64_t q = c.cpu.quantum_ps;
  for (std::uint64_t i = 0, t = 20 * kUs; i < 150; ++i) {
    raises.push_back(t);
    // At least one handler's time apart (about 3 us), so no two interrupts merge.
    t += std::max(q, 5 * kUs) + q * ((i * 37) % 100) / 97 + 777 * kNs;
  }
  sc_core::sc_spawn([&p, raises] {
    for (std::uint64_t at : raises) {
      sc_core::wait(hw::from_ps(at - kNs) - sc_core::sc_time_stamp());
      p.drive_irq(3, false);
      sc_core::wait(hw::from_ps(kNs));
      p.drive_irq(3, true);
    }
  });
  tests::run_for(hw::from_ps(raises.back() + 3 * q));
  ASSERT_EQ(r.interrupts.size(), raises.size());
  std::uint64_t worst = 0;
  for (std::size_t i = 0; i < raises.size(); ++i) {
    const std::uint64_t exact = raises[i] + entry_ps(c);
    ASSERT_GE(r.interrupts[i].first, exact) << "interrupt " << i;
    EXPECT_LE(r.interrupts[i].first - exact, q) << "interrupt " << i << " late by more than Q";
    worst = std::max(worst, r.interrupts[i].first - exact);
  }
  std::printf("quantum %s: worst acceptance latency error %.3f Q\n", util::format_time(q).c_str(),
              static_cast<double>(worst) / static_cast<double>(q));
  EXPECT_GT(worst, q / 2) << "the phases did not cover the quantum";
}

INSTANTIATE_TEST_SUITE_P(Quanta, QuantumLatency, ::testing::Values(10 * kUs, 100 * kUs, 1000 * kNs),
                         [](const auto& info) { return std::to_string(info.param / kNs) + "ns"; });

TEST(Cpu, ClearedInterruptFlagDefersUntilEnabled) {
  Config c = quiet_config();
  Platform p("p", c, true);
  Recorder r(p.cpu);
  std::uint64_t enabled_at = 0;
  p.cpu.boot([&] {
    p.cpu.set_trap_handler(&r);
    r.pic.initialize(0x30, 0x38);
    r.pic.enable_irq(4);
    p.cpu.consume(10'000);  // 100 us with IF clear
    EXPECT_TRUE(p.cpu.interrupt_pending());
    EXPECT_TRUE(r.interrupts.empty());
    enabled_at = p.cpu.now_ps();
    p.cpu.enable_interrupts();
  });
  raise_at(p, 4, 20 * kUs);
  tests::run_for(sc_core::sc_time(1, sc_core::SC_MS));
  ASSERT_EQ(r.interrupts.size(), 1u);
  EXPECT_EQ(r.interrupts[0].first, enabled_at + entry_ps(c));
}

TEST(Cpu, HaltSleepsUntilAnInterrupt) {
  Config c = quiet_config();
  Platform p("p", c, true);
  Recorder r(p.cpu);
  std::uint64_t woke = 0, halted_at = 0;
  boot_with_irqs(p, r, {9}, [&] {
    halted_at = p.cpu.now_ps();
    p.cpu.halt();
    woke = p.cpu.now_ps();
  });
  raise_at(p, 9, 500 * kUs);
  tests::run_for(sc_core::sc_time(1, sc_core::SC_MS));
  ASSERT_EQ(r.interrupts.size(), 1u);
  EXPECT_EQ(r.interrupts[0].second, 0x39) << "IRQ9 through the slave";
  EXPECT_EQ(r.interrupts[0].first, 500 * kUs + entry_ps(c)) << "woken at the instant IRQ9 rose";
  EXPECT_GT(woke, r.interrupts[0].first);
  EXPECT_EQ(p.cpu.stats().halted_ps, 500 * kUs - halted_at);
}

TEST(Cpu, UnmappedAccessesTrapAsBusErrorsAndReadAllOnes) {
  Config c = quiet_config();
  Platform p("p", c, true);
  Recorder r(p.cpu);
  std::uint32_t port = 0, mem = 0;
  p.cpu.boot([&] {
    p.cpu.set_trap_handler(&r);
    port = p.cpu.inb(0x2f0);
    mem = p.cpu.read32(0xfff0'0000);
    p.cpu.outb(0x21, 0xff);  // a good access afterwards still works
  });
  tests::run_for(sc_core::sc_time(1, sc_core::SC_MS));
  EXPECT_EQ(port, 0xffu);
  EXPECT_EQ(mem, 0xffffffffu);
  ASSERT_EQ(r.faults.size(), 2u);
  EXPECT_EQ(r.faults[0].space, hw::Space::io);
  EXPECT_EQ(r.faults[0].address, 0x2f0u);
  EXPECT_FALSE(r.faults[0].write);
  EXPECT_EQ(r.faults[1].space, hw::Space::memory);
  EXPECT_EQ(p.bus.unmapped_accesses(), 2u);
  EXPECT_EQ(p.intc->imr(false), 0xff);
}

TEST(Cpu, WrongWidthRegisterAccessIsABusError) {
  Config c = quiet_config();
  Platform p("p", c, true);
  Recorder r(p.cpu);
  p.cpu.boot([&] {
    p.cpu.set_trap_handler(&r);
    p.cpu.outb(0x21, 0xaa);  // OCW1 before initialization: the IMR takes it
    p.cpu.outw(0x20, 0x11);  // the PIC's registers are 8-bit: this ICW1 must not happen
    p.cpu.read(hw::Space::memory, 0, 3);  // no 3-byte accesses
  });
  tests::run_for(sc_core::sc_time(1, sc_core::SC_MS));
  ASSERT_EQ(r.faults.size(), 2u);
  EXPECT_EQ(r.faults[0].reason, "wrong access width");
  EXPECT_EQ(p.intc->imr(false), 0xaa) << "the refused ICW1 had no effect (it would clear IMR)";
}

TEST(Cpu, RamThroughDmiKeepsDataAndTime) {
  Config c = quiet_config();
  Platform p("p", c, true);
  std::vector<std::uint32_t> got;
  std::uint64_t t0 = 0, t1 = 0;
  p.cpu.boot([&] {
    for (std::uint32_t i = 0; i < 16; ++i) p.cpu.write32(0x1000 + 4 * i, 0xabc00000 | i);
    t0 = p.cpu.now_ps();
    for (std::uint32_t i = 0; i < 16; ++i) got.push_back(p.cpu.read32(0x1000 + 4 * i));
    t1 = p.cpu.now_ps();
  });
  tests::run_for(sc_core::sc_time(1, sc_core::SC_MS));
  ASSERT_EQ(got.size(), 16u);
  for (std::uint32_t i = 0; i < 16; ++i) EXPECT_EQ(got[i], 0xabc00000 | i);
  EXPECT_GE(p.cpu.stats().dmi_accesses, 16u) << "after the first access, RAM goes through DMI";
  // A load costs mem_access CPU cycles plus one bus cycle, through DMI or not.
  EXPECT_EQ(t1 - t0, 16 * (c.cpu.mem_access * 10 * kNs + 40 * kNs));
  EXPECT_EQ(p.ram.data()[0x1000], 0x00);
  EXPECT_EQ(p.ram.data()[0x1003], 0xab);
}

// A block copy interrupted in its middle, on a platform of its own: what the handler sees and
// what the copy cost.
struct CopyRun {
  Config config;
  Platform p;
  Recorder r{p.cpu};
  std::uint64_t start = 0, end = 0;
  std::size_t words_done_at_interrupt = 0;  // destination words holding the source's at entry
  static constexpr std::uint64_t kSrc = 0x10000, kDst = 0x40000, kBytes = 64 * 1024 + 3;

  CopyRun(const char* name, bool fast, std::uint64_t start_ps, std::uint64_t raise_after_ps)
      : config(with_fast_blocks(fast)), p(name, config, true) {
    p.cpu.boot([this, start_ps, raise_after_ps] {
      p.cpu.idle_for(hw::from_ps(start_ps));
      p.cpu.set_trap_handler(&r);
      r.pic.initialize(0x30, 0x38);
      r.pic.enable_irq(3);
      p.cpu.enable_interrupts();
      for (std::uint64_t i = 0; i < kBytes; ++i)
        p.ram.data()[kSrc + i] = static_cast<std::uint8_t>(i * 7 + 1);
      start = p.cpu.now_ps();
      sc_core::sc_spawn([this, raise_after_ps] {
        sc_core::wait(hw::from_ps(start + raise_after_ps) - sc_core::sc_time_stamp());
        p.drive_irq(3, true);
      });
      p.cpu.copy_block(kDst, kSrc, kBytes, 4);
      end = p.cpu.now_ps();
      // Not powering off: that would end the other machine's run too.
      p.cpu.disable_interrupts();
      p.cpu.halt();
    });
    r.on_interrupt = [this] {
      std::size_t n = 0;
      while (n < kBytes / 4 &&
             std::memcmp(p.ram.data() + kDst + 4 * n, p.ram.data() + kSrc + 4 * n, 4) == 0)
        ++n;
      words_done_at_interrupt = n;  // the line stays high: edge-triggered, taken once
    };
  }
  static Config with_fast_blocks(bool fast) {
    Config c = quiet_config();
    c.cpu.fast_blocks = fast;
    return c;
  }
};

TEST(Cpu, BlockCopyEqualsTheWordLoopAndTakesInterruptsBetweenTheSameWords) {
  // Two machines in one simulation: the block path and the word loop, each interrupted 777.78 us
  // into a 64 KiB copy (plus a 3-byte tail), a point off the 50 ns access grid. One after the
  // other: the loop's waits would otherwise cut the block path's runs to nothing.
  const std::uint64_t raise = 777'777'777;
  CopyRun fast("fast", true, 0, raise), loop("loop", false, 5'000 * kUs, raise);
  tests::run_for(sc_core::sc_time(10, sc_core::SC_MS));
  for (CopyRun* run : {&fast, &loop}) {
    ASSERT_EQ(run->r.interrupts.size(), 1u);
    EXPECT_EQ(std::memcmp(run->p.ram.data() + CopyRun::kDst, run->p.ram.data() + CopyRun::kSrc,
                          CopyRun::kBytes),
              0);
  }
  // The access in progress when IRQ3 rises ends on the 50 ns grid (a RAM access: 1 CPU cycle
  // and 1 bus cycle); the interrupt is taken there, between a read and its write or after a
  // word's write.
  const std::uint64_t access = 50 * kNs, k = (raise + access - 1) / access;
  EXPECT_EQ(fast.r.interrupts[0].first - fast.start, k * access + entry_ps(fast.config));
  EXPECT_EQ(fast.words_done_at_interrupt, k / 2);
  // And everything the word loop gives.
  EXPECT_EQ(fast.r.interrupts[0].first - fast.start, loop.r.interrupts[0].first - loop.start);
  EXPECT_EQ(fast.words_done_at_interrupt, loop.words_done_at_interrupt);
  EXPECT_EQ(fast.end - fast.start, loop.end - loop.start);
  const auto a = fast.p.cpu.stats(), b = loop.p.cpu.stats();
  EXPECT_EQ(a.mem_reads, b.mem_reads);
  EXPECT_EQ(a.mem_writes, b.mem_writes);
  EXPECT_EQ(a.dmi_accesses, b.dmi_accesses);
  EXPECT_EQ(a.bus_cycles, b.bus_cycles);
  EXPECT_EQ(a.interrupts, b.interrupts);
  ASSERT_EQ(fast.p.bus.master_stats().size(), loop.p.bus.master_stats().size());
  for (std::size_t m = 0; m < fast.p.bus.master_stats().size(); ++m)
    EXPECT_EQ(fast.p.bus.master_stats()[m].bus_cycles, loop.p.bus.master_stats()[m].bus_cycles);
  // 16,384 words and a 3-byte tail, each a read and a write (the handler's accesses are I/O).
  EXPECT_EQ(a.mem_reads, 16'387u);
  EXPECT_EQ(a.mem_writes, 16'387u);
}

TEST(Cpu, ContextsHandTheCpuOverAndResumeWhereTheyWere) {
  Config c = quiet_config();
  Platform p("p", c, true);
  std::vector<std::string> order;
  hw::ContextId a = 0, b = 0;
  p.cpu.boot([&] {
    a = p.cpu.create_context(
        "a",
        [&] {
          order.push_back("a1");
          p.cpu.consume(100);
          p.cpu.switch_to(b);
          order.push_back("a2");
          p.cpu.switch_to(0);
        },
        256 * 1024);
    b = p.cpu.create_context(
        "b",
        [&] {
          order.push_back("b1");
          p.cpu.switch_to(a);
          order.push_back("b2 never");
        },
        256 * 1024);
    order.push_back("boot");
    p.cpu.switch_to(a);
    order.push_back("boot again");
  });
  tests::run_for(sc_core::sc_time(1, sc_core::SC_MS));
  std::vector<std::string> want = {"boot", "a1", "b1", "a2", "boot again"};
  EXPECT_EQ(order, want);
  EXPECT_EQ(p.cpu.stats().context_switches, 4u);
  EXPECT_TRUE(p.cpu.powered_off()) << "the boot context returned";
  EXPECT_EQ(p.cpu.exit_status(), 0);
}

// The processors of one machine share their contexts: a context suspended on CPU 0 resumes on
// CPU 1 when CPU 1 switches to it, and from then on the code runs there (its bus accesses and
// work are CPU 1's; hw::running_processor() is CPU 1).
TEST(Cpu, AContextSuspendedOnOneProcessorResumesOnAnotherThatSwitchesToIt) {
  Config c = quiet_config();
  c.hal = "apic";
  c.cpu_count = 2;
  Platform p("p", c, true);
  hw::cpu::Cpu& ap = p.cpu_at(1);
  std::vector<std::pair<std::string, unsigned>> trail;  // (step, the CPU running it)
  auto here = [&](const std::string& step) {
    trail.emplace_back(step, hw::running_processor()->cpu_id());
  };
  hw::ContextId mover = hw::kNoContext, boot0 = hw::kNoContext, boot1 = hw::kNoContext;
  bool portable_while_suspended = false, portable_while_running = false;
  std::uint64_t ap_work_before = 0;
  p.cpu.boot([&] {
    boot0 = p.cpu.current_context();
    mover = p.cpu.create_context(
        "mover",
        [&] {
          here("start");
          portable_while_running = hw::running_processor()->context_portable(mover);
          hw::running_processor()->switch_to(boot0);  // suspended on CPU 0
          here("resumed");
          ap_work_before = ap.stats().work_cycles;
          hw::running_processor()->consume(5'000);
          hw::running_processor()->switch_to(boot1);
        },
        256 * 1024);
    p.cpu.switch_to(mover);
    here("boot0");
    portable_while_suspended = p.cpu.context_portable(mover);
    p.cpu.consume(100'000);  // 1 ms: CPU 1 takes the context meanwhile
  });
  ap.boot([&] {
    boot1 = ap.current_context();
    ap.consume(50'000);  // 500 us: CPU 0 has suspended the context by then
    ap.switch_to(mover);
    here("boot1");
  });
  tests::run_for(sc_core::sc_time(2, sc_core::SC_MS));
  const std::vector<std::pair<std::string, unsigned>> want = {
      {"start", 0}, {"boot0", 0}, {"resumed", 1}, {"boot1", 1}};
  EXPECT_EQ(trail, want);
  EXPECT_TRUE(portable_while_running);
  EXPECT_TRUE(portable_while_suspended);
  EXPECT_GE(ap.stats().work_cycles, ap_work_before + 5'000)
      << "the moved context's work is CPU 1's";
  EXPECT_EQ(ap.stats().context_switches, 2u);
}

// A context interrupted is not portable: the interrupt's return belongs to the CPU that took it.
// Another processor switching to one suspended inside an interrupt is refused with an error.
TEST(Cpu, AContextSuspendedInsideAnInterruptCannotMoveToAnotherProcessor) {
  Config c = quiet_config();
  c.hal = "apic";
  c.cpu_count = 2;
  Platform p("p", c, true);
  util::set_log_level(util::Level::off);
  hw::cpu::Cpu& ap = p.cpu_at(1);
  const std::uint64_t lapic = hw::apic::kLocalApicBase;
  // The handler of CPU 0's interrupt suspends the interrupted context inside it.
  struct Handler : hw::TrapHandler {
    std::function<void()> on_interrupt;
    void interrupt(std::uint8_t) override { on_interrupt(); }
    void bus_error(const hw::BusFault&) override {}
  } handler;
  hw::ContextId worker = hw::kNoContext, boot0 = hw::kNoContext;
  bool portable_in_handler = true, portable_before = false;
  bool resumed_on_ap = false;
  handler.on_interrupt = [&] {
    portable_in_handler = p.cpu.context_portable(worker);
    p.cpu.write32(lapic + hw::apic::kRegEoi, 0);
    p.cpu.switch_to(boot0);
  };
  p.cpu.boot([&] {
    boot0 = p.cpu.current_context();
    p.cpu.set_trap_handler(&handler);
    p.cpu.write32(lapic + hw::apic::kRegSvr, 0x1ff);
    worker = p.cpu.create_context(
        "worker",
        [&] {
          portable_before = p.cpu.context_portable(worker);
          p.cpu.enable_interrupts();
          hw::running_processor()->consume(100'000);
          resumed_on_ap = hw::running_processor()->cpu_id() == 1;
        },
        256 * 1024);
    p.cpu.switch_to(worker);
    p.cpu.consume(200'000);
  });
  ap.boot([&] {
    ap.write32(lapic + hw::apic::kRegSvr, 0x1ff);
    ap.consume(10'000);
    // A fixed IPI, vector 0x40, to CPU 0 (physical destination 0).
    ap.write32(lapic + hw::apic::kRegIcrHigh, 0);
    ap.write32(lapic + hw::apic::kRegIcrLow, 0x40);
    ap.consume(40'000);
    ap.switch_to(worker);
  });
  tests::run_for(sc_core::sc_time(3, sc_core::SC_MS));
  EXPECT_TRUE(portable_before);
  EXPECT_FALSE(portable_in_handler);
  EXPECT_FALSE(resumed_on_ap);
  EXPECT_TRUE(ap.powered_off());
  EXPECT_EQ(ap.exit_status(), 1);
}

// ---- paging (x86 32-bit, 4 KiB pages)

namespace paging {
constexpr std::uint32_t P = 1, W = 2, U = 4, A = 1u << 5, D = 1u << 6;
constexpr std::uint64_t kDir = 0x10000, kTable = 0x11000;  // physical, in RAM

// Page tables written physically before paging is on: directory entry 1 (4..8 MiB) names one
// table; `pages` maps linear 4 MiB + n*4 KiB to the physical frame given, with those flags.
void map(Platform& p, std::uint64_t linear, std::uint64_t frame, std::uint32_t flags) {
  p.cpu.write32(kDir + ((linear >> 22) & 0x3ff) * 4,
                static_cast<std::uint32_t>(kTable) | P | W | U);
  p.cpu.write32(kTable + ((linear >> 12) & 0x3ff) * 4, static_cast<std::uint32_t>(frame) | flags);
}
std::uint32_t pte(Platform& p, std::uint64_t linear) {
  const bool on = p.cpu.paging();
  p.cpu.set_paging(false);
  const std::uint32_t v = p.cpu.read32(kTable + ((linear >> 12) & 0x3ff) * 4);
  p.cpu.set_paging(on);
  return v;
}
struct FaultLog : hw::TrapHandler {
  std::vector<hw::PageFault> faults;
  std::function<void(const hw::PageFault&)> resolve;
  void interrupt(std::uint8_t) override {}
  void bus_error(const hw::BusFault&) override {}
  void page_fault(const hw::PageFault& f) override {
    faults.push_back(f);
    if (resolve) resolve(f);
  }
};
}  // namespace paging

// Translation through the tables and the TLB: a linear address reaches its physical frame, the
// walk sets A (and D on a write), the TLB answers the next access, INVLPG and MOV CR3 drop it.
TEST(Cpu, PagingTranslatesThroughTheTablesAndTheTlb) {
  using namespace paging;
  Config c = quiet_config();
  Platform p("p", c, true);
  std::uint32_t physical = 0, entry_after_read = 0, entry_after_write = 0, read_back = 0;
  hw::cpu::Cpu::Stats after_first{}, after_second{}, after_invlpg{}, after_cr3{};
  p.cpu.boot([&] {
    map(p, 0x400000, 0x200000, P | W);
    p.cpu.load_cr3(kDir);
    p.cpu.set_paging(true);
    read_back = p.cpu.read32(0x400010);
    entry_after_read = pte(p, 0x400000);  // (turning paging off and on flushes the TLB)
    p.cpu.write32(0x400010, 0xcafe1234);
    after_first = p.cpu.stats();
    (void)p.cpu.read32(0x400020);  // same page: the TLB answers
    after_second = p.cpu.stats();
    p.cpu.invalidate_page(0x400000);
    (void)p.cpu.read32(0x400020);
    after_invlpg = p.cpu.stats();
    p.cpu.load_cr3(kDir);
    (void)p.cpu.read32(0x400020);
    after_cr3 = p.cpu.stats();
    entry_after_write = pte(p, 0x400000);
    p.cpu.set_paging(false);
    physical = p.cpu.read32(0x200010);
  });
  tests::run_for(sc_core::sc_time(1, sc_core::SC_MS));
  EXPECT_EQ(physical, 0xcafe1234u) << "the write landed in the mapped frame";
  EXPECT_EQ(read_back, 0u);
  EXPECT_EQ(entry_after_read & (A | D), A) << "a read sets A only";
  EXPECT_EQ(entry_after_write & (A | D), A | D) << "a write sets D";
  EXPECT_EQ(after_second.tlb_hits, after_first.tlb_hits + 1);
  EXPECT_EQ(after_second.page_walks, after_first.page_walks);
  EXPECT_EQ(after_invlpg.page_walks, after_second.page_walks + 1) << "INVLPG drops the entry";
  EXPECT_EQ(after_cr3.page_walks, after_invlpg.page_walks + 1) << "MOV CR3 flushes the TLB";
  EXPECT_GE(after_first.walk_accesses, 4u) << "PDE and PTE reads, A and D writes, on the bus";
}

// The cost of a TLB miss on the bus: after INVLPG one read is the walk's two reads (PDE, PTE)
// and the data read, three bus cycles, and sets A the first time; a write after another INVLPG
// adds the PTE's D write. Each walk access is a real bus cycle the CPU is charged.
TEST(Cpu, AfterInvalidatePageOneAccessCostsTheTwoLevelWalkOnTheBus) {
  using namespace paging;
  Config c = quiet_config();
  Platform p("p", c, true);
  std::uint64_t first_cycles = 0, read_cycles = 0, write_cycles = 0;
  std::uint64_t first_walk = 0, read_walk = 0, write_walk = 0;
  std::uint32_t entry_after_first = 0, entry_after_write = 0;
  p.cpu.boot([&] {
    map(p, 0x400000, 0x200000, P | W);
    p.cpu.load_cr3(kDir);
    p.cpu.set_paging(true);
    auto measure = [&](auto access, std::uint64_t& cycles, std::uint64_t& walk) {
      const std::uint64_t c0 = p.bus.master_cycles(0), w0 = p.cpu.stats().walk_accesses;
      access();
      cycles = p.bus.master_cycles(0) - c0;
      walk = p.cpu.stats().walk_accesses - w0;
    };
    measure([&] { (void)p.cpu.read32(0x400100); }, first_cycles, first_walk);
    entry_after_first = pte(p, 0x400000);
    p.cpu.invalidate_page(0x400000);
    measure([&] { (void)p.cpu.read32(0x400104); }, read_cycles, read_walk);
    p.cpu.invalidate_page(0x400000);
    measure([&] { p.cpu.write32(0x400108, 1); }, write_cycles, write_walk);
    entry_after_write = pte(p, 0x400000);
  });
  tests::run_for(sc_core::sc_time(1, sc_core::SC_MS));
  EXPECT_EQ(entry_after_first & (A | D), A) << "the first walk sets A";
  EXPECT_EQ(first_walk, 4u) << "PDE and PTE read, then both written with A";
  EXPECT_EQ(read_walk, 2u) << "A already set: the two reads only";
  EXPECT_EQ(read_cycles, 3u) << "two walk reads and the data read, a bus cycle each";
  EXPECT_EQ(write_walk, 3u) << "two reads and the PTE written with D";
  EXPECT_EQ(write_cycles, 4u);
  EXPECT_EQ(entry_after_write & (A | D), A | D) << "a write sets D";
}

// A page fault is delivered before the access completes, with CR2 and the error code; when the
// handler maps the page the access is retried and completes. Protection and user faults carry
// their bits; a fault no handler resolves stops the machine with an error, not a hang.
TEST(Cpu, PageFaultsAreDeliveredWithTheirCodeAndTheAccessIsRetried) {
  using namespace paging;
  Config c = quiet_config();
  Platform p("p", c, true);
  FaultLog log;
  std::uint32_t value = 0, cr2 = 0;
  log.resolve = [&](const hw::PageFault& f) {
    if (f.address >> 12 == 0x401) {  // demand-zero: map the missing page, then retry
      p.cpu.set_paging(false);
      map(p, 0x401000, 0x300000, P | W);
      p.cpu.write32(0x300008, 77);
      p.cpu.set_paging(true);
      p.cpu.load_cr3(kDir);
    }
  };
  p.cpu.boot([&] {
    p.cpu.set_trap_handler(&log);
    map(p, 0x400000, 0x200000, P);      // read-only, supervisor
    map(p, 0x402000, 0x202000, P | W);  // supervisor only
    p.cpu.load_cr3(kDir);
    p.cpu.set_paging(true);
    value = p.cpu.read32(0x401008);  // not present: faults, mapped, retried
    cr2 = static_cast<std::uint32_t>(p.cpu.cr2());
    p.cpu.write32(0x400000, 1);  // read-only: a protection fault (unresolved, so it stops)
  });
  util::set_log_level(util::Level::off);
  tests::run_for(sc_core::sc_time(1, sc_core::SC_MS));
  EXPECT_EQ(value, 77u) << "the retried access read the page the handler mapped";
  EXPECT_EQ(cr2, 0x401008u);
  ASSERT_GE(log.faults.size(), 2u);
  EXPECT_EQ(log.faults[0].error_code(), 0u) << "not present, read, supervisor";
  EXPECT_EQ(log.faults[1].address, 0x400000u);
  EXPECT_EQ(log.faults[1].error_code(), 3u) << "present (protection), write";
  EXPECT_TRUE(p.cpu.powered_off()) << "an unresolved fault stops the machine";
  EXPECT_EQ(p.cpu.exit_status(), 1);
  EXPECT_EQ(p.cpu.stats().faults_not_present, 1u);
  EXPECT_GE(p.cpu.stats().faults_protection, 1u);
}

TEST(Cpu, AUserModeAccessToASupervisorPageFaultsWithTheUserBit) {
  using namespace paging;
  Config c = quiet_config();
  Platform p("p", c, true);
  FaultLog log;
  std::uint32_t user_read = 0;
  bool kernel_mode_in_handler = false;
  log.resolve = [&](const hw::PageFault&) {
    // The handler runs in kernel mode (a supervisor read of the user page's table works), and
    // resolves the fault by opening the page to user mode; the return restores user mode.
    kernel_mode_in_handler = p.cpu.read32(0x403000) == 9;  // supervisor: faults in user mode
    p.cpu.set_paging(false);
    map(p, 0x402000, 0x202000, P | W | U);
    p.cpu.set_paging(true);
  };
  p.cpu.boot([&] {
    p.cpu.set_trap_handler(&log);
    map(p, 0x400000, 0x200000, P | W | U);
    map(p, 0x402000, 0x202000, P | W);
    map(p, 0x403000, 0x203000, P | W);
    p.cpu.write32(0x200000, 5);
    p.cpu.write32(0x203000, 9);
    p.cpu.load_cr3(kDir);
    p.cpu.set_paging(true);
    p.cpu.set_user_mode(true);
    user_read = p.cpu.read32(0x400000);  // a user page: fine
    (void)p.cpu.read32(0x402000);        // supervisor: faults; the handler drops to kernel mode
  });
  tests::run_for(sc_core::sc_time(1, sc_core::SC_MS));
  EXPECT_EQ(user_read, 5u);
  ASSERT_EQ(log.faults.size(), 1u);
  EXPECT_EQ(log.faults[0].error_code(), 5u) << "present, read, user";
  EXPECT_EQ(p.cpu.stats().faults_user, 1u);
  EXPECT_TRUE(kernel_mode_in_handler);
}

// Block accesses under paging equal the word loop across a page boundary, and an access that
// straddles two pages is translated byte by byte.
TEST(Cpu, BlockAccessesUnderPagingCrossPagesLikeTheWordLoop) {
  using namespace paging;
  Config c = quiet_config();
  Platform p("p", c, true);
  std::vector<std::uint8_t> in(64), out(64);
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<std::uint8_t>(i * 7 + 1);
  std::uint32_t straddling = 0;
  std::uint8_t first_frame_last = 0, second_frame_first = 0;
  p.cpu.boot([&] {
    // Linear pages 0x400 and 0x401 map to frames far apart, in reverse order.
    map(p, 0x400000, 0x250000, P | W);
    map(p, 0x401000, 0x240000, P | W);
    p.cpu.load_cr3(kDir);
    p.cpu.set_paging(true);
    p.cpu.write_block(0x400fe0, in.data(), in.size(), 4);
    p.cpu.read_block(0x400fe0, out.data(), out.size(), 4);
    p.cpu.write32(0x400ffe, 0xa1b2c3d4);
    straddling = p.cpu.read32(0x400ffe);
    p.cpu.set_paging(false);
    first_frame_last = static_cast<std::uint8_t>(p.cpu.read(hw::Space::memory, 0x250fff, 1));
    second_frame_first = static_cast<std::uint8_t>(p.cpu.read(hw::Space::memory, 0x240000, 1));
  });
  tests::run_for(sc_core::sc_time(1, sc_core::SC_MS));
  EXPECT_EQ(out, in);
  EXPECT_EQ(straddling, 0xa1b2c3d4u);
  EXPECT_EQ(first_frame_last, 0xc3u) << "byte 1 of the word, at the end of the first page";
  EXPECT_EQ(second_frame_first, 0xb2u) << "byte 2, at the start of the second page's frame";
}

TEST(Cpu, SwitchingToAMissingContextStopsWithAnErrorNotACrash) {
  Config c = quiet_config();
  Platform p("p", c, true);
  util::set_log_level(util::Level::off);
  p.cpu.boot([&] { p.cpu.switch_to(42); });
  tests::run_for(sc_core::sc_time(1, sc_core::SC_MS));
  EXPECT_TRUE(p.cpu.powered_off());
  EXPECT_EQ(p.cpu.exit_status(), 1);
}

TEST(Cpu, BusCyclesAreAccountedPerMaster) {
  Config c = quiet_config();
  Platform p("p", c, true);
  p.cpu.boot([&] {
    p.cpu.outb(0x21, 0xff);   // 1 + 3 wait states
    p.cpu.consume(400, 0.5);  // 200 CPU cycles on the bus = 50 bus cycles at 25 MHz
  });
  tests::run_for(sc_core::sc_time(1, sc_core::SC_MS));
  ASSERT_EQ(p.bus.master_stats().size(), 2u);  // the CPU and the DMA controller
  EXPECT_EQ(p.bus.master_stats()[0].transactions, 1u);
  EXPECT_EQ(p.bus.master_cycles(1), 0u);
  EXPECT_EQ(p.bus.master_stats()[0].bus_cycles, 4u + 50u);
}

}  // namespace
