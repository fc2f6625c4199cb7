// Kernel rules on the fake processor (no SystemC): IRQL, the trap dispatcher, DPCs, spin locks,
// waits that must bug-check. Timing-level behaviour is tested on the platform.
#include "sw/ke/kernel.h"

#include <gtest/gtest.h>

#include "tests/support/fake_processor.h"
#include "util/log.h"

namespace {

using ke::Kernel;
using Writes = std::vector<std::pair<std::uint16_t, std::uint8_t>>;
constexpr std::uint8_t kBase = 0x30;

// A kernel on a fake processor, initialized; `trace` collects what ISRs and DPCs did, in order.
struct Fixture {
  tests::FakeProcessor cpu;
  hal::Hal hal;
  Kernel kernel;
  std::vector<std::string> trace;

  explicit Fixture(hal::IrqlMode mode = hal::IrqlMode::eager)
      : hal(cpu, make_hal(mode)), kernel(cpu, hal, ke::KernelConfig{}) {
    util::set_log_level(util::Level::off);
    kernel.initialize();
    cpu.log.clear();
  }
  static hal::HalConfig make_hal(hal::IrqlMode mode) {
    hal::HalConfig c;
    c.vector_base = kBase;
    c.mode = mode;
    return c;
  }
  // Delivers IRQ n's vector the way the CPU would (only with IF set).
  void fire(unsigned irq) { cpu.raise(static_cast<std::uint8_t>(kBase + irq)); }
};

// A device: its ISR records, optionally runs `during` (to nest another interrupt), queues its DPC.
struct Device {
  Fixture* f = nullptr;
  std::string name;
  ke::Interrupt interrupt;
  ke::Dpc dpc;
  std::function<void()> during;
  bool claim = true;
  ke::Irql isr_irql = 0, dpc_irql = 0;
  bool isr_if = false;

