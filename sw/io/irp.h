#pragma once
// I/O request packets (IRP, IO_STACK_LOCATION, IO_STATUS_BLOCK) and the objects they travel
// between: driver objects (DRIVER_OBJECT), device objects (DEVICE_OBJECT) with their device
// queues (KDEVICE_QUEUE), file objects (FILE_OBJECT). Plain structs, as in NT; the I/O manager
// (sw/io/io_manager.h) links them and runs the rules.
#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "sw/io/resources.h"
#include "sw/ke/objects.h"

namespace io {

// NTSTATUS values the I/O path uses (winnt.h / ntstatus.h).
enum class Status : std::uint32_t {
  success = 0x00000000,
  pending = 0x00000103,
  end_of_file = 0xC0000011,
  more_processing_required = 0xC0000016,
  invalid_parameter = 0xC000000D,
  no_such_device = 0xC000000E,
  delete_pending = 0xC0000056,
  not_supported = 0xC00000BB,
  invalid_device_request = 0xC0000010,
  object_name_not_found = 0xC0000034,
  insufficient_resources = 0xC000009A,
  cancelled = 0xC0000120,
  io_device_error = 0xC0000185,
  device_busy = 0x80000011,  // a warning (not NT_SUCCESS): a driver vetoing a query
};
// NT_SUCCESS: success and informational codes (STATUS_PENDING counts as success).
inline bool nt_success(Status s) {
  return static_cast<std::uint32_t>(s) < 0x80000000u;
}
const char* to_string(Status s);

enum class Major : std::uint8_t { create, close, read, write, device_control, pnp, count };
const char* to_string(Major m);
// IRP_MJ_PNP's minor functions the PnP manager sends (wdm.h's IRP_MN_*).
enum class Minor : std::uint8_t {
  none,
  start_device,
  query_resource_requirements,
  query_id,
  query_device_relations,
  remove_device,
  surprise_removal,
  filter_resource_requirements,
  read_config,
  query_capabilities,
  query_pnp_device_state,
  query_remove_device,
  cancel_remove_device,
  query_stop_device,
  stop_device,
  cancel_stop_device,
};
const char* to_string(Minor m);
// IRP_MN_QUERY_ID's BUS_QUERY_ID_TYPE.
enum class IdType : std::uint8_t { device_id, hardware_ids, compatible_ids, instance_id };
constexpr unsigned kMajorCount = static_cast<unsigned>(Major::count);

class IoManager;
struct Irp;
struct DeviceObject;
struct DriverObject;
struct FileObject;

// DEVICE_CAPABILITIES, the part the PnP manager uses: filled by the bus driver, adjusted on
// the way up by the drivers above it.
struct DeviceCapabilities {
  bool removable = false;            // the device can be ejected (a hot-plug slot)
  bool surprise_removal_ok = false;  // leaving without warning is expected
  bool unique_id = false;            // its instance ID is unique machine-wide
  std::uint32_t address = 0;         // on its bus (PCI: device << 16 | function)
  std::uint32_t ui_number = 0;       // the slot number a user sees
};

// PNP_DEVICE_STATE flags (IRP_MN_QUERY_PNP_DEVICE_STATE).
enum PnpDeviceState : std::uint32_t {
  kPnpDeviceDisabled = 0x1,
  kPnpDeviceDontDisplayInUi = 0x2,
  kPnpDeviceFailed = 0x4,
  kPnpDeviceRemoved = 0x8,
  kPnpDeviceResourceRequirementsChanged = 0x10,
  kPnpDeviceNotDisableable = 0x20,
};

// What a PnP query returns (NT returns it through IoStatus.Information as a pointer to pool the
// caller frees): the IDs, the child PDOs (BusRelations), the resource requirements, the
// capabilities, the device state.
struct PnpResult {
  std::vector<std::string> ids;
  std::vector<DeviceObject*> relations;
  ResourceRequirements requirements;
  DeviceCapabilities capabilities;
  std::uint32_t device_state = 0;
};

struct IoStatusBlock {
  Status status = Status::success;
  std::uint64_t information = 0;  // bytes transferred, for reads and writes
};

// IO_COMPLETION_ROUTINE: called with the device of the driver that set it.
using CompletionRoutine = Status (*)(DeviceObject* device, Irp* irp, void* context);
// DRIVER_DISPATCH.
using DispatchRoutine = Status (*)(DeviceObject* device, Irp* irp);
// DRIVER_STARTIO, DRIVER_CANCEL.
using StartIoRoutine = void (*)(DeviceObject* device, Irp* irp);
using CancelRoutine = void (*)(DeviceObject* device, Irp* irp);
// FAST_IO_READ / FAST_IO_WRITE: true if the request was satisfied without an IRP.
using FastIoRoutine = bool (*)(FileObject* file, std::uint64_t offset, std::uint32_t length,
                               std::uint64_t buffer, IoStatusBlock* status, DeviceObject* device);
// IO_DPC_ROUTINE: a device's DpcForIsr, queued by IoRequestDpc.
using DpcForIsrRoutine = void (*)(ke::Dpc* dpc, DeviceObject* device, Irp* irp, void* context);

enum StackControl : std::uint8_t {
  kSlPendingReturned = 0x01,
  kSlInvokeOnCancel = 0x20,
  kSlInvokeOnSuccess = 0x40,
  kSlInvokeOnError = 0x80,
};

struct IoStackLocation {
  Major major = Major::read;
  std::uint8_t control = 0;
  struct {
    std::uint32_t length = 0;
    std::uint64_t offset = 0;  // bytes
  } rw;
  struct {
    std::uint32_t code = 0, input_length = 0, output_length = 0;
  } ioctl;
  // IRP_MJ_PNP's parameters: the minor and what it takes.
  struct Pnp {
    Minor minor = Minor::none;
    IdType id_type = IdType::device_id;
    const ResourceList* raw = nullptr;         // START_DEVICE: AllocatedResources
    const ResourceList* translated = nullptr;  // START_DEVICE: AllocatedResourcesTranslated
    // READ_CONFIG (WhichSpace PCI_WHICHSPACE_CONFIG): Buffer, Offset, Length.
    std::uint8_t* buffer = nullptr;
    std::uint32_t offset = 0, length = 0;
  } pnp;
  DeviceObject* device = nullptr;
  FileObject* file = nullptr;
  CompletionRoutine completion = nullptr;
  void* context = nullptr;
};

struct Irp {
  std::uint64_t id = 0;
  std::vector<IoStackLocation> stack;  // stack[0] is the lowest driver's
  // NT's CurrentLocation: stack_count()+1 before the first IoCallDriver, decremented by each call,
  // incremented by completion as it unwinds. 1-based: the current location is stack[current-1].
  int current_location = 0;
  IoStatusBlock io_status;
  bool pending_returned = false;
  bool cancel = false;
  CancelRoutine cancel_routine = nullptr;
  ke::Irql cancel_irql = 0;
  // Buffers, as physical addresses in the simulated RAM.
  std::uint64_t system_buffer = 0;  // buffered I/O: the I/O manager's copy
  std::uint64_t mdl_address = 0;    // direct I/O: the caller's buffer itself (one run of RAM)
  bool paging_io = false;           // IRP_PAGING_IO: the memory manager's read or write of a page
  std::uint64_t user_buffer = 0;
  // What the I/O manager does when the request is done.
  ke::Event* user_event = nullptr;
  IoStatusBlock* user_iosb = nullptr;
  bool copy_back = false;  // buffered read: system buffer -> user buffer on completion
  bool io_manager_owned = false;
  bool done = false;
  FileObject* file = nullptr;
  std::uint64_t issued_ps = 0;
  // Device queue linkage (KDEVICE_QUEUE_ENTRY).
  std::uint64_t sort_key = 0;
  bool queued = false;
  bool pnp = false;                 // sent by the PnP manager (not a request: no latency)
  PnpResult* pnp_result = nullptr;  // IRP_MJ_PNP queries: where the answer goes
  // Driver-private scratch (Tail.Overlay.DriverContext).
  std::array<std::uint64_t, 4> driver_context{};

