#pragma once
// The I/O manager of one processor: IRPs (allocate, call down, complete with completion
// routines), driver and device objects, device stacks, device queues and StartIo, cancel, the
// object namespace and file objects, and the system services applications call (open, read,
// write, device control, close; synchronous or asynchronous; buffered or direct I/O; fast I/O).
//
// One concept per file: irp.cpp (IoAllocateIrp, IoCallDriver, IoCompleteRequest),
// driver.cpp (driver and device objects, attach, namespace), queue.cpp (device queues,
// IoStartPacket, IoStartNextPacket), cancel.cpp, file.cpp (the system services). Each public
// routine names its NT counterpart.
//
// Departures from NT: there are no APCs, so the last stage of completion (copying a buffered
// read back, setting the caller's status block and event) runs in the context that completes
// the request, not in the requesting thread. One processor: the cancel spin lock is a raise to
// DISPATCH_LEVEL.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sw/hal/window.h"
#include "sw/io/irp.h"
#include "sw/io/pool.h"
#include "sw/ke/kernel.h"
#include "sw/mm/mm.h"

namespace io {

// Cycles the I/O manager charges for its own work.
struct IoCosts {
  unsigned allocate_irp = 120;    // IoAllocateIrp and building the top location
  unsigned call_driver = 30;      // IoCallDriver
  unsigned complete = 80;         // IoCompleteRequest, per stack location unwound
  unsigned fast_io = 60;          // the fast I/O check and call
  unsigned system_service = 150;  // entering and leaving NtReadFile and friends
};

// A translated interrupt resource (CM_PARTIAL_RESOURCE_DESCRIPTOR, CmResourceTypeInterrupt):
// what IoConnectInterrupt takes.
// IoConnectInterrupt's parameters: the translated interrupt resource (vector, IRQL, mode,
// share disposition, affinity) and what the driver adds: a SynchronizeIrql above the IRQL and a
// spin lock when several interrupt objects share one, and a narrower ProcessorEnableMask.
struct InterruptResource {
  std::uint8_t vector = 0;
  ke::Irql irql = 0;
  ke::InterruptMode mode = ke::InterruptMode::latched;
  bool shared = false;
  std::uint64_t affinity = ~std::uint64_t{0};  // ProcessorEnableMask
  ke::Irql synchronize_irql = 0;               // 0: the IRQL
  ke::SpinLock* spin_lock = nullptr;           // null: the interrupt object's own
};

struct IoStats {
  std::uint64_t irps_allocated = 0, irps_completed = 0, dispatches = 0, completion_routines = 0;
  std::uint64_t start_io = 0, cancelled = 0, fast_io_hits = 0, fast_io_misses = 0;
  std::uint64_t reads = 0, writes = 0, bytes_read = 0, bytes_written = 0;
  std::uint64_t buffered_copies = 0;
  std::uint64_t pnp_irps = 0;     // IRP_MJ_PNP, not in the counts above
  ke::Histogram request_latency;  // issue to completion, per request
};

using Handle = int;
constexpr Handle kInvalidHandle = -1;

class IoManager {
 public:
  IoManager(ke::Kernel& kernel, Pool& pool, IoCosts costs = {});
  ~IoManager();
  IoManager(const IoManager&) = delete;
  IoManager& operator=(const IoManager&) = delete;

  ke::Kernel& kernel() { return kernel_; }
  Pool& pool() { return pool_; }
  // The memory manager drivers reach through the I/O manager (null: no paging, addresses are
  // physical).
  void set_memory_manager(mm::MemoryManager* m) { mm_ = m; }
  // MmGetPhysicalAddress for a driver programming DMA: the physical address of a nonpaged
  // buffer (the page tables walked with paging on, the address itself without).
  std::uint64_t physical_address(std::uint64_t va) {
    return mm_ != nullptr ? mm_->get_physical_address(va) : va;
  }
  const IoStats& stats() const { return stats_; }

