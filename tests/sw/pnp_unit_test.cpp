// The PnP manager's order and failure paths on the fake processor (no SystemC): every driver
// here completes its IRPs at once, so no PnP request waits and no thread is needed. A root
// device with fixed requirements and a function driver whose START_DEVICE can be made to fail,
// whose FILTER_RESOURCE_REQUIREMENTS can change the list, and which records what it sees.
#include "sw/io/pnp.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "tests/support/fake_processor.h"
#include "util/log.h"

namespace {

using io::DeviceObject;
using io::Irp;
using io::Minor;
using io::Status;

struct Function;

struct Rig {
  tests::FakeProcessor cpu;
  hal::Hal hal;
  ke::Kernel kernel;
  io::Pool pool{0x100000, 0x100000};
  io::IoManager io;
  io::PnpManager pnp;
  io::DriverObject* driver = nullptr;
  std::vector<std::string> seen;  // "minor" as the function driver saw it, and "AddDevice"
  Status start_status = Status::success;
  Status query_status = Status::success;  // what QUERY_REMOVE and QUERY_STOP answer
  std::uint32_t device_state = 0;         // what QUERY_PNP_DEVICE_STATE reports
  bool narrow_ports = false;  // FILTER_RESOURCE_REQUIREMENTS: ask for 4 ports instead of 8
  std::vector<std::unique_ptr<Function>> functions;

  Rig()
      : hal(cpu, hal::HalConfig{}),
        kernel(cpu, hal, ke::KernelConfig{}),
        io(kernel, pool),
        pnp(io) {
    util::set_log_level(util::Level::off);
    kernel.initialize();
    driver = &io.load_driver("\\Driver\\Fn", [this](io::DriverObject& d) {
      d.context = this;
      d.major_function[static_cast<unsigned>(io::Major::pnp)] = &Rig::dispatch;
      d.major_function[static_cast<unsigned>(io::Major::create)] = [](DeviceObject* dev, Irp* irp) {
        irp->io_status = {Status::success, 0};
        dev->driver->io->complete_request(*irp);
        return Status::success;
      };
      d.add_device = [this](io::DriverObject& self, DeviceObject& pdo) { return add(self, pdo); };
      return Status::success;
    });
    pnp.set_driver_table([this](const io::DevNode& n) {
      io::DriverBinding b;
      if (!n.hardware_ids.empty() && n.hardware_ids.front() == "FN") b.function = driver;
      return b;
    });
  }

  // A root device needing 8 ports anywhere in 0x300-0x3ff, or (fixed) at 0x300.
  void report(const std::string& tag, bool fixed = false) {
    io::RootDevice d;
    d.id = "FN";
    d.hardware_ids = {"FN"};
    d.tag = tag;
    io::ResourceRequirement ports;
    ports.type = io::ResourceType::port;
    ports.length = 8;
    ports.alignment = 8;
    ports.minimum = 0x300;
    ports.maximum = fixed ? 0x307 : 0x3ff;
    d.requirements = {ports};
    pnp.add_root_device(d);
  }