  int stack_count() const { return static_cast<int>(stack.size()); }
  // IoGetCurrentIrpStackLocation / IoGetNextIrpStackLocation. Past either end (a driver that
  // sets up a location the IRP does not have) they give a scratch location, as NT's pointer
  // arithmetic would give memory below the IRP: the IoCallDriver that follows bug-checks
  // NO_MORE_IRP_STACK_LOCATIONS instead of the host crashing.
  IoStackLocation& current() { return at(current_location - 1); }
  IoStackLocation& next() { return at(current_location - 2); }
  IoStackLocation& at(int i) {
    return i >= 0 && i < stack_count() ? stack[static_cast<std::size_t>(i)] : overflow;
  }
  IoStackLocation overflow;
};

// KDEVICE_QUEUE: a busy flag and IRPs waiting for the device, FIFO or sorted by key.
struct DeviceQueue {
  bool busy = false;
  std::deque<Irp*> entries;
};

enum DeviceFlags : std::uint32_t {
  kDoBufferedIo = 0x04,
  kDoDirectIo = 0x10,
  kDoDeviceInitializing = 0x80,
};

// A function or filter driver's Plug and Play half for one device object (what a KMDF driver's
// EvtDevicePrepareHardware / EvtDeviceSurpriseRemoval / cleanup would be): the I/O manager's
// IoManager::dispatch_pnp sends START_DEVICE down first and calls start() on the way up, and
// calls the removal hooks before passing those IRPs down, as Microsoft's rules for function
// drivers order them.
// IO_REMOVE_LOCK: counts the requests a driver is working on, so that IRP_MN_REMOVE_DEVICE can
// wait for them before the driver lets go of its device. IoInitializeRemoveLock leaves one
// count (the lock's own), released by IoReleaseRemoveLockAndWait.
struct RemoveLock {
  std::uint64_t count = 1;
  bool removed = false;
  ke::Event drained;  // signalled when the count reaches 0 after removal
  bool initialized = false;
};

class PnpDevice {
 public:
  virtual ~PnpDevice() = default;
  // The resources assigned (raw, as the bus sees them, and translated): connect the interrupt,
  // map the registers. A failure status leaves the device stopped.
  virtual Status start(const ResourceList& raw, const ResourceList& translated) = 0;
  // The hardware is gone: fail every queued and in-progress request, touch no register.
  virtual void surprise_removal() {}
  // Before the device object is detached and deleted: disconnect the interrupt.
  virtual void remove() {}
  // IRP_MN_QUERY_REMOVE_DEVICE / IRP_MN_QUERY_STOP_DEVICE: a failure status vetoes (the PnP
  // manager then sends the CANCEL); success promises to take no new work that would stop it.
  virtual Status query_remove() { return Status::success; }
  virtual void cancel_remove() {}
  virtual Status query_stop() { return Status::success; }
  // IRP_MN_STOP_DEVICE: let go of the resources (disconnect, unmap); a START_DEVICE with new
  // ones follows. IRP_MN_CANCEL_STOP_DEVICE: carry on with the old ones.
  virtual void stop() {}
  virtual void cancel_stop() {}
  // IRP_MN_QUERY_PNP_DEVICE_STATE: PnpDeviceState flags (kPnpDeviceFailed: the device failed
  // after starting, and is removed).
  virtual std::uint32_t device_state() { return 0; }