  // --- drivers and devices (driver.cpp)
  // IopLoadDriver: creates the driver object and calls `entry` (DriverEntry) at PASSIVE_LEVEL.
  DriverObject& load_driver(const std::string& name,
                            const std::function<Status(DriverObject&)>& entry);
  void unload_driver(DriverObject& driver);
  // IoCreateDevice. `name` may be empty (filter devices). The device starts with
  // DO_DEVICE_INITIALIZING set; the driver clears it when ready (or the I/O manager refuses to
  // attach to it and to open it).
  DeviceObject* create_device(DriverObject& driver, const std::string& name, void* context);
  void delete_device(DeviceObject& device);  // IoDeleteDevice
  // IoAttachDeviceToDeviceStack: attaches `source` above the top of `target`'s stack; returns
  // the device it attached to (the old top), or null if that device is still initializing.
  DeviceObject* attach_device_to_device_stack(DeviceObject& source, DeviceObject& target);
  void detach_device(DeviceObject& lower);                  // IoDetachDevice
  DeviceObject* get_attached_device(DeviceObject& device);  // IoGetAttachedDevice: the top
  void create_symbolic_link(const std::string& link, const std::string& target);
  // ObReferenceObjectByName for devices, following symbolic links.
  DeviceObject* find_device(const std::string& path);

  // --- IRPs (irp.cpp)
  // IoAllocateIrp. `pnp`: the PnP manager's (counted apart from the I/O requests' IRPs).
  Irp* allocate_irp(int stack_size, bool pnp = false);
  void free_irp(Irp* irp);                             // IoFreeIrp
  Status call_driver(DeviceObject& device, Irp& irp);  // IoCallDriver
  void complete_request(Irp& irp);                     // IoCompleteRequest
  void mark_irp_pending(Irp& irp);                     // IoMarkIrpPending
  // IoSetCompletionRoutine: in the next (lower) driver's location.
  void set_completion_routine(Irp& irp, CompletionRoutine routine, void* context, bool on_success,
                              bool on_error, bool on_cancel);
  void copy_current_irp_stack_location_to_next(Irp& irp);  // IoCopyCurrentIrpStackLocationToNext
  void skip_current_irp_stack_location(Irp& irp);          // IoSkipCurrentIrpStackLocation
  // The default dispatch routine: completes with STATUS_INVALID_DEVICE_REQUEST.
  static Status invalid_device_request(DeviceObject* device, Irp* irp);
  // A dispatch routine that completes with STATUS_SUCCESS: create and close for drivers with
  // nothing to do on them.
  static Status succeed_request(DeviceObject* device, Irp* irp);

