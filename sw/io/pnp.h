#pragma once
// The Plug and Play manager: the device tree (device nodes), enumeration, driver binding,
// resource arbitration, start and removal (ReactOS ntoskrnl/io/pnpmgr; Windows Internals, "Plug
// and Play"). For each new device node, in this order:
//   1. IRP_MN_QUERY_ID (device, hardware, compatible and instance IDs) to the PDO
//   2. IRP_MN_QUERY_RESOURCE_REQUIREMENTS to the PDO (the bus driver), before any driver loads
//   3. the driver table (the INF search): the function driver and upper filters for the IDs
//   4. AddDevice of the function driver, then of each upper filter (each attaches a device)
//   5. IRP_MN_FILTER_RESOURCE_REQUIREMENTS to the whole stack (drivers may change the list)
//   6. arbitration across every device (sw/io/resources.h); a device whose requirements cannot
//      be met stays stopped with the reason (CM_PROB_NORMAL_CONFLICT), its drivers attached
//   7. translation by the HAL (IRQ -> vector and IRQL; a level-sensitive IRQ is made level-
//      triggered in ELCR first), then IRP_MN_START_DEVICE with the raw and translated lists;
//      a failed start is followed by IRP_MN_REMOVE_DEVICE (the stack goes, the PDO stays)
//   8. IRP_MN_QUERY_DEVICE_RELATIONS (BusRelations): a bus's children become new nodes, a
//      level at a time (every child of a bus started before any grandchild), so the root's
//      legacy devices hold their fixed resources before the PCI bus asks for any
// A create for a stack whose PDO has not started fails (DeviceObject::started).
// IoInvalidateDeviceRelations re-runs 8 for a bus: new children are processed, vanished ones
// are surprise-removed (IRP_MN_SURPRISE_REMOVAL, then IRP_MN_REMOVE_DEVICE, children first),
// their resources released, and a driver whose last device went is unloaded (its Unload runs).
//
// The PnP manager is also the root enumerator's driver (\Driver\PnpManager): the root's
// children are the devices reported to it (add_root_device: the chipset and the legacy
// devices, with fixed resources, like Root\ keys of the registry). PnP IRPs are sent at
// PASSIVE_LEVEL from a system thread and waited for, one tree operation at a time.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sw/io/io_manager.h"
#include "sw/io/resources.h"

namespace io {

enum class DevNodeState : std::uint8_t {
  initialized,  // PDO known, IDs queried
  drivers_added,
  started,
  not_started,  // with a problem (no driver, resource conflict, start failed)
  removed,      // surprise-removed: the hardware left
};
const char* to_string(DevNodeState s);

struct DevNode {
  std::string instance_path;  // <device ID>\<instance ID>, e.g. PCI\VEN_1CC5&DEV_0002\3
  std::string description;
  std::vector<std::string> hardware_ids, compatible_ids;
  DevNode* parent = nullptr;
  std::vector<DevNode*> children;
  DeviceObject* pdo = nullptr;
  std::string service;               // the function driver's name ("" = none)
  std::vector<std::string> filters;  // upper filters' names
  bool raw = false;  // started with no function driver (the chipset's, a workload's own)
  DevNodeState state = DevNodeState::initialized;
  std::string problem;  // why not started ("" when started)
  ResourceRequirements requirements;
  ResourceList raw_resources, translated_resources;
  DeviceCapabilities capabilities;  // IRP_MN_QUERY_CAPABILITIES (again after the start)
  std::uint32_t device_state = 0;   // IRP_MN_QUERY_PNP_DEVICE_STATE after the start
  std::string name;                 // the arbiter's owner name (instance path)
  std::string tag;                  // a root device's RootDevice::tag
};

// A device the root enumerator reports: the chipset's parts and legacy devices.
struct RootDevice {
  std::string id;  // device ID (ROOT\...) and hardware ID
  std::string description;
  std::vector<std::string> hardware_ids;
  ResourceRequirements requirements;  // fixed ones
  bool raw = false;                   // no driver: the HAL owns it (started as it is)
  std::string tag;                    // the reporter's name for it (copied to the DevNode)
};

// What the driver table says for a device node.
struct DriverBinding {
  DriverObject* function = nullptr;  // null: none matches
  std::vector<DriverObject*> upper_filters;
  bool raw = false;     // start the device with no function driver
  std::string problem;  // why no driver (when function is null and not raw)
};

struct PnpStats {
  std::uint64_t enumerations = 0, started = 0, not_started = 0, removed = 0, unloaded = 0;
  std::uint64_t irps = 0;
};

class PnpManager {
 public:
  using DriverTable = std::function<DriverBinding(const DevNode&)>;

