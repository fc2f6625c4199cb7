// The kernel on the assembled platform: the textbook nested-interrupt order from the event log,
// and the timing-level rules (preemption, timeouts, quanta, bug checks) on the real CPU.
#include <sstream>

#include <gtest/gtest.h>

#include "platform/config.h"
#include "platform/platform.h"
#include "platform/simulation.h"
#include "platform/workloads.h"
#include "sw/drivers/oneshot/oneshot.h"
#include "sw/ke/kernel.h"
#include "tests/support/event_lines.h"
#include "tests/support/sc_test.h"
#include "util/event_log.h"
#include "util/log.h"

namespace {

using platform::Config;

using tests::field;
using tests::read_lines;

// The ISR, DPC, IRQL and thread events of a run, as "ev name/irql" strings, clock excluded.
std::vector<std::string> story(const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  for (const auto& l : lines) {
    const std::string ev = field(l, "ev");
    if (field(l, "name") == "clock") continue;
    if (ev == "isr_enter" || ev == "isr_exit" || ev == "dpc_queue" || ev == "dpc_enter" ||
        ev == "dpc_exit") {
      out.push_back(ev + " " + field(l, "name"));
    } else if (ev == "irql") {
      out.push_back("irql " + field(l, "to"));
    } else if (ev == "thread_running" || ev == "thread_resumed") {
      out.push_back(ev + " at " + field(l, "irql"));
    }
  }
  return out;
}

// Runs a config to its end (or `until`) and returns the event log lines.
std::vector<std::string> run_config(Config c, const std::string& events_name,
                                    std::uint64_t* pic_accesses = nullptr) {
  c.out_events = testing::TempDir() + events_name;
  c.out_vcd.clear();
  util::set_log_level(util::Level::warn);
  platform::Platform p("platform", c);
  auto workload = platform::Workload::create(p, c);
  {
    platform::Session s(p, c);
    s.run(c.sim_until_ps, false);
  }
  if (pic_accesses != nullptr) {
    const auto m = p.intc->stats(false), s = p.intc->stats(true);
    *pic_accesses = m.reads + m.writes + s.reads + s.writes;
  }
  return read_lines(c.out_events);
}

Config nested(const std::string& mode, const std::string& model = "tlm") {
  Config c = platform::load_config(IOCOSIM_SOURCE_DIR "/platform/configs/nested-interrupts.yaml");
  c.kernel_irql_mode = mode;
  c.pic_model = model;
  platform::validate(c);
  return c;
}

// What the book describes, event by event.
const std::vector<std::string> kTextbook = {
    "thread_running at 0",
    "irql 22",
    "isr_enter low",  // the lower-priority device interrupts the thread
    "irql 24",
    "isr_enter high",  // the higher one preempts the lower ISR
    "dpc_queue high",
    "isr_exit high",  // queues its DPC and returns
    "irql 22",        // to the lower ISR, which resumes
    "dpc_queue low",
    "isr_exit low",  // and queues its DPC
    "irql 2",        // IRQL falls to DISPATCH_LEVEL
    "dpc_enter high",
    "dpc_exit high",  // both DPCs in queue order
    "dpc_enter low",
    "dpc_exit low",
    "irql 0",
    "thread_resumed at 0",  // and the thread resumes at PASSIVE_LEVEL
};

std::vector<std::string> up_to_resume(std::vector<std::string> s) {
  auto it = std::find(s.begin(), s.end(), "thread_running at 0");
  if (it != s.end()) s.erase(s.begin(), it);
  auto end = std::find(s.begin(), s.end(), "thread_resumed at 0");
  if (end != s.end()) s.erase(end + 1, s.end());
  return s;
}

TEST(NestedInterrupts, FollowTheTextbookOrderWithEagerIrql) {
  std::uint64_t pic = 0;
  auto lines = run_config(nested("eager"), "nested_eager.jsonl", &pic);
  EXPECT_EQ(up_to_resume(story(lines)), kTextbook);
  std::printf("eager IRQL: %llu PIC accesses\n", static_cast<unsigned long long>(pic));
}

TEST(NestedInterrupts, FollowTheSameOrderWithLazyIrql) {
  std::uint64_t pic = 0;
  auto lines = run_config(nested("lazy"), "nested_lazy.jsonl", &pic);
  EXPECT_EQ(up_to_resume(story(lines)), kTextbook);
  std::printf("lazy IRQL: %llu PIC accesses\n", static_cast<unsigned long long>(pic));
}

TEST(NestedInterrupts, FollowTheTextbookOrderWithTheRtlController) {
  auto lines = run_config(nested("eager", "rtl"), "nested_rtl.jsonl");
  EXPECT_EQ(up_to_resume(story(lines)), kTextbook);
}

TEST(NestedInterrupts, ThePreemptingInterruptArrivesInsideTheLowerIsr) {
  auto lines = run_config(nested("eager"), "nested_times.jsonl");
  std::uint64_t low_enter = 0, high_enter = 0, low_exit = 0;
  for (const auto& l : lines) {
    const auto ev = field(l, "ev"), name = field(l, "name");
    const auto t = std::stoull(field(l, "t_ps"));
    if (ev == "isr_enter" && name == "low") low_enter = t;
    if (ev == "isr_enter" && name == "high") high_enter = t;
    if (ev == "isr_exit" && name == "low") low_exit = t;
  }
  EXPECT_LT(low_enter, high_enter);
  EXPECT_LT(high_enter, low_exit);
}

// ---- timing-level rules with threads: a kernel built inside the test on the real CPU

struct Rig {
  Config config;
  std::unique_ptr<platform::Platform> p;
  std::unique_ptr<hal::Hal> hal;
  std::unique_ptr<ke::Kernel> kernel;

