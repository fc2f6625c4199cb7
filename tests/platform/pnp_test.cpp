// Plug and Play on the assembled machine: the PCI functions of platform/configs/pnp.yaml (more
// devices than free IRQs) get windows and shared level-triggered lines and all move their data;
// what START_DEVICE hands a driver is what the hardware's BARs and route registers hold; IRQs
// translate to vector base + IRQ and IRQL 27 - IRQ; a device whose requirements cannot be met
// is left stopped with its reason while the rest run; drivers see AddDevice, START_DEVICE and
// REMOVE_DEVICE in Microsoft's order; a surprise removal with requests in flight completes them
// with an error and unloads the driver whose last device went.
#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "platform/config.h"
#include "platform/platform.h"
#include "platform/simulation.h"
#include "platform/workloads.h"
#include "tests/support/sc_test.h"
#include "util/log.h"

namespace {

using platform::Config;

void set(Config& c, const std::string& assignment) {
  platform::apply_override(c, assignment);
}

// platform/configs/pnp.yaml with temporary disk images.
Config pnp_config() {
  Config c = platform::load_config(std::string(IOCOSIM_SOURCE_DIR) + "/platform/configs/pnp.yaml");
  set(c, "devices.disk0.image=");
  set(c, "devices.disk1.image=");
  return c;
}

// A machine run to its end (or `until_ps`), kept for inspection.
struct Machine {
  explicit Machine(Config config, const std::string& events = "",
                   std::uint64_t until_ps = 1'000'000'000'000ull)
      : c(std::move(config)) {
    util::set_log_level(util::Level::error);
    c.out_vcd.clear();
    c.out_events = events;
    platform::validate(c);
    p = std::make_unique<platform::Platform>("platform", c);
    w = platform::Workload::create(*p, c);
    platform::Session s(*p, c);
    result = s.run(until_ps, false);
    util::JsonWriter j(false);
    j.begin_object();
    p->write_stats(j);
    w->write_stats(j);
    j.end_object();
    s.close();
    stats = YAML::Load(j.str());
  }
  platform::KernelHost& host() { return dynamic_cast<platform::HostedWorkload&>(*w).host(); }
  const io::DevNode& node(const std::string& instance) {
    const io::DevNode* n = host().node(instance);
    EXPECT_NE(n, nullptr) << instance;
    return *n;
  }
  const io::Resource* raw(const std::string& instance, io::ResourceType t) {
    return io::find_resource(node(instance).raw_resources, t);
  }
  std::uint32_t config_dword(const std::string& instance, unsigned reg) {
    return p->pci.peek(p->pci_slot(instance), reg);
  }