  // --- Plug and Play, for drivers (pnp_dispatch.cpp)
  // IoForwardIrpSynchronously: sends the IRP's current location down to `lower` and waits
  // until the lower drivers complete it; the IRP is the caller's again (to complete).
  Status forward_irp_synchronously(DeviceObject& lower, Irp& irp);
  // IoAcquireRemoveLock: STATUS_DELETE_PENDING once REMOVE_DEVICE has begun, else counts one
  // request (release it with release_remove_lock when the request is done).
  Status acquire_remove_lock(RemoveLock& lock);
  void release_remove_lock(RemoveLock& lock);  // IoReleaseRemoveLock
  // IoReleaseRemoveLockAndWait (PASSIVE_LEVEL, in REMOVE_DEVICE): releases the caller's own
  // acquisition and the lock's initial count, refuses new acquisitions, and waits until every
  // request still counted has been released.
  void release_remove_lock_and_wait(RemoveLock& lock);
  // IRP_MJ_PNP with `parameters` to the top of `device`'s stack, waited for on `done` if it
  // pends (PASSIVE_LEVEL); `result` receives what a query returns. The IRP starts as
  // STATUS_NOT_SUPPORTED (Microsoft): a driver that does not handle the minor passes it down
  // untouched. The final status.
  Status send_pnp(DeviceObject& device, const IoStackLocation::Pnp& parameters, PnpResult* result,
                  ke::Event& done);
  // IRP_MN_READ_CONFIG (PCI_WHICHSPACE_CONFIG), sent to the top of `device`'s stack and waited
  // for (PASSIVE_LEVEL): `length` bytes of the device's configuration space from `offset` into
  // `buffer`, read by its bus driver. STATUS_NOT_SUPPORTED on a bus without one (legacy).
  Status read_config(DeviceObject& device, std::uint32_t offset, std::uint8_t* buffer,
                     std::uint32_t length);
  // Completes `irp` with `status` and no information; returns `status` (a dispatch routine's
  // refusal in one line).
  Status fail_request(Irp& irp, Status status);
  // IoSkipCurrentIrpStackLocation + IoCallDriver(lower).
  Status pass_down(DeviceObject& device, Irp& irp);
  // The IRP_MJ_PNP dispatch routine of a function or filter driver whose device objects have a
  // PnpDevice (DeviceObject::pnp): START_DEVICE goes down first and PnpDevice::start runs on
  // the way up; SURPRISE_REMOVAL and REMOVE_DEVICE call their hook, go down, and REMOVE then
  // detaches and deletes the device object; every other minor is passed down untouched.
  static Status dispatch_pnp(DeviceObject* device, Irp* irp);
  // A driver's START: its register window from the raw resources — the port range, or the
  // memory range (MmMapIoSpace; physical = virtual here) — at least `min_length` bytes. False
  // (and `out` untouched) if the list has neither, or it is too small.
  bool map_register_window(const ResourceList& raw, std::uint64_t min_length,
                           hal::RegisterWindow& out) const;
  // A driver whose device left: completes the device's current IRP and every IRP in its device
  // queue with `status`, at DISPATCH_LEVEL, and leaves the queue idle. Returns how many.
  std::size_t fail_device_requests(DeviceObject& device, Status status);
  // The HAL's translation of raw resources for START_DEVICE: an interrupt gets the vector and
  // IRQL of its IRQ (HalGetInterruptVector); ports and memory are the same on x86.
  ResourceList translate_resources(const ResourceList& raw) const;

  // --- device queues and StartIo (queue.cpp)
  // KeInsertDeviceQueue / KeInsertByKeyDeviceQueue: false (and the queue is now busy) if it was
  // not busy; the caller then starts the entry itself.
  bool insert_device_queue(DeviceQueue& queue, Irp& irp);
  bool insert_by_key_device_queue(DeviceQueue& queue, Irp& irp, std::uint64_t key);
  Irp* remove_device_queue(DeviceQueue& queue);                            // KeRemoveDeviceQueue
  Irp* remove_by_key_device_queue(DeviceQueue& queue, std::uint64_t key);  // ...ByKeyDeviceQueue
  bool remove_entry_device_queue(DeviceQueue& queue, Irp& irp);  // KeRemoveEntryDeviceQueue
  // IoStartPacket: StartIo at DISPATCH_LEVEL now if the device is idle, else queued (by key if
  // given). `cancel` becomes the IRP's cancel routine. An IRP queued with a cancel routine whose
  // Cancel flag is already set is handed to that routine at once (with the cancel spin lock
  // held, as IoCancelIrp would), never left queued. The routine stays set while StartIo runs
  // unless the device asked for non-cancelable StartIo (set_start_io_attributes).
  void start_packet(DeviceObject& device, Irp& irp, std::optional<std::uint64_t> key,
                    CancelRoutine cancel);
  // IoStartNextPacket: `cancelable` says the queued IRPs have cancel routines, so the queue is
  // taken under the cancel spin lock; the started IRP's routine is cleared only for a device
  // with non-cancelable StartIo.
  void start_next_packet(DeviceObject& device, bool cancelable);
  void start_next_packet_by_key(DeviceObject& device, bool cancelable,
                                std::uint64_t key);  // IoStartNextPacketByKey
  // IoSetStartIoAttributes. `deferred_start_io`: a start_next_packet called from inside the
  // device's StartIo starts the next packet after StartIo returns instead of recursing.
  // `non_cancelable`: the cancel routine is cleared before StartIo gets an IRP. Default: both
  // false (StartIo IRPs are cancelable, as on Windows).
  void set_start_io_attributes(DeviceObject& device, bool deferred_start_io, bool non_cancelable);

