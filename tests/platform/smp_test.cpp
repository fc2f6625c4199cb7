// Several processors under the APIC HAL, on the assembled platform: a DPC targeted at another
// processor gets there by IPI and runs only there; spin locks spin across processors and lose
// nothing; lowest-priority delivery picks the processor at the lower TPR; a raised IRQL on one
// processor does not mask another; KeSynchronizeExecution waits for an ISR running elsewhere;
// a bug check names its processor and reports the others.
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "platform/config.h"
#include "platform/platform.h"
#include "platform/simulation.h"
#include "platform/workloads.h"
#include "sw/hal/current_processor.h"
#include "sw/hal/hal.h"
#include "sw/ke/kernel.h"
#include "tests/support/sc_test.h"
#include "util/event_log.h"
#include "util/json.h"
#include "util/log.h"

#include <fmt/format.h>

namespace {

using platform::Config;

// A kernel built inside the test on N processors under the APIC HAL; `main` runs as the system
// thread on CPU 0 and may create threads on the others.
struct SmpRig {
  Config config;
  std::unique_ptr<platform::Platform> p;
  std::unique_ptr<hal::CurrentProcessor> current;
  std::unique_ptr<hal::Hal> hal;
  std::unique_ptr<ke::Kernel> kernel;

  SmpRig(unsigned cpus, std::function<void(ke::Kernel&)> main,
         std::function<void(Config&)> setup = {}) {
    config.workload = "none";
    config.hal = "apic";
    config.cpu_count = cpus;
    if (setup) setup(config);
    platform::validate(config);
    util::set_log_level(util::Level::warn);
    p = std::make_unique<platform::Platform>("platform", config, true);
    std::vector<hw::Processor*> processors;
    for (unsigned i = 0; i < p->cpu_count(); ++i) processors.push_back(&p->cpu_at(i));
    current = std::make_unique<hal::CurrentProcessor>(processors);
    hal::HalConfig hc;
    hc.kind = config.hal == "apic" ? hal::HalKind::apic : hal::HalKind::pic;
    hc.processors = cpus;
    hc.delivery =
        config.apic_delivery == "fixed" ? hal::ApicDelivery::fixed : hal::ApicDelivery::lowest;
    hal = std::make_unique<hal::Hal>(*current, hc);
    p->cpu.boot([this, main, processors] {
      ke::KernelConfig kc;
      kc.processors = processors;
      kernel = std::make_unique<ke::Kernel>(*current, *hal, kc);
      kernel->initialize();
      for (unsigned n = 1; n < processors.size(); ++n)
        p->cpu_at(n).boot([this, n] { kernel->start_processor(n); });
      kernel->run("main", 8, [this, main] { main(*kernel); });
    });
  }
  void run(double ms) { tests::run_for(sc_core::sc_time(ms, sc_core::SC_MS)); }
};

// A one-shot device (hw/devices/oneshot.h) with an ISR and DPC that record where and how they
// ran. The ISR may hold the CPU for `isr_cycles` and queue its DPC for another processor.
struct Probe {
  ke::Kernel& k;
  std::uint16_t port;
  unsigned isr_cycles = 100;
  int dpc_target = -1;
  ke::DpcImportance importance = ke::DpcImportance::medium;
  ke::Interrupt interrupt;
  ke::Dpc dpc;
  std::vector<unsigned> isr_cpus, dpc_cpus;
  std::vector<ke::Irql> dpc_irqls;
  std::uint64_t isr_enter_ps = 0, isr_exit_ps = 0, dpc_ps = 0;
  std::uint64_t dpc_cpu1_ipis = 0;  // IPIs CPU 1 had received when the DPC ran
  ke::Irql isr_irql = 0;            // the IRQL the ISR last ran at

  bool decline = false;  // the ISR never claims (nor acknowledges) its device's interrupt

