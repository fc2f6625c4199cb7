// The I/O path on the assembled platform: an application's request goes down the device stack
// (filter -> disk), StartIo programs the controller and the DMA channel, the device interrupts,
// the ISR queues the DPC, the DPC completes the IRP, completion routines run up the stack and
// the waiting thread resumes with its data; the data is in the disk-image file. Every driver
// mode moves the data intact; fast I/O answers from the filter's cache with no IRP.
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "platform/config.h"
#include "platform/platform.h"
#include "platform/simulation.h"
#include "platform/workloads.h"
#include "tests/support/sc_test.h"
#include "util/event_log.h"
#include "util/log.h"

namespace {

using platform::Config;

void set(Config& c, const std::string& assignment) {
  platform::apply_override(c, assignment);
}

Config io_config() {
  Config c;
  c.workload = "io";
  set(c, "workload.io.passes=1");
  set(c, "workload.io.sectors=64");
  set(c, "devices.disk0.size=256KiB");
  c.out_vcd.clear();
  return c;
}

// Runs to the workload's end; returns the statistics document.
YAML::Node run(Config c, const std::string& events = "") {
  util::set_log_level(util::Level::warn);
  if (!events.empty()) c.out_events = events;
  platform::validate(c);
  platform::Platform p("platform", c);
  auto w = platform::Workload::create(p, c);
  platform::Session s(p, c);
  platform::RunResult r = s.run(1'000'000'000'000ull, false);
  util::JsonWriter j(false);
  j.begin_object();
  j.begin_object("sim").field("t_ps", r.sim_ps).end_object();
  p.write_stats(j);
  w->write_stats(j);
  j.end_object();
  s.close();
  YAML::Node n = YAML::Load(j.str());
  n["exit_status"] = r.exit_status;
  n["healthy"] = w->healthy();
  return n;
}

std::vector<YAML::Node> read_events(const std::string& path) {
  std::ifstream in(path);
  std::vector<YAML::Node> out;
  for (std::string l; std::getline(in, l);) out.push_back(YAML::Load(l));
  return out;
}

TEST(IoPath, AReadGoesDownTheStackAndComesBackUpInOrder) {
  const std::string events = testing::TempDir() + "io_path.jsonl";
  Config c = io_config();
  set(c, "workload.io.sectors=128");  // twice the filter's cache: the read pass starts with misses
  YAML::Node st = run(c, events);
  ASSERT_EQ(st["exit_status"].as<int>(), 0);
  const auto ev = read_events(events);
  // The first read that reaches the disk (the cache is cold at the start of the read pass).
  std::uint64_t irp = 0;
  for (const auto& e : ev) {
    if (e["ev"].as<std::string>() == "dispatch" && e["major"].as<std::string>() == "IRP_MJ_READ" &&
        e["device"].as<std::string>() == "\\Device\\Harddisk0") {
      irp = e["irp"].as<std::uint64_t>();
      break;
    }
  }
  ASSERT_NE(irp, 0u);
  std::vector<std::string> story;
  bool on = false;
  for (const auto& e : ev) {
    const std::string name = e["ev"].as<std::string>();
    const bool mine = e["irp"] && e["irp"].as<std::uint64_t>() == irp;
    if (mine && name == "dispatch" && !on) on = true;
    if (!on) continue;
    if (mine && name == "thread_resumed") {
      // The resumed thread names the IRP it waited for.
      story.push_back("thread_resumed " + e["thread"].as<std::string>());
      break;
    }
    if (mine) {
      std::string s = name;
      if (e["device"]) s += " " + e["device"].as<std::string>();
      story.push_back(s);
    } else if ((name == "isr_enter" || name == "dpc_enter") &&
               e["name"].as<std::string>().rfind("disk", 0) == 0) {
      story.push_back(name + " " + e["name"].as<std::string>());
    }
  }
  const std::vector<std::string> want = {
      "dispatch \\Driver\\DiskFilter",
      "dispatch \\Device\\Harddisk0",
      "start_io \\Device\\Harddisk0",
      "program \\Device\\Harddisk0",  // the controller and DMA channel
      "isr_enter disk0",
      "dpc_enter disk0_dpc",
      "complete_request",
      "completion_routine \\Driver\\DiskFilter",
      "request_done",
      "thread_resumed main"};
  // Other requests' events are not in the story; a read-ahead IRP the filter starts is its own.
  EXPECT_EQ(story, want);
}

TEST(IoPath, WrittenDataIsInTheImageFileAndReadsBackIdentical) {
  Config c = io_config();
  const std::string image = testing::TempDir() + "io_path.img";
  set(c, "devices.disk0.image=" + image);
  std::remove(image.c_str());
  YAML::Node st = run(c);
  ASSERT_EQ(st["exit_status"].as<int>(), 0);
  EXPECT_EQ(st["workload"]["mismatches"].as<int>(), 0);
  EXPECT_EQ(st["workload"]["bytes"].as<std::uint64_t>(), 2u * 64 * 512);
  // The application's pattern (sw/apps/io_apps.cpp): word i of the disk, pass 0, seed 1.
  std::ifstream f(image, std::ios::binary);
  std::vector<char> data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  ASSERT_EQ(data.size(), 256u * 1024);
  for (std::uint64_t off : {0ull, 4ull, 512ull * 17 + 8, 512ull * 63 + 508}) {
    std::uint32_t w = 0;
    std::memcpy(&w, &data[off], 4);
    EXPECT_EQ(w, static_cast<std::uint32_t>((off / 4 + 1) * 0x9e3779b1u) ^ 1u) << off;
  }
  std::uint32_t past = 1;
  std::memcpy(&past, &data[512 * 64], 4);
  EXPECT_EQ(past, 0u) << "nothing written past the region";
}

struct Mode {
  const char* transfer;
  const char* completion;
  bool filter;
};
class IoModes : public ::testing::TestWithParam<Mode> {};

TEST_P(IoModes, EveryDriverModeMovesTheDataIntact) {
  Config c = io_config();
  set(c, std::string("drivers.disk.transfer=") + GetParam().transfer);
  set(c, std::string("drivers.disk.completion=") + GetParam().completion);
  if (!GetParam().filter) set(c, "devices.disk0.filters=");
  set(c, "workload.io.app=random");
  YAML::Node st = run(c);
  ASSERT_EQ(st["exit_status"].as<int>(), 0);
  EXPECT_TRUE(st["healthy"].as<bool>());
  EXPECT_EQ(st["workload"]["mismatches"].as<int>(), 0);
  EXPECT_EQ(st["workload"]["passes"].as<int>(), 1);
  const bool polling = std::string(GetParam().completion) == "polling";
  EXPECT_EQ(st["drivers"]["disk"]["interrupts"].as<int>() == 0, polling);
  EXPECT_EQ(st["drivers"]["disk"]["polls"].as<int>() > 0, polling);
  const bool dma = std::string(GetParam().transfer) == "dma";
  EXPECT_EQ(st["bus"]["masters"][1]["bus_cycles"].as<std::uint64_t>() > 0, dma);
}

INSTANTIATE_TEST_SUITE_P(Drivers, IoModes,
                         ::testing::Values(Mode{"dma", "interrupt", true},
                                           Mode{"dma", "polling", true},
                                           Mode{"pio", "interrupt", true},
                                           Mode{"pio", "polling", false},
                                           Mode{"dma", "interrupt", false}),
                         [](const auto& info) {
                           return std::string(info.param.transfer) + "_" + info.param.completion +
                                  (info.param.filter ? "_filter" : "");
                         });

// The filter's cache is walked by fast I/O copies at PASSIVE_LEVEL while read-ahead completions
// (DPCs, from interrupts taken during those timed copies) store into it and evict. Random reads
// over the default region make the two meet; without the cache spin lock this run crashed.
TEST(IoPath, FastIoCopiesAndReadAheadCompletionsShareTheCacheSafely) {
  Config c;
  c.workload = "io";
  set(c, "workload.io.app=random");
  set(c, "workload.io.passes=3");
  c.out_vcd.clear();
  YAML::Node a = run(c);
  ASSERT_EQ(a["exit_status"].as<int>(), 0);
  EXPECT_TRUE(a["healthy"].as<bool>());
  EXPECT_EQ(a["workload"]["mismatches"].as<int>(), 0);
  EXPECT_GT(a["io"]["fast_io_hits"].as<int>(), 0);
  EXPECT_GT(a["drivers"]["filter"]["devices"]["disk0"]["read_aheads"].as<int>(), 0);
  EXPECT_GT(a["drivers"]["filter"]["devices"]["disk0"]["cache_hits"].as<int>(), 0);
}

TEST(IoPath, FastIoServesCachedReadsWithoutIrps) {
  Config with = io_config();
  set(with, "workload.io.sectors=32");  // fits the cache: the read pass hits the written sectors
  YAML::Node a = run(with);
  ASSERT_EQ(a["exit_status"].as<int>(), 0);
  EXPECT_EQ(a["io"]["fast_io_hits"].as<int>(), 4) << "every read of the pass from the cache";
  EXPECT_EQ(a["workload"]["mismatches"].as<int>(), 0);
  // 4 writes + create + close go down as IRPs; the reads do not.
  EXPECT_EQ(a["io"]["irps_allocated"].as<int>(), 6);
  EXPECT_EQ(a["devices"]["disk0"]["sectors_read"].as<int>(), 0);
}

}  // namespace