  // --- interrupts and DPCs for drivers (interrupt.cpp)
  // HalGetInterruptVector on the PIC HAL: the translated interrupt resource of a bus IRQ
  // (vector = base + IRQ, IRQL = 27 - IRQ). What a driver finds in its translated resources.
  // A line the HAL made level-triggered (HalConfig::level_irqs) is level-sensitive and shared
  // whatever `mode` and `shared` ask: the platform decides a line's trigger mode, not a driver.
  InterruptResource translate_interrupt(unsigned irq, ke::InterruptMode mode, bool shared) const;
  // The translated resource as IoConnectInterrupt takes it from START_DEVICE's list.
  static InterruptResource interrupt_resource(const Resource& translated);
  // IoConnectInterrupt: creates an interrupt object for the translated resource and connects
  // `isr` to it: the vector, IRQL, SynchronizeIrql, mode, share disposition, affinity and an
  // optional spin lock shared with other interrupt objects. STATUS_INVALID_PARAMETER if the
  // vector and IRQL do not name one of the HAL's interrupts, SynchronizeIrql is below the IRQL,
  // the affinity names none of the processors the vector is delivered to, or the vector is
  // taken by an object that does not share it in the same mode.
  // The object belongs to the I/O manager (it outlives a disconnect, for the statistics).
  // `device`: the connecting driver's device object (reports name the driver the ISR belongs
  // to, as LatencyMon names a routine's module).
  Status connect_interrupt(ke::Interrupt*& object, std::string name, ke::ServiceRoutine isr,
                           void* context, const InterruptResource& resource,
                           const DeviceObject* device = nullptr);
  void disconnect_interrupt(ke::Interrupt* object);  // IoDisconnectInterrupt
  // IoInitializeDpcRequest: the device's DPC (DeviceObject->Dpc) calls `routine`. `name` names
  // it in events and statistics (default: the device's name).
  void initialize_dpc_request(DeviceObject& device, DpcForIsrRoutine routine,
                              std::string name = {});
  // IoRequestDpc: queues the device's DPC with the IRP and context; false if already queued.
  bool request_dpc(DeviceObject& device, Irp* irp, void* context);

  // --- cancel (cancel.cpp)
  bool cancel_irp(Irp& irp);  // IoCancelIrp
  // IoSetCancelRoutine: returns the previous routine (null if the IRP is being cancelled).
  CancelRoutine set_cancel_routine(Irp& irp, CancelRoutine routine);
  ke::Irql acquire_cancel_spin_lock();               // IoAcquireCancelSpinLock
  void release_cancel_spin_lock(ke::Irql old_irql);  // IoReleaseCancelSpinLock

  // --- system services (file.cpp), called by threads at PASSIVE_LEVEL
  // NtCreateFile: IRP_MJ_CREATE to the top of the named device's stack.
  Status open(const std::string& path, Handle& handle);
  Status close(Handle handle);  // NtClose: IRP_MJ_CLOSE
  // NtReadFile / NtWriteFile. `buffer` is a physical address in RAM. With `event` the request
  // is asynchronous: STATUS_PENDING may be returned, and on completion `iosb` is filled and
  // `event` set. Without, the thread waits (on the file object's event) and the final status is
  // returned with `iosb` filled. `offset`: none = the file's current offset.
  Status read(Handle handle, std::uint64_t buffer, std::uint32_t length,
              std::optional<std::uint64_t> offset, IoStatusBlock& iosb, ke::Event* event = nullptr);
  Status write(Handle handle, std::uint64_t buffer, std::uint32_t length,
               std::optional<std::uint64_t> offset, IoStatusBlock& iosb,
               ke::Event* event = nullptr);
  // NtDeviceIoControlFile, buffered: `in` and `out` are physical addresses.
  Status device_control(Handle handle, std::uint32_t code, std::uint64_t in,
                        std::uint32_t in_length, std::uint64_t out, std::uint32_t out_length,
                        IoStatusBlock& iosb);
  FileObject* file(Handle handle);

  // Copies `n` bytes of simulated RAM through the CPU (word accesses; n a multiple of 4 where
  // it can be, bytes for the rest): RtlCopyMemory on physical addresses.
  void copy_memory(std::uint64_t dst, std::uint64_t src, std::uint64_t n);