  Device(Fixture& fx, std::string n, unsigned irq,
         ke::InterruptMode mode = ke::InterruptMode::latched, bool share = false)
      : f(&fx), name(std::move(n)) {
    fx.kernel.initialize_interrupt(interrupt, name, &Device::isr, this, irq, mode, share);
    fx.kernel.initialize_dpc(dpc, name + "_dpc", &Device::deferred, this);
  }
  static bool isr(ke::Interrupt*, void* ctx) {
    auto& d = *static_cast<Device*>(ctx);
    d.isr_irql = d.f->kernel.irql();
    d.isr_if = d.f->cpu.interrupts_enabled();
    d.f->trace.push_back("isr " + d.name);
    if (d.during) d.during();
    if (d.claim) d.f->kernel.insert_queue_dpc(d.dpc, nullptr, nullptr);
    d.f->trace.push_back("isr " + d.name + " done");
    return d.claim;
  }
  static void deferred(ke::Dpc*, void* ctx, void*, void*) {
    auto& d = *static_cast<Device*>(ctx);
    d.dpc_irql = d.f->kernel.irql();
    d.f->trace.push_back("dpc " + d.name);
  }
};

template <typename F>
int stop_status(F f) {
  try {
    f();
  } catch (const tests::Stopped& s) {
    return s.exit_status;
  }
  return -1;
}

TEST(KeIrql, RaisingToALowerLevelBugChecks) {
  Fixture f;
  f.kernel.raise_irql(ke::kDispatchLevel);
  testing::internal::CaptureStderr();
  EXPECT_EQ(stop_status([&] { f.kernel.raise_irql(ke::kPassiveLevel); }), 3);
  std::string report = testing::internal::GetCapturedStderr();
  EXPECT_NE(report.find("STOP: 0x00000009"), std::string::npos) << report;
  EXPECT_NE(report.find("IRQL_NOT_GREATER_OR_EQUAL"), std::string::npos);
  EXPECT_NE(report.find("IRQL 2"), std::string::npos);
}

TEST(KeIrql, LoweringToAHigherLevelBugChecks) {
  Fixture f;
  testing::internal::CaptureStderr();
  EXPECT_EQ(stop_status([&] { f.kernel.lower_irql(ke::kDispatchLevel); }), 3);
  EXPECT_NE(testing::internal::GetCapturedStderr().find("IRQL_NOT_LESS_OR_EQUAL"),
            std::string::npos);
}

TEST(KeIrql, EagerModeMasksThePicOnRaiseAndUnmasksOnLower) {
  Fixture f;
  Device low(f, "low", 5), high(f, "high", 3);
  ASSERT_TRUE(f.kernel.connect_interrupt(low.interrupt));
  ASSERT_TRUE(f.kernel.connect_interrupt(high.interrupt));
  f.cpu.log.clear();
  const ke::Irql old = f.kernel.raise_irql(ke::irql_of_irq(5));  // IRQL 22 hides IRQ5..15
  EXPECT_EQ(f.hal.pic().mask() & (1u << 5), 1u << 5);
  EXPECT_EQ(f.hal.pic().mask() & (1u << 3), 0u) << "IRQ3 (IRQL 24) still gets through";
  f.kernel.lower_irql(old);
  EXPECT_EQ(f.hal.pic().mask() & ((1u << 5) | (1u << 3)), 0u);
  EXPECT_EQ(f.cpu.port_writes().size(), 2u) << "one master IMR write each way";
}

TEST(KeIrql, LazyModeRaisesWithoutTouchingThePic) {
  Fixture f(hal::IrqlMode::lazy);
  Device low(f, "low", 5);
  f.kernel.connect_interrupt(low.interrupt);
  f.cpu.log.clear();
  const ke::Irql old = f.kernel.raise_irql(ke::irql_of_irq(3));
  f.kernel.lower_irql(old);
  EXPECT_TRUE(f.cpu.port_writes().empty());
}

TEST(KeIrql, LazyModeDefersAnInterruptAtOrBelowIrqlAndReplaysItOnLower) {
  Fixture f(hal::IrqlMode::lazy);
  Device low(f, "low", 5);
  f.kernel.connect_interrupt(low.interrupt);
  f.cpu.log.clear();
  const ke::Irql old = f.kernel.raise_irql(ke::irql_of_irq(3));  // 24, above IRQ5's 22
  f.fire(5);
  EXPECT_TRUE(f.trace.empty()) << "deferred, not serviced";
  // Mask the PIC to the real level, then EOI IRQ5. At IRQL 24, IRQ3..7 (IRQL <= 24) and IRQ1
  // (nothing connected) are masked; IRQ0 (the clock, IRQL 27) and the IRQ2 cascade stay open.
  Writes deferral = {{0x21, 0xfa}, {0x20, 0x65}};
  EXPECT_EQ(f.cpu.port_writes(), deferral);
  EXPECT_EQ(f.kernel.stats().deferred, 1u);
  f.kernel.lower_irql(old);
  std::vector<std::string> want = {"isr low", "isr low done", "dpc low"};
  EXPECT_EQ(f.trace, want) << "replayed when IRQL dropped below 22, then its DPC";
  EXPECT_EQ(low.isr_irql, ke::irql_of_irq(5));
  EXPECT_EQ(f.kernel.stats().replayed, 1u);
  EXPECT_EQ(f.hal.pic().mask() & (1u << 5), 0u) << "the PIC is opened back up";
}

TEST(KeDispatch, RaiseThenEoiThenTheIsrAtDeviceIrqlWithInterruptsOn) {
  Fixture f;
  Device dev(f, "dev", 5);
  f.kernel.connect_interrupt(dev.interrupt);
  f.cpu.log.clear();
  std::size_t writes_before_isr = 0;
  dev.during = [&] { writes_before_isr = f.cpu.port_writes().size(); };
  f.fire(5);
  EXPECT_EQ(dev.isr_irql, 22);
  EXPECT_TRUE(dev.isr_if) << "higher-priority interrupts may preempt an ISR";
  EXPECT_EQ(dev.dpc_irql, ke::kDispatchLevel);
  EXPECT_EQ(f.kernel.irql(), ke::kPassiveLevel);
  // The trap dispatcher's order: raise IRQL, then the specific EOI, then the ISR. Eager raise to
  // IRQL 22 writes the master IMR: IRQ5 masked by level, IRQ1/3/4/6/7 because nothing is
  // connected; IRQ0 (the clock) and the IRQ2 cascade open: 0xfa.
  Writes w = f.cpu.port_writes();
  ASSERT_GE(w.size(), 2u);
  EXPECT_EQ(w[0], std::make_pair(std::uint16_t{0x21}, std::uint8_t{0xfa}));
  EXPECT_EQ(w[1], std::make_pair(std::uint16_t{0x20}, std::uint8_t{0x65}));
  EXPECT_EQ(writes_before_isr, 2u);
  std::vector<std::string> want = {"isr dev", "isr dev done", "dpc dev"};
  EXPECT_EQ(f.trace, want);
}

TEST(KeDispatch, SlaveIrqEoisTheSlaveThenTheCascade) {
  Fixture f;
  Device dev(f, "dev", 10);
  f.kernel.connect_interrupt(dev.interrupt);
  f.cpu.log.clear();
  f.fire(10);
  Writes w = f.cpu.port_writes();
  auto slave =
      std::find(w.begin(), w.end(), std::make_pair(std::uint16_t{0xa0}, std::uint8_t{0x62}));
  auto master =
      std::find(w.begin(), w.end(), std::make_pair(std::uint16_t{0x20}, std::uint8_t{0x62}));
  ASSERT_NE(slave, w.end());
  ASSERT_NE(master, w.end());
  EXPECT_LT(slave - w.begin(), master - w.begin());
}

TEST(KeDispatch, HigherInterruptNestsInsideALowerIsrAndDpcsRunInQueueOrder) {
  Fixture f;
  Device low(f, "low", 5), high(f, "high", 3);
  f.kernel.connect_interrupt(low.interrupt);
  f.kernel.connect_interrupt(high.interrupt);
  low.during = [&] { f.fire(3); };
  f.fire(5);
  std::vector<std::string> want = {"isr low",      "isr high", "isr high done",
                                   "isr low done", "dpc high", "dpc low"};
  EXPECT_EQ(f.trace, want);
  EXPECT_EQ(high.isr_irql, 24);
}

TEST(KeDispatch, SharedLevelTriggeredChainStopsAtTheFirstClaim) {
  Fixture f;
  Device a(f, "a", 9, ke::InterruptMode::level_sensitive, true),
      b(f, "b", 9, ke::InterruptMode::level_sensitive, true);
  ASSERT_TRUE(f.kernel.connect_interrupt(a.interrupt));
  ASSERT_TRUE(f.kernel.connect_interrupt(b.interrupt));
  f.fire(9);
  EXPECT_EQ(std::count(f.trace.begin(), f.trace.end(), "isr b"), 0) << "a claimed it";
  a.claim = false;
  f.trace.clear();
  f.fire(9);
  EXPECT_EQ(std::count(f.trace.begin(), f.trace.end(), "isr b"), 1) << "a declined, b is asked";
}

TEST(KeDispatch, SharedLatchedChainAsksEverySharer) {
  Fixture f;
  Device a(f, "a", 9, ke::InterruptMode::latched, true),
      b(f, "b", 9, ke::InterruptMode::latched, true);
  f.kernel.connect_interrupt(a.interrupt);
  f.kernel.connect_interrupt(b.interrupt);
  f.fire(9);
  EXPECT_EQ(std::count(f.trace.begin(), f.trace.end(), "isr a"), 1);
  EXPECT_EQ(std::count(f.trace.begin(), f.trace.end(), "isr b"), 1);
}

TEST(KeDispatch, ConnectRefusesAVectorThatIsNotShared) {
  Fixture f;
  Device a(f, "a", 9), b(f, "b", 9, ke::InterruptMode::latched, true);
  EXPECT_TRUE(f.kernel.connect_interrupt(a.interrupt));
  EXPECT_FALSE(f.kernel.connect_interrupt(b.interrupt));
  Device c(f, "c", 2);
  EXPECT_FALSE(f.kernel.connect_interrupt(c.interrupt)) << "IRQ2 is the cascade";
}

TEST(KeDispatch, DisconnectMasksTheIrqAndAnInterruptThereIsThenUnexpected) {
  Fixture f;
  Device dev(f, "dev", 4);
  ASSERT_TRUE(f.kernel.connect_interrupt(dev.interrupt));
  EXPECT_EQ(f.hal.pic().mask() & (1u << 4), 0u);
  f.kernel.disconnect_interrupt(dev.interrupt);
  EXPECT_FALSE(dev.interrupt.connected);
  EXPECT_EQ(f.hal.pic().mask() & (1u << 4), 1u << 4) << "nothing connected: masked";
  testing::internal::CaptureStderr();
  EXPECT_EQ(stop_status([&] { f.fire(4); }), 3);
  EXPECT_NE(testing::internal::GetCapturedStderr().find("TRAP_CAUSE_UNKNOWN"), std::string::npos);
}

TEST(KeDispatch, SpuriousIrq7RunsNoIsrAndSendsNoEoi) {
  Fixture f;
  Device dev(f, "dev", 7);
  f.kernel.connect_interrupt(dev.interrupt);
  f.cpu.log.clear();
  f.cpu.reads[0x20] = {0x00};  // ISR bit 7 clear
  f.fire(7);
  EXPECT_TRUE(f.trace.empty());
  EXPECT_EQ(f.kernel.stats().spurious, 1u);
  Writes only_status_read = {{0x20, 0x0b}};
  EXPECT_EQ(f.cpu.port_writes(), only_status_read);
}

TEST(KeDispatch, AnInterruptWithNothingConnectedBugChecks) {
  Fixture f;
  testing::internal::CaptureStderr();
  EXPECT_EQ(stop_status([&] { f.fire(6); }), 3);
  std::string report = testing::internal::GetCapturedStderr();
  EXPECT_NE(report.find("TRAP_CAUSE_UNKNOWN"), std::string::npos) << report;
  EXPECT_NE(report.find("0x0000000000000036"), std::string::npos) << "the vector is parameter 2";
}

TEST(KeDispatch, SynchronizeExecutionRunsAtTheInterruptsIrql) {
  Fixture f;
  Device dev(f, "dev", 4);
  f.kernel.connect_interrupt(dev.interrupt);
  static ke::Irql seen;
  f.kernel.synchronize_execution(
      dev.interrupt,
      [](void* k) {
        seen = static_cast<Kernel*>(k)->irql();
        return true;
      },
      &f.kernel);
  EXPECT_EQ(seen, ke::irql_of_irq(4));
  EXPECT_EQ(f.kernel.irql(), ke::kPassiveLevel);
}

TEST(KeDpc, HighImportanceGoesFirstAndADoubleInsertKeepsTheFirstArguments) {
  Fixture f;
  std::vector<std::pair<std::string, std::uintptr_t>> ran;
  struct Ctx {
    std::vector<std::pair<std::string, std::uintptr_t>>* ran;
  } ctx{&ran};
  auto routine = [](ke::Dpc* d, void* c, void* a1, void*) {
    static_cast<Ctx*>(c)->ran->emplace_back(d->name, reinterpret_cast<std::uintptr_t>(a1));
  };
  ke::Dpc a, b, c;
  f.kernel.initialize_dpc(a, "a", routine, &ctx);
  f.kernel.initialize_dpc(b, "b", routine, &ctx);
  f.kernel.initialize_dpc(c, "c", routine, &ctx);
  f.kernel.set_importance_dpc(c, ke::DpcImportance::high);
  const ke::Irql old = f.kernel.raise_irql(ke::kDispatchLevel);
  EXPECT_TRUE(f.kernel.insert_queue_dpc(a, reinterpret_cast<void*>(1), nullptr));
  EXPECT_TRUE(f.kernel.insert_queue_dpc(b, reinterpret_cast<void*>(2), nullptr));
  EXPECT_FALSE(f.kernel.insert_queue_dpc(a, reinterpret_cast<void*>(99), nullptr));
  EXPECT_TRUE(f.kernel.insert_queue_dpc(c, reinterpret_cast<void*>(3), nullptr));
  EXPECT_TRUE(ran.empty()) << "nothing runs until IRQL drops below DISPATCH_LEVEL";
  f.kernel.lower_irql(ke::kApcLevel);
  std::vector<std::pair<std::string, std::uintptr_t>> want = {{"c", 3}, {"a", 1}, {"b", 2}};
  EXPECT_EQ(ran, want);
  f.kernel.lower_irql(old);
  EXPECT_EQ(f.kernel.stats().dpcs_queued, 3u);
  EXPECT_EQ(f.kernel.stats().dpcs_executed, 3u);
}

TEST(KeDpc, ADpcMayRequeueItself) {
  Fixture f;
  static int runs;
  runs = 0;
  ke::Dpc d;
  f.kernel.initialize_dpc(
      d, "again",
      [](ke::Dpc* self, void* k, void*, void*) {
        if (++runs < 3) static_cast<Kernel*>(k)->insert_queue_dpc(*self, nullptr, nullptr);
      },
      &f.kernel);
  f.kernel.insert_queue_dpc(d, nullptr, nullptr);  // at PASSIVE_LEVEL: runs at once
  EXPECT_EQ(runs, 3);
}

TEST(KeDpc, ADpcReturningAtAnotherIrqlBugChecks) {
  Fixture f;
  ke::Dpc d;
  f.kernel.initialize_dpc(
      d, "bad",
      [](ke::Dpc*, void* k, void*, void*) {
        static_cast<Kernel*>(k)->raise_irql(5);  // and "forgets" to lower
      },
      &f.kernel);
  testing::internal::CaptureStderr();
  EXPECT_EQ(stop_status([&] { f.kernel.insert_queue_dpc(d, nullptr, nullptr); }), 3);
  std::string report = testing::internal::GetCapturedStderr();
  EXPECT_NE(report.find("IRQL_UNEXPECTED_VALUE"), std::string::npos) << report;
  EXPECT_NE(report.find("0x0000000000050204"), std::string::npos) << "(5 << 16) | (2 << 8) | 4";
  EXPECT_NE(report.find("DPC 'bad'"), std::string::npos) << "the report names the context";
}

TEST(KeDpc, AnInterruptDuringADpcRunsButItsDpcWaitsItsTurn) {
  Fixture f;
  Device dev(f, "dev", 5);
  f.kernel.connect_interrupt(dev.interrupt);
  ke::Dpc first;
  struct Ctx {
    Fixture* f;
  } ctx{&f};
  f.kernel.initialize_dpc(
      first, "first",
      [](ke::Dpc*, void* c, void*, void*) {
        auto& fx = *static_cast<Ctx*>(c)->f;
        fx.trace.push_back("dpc first");
        fx.fire(5);  // preempts this DPC
        fx.trace.push_back("dpc first done");
      },
      &ctx);
  f.kernel.insert_queue_dpc(first, nullptr, nullptr);
  std::vector<std::string> want = {"dpc first", "isr dev", "isr dev done", "dpc first done",
                                   "dpc dev"};
  EXPECT_EQ(f.trace, want);
}

TEST(KeSpinLock, AcquireRaisesToDispatchAndReleaseRestores) {
  Fixture f;
  ke::SpinLock lock;
  const ke::Irql old = f.kernel.acquire_spin_lock(lock);
  EXPECT_EQ(f.kernel.irql(), ke::kDispatchLevel);
  EXPECT_TRUE(lock.held);
  f.kernel.release_spin_lock(lock, old);
  EXPECT_EQ(f.kernel.irql(), ke::kPassiveLevel);
  EXPECT_FALSE(lock.held);
}

TEST(KeSpinLock, AcquiringAHeldLockBugChecks) {
  Fixture f;
  ke::SpinLock lock;
  f.kernel.acquire_spin_lock(lock);
  testing::internal::CaptureStderr();
  EXPECT_EQ(stop_status([&] { f.kernel.acquire_spin_lock_at_dpc_level(lock); }), 3);
  EXPECT_NE(testing::internal::GetCapturedStderr().find("SPIN_LOCK_ALREADY_OWNED"),
            std::string::npos);
}

TEST(KeWait, WaitingAtDispatchLevelWithATimeoutBugChecks) {
  Fixture f;
  ke::Event e;
  f.kernel.initialize_event(e, "e", ke::EventType::notification, false);
  f.kernel.raise_irql(ke::kDispatchLevel);
  testing::internal::CaptureStderr();
  EXPECT_EQ(stop_status([&] { f.kernel.wait_for_single_object(e, 1'000'000); }), 3);
  EXPECT_NE(testing::internal::GetCapturedStderr().find("STOP: 0x0000000a"), std::string::npos);
}

TEST(KeWait, PollingAtDispatchLevelIsAllowed) {
  Fixture f;
  ke::Event e;
  f.kernel.initialize_event(e, "e", ke::EventType::synchronization, false);
  f.kernel.raise_irql(ke::kDispatchLevel);
  EXPECT_EQ(f.kernel.wait_for_single_object(e, 0), ke::Status::timeout);
  e.signaled = true;
  EXPECT_EQ(f.kernel.wait_for_single_object(e, 0), ke::Status::success);
  EXPECT_FALSE(e.signaled) << "a synchronization event resets when a wait is satisfied";
}

TEST(KeWait, WaitingInADpcIsAttemptedSwitchFromDpc) {
  Fixture f;
  static ke::Event e;
  f.kernel.initialize_event(e, "e", ke::EventType::notification, false);
  ke::Dpc d;
  f.kernel.initialize_dpc(
      d, "waiter",
      [](ke::Dpc*, void* k, void*, void*) {
        static_cast<Kernel*>(k)->wait_for_single_object(e, std::nullopt);
      },
      &f.kernel);
  testing::internal::CaptureStderr();
  EXPECT_EQ(stop_status([&] { f.kernel.insert_queue_dpc(d, nullptr, nullptr); }), 3);
  std::string report = testing::internal::GetCapturedStderr();
  EXPECT_NE(report.find("ATTEMPTED_SWITCH_FROM_DPC"), std::string::npos) << report;
  EXPECT_NE(report.find("STOP: 0x000000b8"), std::string::npos);
}

TEST(KeBugCheck, ABusErrorInKernelCodeIsAnUnhandledAccessViolation) {
  Fixture f;
  testing::internal::CaptureStderr();
  EXPECT_EQ(stop_status([&] {
              f.kernel.bus_error({hw::Space::io, 0x300, 1, false, "unmapped address"});
            }),
            3);
  std::string report = testing::internal::GetCapturedStderr();
  EXPECT_NE(report.find("STOP: 0x0000001e (0x00000000c0000005, 0x0000000000000300"),
            std::string::npos)
      << report;
}

}  // namespace