  Status add(io::DriverObject& self, DeviceObject& pdo);
  static Status dispatch(DeviceObject* device, Irp* irp);
  const io::DevNode* node(const std::string& tag) const {
    for (const auto& n : pnp.nodes())
      if (n->tag == tag) return n.get();
    return nullptr;
  }
};

struct Function : io::PnpDevice {
  Rig* rig = nullptr;
  io::ResourceList raw;
  Status start(const io::ResourceList& r, const io::ResourceList&) override {
    raw = r;
    return rig->start_status;
  }
  Status query_remove() override { return rig->query_status; }
  Status query_stop() override { return rig->query_status; }
  std::uint32_t device_state() override { return rig->device_state; }
};

Status Rig::add(io::DriverObject& self, DeviceObject& pdo) {
  seen.push_back("AddDevice");
  functions.push_back(std::make_unique<Function>());
  Function* f = functions.back().get();
  f->rig = this;
  DeviceObject* fdo =
      io.create_device(self, "\\Device\\Fn" + std::to_string(functions.size() - 1), f);
  fdo->pnp = f;
  io.attach_device_to_device_stack(*fdo, pdo);
  fdo->flags &= ~io::kDoDeviceInitializing;
  return Status::success;
}

Status Rig::dispatch(DeviceObject* device, Irp* irp) {
  Rig& rig = *static_cast<Rig*>(device->driver->context);
  const Minor minor = irp->current().pnp.minor;
  rig.seen.push_back(io::to_string(minor));
  if (minor == Minor::filter_resource_requirements) {
    // Microsoft: the function driver handles it on the way up, after the bus driver.
    const Status s = rig.io.forward_irp_synchronously(*device->lower, *irp);
    if (rig.narrow_ports && irp->pnp_result != nullptr) {
      for (auto& r : irp->pnp_result->requirements)
        if (r.type == io::ResourceType::port) r.length = r.alignment = 4;
      irp->io_status = {Status::success, 0};
    } else {
      irp->io_status = {s, 0};
    }
    rig.io.complete_request(*irp);
    return irp->io_status.status;
  }
  return io::IoManager::dispatch_pnp(device, irp);
}

TEST(PnpOrder, RequirementsComeFromTheBusDriverBeforeAddDeviceThenTheStackFiltersThem) {
  Rig rig;
  rig.report("a");
  rig.narrow_ports = true;
  rig.pnp.enumerate();
  const io::DevNode* n = rig.node("a");
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->state, io::DevNodeState::started) << n->problem;
  // The function driver never saw QUERY_RESOURCE_REQUIREMENTS: the bus driver answered it
  // before AddDevice; FILTER_RESOURCE_REQUIREMENTS came after, then START_DEVICE.
  // After the start: the capabilities from the whole stack and the device's state, then its
  // bus relations (Microsoft, "Starting a Device").
  EXPECT_EQ(rig.seen, (std::vector<std::string>{"AddDevice", "IRP_MN_FILTER_RESOURCE_REQUIREMENTS",
                                                "IRP_MN_START_DEVICE", "IRP_MN_QUERY_CAPABILITIES",
                                                "IRP_MN_QUERY_PNP_DEVICE_STATE",
                                                "IRP_MN_QUERY_DEVICE_RELATIONS"}));
  EXPECT_TRUE(n->capabilities.unique_id) << "the root enumerator's answer, through the stack";
  EXPECT_FALSE(n->capabilities.removable);
  // The filtered list is what was arbitrated: 4 ports, not the bus driver's 8.
  ASSERT_EQ(rig.functions.size(), 1u);
  const io::Resource* ports = io::find_resource(rig.functions[0]->raw, io::ResourceType::port);
  ASSERT_NE(ports, nullptr);
  EXPECT_EQ(ports->length, 4u);
}

TEST(PnpOrder, ADriverThatDoesNotFilterLeavesTheBusDriversRequirements) {
  Rig rig;
  rig.report("a");
  rig.pnp.enumerate();
  ASSERT_EQ(rig.functions.size(), 1u);
  const io::Resource* ports = io::find_resource(rig.functions[0]->raw, io::ResourceType::port);
  ASSERT_NE(ports, nullptr);
  EXPECT_EQ(ports->length, 8u);
}

// Microsoft, "Understanding When Remove IRPs Are Issued": a failed START_DEVICE is followed by
// REMOVE_DEVICE (no SURPRISE_REMOVAL); the function device goes, its resources are free again,
// its driver is unloaded with its last device, and the device cannot be opened.
TEST(PnpFailure, AFailedStartIsFollowedByRemoveDeviceAndTheStackGoes) {
  Rig rig;
  rig.report("a");
  rig.start_status = Status::insufficient_resources;
  rig.pnp.enumerate();
  const io::DevNode* n = rig.node("a");
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->state, io::DevNodeState::not_started);
  EXPECT_NE(n->problem.find("CM_PROB_FAILED_START (10): START_DEVICE"), std::string::npos)
      << n->problem;
  EXPECT_EQ(rig.seen, (std::vector<std::string>{"AddDevice", "IRP_MN_FILTER_RESOURCE_REQUIREMENTS",
                                                "IRP_MN_START_DEVICE", "IRP_MN_REMOVE_DEVICE"}));
  EXPECT_EQ(n->pdo->attached_device, nullptr) << "the function device detached";
  EXPECT_TRUE(rig.driver->devices.empty());
  EXPECT_TRUE(rig.driver->unloaded) << "its last device went";
  EXPECT_TRUE(n->raw_resources.empty());
  EXPECT_TRUE(rig.pnp.arbiter().claims().empty()) << "the ports are free again";
  io::Handle h;
  EXPECT_EQ(rig.io.open("\\Device\\Fn0", h), Status::object_name_not_found);
}