  explicit Rig(std::function<void(ke::Kernel&)> main, std::function<void(Config&)> setup = {}) {
    config.workload = "none";
    if (setup) setup(config);
    util::set_log_level(util::Level::warn);
    p = std::make_unique<platform::Platform>("platform", config, true);
    hal::HalConfig hc;
    hc.mode = config.kernel_irql_mode == "lazy" ? hal::IrqlMode::lazy : hal::IrqlMode::eager;
    hal = std::make_unique<hal::Hal>(p->cpu, hc);
    p->cpu.boot([this, main] {
      kernel = std::make_unique<ke::Kernel>(p->cpu, *hal, ke::KernelConfig{});
      kernel->initialize();
      kernel->run("main", 8, [this, main] { main(*kernel); });
    });
  }
  void run(double ms) { tests::run_for(sc_core::sc_time(ms, sc_core::SC_MS)); }
};

// Two interrupts held off at a raised IRQL (IRQ5, IRQL 22, and IRQ6, IRQL 21) run when IRQL
// drops in priority order, IRQ5's ISR first, whether the PIC masked them (eager IRQL) or the HAL
// deferred them and replays them (lazy IRQL; ReactOS KfLowerIrql replays with interrupts
// disabled), on either interrupt controller. The DPCs run in the order the ISRs queued them.
class HeldOffInterrupts : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(HeldOffInterrupts, RunInPriorityOrderWhenIrqlDrops) {
  const auto [mode, model] = GetParam();
  std::vector<std::string> order;
  std::uint64_t deferred = 0;
  std::unique_ptr<drivers::OneShotDriver> five, six;
  Rig rig(
      [&](ke::Kernel& k) {
        drivers::OneShotDriver::Params p5, p6;
        p5.name = "five";
        p5.port = 0x300;
        p5.irq = 5;
        p6.name = "six";
        p6.port = 0x310;
        p6.irq = 6;
        five = std::make_unique<drivers::OneShotDriver>(k, p5, [&] { order.push_back("five"); });
        six = std::make_unique<drivers::OneShotDriver>(k, p6, [&] { order.push_back("six"); });
        ASSERT_TRUE(five->start());
        ASSERT_TRUE(six->start());
        const ke::Irql old = k.raise_irql(23);  // above both devices, below the clock
        // IRQ5 first: lazy IRQL defers it (and masks the PIC to the real level, which holds
        // IRQ6 there); lowering must not let IRQ6 in before IRQ5's replayed ISR.
        five->arm(10'000);
        six->arm(20'000);
        k.cpu().consume(5'000);  // 50 us: both fire while IRQL is raised
        EXPECT_TRUE(order.empty());
        k.lower_irql(old);
        deferred = k.stats().deferred;
      },
      [&](Config& c) {
        platform::apply_override(c, "devices.oneshot1.irq=6");
        c.kernel_irql_mode = mode;
        c.pic_model = model;
      });
  rig.run(1);
  EXPECT_EQ(order, (std::vector<std::string>{"five", "six"}));
  // Lazy: IRQ5 at the raised IRQL, then IRQ6 inside IRQ5's replayed ISR.
  EXPECT_EQ(deferred, mode == "lazy" ? 2u : 0u) << "the path under test was not taken";
}

INSTANTIATE_TEST_SUITE_P(Modes, HeldOffInterrupts,
                         ::testing::Combine(::testing::Values("eager", "lazy"),
                                            ::testing::Values("tlm", "rtl")),
                         [](const auto& info) {
                           return std::get<0>(info.param) + "_" + std::get<1>(info.param);
                         });

TEST(KernelThreads, AWaitTimesOutOnTheClockTickAfterItsTimeout) {
  std::uint64_t start = 0, end = 0;
  ke::Status status = ke::Status::success;
  Rig rig([&](ke::Kernel& k) {
    ke::Event never;
    k.initialize_event(never, "never", ke::EventType::notification, false);
    start = k.tick_count();
    status = k.wait_for_single_object(never, 3'500'000'000ull);  // 3.5 ms -> 4 ticks
    end = k.tick_count();
  });
  rig.run(10);
  EXPECT_EQ(status, ke::Status::timeout);
  EXPECT_EQ(end - start, 4u);
}

TEST(KernelThreads, AnEventWakesItsWaiterAndAHigherPriorityThreadPreempts) {
  std::vector<std::string> order;
  Rig rig([&](ke::Kernel& k) {
    static ke::Event go;
    k.initialize_event(go, "go", ke::EventType::synchronization, false);
    k.create_thread("high", 20, [&order, &k] {
      order.push_back("high waits");
      k.wait_for_single_object(go, std::nullopt);
      order.push_back("high runs");
    });
    order.push_back("main signals");
    k.set_event(go);  // readies "high" (20 > 8): it runs before set_event returns
    order.push_back("main continues");
  });
  rig.run(5);
  std::vector<std::string> want = {"high waits", "main signals", "high runs", "main continues"};
  EXPECT_EQ(order, want);
}

TEST(KernelThreads, ANotificationEventWakesEveryWaiterAndStaysSignaled) {
  std::vector<std::string> woke;
  bool still_signaled = false;
  Rig rig([&](ke::Kernel& k) {
    static ke::Event go;
    k.initialize_event(go, "go", ke::EventType::notification, false);
    for (const char* name : {"a", "b"}) {
      k.create_thread(name, 20, [&woke, &k, name] {
        k.wait_for_single_object(go, std::nullopt);
        woke.push_back(name);
      });
    }
    k.set_event(go);
    still_signaled = go.signaled;
  });
  rig.run(5);
  std::vector<std::string> want = {"a", "b"};
  EXPECT_EQ(woke, want);
  EXPECT_TRUE(still_signaled) << "a notification event stays signaled until cleared";
}

TEST(KernelThreads, EqualPriorityThreadsShareTheCpuByQuantum) {
  std::vector<int> runs;  // which thread ran each 100 us chunk
  Rig rig([&](ke::Kernel& k) {
    k.create_thread("other", 8, [&runs, &k] {
      for (int i = 0; i < 60; ++i) {
        k.cpu().consume(10'000);
        runs.push_back(2);
      }
    });
    for (int i = 0; i < 60; ++i) {
      k.cpu().consume(10'000);
      runs.push_back(1);
    }
  });
  rig.run(20);
  ASSERT_EQ(runs.size(), 120u);
  int switches = 0;
  for (std::size_t i = 1; i < runs.size(); ++i) switches += runs[i] != runs[i - 1];
  // 12 ms of work in quanta of 2 ticks (2 ms): the threads alternate about every 2 ms.
  EXPECT_GE(switches, 4);
  EXPECT_LE(switches, 8);
  EXPECT_NE(std::find(runs.begin(), runs.begin() + 30, 2), runs.begin() + 30)
      << "the other thread ran early";
}

// A run of the bugcheck workload that breaks `kind`'s rule, to its stop.
struct BugCheckRun {
  std::unique_ptr<platform::Platform> p;
  std::unique_ptr<platform::Workload> workload;
  platform::RunResult r;
  std::string report;  // stderr

  explicit BugCheckRun(const std::string& kind) {
    Config c;
    c.workload = "bugcheck";
    platform::apply_override(c, "workload.bugcheck.rule=" + kind);
    c.out_vcd.clear();
    util::set_log_level(util::Level::off);
    p = std::make_unique<platform::Platform>("platform", c);
    workload = platform::Workload::create(*p, c);
    testing::internal::CaptureStderr();
    {
      platform::Session s(*p, c);
      r = s.run(10'000'000'000ull, false);
    }
    report = testing::internal::GetCapturedStderr();
  }
};

TEST(KernelThreads, BugCheckStopsTheMachineWithStatus3AndAReport) {
  BugCheckRun run("wait-in-dpc");
  EXPECT_EQ(run.r.exit_status, 3);
  EXPECT_LT(run.r.sim_ps, 10'000'000'000ull) << "stopped at the bug check, not at the end";
  EXPECT_NE(run.report.find("ATTEMPTED_SWITCH_FROM_DPC"), std::string::npos) << run.report;
  EXPECT_NE(run.report.find("thread 'main'"), std::string::npos) << run.report;
  EXPECT_NE(run.report.find("> DPC 'oneshot0'"), std::string::npos)
      << "the DPC ran on the main thread's stack";
}

// KeBugCheckEx's record is readable by a test: stop code, parameters (the same every run: a
// spin lock is named by its number, not a host address), and the run ends at the stop's time.
TEST(KernelThreads, BugCheckRecordIsReadableAndTheRunEndsAtTheStop) {
  BugCheckRun run("spin-lock-twice");
  const ke::BugCheckRecord* b = run.workload->bug_check();
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->code, ke::kSpinLockAlreadyOwned);
  EXPECT_EQ(b->p1, 1u) << "the first lock the kernel numbered, not a host address";
  EXPECT_EQ(b->cpu, 0u);
  EXPECT_EQ(b->irql, ke::kDispatchLevel);
  EXPECT_GT(b->time_ps, 100'000'000u) << "after the workload's 100 us of work";
  EXPECT_EQ(run.r.sim_ps, b->time_ps) << "the run's end is the stop";
  EXPECT_EQ(run.r.exit_status, 3);
}

TEST(BugCheckNames, EveryStopCodeTheKernelRaisesHasItsWindowsName) {
  for (auto code : ke::kBugCheckCodes)
    EXPECT_STRNE(ke::bug_check_name(code), "UNKNOWN_BUG_CHECK") << std::hex << code;
  EXPECT_STREQ(ke::bug_check_name(0x1E), "KMODE_EXCEPTION_NOT_HANDLED");
  EXPECT_STREQ(ke::bug_check_name(0x0F), "SPIN_LOCK_ALREADY_OWNED");
}

}  // namespace