  explicit PnpManager(IoManager& io);
  PnpManager(const PnpManager&) = delete;
  PnpManager& operator=(const PnpManager&) = delete;

  void add_root_device(RootDevice device);
  void set_driver_table(DriverTable table) { table_ = std::move(table); }
  // Enumerates the root and every bus below it, starting each device (PASSIVE_LEVEL, a thread).
  void enumerate();
  // IoInvalidateDeviceRelations(BusRelations) for the bus whose stack holds `device`, handled
  // at once on the calling thread (PASSIVE_LEVEL).
  void invalidate_device_relations(DeviceObject& device);
  // An orderly removal (a user's "safely remove", IoRequestDeviceEject): IRP_MN_QUERY_REMOVE_DEVICE
  // to the stack; a driver that fails it vetoes, and IRP_MN_CANCEL_REMOVE_DEVICE follows (false,
  // `why` the status); else IRP_MN_REMOVE_DEVICE, the resources are freed and drivers whose last
  // device it was are unloaded. PASSIVE_LEVEL.
  bool request_removal(DevNode& node, std::string& why);
  // A stop to rebalance resources: IRP_MN_QUERY_STOP_DEVICE (a veto brings
  // IRP_MN_CANCEL_STOP_DEVICE and false), then IRP_MN_STOP_DEVICE, arbitration anew without the
  // old assignment, and IRP_MN_START_DEVICE with what it gets. PASSIVE_LEVEL.
  bool stop_and_restart(DevNode& node, std::string& why);

  DevNode& root() { return *root_; }
  const std::vector<std::unique_ptr<DevNode>>& nodes() const { return nodes_; }
  DevNode* node_of(const DeviceObject& pdo) const;
  const ResourceArbiter& arbiter() const { return arbiter_; }
  // Windows sends IRP_MN_REMOVE_DEVICE to a surprise-removed device only once its last handle
  // is closed (Microsoft, "Handling an IRP_MN_SURPRISE_REMOVAL Request"); false sends it right
  // after IRP_MN_SURPRISE_REMOVAL, as ReactOS does.
  void set_remove_after_close(bool after_close) { remove_after_close_ = after_close; }
  const PnpStats& stats() const { return stats_; }
  std::size_t started() const;  // device nodes started now (the root not counted)
  IoManager& io() { return io_; }

 private:
  // Sends IRP_MJ_PNP `minor` to the top of the node's stack and waits; the final status.
  Status send(DevNode& node, Minor minor, PnpResult* result, IdType id = IdType::device_id);
  void process(DevNode& node);       // steps 1-7
  void enumerate_bus(DevNode& bus);  // step 8 (and removal of vanished children)
  void remove_subtree(DevNode& node, bool surprise);
  // IRP_MN_REMOVE_DEVICE to the node's stack; drivers whose last device went are unloaded.
  void tear_down(DevNode& node);
  // The REMOVE_DEVICE a surprise removal held back while handles were open; then the rest of
  // the removal (resources, unload).
  void finish_removal(DevNode& node);
  // Steps 7 and after: translation, START_DEVICE, the queries after a start (capabilities,
  // device state); false if the device did not start or failed right after.
  bool start(DevNode& node);
  // A device that will not run: REMOVE_DEVICE to its stack, its resources freed, the problem.
  void unstart(DevNode& node, std::string problem);
  void last_handle_closed(DeviceObject& pdo);
  // QUERY_REMOVE or QUERY_STOP to the node's stack; a veto brings the matching cancel, and
  // false with `why`.
  bool query_or_cancel(DevNode& node, Minor query, Minor cancel, std::string& why);
  void fail(DevNode& node, std::string problem);
  DevNode& new_node(DevNode* parent, DeviceObject* pdo);
  static Status root_dispatch(DeviceObject* device, Irp* irp);

  IoManager& io_;
  DriverObject* root_driver_ = nullptr;
  DevNode* root_ = nullptr;
  std::vector<std::unique_ptr<DevNode>> nodes_;
  std::vector<RootDevice> root_devices_;
  std::vector<DeviceObject*> root_pdos_;  // in root_devices_' order
  DriverTable table_;
  ResourceArbiter arbiter_;
  ke::Event done_;
  // Serializes the device tree's operations (Windows queues them to one worker): a hot-plug
  // rescan waits while the boot enumeration runs, and the reverse.
  ke::Event tree_lock_;
  bool remove_after_close_ = true;
  std::vector<DevNode*> awaiting_close_;  // surprise-removed, REMOVE_DEVICE held back
  PnpStats stats_;
};

}  // namespace io
