// Virtual memory on the assembled platform: the IRQL rule for page faults (a DPC touching a
// page that is not resident stops the machine with 0xD1; the same touch at PASSIVE_LEVEL is a
// hard fault served by a paging read IRP down the pagefile disk's stack while other threads
// run), the modified page writer and hard faults under pressure returning every word written,
// pageable driver code and Driver Verifier's IRQL checking, and the TLB shootdown on several
// processors.
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "platform/config.h"
#include "platform/platform.h"
#include "platform/simulation.h"
#include "platform/workloads.h"
#include "sw/ke/kernel.h"
#include "sw/mm/mm.h"
#include "tests/support/event_lines.h"
#include "tests/support/sc_test.h"
#include "util/event_log.h"
#include "util/log.h"

namespace {

using platform::Config;

using tests::field;
using tests::read_lines;

// The paging machine (platform/configs/paging.yaml) with `setup` applied.
Config paging_config(const std::function<void(Config&)>& setup = {}) {
  Config c = platform::load_config(IOCOSIM_SOURCE_DIR "/platform/configs/paging.yaml");
  c.out_vcd.clear();
  if (setup) setup(c);
  platform::validate(c);
  return c;
}

// A scenario of the test's own on the kernel host, with I/O and the memory manager booted.
class Scenario : public platform::HostedWorkload {
 public:
  Scenario(platform::Platform& p, const Config& c, std::function<void(platform::KernelHost&)> main,
           std::vector<std::string> raw = {})
      : HostedWorkload(p, c), main_(std::move(main)) {
    host().boot([this] { main_(host()); }, true, std::move(raw));
  }