namespace {

TEST(IoPath, TheTimerDriverCompletesEachWaitWhenItsDeviceFires) {
  Config c = io_config();
  set(c, "workload.io.timer_period=200us");
  YAML::Node st = run(c);
  ASSERT_EQ(st["exit_status"].as<int>(), 0);
  const auto waits = st["workload"]["timer_waits"].as<std::uint64_t>();
  EXPECT_GT(waits, 10u);
  // One device interrupt per completed wait (the last one may still be in flight).
  const auto fired = st["devices"]["oneshot0"]["fired"].as<std::uint64_t>();
  EXPECT_GE(fired, waits);
  EXPECT_LE(fired, waits + 1);
}

}  // namespace

namespace {

// Asynchronous reads in flight: the disk driver's queue holds several IRPs at once (StartIo
// serving one at a time), and the data stays intact. Synchronous reads never overlap.
// The disk driver's stack location is 2: the bus driver's PDO below it has location 1.
std::uint64_t most_in_flight(const std::string& events) {
  std::uint64_t now = 0, most = 0;
  for (const auto& e : read_events(events)) {
    const std::string ev = e["ev"].as<std::string>();
    if (ev == "dispatch" && e["location"].as<int>() == 2 &&
        e["major"].as<std::string>() == "IRP_MJ_READ")
      most = std::max(most, ++now);
    if (ev == "complete_request" && e["location"].as<int>() == 2 && now > 0) --now;
  }
  return most;
}

TEST(IoPath, AsynchronousReadsQueueAtTheDriverAndStayIntact) {
  Config c = io_config();
  set(c, "workload.io.app=random");
  set(c, "devices.disk0.filters=");
  set(c, "workload.io.queue_depth=4");
  const std::string events = testing::TempDir() + "io_async.jsonl";
  YAML::Node st = run(c, events);
  ASSERT_EQ(st["exit_status"].as<int>(), 0);
  EXPECT_EQ(st["workload"]["mismatches"].as<int>(), 0);
  EXPECT_EQ(most_in_flight(events), 4u);
}

TEST(IoPath, SynchronousReadsNeverOverlap) {
  Config c = io_config();
  set(c, "workload.io.app=random");
  set(c, "devices.disk0.filters=");
  const std::string events = testing::TempDir() + "io_sync.jsonl";
  YAML::Node st = run(c, events);
  ASSERT_EQ(st["exit_status"].as<int>(), 0);
  EXPECT_EQ(most_in_flight(events), 1u);
}

}  // namespace