  Probe(ke::Kernel& kernel, std::uint16_t base, unsigned irq,
        ke::InterruptMode mode = ke::InterruptMode::latched)
      : k(kernel), port(base) {
    // A level-sensitive line is level-triggered at the controller (the PnP manager's
    // translation does this for a device that asked for one).
    if (mode == ke::InterruptMode::level_sensitive) k.hal().set_level_triggered(irq);
    k.initialize_interrupt(interrupt, "probe", &Probe::isr, this, irq, mode, false);
    k.initialize_dpc(dpc, "probe", &Probe::deferred, this);
  }
  // From KeInitializeInterrupt's full parameters (the translated vector and the rest).
  Probe(ke::Kernel& kernel, std::uint16_t base, const ke::InterruptParameters& parameters)
      : k(kernel), port(base) {
    initialized = k.initialize_interrupt(interrupt, "probe", &Probe::isr, this, parameters);
    k.initialize_dpc(dpc, "probe", &Probe::deferred, this);
  }
  bool initialized = true;
  bool start() {
    if (dpc_target >= 0) k.set_target_processor_dpc(dpc, static_cast<unsigned>(dpc_target));
    k.set_importance_dpc(dpc, importance);
    return k.connect_interrupt(interrupt);
  }
  void arm(std::uint32_t ns) { k.cpu().outl(port, ns); }
  static bool isr(ke::Interrupt*, void* context) {
    auto& d = *static_cast<Probe*>(context);
    d.isr_enter_ps = d.k.cpu().now_ps();
    if (d.decline || !(d.k.cpu().inb(static_cast<std::uint16_t>(d.port + 4)) & 1)) return false;
    d.k.cpu().outb(static_cast<std::uint16_t>(d.port + 5), 1);
    d.isr_cpus.push_back(d.k.current_processor());
    d.isr_irql = d.k.irql();
    d.k.cpu().consume(d.isr_cycles);
    d.k.insert_queue_dpc(d.dpc, nullptr, nullptr);
    d.isr_exit_ps = d.k.cpu().now_ps();
    return true;
  }
  static void deferred(ke::Dpc*, void* context, void*, void*) {
    auto& d = *static_cast<Probe*>(context);
    d.dpc_cpus.push_back(d.k.current_processor());
    d.dpc_irqls.push_back(d.k.irql());
    d.dpc_ps = d.k.cpu().now_ps();
    if (d.k.processor_count() > 1) d.dpc_cpu1_ipis = d.k.processor(1).stats.ipis_received;
  }
};

// IRQ5 (oneshot0) fixed to CPU 0: with apic.delivery fixed, IRQ n goes to CPU n mod count, so
// on four CPUs oneshot0 is moved to IRQ 4 (com1's line, freed) or 3.
void fixed_to(Config& c, unsigned cpu, unsigned count) {
  c.apic_delivery = "fixed";
  // oneshot0 on an IRQ whose number mod count is `cpu`: 12 + cpu is free on the default machine
  // for cpu < 2 (IRQ 12, 13), and 8 + cpu for four CPUs.
  const unsigned irq = count == 2 ? 12 + cpu : 8 + cpu;
  platform::apply_override(c, "devices.oneshot0.irq=" + std::to_string(irq));
}

TEST(Smp, ADpcTargetedAtCpu1FromAnIsrOnCpu0RunsOnlyThereAtDispatchLevelAfterAnIpi) {
  std::unique_ptr<Probe> probe;
  std::uint64_t cpu0_dpcs_before = 0, cpu0_dpcs_after = 0;
  SmpRig rig(
      2,
      [&](ke::Kernel& k) {
        probe = std::make_unique<Probe>(k, 0x300, 12);
        probe->dpc_target = 1;
        probe->importance = ke::DpcImportance::high;
        ASSERT_TRUE(probe->start());
        cpu0_dpcs_before = k.processor(0).stats.dpcs_executed;
        probe->arm(10'000);
        k.cpu().consume(10'000);  // 100 us of work on CPU 0 while the device fires
        cpu0_dpcs_after = k.processor(0).stats.dpcs_executed;
      },
      [](Config& c) { fixed_to(c, 0, 2); });
  rig.run(1);
  ASSERT_TRUE(probe);
  ASSERT_EQ(probe->isr_cpus, std::vector<unsigned>{0}) << "the ISR runs where IRQ 12 is fixed";
  ASSERT_EQ(probe->dpc_cpus, std::vector<unsigned>{1}) << "the DPC runs on its target only";
  EXPECT_EQ(probe->dpc_irqls, std::vector<ke::Irql>{ke::kDispatchLevel});
  EXPECT_EQ(probe->dpc_cpu1_ipis, 1u) << "CPU 1 was asked by an IPI";
  EXPECT_EQ(rig.kernel->processor(0).stats.ipis_sent, 1u);
  // The IPI takes apic.latency on the APIC bus: the DPC cannot start before it lands.
  EXPECT_GE(probe->dpc_ps, probe->isr_enter_ps + rig.config.apic_latency_ps);
  EXPECT_LT(probe->dpc_ps, probe->isr_exit_ps + 5'000'000u)
      << "CPU 1 was idle: it ran the DPC within microseconds";
  EXPECT_EQ(cpu0_dpcs_after, cpu0_dpcs_before) << "CPU 0 ran no DPC meanwhile";
}

// A medium-importance DPC for a busy processor waits for that processor's own drain: no IPI.
TEST(Smp, AMediumImportanceDpcForABusyProcessorWaitsWithoutAnIpi) {
  std::unique_ptr<Probe> probe;
  std::uint64_t ipis_during = 99, dpc_ps = 0, lowered_ps = 0;
  ke::Event busy;
  SmpRig rig(
      2,
      [&](ke::Kernel& k) {
        probe = std::make_unique<Probe>(k, 0x300, 12);
        probe->dpc_target = 1;  // medium importance
        ASSERT_TRUE(probe->start());
        k.initialize_event(busy, "busy", ke::EventType::notification, false);
        // CPU 1 busy at DISPATCH_LEVEL in a thread of its own for 200 us.
        k.create_thread(
            "busy", 8,
            [&k, &lowered_ps, &busy] {
              const ke::Irql old = k.raise_irql(ke::kDispatchLevel);
              k.set_event(busy);
              k.cpu().consume(20'000);
              lowered_ps = k.cpu().now_ps();
              k.lower_irql(old);
            },
            2);
        k.wait_for_single_object(busy, std::nullopt);
        const std::uint64_t before = k.processor(0).stats.ipis_sent;
        probe->arm(10'000);
        k.cpu().consume(10'000);
        ipis_during = k.processor(0).stats.ipis_sent - before;
      },
      [](Config& c) { fixed_to(c, 0, 2); });
  rig.run(2);
  ASSERT_TRUE(probe);
  ASSERT_EQ(probe->dpc_cpus, std::vector<unsigned>{1});
  EXPECT_EQ(ipis_during, 0u) << "medium importance, a shallow queue, a busy target: no IPI";
  dpc_ps = probe->dpc_ps;
  EXPECT_GE(dpc_ps, lowered_ps) << "it ran when CPU 1 dropped below DISPATCH_LEVEL";
}

TEST(Smp, TwoProcessorsContendingForASpinLockSpinCountTheWaitAndLoseNothing) {
  constexpr int kRounds = 200;
  ke::SpinLock lock;
  std::uint64_t counter = 0;
  int done = 0;
  std::vector<unsigned> ran_on;
  SmpRig rig(2, [&](ke::Kernel& k) {
    // Critical sections much longer than one spin (and different on the two processors, so
    // they do not fall into lockstep): a waiter that stopped spinning early would be inside
    // while the holder is.
    auto body = [&k, &lock, &counter, &done, &ran_on](unsigned inside, unsigned outside) {
      ran_on.push_back(k.current_processor());
      for (int i = 0; i < kRounds; ++i) {
        const ke::Irql old = k.acquire_spin_lock(lock);
        // A read-modify-write with work in between: without the lock the other processor's
        // update would be lost.
        const std::uint64_t v = counter;
        k.cpu().consume(inside);
        counter = v + 1;
        k.release_spin_lock(lock, old);
        k.cpu().consume(outside);
      }
      ++done;
    };
    k.create_thread(
        "a", 8, [body] { body(300, 30); }, 1);
    k.create_thread(
        "b", 8, [body] { body(170, 70); }, 2);
  });
  rig.run(10);
  EXPECT_EQ(done, 2);
  EXPECT_EQ(ran_on.size(), 2u);
  EXPECT_NE(ran_on.front(), ran_on.back()) << "the two threads ran on different processors";
  EXPECT_EQ(counter, 2u * kRounds) << "an update was lost";
  const auto& s = rig.kernel->stats();
  EXPECT_GT(s.spin_waits, 0u) << "the processors never contended";
  EXPECT_GT(s.spin_wait_ps, 0u);
  EXPECT_EQ(s.spin_wait_ps, rig.kernel->processor(0).stats.spin_wait_ps +
                                rig.kernel->processor(1).stats.spin_wait_ps);
}

// Lowest priority: IRQ 5 may go to either processor; the I/O APIC gives it to the one whose TPR
// (its IRQL) is lower.
TEST(Smp, ALowestPriorityInterruptLandsOnTheProcessorWithTheLowerTpr) {
  std::unique_ptr<Probe> probe;
  SmpRig rig(2, [&](ke::Kernel& k) {
    probe = std::make_unique<Probe>(k, 0x300, 5);
    ASSERT_TRUE(probe->start());
    ASSERT_EQ(k.hal().affinity_of_irq(5), 3u);
    // Round 1: CPU 0 (this thread) at IRQL 4 (TPR class 4, below IRQ 5's IRQL), CPU 1 idle at 0.
    ke::Irql old = k.raise_irql(4);
    probe->arm(5'000);
    k.cpu().consume(5'000);
    k.lower_irql(old);
    // Round 2: a thread on CPU 1 holds IRQL 4 there while CPU 0 is at PASSIVE_LEVEL.
    ke::Event raised;
    k.initialize_event(raised, "raised", ke::EventType::notification, false);
    k.create_thread(
        "raiser", 9,
        [&k, &raised] {
          const ke::Irql o = k.raise_irql(4);
          k.set_event(raised);  // readies the waiter on CPU 0 (an IPI asks it to switch)
          k.cpu().consume(20'000);
          k.lower_irql(o);
        },
        2);
    k.wait_for_single_object(raised, std::nullopt);
    probe->arm(5'000);
    k.cpu().consume(5'000);
  });
  rig.run(2);
  ASSERT_TRUE(probe);
  EXPECT_EQ(probe->isr_cpus, (std::vector<unsigned>{1, 0}));
}

// IRQ 13 fixed to CPU 1: CPU 0 at HIGH_LEVEL does not hold it off; the same device fixed to
// CPU 0 waits until CPU 0 lowers.
TEST(Smp, RaisingIrqlOnOneProcessorDoesNotMaskDevicesOnAnother) {
  std::unique_ptr<Probe> probe;
  std::uint64_t lowered_ps = 0, armed_ps = 0;
  SmpRig rig(
      2,
      [&](ke::Kernel& k) {
        probe = std::make_unique<Probe>(k, 0x300, 13);
        ASSERT_TRUE(probe->start());
        const ke::Irql old = k.raise_irql(ke::kHighLevel);
        probe->arm(5'000);
        armed_ps = k.cpu().now_ps();
        k.cpu().consume(10'000);  // 100 us at HIGH_LEVEL on CPU 0
        lowered_ps = k.cpu().now_ps();
        k.lower_irql(old);
      },
      [](Config& c) { fixed_to(c, 1, 2); });
  rig.run(1);
  ASSERT_TRUE(probe);
  ASSERT_EQ(probe->isr_cpus, std::vector<unsigned>{1});
  EXPECT_LT(probe->isr_enter_ps, lowered_ps) << "CPU 1 took it while CPU 0 was at HIGH_LEVEL";
  EXPECT_LT(probe->isr_enter_ps, armed_ps + 5'000'000u + 10'000'000u) << "within 10 us of firing";
}

TEST(Smp, AnInterruptFixedToTheRaisedProcessorWaitsUntilItLowers) {
  std::unique_ptr<Probe> probe;
  std::uint64_t lowered_ps = 0;
  SmpRig rig(
      2,
      [&](ke::Kernel& k) {
        probe = std::make_unique<Probe>(k, 0x300, 12);
        ASSERT_TRUE(probe->start());
        const ke::Irql old = k.raise_irql(ke::kHighLevel);
        probe->arm(5'000);
        k.cpu().consume(10'000);
        lowered_ps = k.cpu().now_ps();
        k.lower_irql(old);
      },
      [](Config& c) { fixed_to(c, 0, 2); });
  rig.run(1);
  ASSERT_TRUE(probe);
  ASSERT_EQ(probe->isr_cpus, std::vector<unsigned>{0});
  EXPECT_GE(probe->isr_enter_ps, lowered_ps);
}

// KeSynchronizeExecution on CPU 0 while the ISR runs on CPU 1: it spins on the interrupt's
// lock until the ISR returns, then runs its routine.
TEST(Smp, SynchronizeExecutionWaitsForTheIsrRunningOnAnotherProcessor) {
  std::unique_ptr<Probe> probe;
  std::uint64_t routine_ps = 0, spin_before = 0, spin_after = 0;
  SmpRig rig(
      2,
      [&](ke::Kernel& k) {
        probe = std::make_unique<Probe>(k, 0x300, 13);
        probe->isr_cycles = 10'000;  // 100 us inside the ISR on CPU 1
        ASSERT_TRUE(probe->start());
        probe->arm(5'000);
        k.cpu().consume(3'000);  // 30 us: the ISR started at about 5 us and runs until ~105 us
        spin_before = k.stats().spin_waits;
        k.synchronize_execution(
            probe->interrupt,
            [](void* c) {
              auto* t = static_cast<std::uint64_t*>(c);
              *t = 1;
              return true;
            },
            &routine_ps);
        routine_ps = k.cpu().now_ps();
        spin_after = k.stats().spin_waits;
      },
      [](Config& c) { fixed_to(c, 1, 2); });
  rig.run(1);
  ASSERT_TRUE(probe);
  ASSERT_EQ(probe->isr_cpus, std::vector<unsigned>{1});
  EXPECT_EQ(spin_after, spin_before + 1) << "the synchronize routine did not wait";
  EXPECT_GE(routine_ps, probe->isr_exit_ps);
}

TEST(Smp, ABugCheckNamesItsProcessorAndReportsTheOthers) {
  SmpRig rig(2, [&](ke::Kernel& k) {
    k.create_thread(
        "culprit", 8,
        [&k] {
          ke::SpinLock never_held;
          k.release_spin_lock_from_dpc_level(never_held);  // SPIN_LOCK_NOT_OWNED
        },
        2);
    k.delay_execution(10'000'000'000ull);
  });
  testing::internal::CaptureStderr();
  rig.run(1);
  const std::string report = testing::internal::GetCapturedStderr();
  ASSERT_TRUE(rig.kernel->last_bug_check());
  EXPECT_EQ(rig.kernel->last_bug_check()->code, ke::kSpinLockNotOwned);
  EXPECT_EQ(rig.kernel->last_bug_check()->cpu, 1u);
  EXPECT_NE(report.find("cpu 1, IRQL"), std::string::npos) << report;
  EXPECT_NE(report.find("cpu 0: IRQL"), std::string::npos) << report;
  EXPECT_EQ(rig.p->cpu_at(1).exit_status(), 3);
}

// platform/configs/smp.yaml: the io workload on four CPUs moves its data correctly, every CPU
// takes device interrupts and runs DPCs, IPIs flow, and the statistics carry each CPU's figures.
// KeSetSystemAffinityThreadEx below DISPATCH_LEVEL returns on a processor of the new affinity;
// nested sets and reverts go back step by step; an affinity naming no processor of the machine
// has no effect; at DISPATCH_LEVEL the move waits until IRQL drops. The kernel's processor and
// the hardware CPU running the code agree at every step.
TEST(Smp, ASystemAffinityMovesTheCallingThreadThereAndTheRevertBringsItBack) {
  std::vector<unsigned> kernel_cpu, hw_cpu;
  std::uint64_t first = 99, second = 99, ignored = 99;
  std::uint64_t cpu3_work_before = 0, cpu3_work_after = 0;
  bool done = false;
  std::unique_ptr<SmpRig> rig;
  rig = std::make_unique<SmpRig>(4, [&](ke::Kernel& k) {
    k.create_thread(
        "worker", 9,
        [&] {
          auto where = [&] {
            kernel_cpu.push_back(k.current_processor());
            hw_cpu.push_back(hw::running_processor()->cpu_id());
          };
          where();  // its affinity: CPU 1
          first = k.set_system_affinity_thread(1u << 3);
          where();
          cpu3_work_before = rig->p->cpu_at(3).stats().work_cycles;
          k.cpu().consume(20'000);
          cpu3_work_after = rig->p->cpu_at(3).stats().work_cycles;
          second = k.set_system_affinity_thread(1u << 2);
          where();
          k.revert_to_user_affinity_thread(second);
          where();
          ignored = k.set_system_affinity_thread(1u << 7);  // no CPU 7
          where();
          k.revert_to_user_affinity_thread(first);  // 0: the thread's own affinity
          where();
          const ke::Irql old = k.raise_irql(ke::kDispatchLevel);
          k.set_system_affinity_thread(1u << 0);
          where();  // not before IRQL drops
          k.lower_irql(old);
          where();
          done = true;
        },
        1u << 1);
  });
  rig->run(5);
  ASSERT_TRUE(done);
  const std::vector<unsigned> want = {1, 3, 2, 3, 3, 1, 1, 0};
  EXPECT_EQ(kernel_cpu, want);
  EXPECT_EQ(hw_cpu, want);
  EXPECT_EQ(first, 0u) << "no system affinity before";
  EXPECT_EQ(second, 1u << 3);
  EXPECT_EQ(ignored, 1u << 3) << "the affinity in force, unchanged";
  EXPECT_GE(cpu3_work_after - cpu3_work_before, 20'000u) << "the work ran on CPU 3";
  EXPECT_GE(rig->kernel->stats().migrations, 5u);
}

// Threads move between processors as Windows' do: a thread queued behind a busy processor is
// taken by one that becomes idle (KiSearchForNewThread), and a thread readied while its last
// processor is idle and the readying one busy runs at once on the idle one.
TEST(Smp, ReadyThreadsGoToIdleProcessorsInsteadOfWaitingBehindBusyOnes) {
  constexpr std::uint64_t kMs = 1'000'000'000;
  struct Seen {
    unsigned cpu = 99;
    std::uint64_t at = 0;
  } start, resumed;
  std::uint64_t set_at = 0;
  ke::Event go;
  SmpRig rig(2, [&](ke::Kernel& k) {
    k.initialize_event(go, "go", ke::EventType::synchronization, false);
    // CPU 1: busy for 0.5 ms at a higher priority, then waits for good.
    ke::Event never;
    k.initialize_event(never, "never", ke::EventType::notification, false);
    k.create_thread(
        "blocker", 9,
        [&] {
          k.cpu().consume(50'000);
          k.wait_for_single_object(never, std::nullopt);
        },
        1u << 1);
    // Ideal processor 0 (fewest threads, the lowest number), where this thread keeps running.
    k.create_thread("worker", 8, [&] {
      start = {k.current_processor(), k.cpu().now_ps()};
      k.wait_for_single_object(go, std::nullopt);
      resumed = {k.current_processor(), k.cpu().now_ps()};
    });
    k.cpu().consume(250'000);  // 2.5 ms, through a quantum end
    set_at = k.cpu().now_ps();
    k.set_event(go);
    k.cpu().consume(100'000);
  });
  rig.run(5);
  EXPECT_EQ(start.cpu, 1u) << "taken by CPU 1 once its blocker waited";
  EXPECT_GT(start.at, kMs / 2);
  EXPECT_LT(start.at, kMs) << "not behind main's quantum";
  EXPECT_EQ(resumed.cpu, 1u) << "its last processor, idle";
  EXPECT_GT(resumed.at, set_at);
  EXPECT_LT(resumed.at - set_at, kMs / 50) << "at once, not behind the busy main thread";
}

TEST(Smp, TheShippedFourProcessorMachineCopiesItsDataWithWorkOnEveryCpu) {
  Config c = platform::load_config(IOCOSIM_SOURCE_DIR "/platform/configs/smp.yaml");
  platform::apply_override(c, "devices.disk0.image=");
  platform::apply_override(c, "devices.disk1.image=");
  c.out_vcd.clear();
  c.out_stats.clear();
  platform::validate(c);
  util::set_log_level(util::Level::error);
  platform::Platform p("platform", c);
  auto w = platform::Workload::create(p, c);
  platform::Session s(p, c);
  const platform::RunResult r = s.run(c.sim_until_ps, false);
  util::JsonWriter j(false);
  j.begin_object();
  p.write_stats(j);
  w->write_stats(j);
  j.end_object();
  s.close();
  const YAML::Node stats = YAML::Load(j.str());
  EXPECT_FALSE(r.bug_check);
  EXPECT_TRUE(w->healthy());
  EXPECT_EQ(stats["workload"]["mismatches"].as<int>(), 0);
  // The copy keeps going for the whole run: a thread readied on a processor that was between
  // threads (its scheduler busy) sat behind an idle processor for good, and the copy stopped
  // at 22 requests, 16 KiB, 7.6 ms in.
  EXPECT_GT(stats["workload"]["requests"].as<int>(), 40);
  EXPECT_GT(stats["workload"]["bytes"].as<int>(), 100'000);
  EXPECT_GT(stats["workload"]["echoed"].as<int>(), 0);
  const YAML::Node procs = stats["kernel"]["processors"];
  ASSERT_EQ(procs.size(), 4u);
  std::uint64_t interrupts = 0;
  for (std::size_t i = 0; i < procs.size(); ++i) {
    EXPECT_GT(procs[i]["interrupts"].as<std::uint64_t>(), 0u) << "cpu" << i;
    EXPECT_GT(procs[i]["dpcs_executed"].as<std::uint64_t>(), 0u) << "cpu" << i;
    EXPECT_GT(procs[i]["ipis_received"].as<std::uint64_t>(), 0u) << "cpu" << i;
    EXPECT_GT(procs[i]["irql_us"]["device"].as<double>(), 0.0) << "cpu" << i;
    interrupts += procs[i]["interrupts"].as<std::uint64_t>();
    // The statistics' CPU view agrees with the kernel's.
    EXPECT_EQ(stats[fmt::format("cpu{}", i)]["interrupts"].as<std::uint64_t>(),
              procs[i]["interrupts"].as<std::uint64_t>());
  }
  EXPECT_EQ(interrupts, stats["kernel"]["interrupts"].as<std::uint64_t>());
  EXPECT_EQ(stats["kernel"]["hal"].as<std::string>(), "apic");
  EXPECT_GT(stats["ioapic"]["messages"].as<std::uint64_t>(), 0u);
  EXPECT_EQ(stats["pic_master"]["acknowledges"].as<std::uint64_t>(), 0u) << "the 8259A is unused";
}

// The event log's lines of a run (the log opened on a temporary file by the test itself).
struct EventCapture {
  std::string path;
  explicit EventCapture(const std::string& name) : path(testing::TempDir() + name) {
    EXPECT_TRUE(util::events().open(path));
  }
  // The lines of event `ev`, of the ISR/DPC `name` if one is given.
  std::vector<std::string> lines(const std::string& ev, const std::string& name = "") const {
    util::events().flush();
    std::ifstream in(path);
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);)
      if (l.find("\"ev\":\"" + ev + "\"") != std::string::npos &&
          (name.empty() || l.find("\"name\":\"" + name + "\"") != std::string::npos))
        out.push_back(l);
    return out;
  }
};

// ReactOS's APIC HAL sends EOI in HalEndSystemInterrupt, after the ISR quieted its device. An
// EOI before the ISR cleared the I/O APIC's Remote IRR while the level line was still up, and
// the same assertion came again: three interrupts gave six ISR calls, three declined.
TEST(InterruptRules, TheApicHalSendsEoiAfterTheIsrSoALevelLineIsDeliveredOncePerAssertion) {
  EventCapture events("apic_eoi.jsonl");
  std::unique_ptr<Probe> probe;
  std::vector<std::uint64_t> fired_ps;
  SmpRig rig(1, [&](ke::Kernel& k) {
    probe = std::make_unique<Probe>(k, 0x300, 5, ke::InterruptMode::level_sensitive);
    ASSERT_TRUE(probe->start());
    for (int i = 0; i < 3; ++i) {
      probe->arm(5'000);
      k.cpu().consume(20'000);  // 200 us: the interrupt comes and is served meanwhile
    }
  });
  rig.run(2);
  ASSERT_TRUE(probe);
  EXPECT_EQ(probe->interrupt.count, 3u) << "ISR calls";
  EXPECT_EQ(probe->interrupt.claims, 3u);
  EXPECT_EQ(probe->isr_cpus.size(), 3u);
  const auto exits = events.lines("isr_exit", "probe");
  EXPECT_EQ(exits.size(), 3u);
  for (const auto& l : exits) EXPECT_NE(l.find("\"claimed\":true"), std::string::npos) << l;
  EXPECT_FALSE(rig.kernel->last_bug_check());
}

// A level-triggered line that stays asserted while its only ISR declines: the kernel stops the
// machine with HARDWARE_INTERRUPT_STORM (0xF2) after KernelConfig::storm_threshold interrupts
// in a row, instead of servicing the line forever. Parameter 4 is 1 (one ISR, not chained).
void expect_storm(const std::string& hal_kind) {
  EventCapture events("storm_" + hal_kind + ".jsonl");
  std::unique_ptr<Probe> probe;
  SmpRig rig(
      1,
      [&](ke::Kernel& k) {
        probe = std::make_unique<Probe>(k, 0x300, 5, ke::InterruptMode::level_sensitive);
        probe->decline = true;
        ASSERT_TRUE(probe->start());
        probe->arm(1'000);
        k.cpu().consume(100'000'000);  // one simulated second: the storm stops it long before
      },
      [&](Config& c) { c.hal = hal_kind; });
  testing::internal::CaptureStderr();
  rig.run(1000);
  const std::string report = testing::internal::GetCapturedStderr();
  ASSERT_TRUE(probe);
  const auto& bc = rig.kernel->last_bug_check();
  ASSERT_TRUE(bc) << report;
  EXPECT_EQ(bc->code, ke::kHardwareInterruptStorm);
  EXPECT_EQ(bc->p1, rig.hal->vector_of_irq(5));
  EXPECT_EQ(bc->p2, 1000u);
  EXPECT_EQ(bc->p4, 1u);
  EXPECT_EQ(probe->interrupt.count, 1000u);
  EXPECT_EQ(probe->interrupt.claims, 0u);
  EXPECT_NE(report.find("HARDWARE_INTERRUPT_STORM"), std::string::npos) << report;
  EXPECT_NE(report.find("none claimed by probe"), std::string::npos) << report;
  const auto bugchecks = events.lines("bugcheck");
  ASSERT_EQ(bugchecks.size(), 1u);
  EXPECT_NE(bugchecks[0].find("\"code\":242"), std::string::npos) << bugchecks[0];
  EXPECT_EQ(events.lines("isr_exit", "probe").size(), 1000u);
  EXPECT_EQ(rig.p->cpu.exit_status(), 3);
}

TEST(InterruptRules, ALevelLineNoIsrClaimsIsAStormUnderThePicHal) {
  expect_storm("pic");
}
TEST(InterruptRules, ALevelLineNoIsrClaimsIsAStormUnderTheApicHal) {
  expect_storm("apic");
}

// An edge-triggered device whose ISR declines is no storm: the line's one edge gives one
// interrupt, and the machine goes on.
TEST(InterruptRules, ALatchedInterruptNobodyClaimsIsNoStorm) {
  std::unique_ptr<Probe> probe;
  SmpRig rig(
      1,
      [&](ke::Kernel& k) {
        probe = std::make_unique<Probe>(k, 0x300, 5);
        probe->decline = true;
        ASSERT_TRUE(probe->start());
        probe->arm(1'000);
        k.cpu().consume(100'000);
      },
      [&](Config& c) { c.hal = "pic"; });
  rig.run(5);
  ASSERT_TRUE(probe);
  EXPECT_EQ(probe->interrupt.count, 1u);
  EXPECT_FALSE(rig.kernel->last_bug_check());
}

// IoConnectInterrupt's ProcessorEnableMask: an ISR restricted to CPU 1 runs only there, even
// where lowest-priority delivery would pick CPU 0 (its TPR lower); the HAL delivers the line to
// the processors its objects are connected on.
TEST(InterruptRules, AnIsrRestrictedToAProcessorRunsOnlyThere) {
  std::unique_ptr<Probe> probe;
  SmpRig rig(2, [&](ke::Kernel& k) {
    ke::InterruptParameters p;
    p.vector = k.hal().vector_of_irq(5);
    p.irql = k.hal().irql_of_irq(5);
    p.affinity = 0b10;
    probe = std::make_unique<Probe>(k, 0x300, p);
    ASSERT_TRUE(probe->initialized);
    ASSERT_TRUE(probe->start());
    EXPECT_EQ(probe->interrupt.affinity, 0b10u);
    for (int i = 0; i < 3; ++i) {  // CPU 0 at PASSIVE_LEVEL, CPU 1 idle: either could take it
      probe->arm(5'000);
      k.cpu().consume(10'000);
    }
  });
  rig.run(2);
  ASSERT_TRUE(probe);
  EXPECT_EQ(probe->isr_cpus, (std::vector<unsigned>{1, 1, 1}));
  EXPECT_EQ(probe->interrupt.count, 3u) << "never offered to CPU 0";
}

// KeInitializeInterrupt refuses what is not the HAL's translation: a vector it does not hand
// out, an IRQL that is not the vector's, SynchronizeIrql below the IRQL, an affinity outside the
// processors the vector is delivered to (IRQ 13 fixed to CPU 1); connect then fails too.
TEST(InterruptRules, ParametersThatAreNotTheHalsTranslationAreRefused) {
  std::vector<bool> initialized, connected;
  SmpRig rig(
      2,
      [&](ke::Kernel& k) {
        auto base = [&k] {
          ke::InterruptParameters p;
          p.vector = k.hal().vector_of_irq(13);
          p.irql = k.hal().irql_of_irq(13);
          return p;
        };
        std::vector<ke::InterruptParameters> bad(4, base());
        bad[0].vector = 0x42;                                              // no IRQ's vector
        bad[1].irql = bad[1].irql + 1;                                     // not the vector's IRQL
        bad[2].synchronize_irql = bad[2].irql;                             // (valid: equal) ...
        bad[2].synchronize_irql = static_cast<ke::Irql>(bad[2].irql - 1);  // ... below it
        bad[3].affinity = 0b01;  // IRQ 13 is delivered to CPU 1 only
        std::vector<std::unique_ptr<Probe>> probes;
        for (const auto& p : bad) {
          probes.push_back(std::make_unique<Probe>(k, 0x300, p));
          initialized.push_back(probes.back()->initialized);
          connected.push_back(probes.back()->start());
        }
        auto good = std::make_unique<Probe>(k, 0x300, base());
        initialized.push_back(good->initialized);
        connected.push_back(good->start());
        k.disconnect_interrupt(good->interrupt);
      },
      [](Config& c) { fixed_to(c, 1, 2); });
  rig.run(1);
  EXPECT_EQ(initialized, (std::vector<bool>{false, false, false, false, true}));
  EXPECT_EQ(connected, (std::vector<bool>{false, false, false, false, true}));
}

// Two interrupt objects sharing one spin lock (IoConnectInterrupt's SpinLock with
// SynchronizeIrql the higher of their IRQLs): KeSynchronizeExecution on one waits while the
// other's ISR holds the lock on another processor, and that ISR runs at SynchronizeIrql.
TEST(InterruptRules, InterruptObjectsSharingASpinLockExcludeEachOther) {
  std::unique_ptr<Probe> busy, other;
  ke::SpinLock shared;
  std::uint64_t spin_before = 0, spin_after = 0;
  ke::Irql isr_irql = 0;
  SmpRig rig(
      2,
      [&](ke::Kernel& k) {
        ke::InterruptParameters a, b;
        b.vector = k.hal().vector_of_irq(13);  // fixed to CPU 1
        b.irql = k.hal().irql_of_irq(13);
        a.vector = k.hal().vector_of_irq(12);  // fixed to CPU 0
        a.irql = k.hal().irql_of_irq(12);
        a.spin_lock = b.spin_lock = &shared;
        a.synchronize_irql = b.synchronize_irql = std::max(a.irql, b.irql);
        busy = std::make_unique<Probe>(k, 0x300, b);
        other = std::make_unique<Probe>(k, 0x300, a);
        ASSERT_TRUE(busy->initialized && other->initialized);
        busy->isr_cycles = 10'000;  // 100 us inside the ISR on CPU 1
        ASSERT_TRUE(busy->start());
        ASSERT_TRUE(other->start());
        EXPECT_EQ(busy->interrupt.spin_lock, &shared);
        EXPECT_EQ(other->interrupt.spin_lock, &shared);
        busy->arm(5'000);
        k.cpu().consume(3'000);
        spin_before = k.stats().spin_waits;
        k.synchronize_execution(
            other->interrupt,
            [](void* c) {
              *static_cast<ke::Irql*>(c) = 1;
              return true;
            },
            &isr_irql);
        spin_after = k.stats().spin_waits;
        isr_irql = busy->isr_irql;
      },
      [](Config& c) {
        c.apic_delivery = "fixed";
        platform::apply_override(c, "devices.oneshot0.irq=13");
      });
  rig.run(1);
  ASSERT_TRUE(busy);
  ASSERT_EQ(busy->isr_cpus, std::vector<unsigned>{1});
  EXPECT_EQ(spin_after, spin_before + 1) << "the other object's routine did not wait";
  EXPECT_EQ(isr_irql, busy->interrupt.synchronize_irql) << "the ISR ran at SynchronizeIrql";
}

}  // namespace