  // Whether requests may go to the hardware: START_DEVICE succeeded and no removal came since
  // (IoManager::dispatch_pnp keeps both, so a driver has no flags of its own for them).
  bool started() const { return started_ && !gone_; }
  bool gone() const { return gone_; }
  // The device's remove lock: IoManager::dispatch_pnp waits on it in IRP_MN_REMOVE_DEVICE before
  // calling remove(); a driver acquires it for each request it works on.
  RemoveLock remove_lock;

 protected:
  // The driver found the hardware gone by itself (a register reading all ones).
  void mark_gone() { gone_ = true; }

 private:
  friend class IoManager;
  bool started_ = false, gone_ = false;
};

struct DeviceObject {
  std::string name;  // "\Device\Disk0", or "" for an unnamed filter device
  DriverObject* driver = nullptr;
  std::uint32_t flags = kDoDeviceInitializing;
  int stack_size = 1;                       // StackSize: locations an IRP for this device needs
  DeviceObject* attached_device = nullptr;  // the device attached above this one
  DeviceObject* lower = nullptr;            // what this device attached to (its extension's copy)
  DeviceQueue queue;
  Irp* current_irp = nullptr;
  ke::Dpc dpc;  // DeviceObject->Dpc, set up by IoInitializeDpcRequest
  DpcForIsrRoutine dpc_for_isr = nullptr;
  // IoSetStartIoAttributes (the DOE_SIO_* flags of the device object extension).
  bool start_io_deferred = false, start_io_non_cancelable = false;
  bool in_start_io = false;
  // A start_next_packet(_by_key) that deferred StartIo holds until StartIo returns.
  struct DeferredStartNext {
    bool cancelable;
    std::optional<std::uint64_t> key;
  };
  std::optional<DeferredStartNext> deferred_start_next;
  std::vector<std::uint8_t> extension;  // DeviceExtension
  void* context = nullptr;              // the driver's object for this device
  PnpDevice* pnp = nullptr;             // its PnP half (function and filter devices)
  bool pdo = false;                     // a physical device object (made by a bus driver)
  // A PDO: its device node is started. Creates for a stack whose PDO is not are refused
  // (Microsoft, "Starting a Device": the PnP manager blocks creates until the start succeeds).
  bool started = false;
  bool removed = false;  // REMOVE_DEVICE has been processed: deleted
  template <typename T>
  T& ext() {
    return *static_cast<T*>(context);
  }
};

struct FastIoDispatch {
  FastIoRoutine read = nullptr;
  FastIoRoutine write = nullptr;
};

struct DriverObject {
  std::string name;  // "\Driver\Disk"
  std::array<DispatchRoutine, kMajorCount> major_function{};
  StartIoRoutine start_io = nullptr;
  std::function<void(DriverObject&)> unload;
  // DriverExtension->AddDevice: creates the FDO (or filter DO) for `pdo` and attaches it.
  std::function<Status(DriverObject&, DeviceObject& pdo)> add_device;
  bool unloaded = false;  // its Unload has run
  FastIoDispatch fast_io;
  std::vector<DeviceObject*> devices;
  IoManager* io = nullptr;  // the I/O manager that loaded it
  void* context = nullptr;  // the driver's own object
};

struct FileObject {
  DeviceObject* device = nullptr;  // the named device it was opened on
  std::string path;
  std::uint64_t current_offset = 0;
  ke::Event event;  // signalled when a pending synchronous request completes
  bool open = false;
};

}  // namespace io