// Microsoft, "Starting a Device": creates are blocked until the start succeeds. A device left
// stopped by a resource conflict keeps its drivers but cannot be opened.
TEST(PnpFailure, ACreateForADeviceThatNeverStartedFails) {
  Rig rig;
  // Both want the same fixed ports: the second one conflicts.
  rig.report("a", true);
  rig.report("b", true);
  rig.pnp.enumerate();
  const io::DevNode* a = rig.node("a");
  const io::DevNode* b = rig.node("b");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(a->state, io::DevNodeState::started);
  io::Handle h;
  EXPECT_EQ(rig.io.open("\\Device\\Fn0", h), Status::success);
  ASSERT_EQ(b->state, io::DevNodeState::not_started);
  EXPECT_NE(b->problem.find("CM_PROB_NORMAL_CONFLICT"), std::string::npos) << b->problem;
  EXPECT_EQ(rig.io.open("\\Device\\Fn1", h), Status::no_such_device);
}

// IO_REMOVE_LOCK (Microsoft, "Using Remove Locks"): each acquisition is counted; once
// IoReleaseRemoveLockAndWait has run, acquisitions fail with STATUS_DELETE_PENDING; it returns
// at once when nothing else is counted.
TEST(RemoveLock, CountsRequestsAndRefusesNewOnesOnceRemoveBegins) {
  Rig rig;
  io::RemoveLock lock;
  EXPECT_EQ(rig.io.acquire_remove_lock(lock), Status::success);
  EXPECT_EQ(rig.io.acquire_remove_lock(lock), Status::success);
  EXPECT_EQ(lock.count, 3u) << "the lock's own count and two requests";
  rig.io.release_remove_lock(lock);
  rig.io.release_remove_lock(lock);
  EXPECT_EQ(lock.count, 1u);
  EXPECT_EQ(rig.io.acquire_remove_lock(lock), Status::success);  // REMOVE_DEVICE's own
  rig.io.release_remove_lock_and_wait(lock);
  EXPECT_EQ(lock.count, 0u);
  EXPECT_TRUE(lock.drained.signaled);
  EXPECT_EQ(rig.io.acquire_remove_lock(lock), Status::delete_pending);
}

// IoManager::dispatch_pnp releases every function and filter device's remove lock and waits on
// it in REMOVE_DEVICE (nothing is counted here, so it returns at once); a driver's acquisition
// after that is refused.
TEST(RemoveLock, RemoveDeviceLeavesTheLockRefusingRequests) {
  Rig rig;
  rig.report("a");
  rig.start_status = Status::insufficient_resources;  // a failed start: REMOVE_DEVICE follows
  rig.pnp.enumerate();
  ASSERT_EQ(rig.functions.size(), 1u);
  EXPECT_TRUE(rig.functions[0]->remove_lock.removed);
  EXPECT_EQ(rig.io.acquire_remove_lock(rig.functions[0]->remove_lock), Status::delete_pending);
}

// The four outcomes of a device after its start, each as Microsoft orders the IRPs.
std::vector<std::string> after_start(const std::vector<std::string>& seen) {
  const auto it = std::find(seen.begin(), seen.end(), "IRP_MN_QUERY_DEVICE_RELATIONS");
  return it == seen.end() ? std::vector<std::string>{}
                          : std::vector<std::string>(it + 1, seen.end());
}