namespace {

TEST(IoPath, FileCopyCopiesARegionAndTheCopyReadsBackTheSame) {
  Config c = io_config();
  set(c, "workload.io.app=copy");
  YAML::Node st = run(c);
  ASSERT_EQ(st["exit_status"].as<int>(), 0);
  EXPECT_EQ(st["workload"]["passes"].as<int>(), 1);
  EXPECT_EQ(st["workload"]["errors"].as<int>(), 0);
  EXPECT_EQ(st["workload"]["mismatches"].as<int>(), 0);
  EXPECT_EQ(st["workload"]["bytes"].as<std::uint64_t>(), 2u * 64 * 512);
  EXPECT_EQ(st["devices"]["disk0"]["sectors_written"].as<std::uint64_t>(), 2u * 64)
      << "the source's pattern, then the copy";
}

}  // namespace

namespace {

// Two disks on one IRQ, made level-triggered (interrupt_controller.level_irqs): the HAL
// programs ELCR at boot, both drivers' interrupts connect level-sensitive and shared on one
// vector, each ISR checks its own controller and declines the other's interrupts, and the copy
// from one disk to the other is intact — on either interrupt controller model.
class SharedLine : public ::testing::TestWithParam<std::string> {};

TEST_P(SharedLine, TwoDisksOnOneLevelTriggeredIrqCopyIntact) {
  Config c = platform::load_config(IOCOSIM_SOURCE_DIR "/platform/configs/two-disks.yaml");
  for (const std::string kv : {"devices.disk0.image=", "devices.disk1.image=",
                               "devices.disk1.irq=14", "interrupt_controller.level_irqs=14"})
    set(c, kv);
  set(c, "interrupt_controller.model=" + GetParam());
  c.out_vcd.clear();
  c.out_events = testing::TempDir() + "shared_" + GetParam() + ".jsonl";
  util::set_log_level(util::Level::warn);
  platform::validate(c);
  platform::Platform p("platform", c);
  auto w = platform::Workload::create(p, c);
  platform::RunResult r;
  {
    platform::Session s(p, c);
    r = s.run(1'000'000'000'000ull, false);
  }
  util::JsonWriter j(false);
  j.begin_object();
  w->write_stats(j);
  j.end_object();
  const YAML::Node st = YAML::Load(j.str());
  ASSERT_EQ(r.exit_status, 0);
  EXPECT_TRUE(w->healthy());
  EXPECT_EQ(st["workload"]["passes"].as<int>(), 1);
  EXPECT_EQ(st["workload"]["mismatches"].as<int>(), 0);
  EXPECT_EQ(p.intc->elcr(true), 0x40) << "IRQ14, the slave's IR6, level-triggered";
  EXPECT_EQ(p.intc->elcr(false), 0x00);
  std::map<std::string, unsigned> irq_of;
  for (const auto& i : st["kernel"]["isrs"])
    irq_of[i["name"].as<std::string>()] = i["irq"].as<unsigned>();
  EXPECT_EQ(irq_of["disk0"], 14u);
  EXPECT_EQ(irq_of["disk1"], 14u);
  unsigned declined = 0, claimed = 0;
  for (const auto& e : read_events(c.out_events)) {
    if (e["ev"].as<std::string>() != "isr_exit") continue;
    const auto name = e["name"].as<std::string>();
    if (name != "disk0" && name != "disk1") continue;
    (e["claimed"].as<bool>() ? claimed : declined)++;
  }
  EXPECT_EQ(claimed, 32u) << "one claim per disk command (16 each)";
  EXPECT_GT(declined, 0u) << "the first ISR on the line looked at the other disk's interrupts";
}

INSTANTIATE_TEST_SUITE_P(Models, SharedLine, ::testing::Values("tlm", "rtl"),
                         [](const auto& info) { return info.param; });

}  // namespace