  // IoPageRead / IoSynchronousPageWrite: one page between `frame` (physical) and byte `offset`
  // of the file `handle` opens (the pagefile's disk), by a paging IRP (IRP_PAGING_IO, an MDL for
  // the frame) sent to the top of its device's stack, waited for on an event of the caller's.
  // PASSIVE_LEVEL. STATUS_NO_SUCH_DEVICE once the device has left the machine. The final status
  // block in `iosb`.
  Status page_io(Handle handle, bool write, std::uint64_t frame, std::uint64_t offset,
                 IoStatusBlock& iosb);

  // Open handles to any device of the stack whose bottom (PDO) is `pdo`.
  std::size_t open_handles(const DeviceObject& pdo) const;
  // Called (at PASSIVE_LEVEL, on the closing thread) when the last handle to a stack closes,
  // with its PDO: the PnP manager's cue for a REMOVE_DEVICE it held back.
  std::function<void(DeviceObject& pdo)> on_last_close;

 private:
  // An IRP with no parameters (create, close) to the top of the file's stack, waited for.
  Status simple_request(FileObject& f, Major major);

  // The top of the file's device stack; null once the device has been removed.
  DeviceObject* target_of(FileObject& f);
  // The `io request` and `io thread_resumed` events of a synchronous request.
  void emit_request(const Irp& irp, Major major, const DeviceObject& top, std::uint32_t length);
  void emit_thread_resumed(std::uint64_t irp, const IoStatusBlock& iosb);
  Status rw(Major major, Handle handle, std::uint64_t buffer, std::uint32_t length,
            std::optional<std::uint64_t> offset, IoStatusBlock& iosb, ke::Event* event);
  // The last stage of completion (IopCompleteRequest).
  void finish(Irp& irp);
  void start_io(DeviceObject& device, Irp& irp);
  // IopStartNextPacket: the shared body of start_next_packet(_by_key).
  void start_next(DeviceObject& device, bool cancelable, std::optional<std::uint64_t> key);
  // Takes the next queued IRP (by key if given) as the device's current one; null if none.
  Irp* next_packet(DeviceObject& device, bool cancelable, std::optional<std::uint64_t> key);

  ke::Kernel& kernel_;
  Pool& pool_;
  mm::MemoryManager* mm_ = nullptr;
  IoCosts costs_;
  IoStats stats_;
  std::uint64_t next_irp_id_ = 1;
  std::vector<std::unique_ptr<DriverObject>> drivers_;
  std::vector<std::unique_ptr<DeviceObject>> devices_;
  std::vector<std::unique_ptr<ke::Interrupt>> interrupts_;  // IoConnectInterrupt's objects
  std::map<std::string, DeviceObject*> names_;
  std::map<std::string, std::string> links_;
  std::vector<std::unique_ptr<FileObject>> files_;
  std::vector<std::unique_ptr<Irp>> irp_store_;  // allocated IRPs, recycled through free_list_
  std::vector<Irp*> free_list_;
};

// The pagefile: `size` bytes of a disk device from byte `offset`, one page a slot, read and
// written by paging IRPs down the disk's stack (the same driver, DMA and interrupt path as any
// read). What the memory manager pages to.
class PagingFile : public mm::PagingDevice {
 public:
  // `handle`: the disk opened for paging (the open handle keeps a removed device's objects,
  // and makes every later paging request fail instead of reaching them).
  PagingFile(IoManager& io, std::string disk, Handle handle, std::uint64_t offset,
             std::uint64_t size)
      : io_(io), disk_(std::move(disk)), handle_(handle), offset_(offset), size_(size) {}
  std::uint64_t slots() const override { return size_ / mm::kPageSize; }
  bool read(std::uint64_t slot, std::uint64_t frame, std::uint64_t va) override;
  bool write(std::uint64_t slot, std::uint64_t frame, std::uint64_t va) override;
  std::string name() const override { return disk_; }

 private:
  bool transfer(bool write, std::uint64_t slot, std::uint64_t frame, std::uint64_t va);
  IoManager& io_;
  std::string disk_;
  Handle handle_;
  std::uint64_t offset_, size_;
};

}  // namespace io