 private:
  std::function<void(platform::KernelHost&)> main_;
};

// Runs `main` on the machine of `c`; returns the event log's lines (and the bug check, if any).
std::vector<std::string> run(const Config& config, std::function<void(platform::KernelHost&)> main,
                             const std::string& name, ke::BugCheckRecord* stop = nullptr,
                             std::vector<std::string> raw = {}) {
  Config c = config;
  c.out_events = testing::TempDir() + name + ".jsonl";
  util::set_log_level(util::Level::error);
  platform::Platform p("platform", c);
  Scenario s(p, c, std::move(main), std::move(raw));
  {
    platform::Session session(p, c);
    session.run(c.sim_until_ps, false);
  }
  if (stop != nullptr && s.bug_check() != nullptr) *stop = *s.bug_check();
  return read_lines(c.out_events);
}

// Every page pushed out of memory the way RAMMap does it: working sets emptied, the modified
// list written to the pagefile, the standby list purged. Their next touch is a hard fault.
void page_out_everything(mm::MemoryManager& m) {
  m.empty_working_sets();
  m.flush_modified_list();
  m.purge_standby_list();
}

// A page of paged pool holding `value`, then paged out.
std::uint64_t paged_out_word(platform::KernelHost& h, std::uint32_t value) {
  const std::uint64_t a = h.mm().allocate_pool(mm::PoolType::paged, 64, 0x74736554);  // 'Test'
  h.kernel().cpu().write32(a, value);
  page_out_everything(h.mm());
  return a;
}

TEST(PageFaults, ADpcReadingANonResidentPagedPoolPageStopsTheMachineWith0xD1) {
  std::uint64_t address = 0, reads_while_resident = 0;
  ke::Dpc dpc;
  ke::BugCheckRecord stop;
  struct Ctx {
    platform::KernelHost* host;
    std::uint64_t* address;
    std::uint64_t* reads;
  } ctx{nullptr, &address, &reads_while_resident};
  run(
      paging_config([](Config& c) { c.sim_until_ps = 50'000'000'000; }),
      [&](platform::KernelHost& h) {
        ctx.host = &h;
        ke::Kernel& k = h.kernel();
        address = h.mm().allocate_pool(mm::PoolType::paged, 64, 0x74736554);
        k.cpu().write32(address, 0x600d);
        k.initialize_dpc(
            dpc, "test_dpc",
            [](ke::Dpc*, void* context, void*, void*) {
              auto* x = static_cast<Ctx*>(context);
              x->host->kernel().cpu().read32(*x->address);
              ++*x->reads;
            },
            &ctx);
        dpc.owner = "\\Driver\\Test";
        // Resident: the DPC reads it at DISPATCH_LEVEL without a fault.
        k.insert_queue_dpc(dpc, nullptr, nullptr);
        k.delay_execution(1'000'000'000);
        EXPECT_EQ(reads_while_resident, 1u);
        // Trimmed (on the modified list: still in RAM, but not valid): the same read stops it.
        h.mm().empty_working_sets();
        k.insert_queue_dpc(dpc, nullptr, nullptr);
        k.delay_execution(1'000'000'000);
        ADD_FAILURE() << "the DPC's read of a trimmed page did not stop the machine";
      },
      "dpc_paged", &stop);
  EXPECT_EQ(reads_while_resident, 1u);
  EXPECT_EQ(stop.code, ke::kDriverIrqlNotLessOrEqual);
  EXPECT_EQ(stop.p1, address);
  EXPECT_NE(address, 0u);
  EXPECT_EQ(stop.p2, ke::kDispatchLevel);
  EXPECT_EQ(stop.p3, 0u);  // a read
}

TEST(PageFaults, APassiveReadOfAPagedOutPageIsAHardFaultByAPagingIrpWhileAnotherThreadRuns) {
  std::uint32_t got = 0;
  std::uint64_t address = 0, other_rounds_during = 0;
  std::uint64_t other_rounds = 0;
  auto lines = run(
      paging_config([](Config& c) { c.sim_until_ps = 200'000'000'000; }),
      [&](platform::KernelHost& h) {
        ke::Kernel& k = h.kernel();
        address = paged_out_word(h, 0xc0ffee42);
        EXPECT_FALSE(h.mm().is_address_valid(address));
        k.create_thread("other", 8, [&] {
          for (;;) {
            k.cpu().consume(1000);
            ++other_rounds;
          }
        });
        k.create_thread("reader", 8, [&] {
          const std::uint64_t before = other_rounds;
          got = k.cpu().read32(address);
          other_rounds_during = other_rounds - before;
          k.cpu().power_off(0);
        });
        k.delay_execution(1'000'000'000'000);
      },
      "passive_hard");
  EXPECT_EQ(got, 0xc0ffee42u);
  // The fault's story: the reader's paging read, a paging IRP on the pagefile's disk, the other
  // thread running before the read is done, then the fault resolved as a hard one.
  std::size_t start = lines.size(), irp = lines.size(), switched = lines.size(),
              done = lines.size(), hard = lines.size();
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string ev = field(lines[i], "ev");
    if (ev == "paging_read" && field(lines[i], "thread") == "reader" && start == lines.size())
      start = i;
    if (start == lines.size() || i < start) continue;
    if (ev == "request" && field(lines[i], "paging") == "true" && irp == lines.size()) {
      irp = i;
      EXPECT_EQ(field(lines[i], "major"), "IRP_MJ_READ");
      EXPECT_NE(field(lines[i], "device").find("Harddisk1"), std::string::npos) << lines[i];
    }
    if (ev == "thread_switch" && field(lines[i], "to") == "other" && switched == lines.size())
      switched = i;
    if (ev == "paging_read_done" && done == lines.size()) done = i;
    if (ev == "fault" && field(lines[i], "kind") == "hard" && hard == lines.size()) hard = i;
  }
  ASSERT_LT(start, lines.size()) << "no paging read by the reader";
  ASSERT_LT(irp, lines.size()) << "no paging IRP";
  ASSERT_LT(switched, lines.size()) << "the other thread never ran during the fault";
  ASSERT_LT(done, lines.size());
  ASSERT_LT(hard, lines.size());
  EXPECT_LT(start, irp);
  EXPECT_LT(irp, switched);
  EXPECT_LT(switched, done);
  EXPECT_LT(done, hard);
  EXPECT_EQ(field(lines[hard], "address"), std::to_string(address));
  EXPECT_GT(other_rounds_during, 0u);
}

TEST(PageFaults, AnInvalidKernelAddressIsPageFaultInNonpagedArea) {
  ke::BugCheckRecord stop;
  run(
      paging_config([](Config& c) { c.sim_until_ps = 20'000'000'000; }),
      [&](platform::KernelHost& h) {
        h.kernel().cpu().read32(mm::kPagedPoolBase + (8ull << 20));  // never allocated
      },
      "nonpaged_area", &stop);
  EXPECT_EQ(stop.code, ke::kPageFaultInNonpagedArea);
  EXPECT_EQ(stop.p1, mm::kPagedPoolBase + (8ull << 20));
}

TEST(PageFaults, AUserAccessViolationFailsTheRequestNotTheMachine) {
  bool caught = false;
  std::uint64_t after = 0;
  ke::BugCheckRecord stop;
  run(
      paging_config([](Config& c) { c.sim_until_ps = 20'000'000'000; }),
      [&](platform::KernelHost& h) {
        mm::Process& p = h.mm().create_process("app.exe");
        h.kernel().attach_process(p.directory);
        try {
          h.kernel().cpu().read32(mm::kUserBase + 0x1000);  // nothing committed there
        } catch (const ke::AccessViolation& av) {
          caught = av.address == mm::kUserBase + 0x1000;
        }
        const std::uint64_t a = h.mm().allocate_virtual_memory(p, 4096);
        h.kernel().cpu().write32(a, 7);
        after = h.kernel().cpu().read32(a);
        h.kernel().cpu().power_off(0);
      },
      "user_av", &stop);
  EXPECT_TRUE(caught);
  EXPECT_EQ(after, 7u);
  EXPECT_EQ(stop.code, 0u);
}

TEST(PageFaults, TwoProcessesSeeTheirOwnPageAtTheSameAddress) {
  std::uint32_t a_reads = 0, b_reads = 0;
  std::uint64_t va_a = 0, va_b = 0;
  run(
      paging_config([](Config& c) { c.sim_until_ps = 20'000'000'000; }),
      [&](platform::KernelHost& h) {
        ke::Kernel& k = h.kernel();
        mm::Process& a = h.mm().create_process("a.exe");
        mm::Process& b = h.mm().create_process("b.exe");
        va_a = h.mm().allocate_virtual_memory(a, 4096);
        va_b = h.mm().allocate_virtual_memory(b, 4096);
        k.attach_process(a.directory);
        k.cpu().write32(va_a, 0xaaaa);
        k.attach_process(b.directory);
        k.cpu().write32(va_b, 0xbbbb);
        b_reads = k.cpu().read32(va_b);
        k.attach_process(a.directory);
        a_reads = k.cpu().read32(va_a);
        k.cpu().power_off(0);
      },
      "two_processes");
  EXPECT_EQ(va_a, va_b);  // the same virtual address in both
  EXPECT_EQ(a_reads, 0xaaaau);
  EXPECT_EQ(b_reads, 0xbbbbu);
}

// Statistics of a whole run of `c`, parsed.
YAML::Node run_stats(Config c, const std::string& name) {
  c.out_stats = testing::TempDir() + name + ".json";
  c.out_events.clear();
  util::set_log_level(util::Level::error);
  platform::Platform p("platform", c);
  auto w = platform::Workload::create(p, c);
  {
    platform::Session s(p, c);
    auto r = s.run(c.sim_until_ps, false);
    s.write_stats(r, [&](util::JsonWriter& j) { w->write_stats(j); });
  }
  return YAML::LoadFile(c.out_stats);
}

TEST(Paging, UnderPressureTheModifiedWriterWritesOutAndHardFaultsReadBackEveryWord) {
  // 6 MiB of user memory over 5 MiB of page frames, two passes: the second pass's pages come
  // back from the pagefile, and every word is compared with what its pass wrote.
  const Config c = paging_config([](Config& c) {
    platform::apply_override(c, "workload.paging.working_set=6MiB");
    platform::apply_override(c, "workload.paging.passes=2");
  });
  YAML::Node s = run_stats(c, "pressure");
  const YAML::Node w = s["workload"], m = s["mm"];
  ASSERT_TRUE(w && m);
  EXPECT_EQ(w["passes"].as<std::uint64_t>(), 2u);
  EXPECT_EQ(w["words_checked"].as<std::uint64_t>(), 2u * (6u << 20) / 4);
  EXPECT_EQ(w["mismatches"].as<std::uint64_t>(), 0u);
  EXPECT_EQ(w["access_violations"].as<std::uint64_t>(), 0u);
  EXPECT_GT(m["paging_writes"].as<std::uint64_t>(), 0u);
  EXPECT_GT(m["hard"].as<std::uint64_t>(), 0u);
  EXPECT_GT(m["writer_runs"].as<std::uint64_t>(), 0u);
  EXPECT_GT(m["trims"].as<std::uint64_t>(), 0u);
  EXPECT_EQ(m["paging_reads"].as<std::uint64_t>(), m["hard"].as<std::uint64_t>());
  // Every paging IRP went to the pagefile's disk: its sectors read are the hard faults' pages.
  EXPECT_EQ(s["devices"]["disk1"]["sectors_read"].as<std::uint64_t>(),
            m["paging_reads"].as<std::uint64_t>() * 8);
}

}  // namespace

namespace {

TEST(Shootdown, ChangingAMappingAnotherProcessorHasCachedInvalidatesItThere) {
  std::uint32_t cached = 0, stale = 0, after_shootdown = 0;
  std::uint64_t va = 0, va_again = 0, flushes = 0;
  const Config c = paging_config([](Config& c) {
    c.hal = "apic";
    c.cpu_count = 2;
    c.sim_until_ps = 100'000'000'000;
  });
  run(
      c,
      [&](platform::KernelHost& h) {
        ke::Kernel& k = h.kernel();
        mm::MemoryManager& m = h.mm();
        hw::Processor& cpu = k.cpu();
        const std::uint64_t p1 = h.pool().allocate(4096), p2 = h.pool().allocate(4096);
        cpu.write32(p1, 0x1111);
        cpu.write32(p2, 0x2222);
        va = m.map_io_space(p1, 4096);
        ke::Event step, ack;
        k.initialize_event(step, "step", ke::EventType::synchronization, false);
        k.initialize_event(ack, "ack", ke::EventType::synchronization, false);
        // The probe runs on CPU 1 only: its TLB holds the translation between its reads.
        k.create_thread(
            "probe", 8,
            [&] {
              cached = cpu.read32(va);
              k.set_event(ack);
              k.wait_for_single_object(step, std::nullopt);
              stale = cpu.read32(va);
              k.set_event(ack);
              k.wait_for_single_object(step, std::nullopt);
              after_shootdown = cpu.read32(va);
              k.set_event(ack);
            },
            0b10);
        k.wait_for_single_object(ack, std::nullopt);
        // Control: the PTE rewritten behind the memory manager's back, with no flush: CPU 1
        // still reads the old frame through its TLB (so the probe can see a stale entry).
        const std::uint32_t pde = cpu.read32(cpu.cr3() + (va >> 22) * 4);
        const std::uint64_t pte_at = (pde & ~0xfffu) + ((va >> 12) & 0x3ff) * 4;
        cpu.write32(pte_at, static_cast<std::uint32_t>(p2) | mm::pte::kValid | mm::pte::kWrite);
        cpu.invalidate_page(va);
        k.set_event(step);
        k.wait_for_single_object(ack, std::nullopt);
        // The memory manager's way: unmapping shoots the entry down on every processor.
        cpu.write32(pte_at, static_cast<std::uint32_t>(p1) | mm::pte::kValid | mm::pte::kWrite);
        m.unmap_io_space(va, 4096);
        va_again = m.map_io_space(p2, 4096);
        k.set_event(step);
        k.wait_for_single_object(ack, std::nullopt);
        flushes = m.stats().tb_flushes;
        cpu.power_off(0);
      },
      "shootdown");
  EXPECT_EQ(cached, 0x1111u);
  EXPECT_EQ(stale, 0x1111u) << "without a shootdown CPU 1 keeps its stale translation";
  EXPECT_EQ(va_again, va) << "the same system PTE, now naming the other frame";
  EXPECT_EQ(after_shootdown, 0x2222u) << "the shootdown removed CPU 1's entry";
  EXPECT_GE(flushes, 1u);
}

}  // namespace

namespace {

// A driver's pageable routine (#pragma alloc_text(PAGE, ...)) called at DISPATCH_LEVEL from its
// dispatch path: `calls_before_stop` counts the calls that ran.
void pageable_at_dispatch(platform::KernelHost& h, int& calls, bool trim_between) {
  static const std::string driver = "\\Driver\\Test";
  ke::Kernel& k = h.kernel();
  mm::MemoryManager& m = h.mm();
  auto& routine = m.declare_pageable_routine("TestReadConfig", driver);
  k.enter_driver(driver);
  m.call_pageable(routine, [&] {
    m.paged_code("TestReadConfig");  // at PASSIVE_LEVEL: fine, and the page comes in
    ++calls;
  });
  ke::SpinLock lock;
  ke::Irql old = k.acquire_spin_lock(lock);  // DISPATCH_LEVEL: resident, so it runs
  m.call_pageable(routine, [&] { ++calls; });
  k.release_spin_lock(lock, old);
  if (trim_between) m.empty_working_sets();
  old = k.acquire_spin_lock(lock);
  m.call_pageable(routine, [&] { ++calls; });  // trimmed: the fetch faults at DISPATCH_LEVEL
  k.release_spin_lock(lock, old);
  k.leave_driver();
}

TEST(PageableCode, RunsAtDispatchWhileResidentAndBugChecksOnceTrimmed) {
  int calls = 0;
  ke::BugCheckRecord stop;
  run(
      paging_config([](Config& c) { c.sim_until_ps = 50'000'000'000; }),
      [&](platform::KernelHost& h) { pageable_at_dispatch(h, calls, true); }, "pageable", &stop);
  EXPECT_EQ(calls, 2) << "at PASSIVE_LEVEL and at DISPATCH_LEVEL while resident";
  EXPECT_EQ(stop.code, ke::kDriverIrqlNotLessOrEqual);
  EXPECT_EQ(stop.p2, ke::kDispatchLevel);
  EXPECT_EQ(stop.p3, 8u) << "an instruction fetch";
  EXPECT_EQ(stop.p1, stop.p4) << "the routine's own code page";
  EXPECT_GE(stop.p1, mm::kPagedPoolBase);
}

TEST(PageableCode, DriverVerifierIrqlCheckingBugChecksOnTheFirstCallAtDispatch) {
  int calls = 0;
  ke::BugCheckRecord stop;
  run(
      paging_config([](Config& c) {
        c.sim_until_ps = 50'000'000'000;
        c.verifier.drivers = {"test.sys"};
        c.verifier.irql_checking = true;
      }),
      [&](platform::KernelHost& h) { pageable_at_dispatch(h, calls, false); }, "verifier", &stop);
  // The raise to DISPATCH_LEVEL trimmed the routine's page: its first call there stops.
  EXPECT_EQ(calls, 1) << "only the call at PASSIVE_LEVEL";
  EXPECT_EQ(stop.code, ke::kDriverIrqlNotLessOrEqual);
  EXPECT_EQ(stop.p3, 8u);
}

TEST(PageableCode, PagedCodeAtDispatchLevelStopsTheMachine) {
  ke::BugCheckRecord stop;
  run(
      paging_config([](Config& c) { c.sim_until_ps = 20'000'000'000; }),
      [&](platform::KernelHost& h) {
        h.kernel().raise_irql(ke::kDispatchLevel);
        h.mm().paged_code("TestRoutine");
      },
      "paged_code", &stop);
  EXPECT_EQ(stop.code, ke::kIrqlNotLessOrEqual);
  EXPECT_EQ(stop.p2, ke::kDispatchLevel);
}

}  // namespace

namespace {

// The paging machine with its pagefile disk on PCI, surprise-removed at 30 ms (a pagefile on a
// disk that goes away: every later paging read fails).
Config removed_pagefile_config() {
  const std::string path = testing::TempDir() + "removed_pagefile.yaml";
  std::ofstream(path) << R"(
devices:
  - {type: block, name: disk0, port: 0x1f0, irq: 14, dma_channel: 1, image: "", size: 1MiB}
  - {type: block, name: disk1, bus: pci, dma_channel: 2, image: "", size: 16MiB, remove_at: 30ms}
memory: {ram: {size: 8MiB}}
mm: {paging: true, pagefile: {disk: disk1, size: 8MiB}}
workload: {kind: paging}
sim: {until: 200ms}
output: {vcd: ""}
)";
  Config c = platform::load_config(path);
  platform::validate(c);
  return c;
}

TEST(PageFaults, AFailedPagingReadOfKernelDataIsKernelDataInpageError) {
  std::uint64_t address = 0;
  ke::BugCheckRecord stop;
  run(
      removed_pagefile_config(),
      [&](platform::KernelHost& h) {
        address = paged_out_word(h, 0x5a5a5a5a);
        h.kernel().delay_execution(40'000'000'000);  // the disk has gone
        h.kernel().cpu().read32(address);
        ADD_FAILURE() << "the read of a page whose pagefile is gone did not stop the machine";
      },
      "inpage_kernel", &stop);
  EXPECT_EQ(stop.code, ke::kKernelDataInpageError);
  EXPECT_EQ(stop.p2, 0xC000009Cu);  // STATUS_DEVICE_DATA_ERROR
  EXPECT_EQ(stop.p4, address);
  EXPECT_NE(address, 0u);
}

TEST(PageFaults, AFailedPagingReadOfUserDataFailsTheAccessWithAnInPageError) {
  std::uint32_t status = 0;
  ke::BugCheckRecord stop;
  run(
      removed_pagefile_config(),
      [&](platform::KernelHost& h) {
        ke::Kernel& k = h.kernel();
        mm::Process& p = h.mm().create_process("app.exe");
        k.attach_process(p.directory);
        const std::uint64_t a = h.mm().allocate_virtual_memory(p, 4096);
        k.cpu().write32(a, 1);
        page_out_everything(h.mm());
        k.delay_execution(40'000'000'000);
        try {
          k.cpu().read32(a);
        } catch (const ke::AccessViolation& av) {
          status = av.status;
        }
        k.cpu().power_off(0);
      },
      "inpage_user", &stop);
  EXPECT_EQ(status, 0xC0000006u);  // STATUS_IN_PAGE_ERROR
  EXPECT_EQ(stop.code, 0u) << "a user page's failed read is the request's error, not a stop";
}

}  // namespace