// An orderly removal: QUERY_REMOVE, then REMOVE_DEVICE; the resources are free again.
TEST(PnpRemoval, QueryRemoveThenRemove) {
  Rig rig;
  rig.report("a");
  rig.pnp.enumerate();
  io::DevNode& n = const_cast<io::DevNode&>(*rig.node("a"));
  std::string why;
  ASSERT_TRUE(rig.pnp.request_removal(n, why)) << why;
  EXPECT_EQ(after_start(rig.seen),
            (std::vector<std::string>{"IRP_MN_QUERY_REMOVE_DEVICE", "IRP_MN_REMOVE_DEVICE"}));
  EXPECT_EQ(n.state, io::DevNodeState::removed);
  EXPECT_TRUE(rig.pnp.arbiter().claims().empty());
  EXPECT_TRUE(rig.driver->unloaded);
}

// A driver that fails QUERY_REMOVE vetoes it: CANCEL_REMOVE follows, the device stays started.
TEST(PnpRemoval, AVetoedQueryRemoveIsCancelled) {
  Rig rig;
  rig.report("a");
  rig.pnp.enumerate();
  rig.query_status = Status::device_busy;
  io::DevNode& n = const_cast<io::DevNode&>(*rig.node("a"));
  std::string why;
  EXPECT_FALSE(rig.pnp.request_removal(n, why));
  EXPECT_NE(why.find("vetoed"), std::string::npos) << why;
  EXPECT_EQ(after_start(rig.seen), (std::vector<std::string>{"IRP_MN_QUERY_REMOVE_DEVICE",
                                                             "IRP_MN_CANCEL_REMOVE_DEVICE"}));
  EXPECT_EQ(n.state, io::DevNodeState::started);
  io::Handle h;
  EXPECT_EQ(rig.io.open("\\Device\\Fn0", h), Status::success) << "still there";
}

// A rebalance: QUERY_STOP, STOP_DEVICE, then START_DEVICE with a new assignment (and the
// queries after a start); a veto brings CANCEL_STOP instead.
TEST(PnpRemoval, QueryStopStopThenStartAgainOrCancelOnAVeto) {
  Rig rig;
  rig.report("a");
  rig.pnp.enumerate();
  io::DevNode& n = const_cast<io::DevNode&>(*rig.node("a"));
  std::string why;
  ASSERT_TRUE(rig.pnp.stop_and_restart(n, why)) << why;
  EXPECT_EQ(after_start(rig.seen),
            (std::vector<std::string>{"IRP_MN_QUERY_STOP_DEVICE", "IRP_MN_STOP_DEVICE",
                                      "IRP_MN_START_DEVICE", "IRP_MN_QUERY_CAPABILITIES",
                                      "IRP_MN_QUERY_PNP_DEVICE_STATE"}));
  EXPECT_EQ(n.state, io::DevNodeState::started);
  EXPECT_EQ(rig.pnp.stats().started, 1u) << "restarting is no second device";
  rig.seen.clear();
  rig.seen.push_back("IRP_MN_QUERY_DEVICE_RELATIONS");  // the mark after_start() looks for
  rig.query_status = Status::device_busy;
  EXPECT_FALSE(rig.pnp.stop_and_restart(n, why));
  EXPECT_EQ(after_start(rig.seen),
            (std::vector<std::string>{"IRP_MN_QUERY_STOP_DEVICE", "IRP_MN_CANCEL_STOP_DEVICE"}));
  EXPECT_EQ(n.state, io::DevNodeState::started);
}

// A driver that reports PNP_DEVICE_FAILED after its start is removed (CM_PROB_FAILED_POST_START).
TEST(PnpRemoval, ADeviceThatReportsFailedAfterItsStartIsRemoved) {
  Rig rig;
  rig.report("a");
  rig.device_state = io::kPnpDeviceFailed;
  rig.pnp.enumerate();
  const io::DevNode* n = rig.node("a");
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->state, io::DevNodeState::not_started);
  EXPECT_NE(n->problem.find("CM_PROB_FAILED_POST_START (43)"), std::string::npos) << n->problem;
  EXPECT_EQ(rig.seen.back(), "IRP_MN_REMOVE_DEVICE");
  EXPECT_TRUE(rig.pnp.arbiter().claims().empty());
}

}  // namespace