  Config c;
  std::unique_ptr<platform::Platform> p;
  std::unique_ptr<platform::Workload> w;
  platform::RunResult result;
  YAML::Node stats;
};

std::vector<YAML::Node> read_events(const std::string& path) {
  std::ifstream in(path);
  std::vector<YAML::Node> out;
  for (std::string l; std::getline(in, l);) out.push_back(YAML::Load(l));
  return out;
}

const std::vector<std::string> kPciInstances = {"disk0", "disk1", "com2", "tick0"};

TEST(Pnp, MoreDevicesThanFreeIrqsShareLevelTriggeredLinesAndEveryDeviceMovesItsData) {
  Machine m(pnp_config());
  ASSERT_EQ(m.result.exit_status, 0);
  ASSERT_TRUE(m.w->healthy());
  // Every device started.
  for (const auto& n : m.host().pnp().nodes())
    EXPECT_EQ(n->state, io::DevNodeState::started) << n->instance_path << ": " << n->problem;
  // Five interrupts (four functions and the bridge's hot-plug line) on the router's two lines.
  std::map<unsigned, std::vector<std::string>> by_irq;
  for (const auto& name : kPciInstances) {
    const io::Resource* irq = m.raw(name, io::ResourceType::interrupt);
    ASSERT_NE(irq, nullptr) << name;
    EXPECT_TRUE(irq->level) << name;
    EXPECT_EQ(irq->share, io::Share::shared) << name;
    EXPECT_TRUE(irq->irq == 9 || irq->irq == 11) << name << " got IRQ " << irq->irq;
    by_irq[irq->irq].push_back(name);
  }
  EXPECT_EQ(by_irq.size(), 2u);
  for (const auto& [irq, users] : by_irq) {
    EXPECT_GE(users.size(), 2u) << "IRQ " << irq;
    // ELCR says level for the line, as the interrupt arbiter had the HAL program it.
    EXPECT_TRUE(m.p->intc->elcr(irq >= 8) >> (irq % 8) & 1) << "IRQ " << irq;
  }
  EXPECT_FALSE(m.p->intc->elcr(false) >> 4 & 1) << "com1's legacy IRQ4 stays edge-triggered";
  // I/O on every device, correct: the copy checked word by word, the echo, the timer's ticks.
  const YAML::Node& wl = m.stats["workload"];
  EXPECT_EQ(wl["mismatches"].as<int>(), 0);
  EXPECT_EQ(wl["errors"].as<int>(), 0);
  EXPECT_EQ(wl["bytes"].as<std::uint64_t>(), 2u * 128 * 512);
  // Every character the serial port received went back out (the run ends when the copy does).
  const YAML::Node& com2 = m.stats["devices"]["com2"];
  EXPECT_GT(com2["rx_chars"].as<int>(), 0);
  EXPECT_EQ(com2["tx_chars"].as<int>(), com2["rx_chars"].as<int>());
  EXPECT_EQ(wl["echoed"].as<int>(), com2["rx_chars"].as<int>());
  EXPECT_GE(wl["timer_waits"].as<int>(), 10);
  // Each device's ISR ran on its shared line and declined the others' interrupts.
  std::map<std::string, std::pair<unsigned, int>> isrs;  // name -> IRQ, calls
  for (const auto& isr : m.stats["kernel"]["isrs"])
    isrs[isr["name"].as<std::string>()] = {isr["irq"].as<unsigned>(), isr["count"].as<int>()};
  for (const auto& name : kPciInstances) {
    ASSERT_TRUE(isrs.count(name)) << name;
    EXPECT_EQ(isrs[name].first, m.raw(name, io::ResourceType::interrupt)->irq) << name;
    EXPECT_GT(isrs[name].second, 0) << name;
  }
}

// A function driver reads its own configuration space (IRP_MN_READ_CONFIG, answered by the PCI
// bus driver through mechanism #1): the disk driver's IDs at START_DEVICE are the function's.
// (A legacy disk has none: ADeviceWhoseRequirementsCannotBeMetIsLeftStoppedWithItsReason.)
TEST(Pnp, AFunctionDriverReadsItsOwnConfigurationSpace) {
  Config c = pnp_config();
  set(c, "sim.until=2ms");
  Machine m(c);
  const YAML::Node disks = m.stats["drivers"]["disk"]["devices"];
  for (const char* d : {"disk0", "disk1"}) {
    ASSERT_TRUE(disks[d]["pci_id"]) << d;
    EXPECT_EQ(disks[d]["pci_id"].as<std::string>(), fmt::format("{:#010x}", m.config_dword(d, 0)))
        << d << ": vendor and device ID as configuration space holds them";
  }
  EXPECT_EQ(m.config_dword("disk0", 0), 0x00021cc5u);
}

TEST(Pnp, StartDeviceResourcesAreWhatTheHardwareBarsAndRoutesHold) {
  Machine m(pnp_config());
  ASSERT_EQ(m.result.exit_status, 0);
  for (const auto& name : kPciInstances) {
    const platform::DeviceInstance* d = m.c.device(name);
    const bool memory = d->bar == "memory";
    const io::Resource* window =
        m.raw(name, memory ? io::ResourceType::memory : io::ResourceType::port);
    ASSERT_NE(window, nullptr) << name << ": a " << d->bar << " window";
    const std::uint32_t bar = m.config_dword(name, 0x10);
    EXPECT_EQ(bar & 1u, memory ? 0u : 1u) << name;
    EXPECT_EQ(bar & (memory ? ~0xfu : ~0x3u), window->start) << name;
    // The window lies in the bridge's aperture and is as large as the BAR decodes.
    if (memory) {
      EXPECT_GE(window->start, m.c.pci_memory_base) << name;
      EXPECT_EQ(window->length, 16u) << name;
    } else {
      EXPECT_GE(window->start, m.c.pci_io_base) << name;
    }
    EXPECT_EQ(window->start % window->length, 0u) << name << ": aligned to its size";
    // Decode is on for the BAR's space only.
    const std::uint32_t command = m.config_dword(name, 0x04) & 0xffff;
    EXPECT_EQ(command & 3u, memory ? 2u : 1u) << name;
    // INTERRUPT_LINE holds the IRQ, and the route register of the function's link says it too.
    const io::Resource* irq = m.raw(name, io::ResourceType::interrupt);
    ASSERT_NE(irq, nullptr);
    EXPECT_EQ(m.config_dword(name, 0x3c) & 0xff, irq->irq) << name;
    const unsigned slot = m.p->pci_slot(name);
    const unsigned link = slot % 4;  // INTA#: (slot + 1 - 1) mod 4
    EXPECT_EQ((m.p->pci.peek(0, 0x60) >> (8 * link)) & 0xff, irq->irq) << name;
  }
  // The two BARs of a kind do not overlap.
  const io::Resource* a = m.raw("disk0", io::ResourceType::port);
  const io::Resource* b = m.raw("tick0", io::ResourceType::port);
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(a->start + a->length <= b->start || b->start + b->length <= a->start);
}

TEST(Pnp, TheHalTranslatesEachIrqToItsVectorAndIrql) {
  Machine m(pnp_config());
  ASSERT_EQ(m.result.exit_status, 0);
  unsigned checked = 0;
  for (const auto& n : m.host().pnp().nodes()) {
    for (std::size_t i = 0; i < n->raw_resources.size(); ++i) {
      const io::Resource& raw = n->raw_resources[i];
      if (raw.type != io::ResourceType::interrupt) continue;
      const io::Resource& t = n->translated_resources[i];
      // The PIC HAL: vector = the master's base + IRQ (the slave's base is the master's + 8),
      // IRQL = 27 - IRQ (Windows Internals, "IRQL = 27 - IRQ" on a uniprocessor PIC HAL).
      EXPECT_EQ(t.vector, m.c.workload_vector_base + raw.irq) << n->instance_path;
      EXPECT_EQ(static_cast<unsigned>(t.irql), 27u - raw.irq) << n->instance_path;
      ++checked;
    }
  }
  EXPECT_GE(checked, 8u);
  // The interrupt the disk's ISR was connected to is the translated one: the controller
  // delivers the vector, the kernel raises to that IRQL.
  const io::Resource* irq = m.raw("disk1", io::ResourceType::interrupt);
  ASSERT_NE(irq, nullptr);
  bool found = false;
  for (const ke::Interrupt* i : m.host().kernel().interrupt_objects())
    if (i->name == "disk1") {
      found = true;
      EXPECT_EQ(i->irq, irq->irq);
      EXPECT_EQ(i->mode, ke::InterruptMode::level_sensitive);
    }
  EXPECT_TRUE(found);
}

TEST(Pnp, ADeviceWhoseRequirementsCannotBeMetIsLeftStoppedWithItsReason) {
  // disk1 on PCI can only use IRQ5, which the legacy oneshot0 holds edge-triggered; tick1 and
  // tick2 need I/O windows in an aperture with room for one.
  Config c;
  set(c, "workload.io.passes=1");
  set(c, "workload.io.sectors=32");
  set(c, "pci.irqs=5,9");
  set(c, "pci.io_size=8");
  c.devices.push_back(c.devices[0]);
  c.devices.back().name = "disk1";
  c.devices.back().filters.clear();
  set(c, "devices.disk1.bus=pci");
  set(c, "devices.disk1.bar=memory");
  set(c, "devices.disk1.dma_channel=2");
  set(c, "devices.disk1.image=");
  set(c, "devices.disk0.image=");
  for (const char* n : {"tick1", "tick2"}) {
    c.devices.push_back(c.devices[2]);
    c.devices.back().name = n;
    set(c, std::string("devices.") + n + ".bus=pci");
  }
  Machine m(c);
  ASSERT_EQ(m.result.exit_status, 0);
  // The first one-shot gets the only window, the second none. IRQ5 cannot be shared, so the
  // bridge, disk1 and tick1 share IRQ9.
  const io::DevNode& t1 = m.node("tick1");
  const io::DevNode& t2 = m.node("tick2");
  EXPECT_EQ(t1.state, io::DevNodeState::started) << t1.problem;
  EXPECT_EQ(t2.state, io::DevNodeState::not_started);
  EXPECT_NE(t2.problem.find("CM_PROB_NORMAL_CONFLICT (12)"), std::string::npos) << t2.problem;
  EXPECT_NE(t2.problem.find("no free window"), std::string::npos) << t2.problem;
  EXPECT_NE(t2.problem.find(t1.instance_path), std::string::npos)
      << "the reason names who holds the window: " << t2.problem;
  EXPECT_TRUE(t2.raw_resources.empty()) << "a stopped device holds nothing";
  // Its driver was added but never started; the rest of the machine runs: disk0's workload.
  EXPECT_EQ(t2.service, "\\Driver\\Timer");
  EXPECT_EQ(m.node("disk1").state, io::DevNodeState::started);
  EXPECT_EQ(m.raw("disk1", io::ResourceType::interrupt)->irq, 9u) << "IRQ5 is the legacy "
                                                                     "one-shot's, edge";
  EXPECT_EQ(m.stats["workload"]["mismatches"].as<int>(), 0);
  EXPECT_EQ(m.stats["workload"]["errors"].as<int>(), 0);
  EXPECT_GT(m.stats["workload"]["bytes"].as<int>(), 0);
  // IRP_MN_READ_CONFIG: the PCI disk's driver read its IDs; the legacy one has no bus driver
  // with a configuration space (STATUS_NOT_SUPPORTED), so none.
  const YAML::Node disks = m.stats["drivers"]["disk"]["devices"];
  EXPECT_EQ(disks["disk1"]["pci_id"].as<std::string>(), "0x00021cc5");
  EXPECT_FALSE(disks["disk0"]["pci_id"]);
}

TEST(Pnp, AnIrqNoDeviceMayShareLeavesTheBusStoppedWithItsReason) {
  // The router reaches only IRQ5, held edge-triggered by the legacy oneshot0: the host bridge
  // cannot have its (shared, level) interrupt, stays stopped, and its bus is never enumerated.
  Config c;
  set(c, "workload.io.passes=1");
  set(c, "workload.io.sectors=32");
  set(c, "devices.disk0.image=");
  set(c, "pci.irqs=5");
  c.devices.push_back(c.devices[3]);
  c.devices.back().name = "tick9";
  set(c, "devices.tick9.bus=pci");
  Machine m(c);
  ASSERT_EQ(m.result.exit_status, 0) << "disk0's workload does not need the PCI bus";
  const io::DevNode* bridge = nullptr;
  for (const auto& n : m.host().pnp().nodes())
    if (n->instance_path == "ROOT\\*PNP0A03\\0000") bridge = n.get();
  ASSERT_NE(bridge, nullptr);
  EXPECT_EQ(bridge->state, io::DevNodeState::not_started);
  EXPECT_NE(bridge->problem.find("CM_PROB_NORMAL_CONFLICT (12)"), std::string::npos)
      << bridge->problem;
  EXPECT_NE(bridge->problem.find("IRQ 5"), std::string::npos) << bridge->problem;
  EXPECT_NE(bridge->problem.find("does not share"), std::string::npos) << bridge->problem;
  EXPECT_NE(bridge->problem.find("ROOT\\*IOC0004\\0000"), std::string::npos)
      << "names the legacy one-shot: " << bridge->problem;
  EXPECT_EQ(m.host().node("tick9"), nullptr) << "its bus never reported it";
  EXPECT_FALSE(m.host().drivers_ready());
  EXPECT_EQ(m.node("oneshot0").state, io::DevNodeState::started);
  EXPECT_EQ(m.stats["workload"]["errors"].as<int>(), 0);
}

// The PnP IRPs one stack sees, top first, in order; and the PnP manager's steps.
TEST(Pnp, DriversSeeAddDeviceThenStartThenRemoveInMicrosoftsOrder) {
  Config c;
  set(c, "workload.io.passes=1");
  set(c, "workload.io.sectors=64");
  set(c, "devices.disk0.image=");
  set(c, "devices.disk0.bus=pci");
  set(c, "devices.disk0.remove_at=2ms");
  const std::string events = testing::TempDir() + "pnp_order.jsonl";
  Machine m(c, events, 10'000'000'000ull);
  // The workload stops (exit 1) on its failed requests; no bug check.
  EXPECT_EQ(m.host().bug_check(), nullptr);
  const std::string path = m.node("disk0").instance_path;
  std::vector<std::string> story;
  std::uint64_t last_t = 0;
  for (const auto& e : read_events(events)) {
    const std::string src = e["src"].as<std::string>(), ev = e["ev"].as<std::string>();
    if (src == "pnp" && e["node"] && e["node"].as<std::string>() == path) {
      std::string s = "pnp " + ev;
      if (ev == "add_device") s += " " + e["driver"].as<std::string>();
      story.push_back(s);
    } else if (src == "io" && ev == "dispatch" && e["major"].as<std::string>() == "IRP_MJ_PNP") {
      const std::string minor = e["minor"].as<std::string>();
      if (minor == "IRP_MN_START_DEVICE" || minor == "IRP_MN_REMOVE_DEVICE" ||
          minor == "IRP_MN_SURPRISE_REMOVAL" || minor == "IRP_MN_QUERY_RESOURCE_REQUIREMENTS" ||
          minor == "IRP_MN_FILTER_RESOURCE_REQUIREMENTS") {
        EXPECT_EQ(e["irql"].as<int>(), 0) << minor << " at PASSIVE_LEVEL";
        const std::string dev = e["device"].as<std::string>();
        if (dev == "\\Driver\\DiskFilter" || dev == "\\Device\\Harddisk0" || dev == "\\Driver\\PCI")
          story.push_back(minor + " " + dev);
      }
    } else if (src == "pci" && ev == "function_started") {
      story.push_back("pci function_started");
    } else if (src == "io" && ev == "driver_unloaded") {
      story.push_back("unloaded " + e["driver"].as<std::string>());
    }
    const std::uint64_t t = e["t_ps"].as<std::uint64_t>();
    EXPECT_GE(t, last_t);
    last_t = t;
  }
  const std::vector<std::string> want = {
      "pnp found",
      // The bus driver answers the requirements before any function driver is loaded; the
      // stack then sees them to filter (Microsoft, "Adding a PnP Device to a Running System").
      "IRP_MN_QUERY_RESOURCE_REQUIREMENTS \\Driver\\PCI", "pnp add_device \\Driver\\Disk",
      "pnp add_device \\Driver\\DiskFilter",
      "IRP_MN_FILTER_RESOURCE_REQUIREMENTS \\Driver\\DiskFilter",
      "IRP_MN_FILTER_RESOURCE_REQUIREMENTS \\Device\\Harddisk0",
      "IRP_MN_FILTER_RESOURCE_REQUIREMENTS \\Driver\\PCI", "pnp resources",
      // START goes to the top of the stack and down; the bus driver programs the BAR first.
      "IRP_MN_START_DEVICE \\Driver\\DiskFilter", "IRP_MN_START_DEVICE \\Device\\Harddisk0",
      "IRP_MN_START_DEVICE \\Driver\\PCI", "pci function_started", "pnp start",
      // The function leaves the bus at 2 ms.
      "pnp surprise_removal", "IRP_MN_SURPRISE_REMOVAL \\Driver\\DiskFilter",
      "IRP_MN_SURPRISE_REMOVAL \\Device\\Harddisk0", "IRP_MN_SURPRISE_REMOVAL \\Driver\\PCI",
      // The application still has its handle open: REMOVE_DEVICE waits until it closes it
      // (Microsoft, "Handling an IRP_MN_SURPRISE_REMOVAL Request").
      "pnp remove_pending", "pnp remove", "IRP_MN_REMOVE_DEVICE \\Driver\\DiskFilter",
      "IRP_MN_REMOVE_DEVICE \\Device\\Harddisk0", "IRP_MN_REMOVE_DEVICE \\Driver\\PCI",
      // Its last device gone, each driver of the stack is unloaded.
      "unloaded \\Driver\\Disk", "unloaded \\Driver\\DiskFilter"};
  EXPECT_EQ(story, want);
}

// A surprise removal with requests in flight, the application keeping its handle open (20
// passes, failing every request after the removal).
void surprise_removal_in_flight(const std::string& remove_order) {
  Config c;
  set(c, "pnp.remove=" + remove_order);
  set(c, "workload.io.app=random");
  set(c, "workload.io.queue_depth=4");
  set(c, "workload.io.passes=20");
  set(c, "devices.disk0.image=");
  set(c, "devices.disk0.filters=");
  set(c, "devices.disk0.bus=pci");
  set(c, "devices.disk0.remove_at=2ms");
  const std::string events = testing::TempDir() + "pnp_surprise_" + remove_order + ".jsonl";
  Machine m(c, events, 10'000'000'000ull);
  // No crash and no bug check: the run went on to its end (the workload counts its failed
  // requests and keeps going).
  EXPECT_EQ(m.host().bug_check(), nullptr);
  EXPECT_EQ(m.result.sim_ps, 10'000'000'000ull);
  // Requests dispatched to the disk before the removal and completed after it, with an error.
  std::map<std::uint64_t, std::uint64_t> dispatched;  // IRP -> when
  std::uint64_t removed_at = 0;
  int failed_in_flight = 0, failed_after = 0, removes = 0;
  for (const auto& e : read_events(events)) {
    const std::string ev = e["ev"].as<std::string>();
    const std::uint64_t t = e["t_ps"].as<std::uint64_t>();
    if (ev == "surprise_removal") removed_at = t;
    if (ev == "dispatch" && e["minor"] && e["minor"].as<std::string>() == "IRP_MN_REMOVE_DEVICE")
      ++removes;
    if (ev == "dispatch" && (e["major"].as<std::string>() == "IRP_MJ_READ" ||
                             e["major"].as<std::string>() == "IRP_MJ_WRITE"))
      dispatched[e["irp"].as<std::uint64_t>()] = t;
    if (ev == "request_done" && e["status"].as<std::string>() != "STATUS_SUCCESS") {
      const auto it = dispatched.find(e["irp"].as<std::uint64_t>());
      if (it != dispatched.end() && removed_at != 0 && it->second < removed_at) {
        EXPECT_EQ(e["status"].as<std::string>(), "STATUS_NO_SUCH_DEVICE");
        ++failed_in_flight;
      } else if (removed_at != 0) {
        ++failed_after;
      }
    }
  }
  EXPECT_GT(removed_at, 2'000'000'000ull);
  EXPECT_GE(failed_in_flight, 1) << "a request was pending at the driver when the disk left";
  EXPECT_GE(m.stats["workload"]["errors"].as<int>(), failed_in_flight);
  EXPECT_EQ(m.node("disk0").state, io::DevNodeState::removed);
  EXPECT_EQ(m.stats["pnp"]["removed"].as<int>(), 1);
  if (remove_order == "immediate") {
    // ReactOS's order: REMOVE_DEVICE right after SURPRISE_REMOVAL, the disk driver unloaded
    // with its only device although the application still holds a handle.
    EXPECT_GT(removes, 0);
    EXPECT_GE(m.stats["pnp"]["drivers_unloaded"].as<int>(), 1);
  } else {
    // Windows: no REMOVE_DEVICE while the handle is open; the stack stays, failing requests.
    EXPECT_EQ(removes, 0);
    EXPECT_EQ(m.stats["pnp"]["drivers_unloaded"].as<int>(), 0);
    EXPECT_NE(m.node("disk0").problem.find("REMOVE_DEVICE when its last handle is closed"),
              std::string::npos)
        << m.node("disk0").problem;
  }
  // The hardware is gone from configuration space too.
  EXPECT_EQ(m.config_dword("disk0", 0), 0xffffffffu);
}

TEST(Pnp, SurpriseRemovalWithRequestsInFlightFailsThemAndHoldsRemoveWhileAHandleIsOpen) {
  surprise_removal_in_flight("after_close");
}

TEST(Pnp, SurpriseRemovalTheReactOsWayRemovesAndUnloadsAtOnce) {
  surprise_removal_in_flight("immediate");
}

}  // namespace

namespace {

// A card pulled while the machine is still enumerating (before its bus is scanned, while its
// stack is being built, just after it started): the hot-plug rescan waits for the boot
// enumeration, and whatever the moment, the device ends removed or never reported, the rest
// started, and nothing crashes.
class PnpRemovalDuringBoot : public testing::TestWithParam<const char*> {};

TEST_P(PnpRemovalDuringBoot, EndsRemovedOrUnreportedWithTheRestStarted) {
  Config c = pnp_config();
  set(c, std::string("devices.disk1.remove_at=") + GetParam());
  set(c, std::string("devices.tick0.remove_at=") + GetParam());
  set(c, "workload.io.copy_to=");  // the workload uses disk0 and com2 only
  set(c, "workload.io.timer_period=0");
  Machine m(c, "", 40'000'000'000ull);
  EXPECT_EQ(m.host().bug_check(), nullptr);
  for (const char* gone : {"disk1", "tick0"}) {
    const io::DevNode* n = m.host().node(gone);
    EXPECT_TRUE(n == nullptr || n->state == io::DevNodeState::removed)
        << gone << ": " << (n ? io::to_string(n->state) : "");
  }
  for (const char* stays : {"disk0", "com2", "com1"})
    EXPECT_EQ(m.node(stays).state, io::DevNodeState::started) << stays;
  EXPECT_EQ(m.stats["workload"]["mismatches"].as<int>(), 0);
  EXPECT_EQ(m.stats["workload"]["errors"].as<int>(), 0);
  EXPECT_EQ(m.stats["workload"]["bytes"].as<int>(), 2 * 128 * 512);
}

INSTANTIATE_TEST_SUITE_P(Times, PnpRemovalDuringBoot,
                         testing::Values("1us", "100us", "150us", "185us", "250us", "400us"));

}  // namespace
