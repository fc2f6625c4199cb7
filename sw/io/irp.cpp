#include <algorithm>

#include "sw/io/io_manager.h"
#include "sw/io/log.h"
#include "util/event_log.h"

namespace io {
using detail::logger;

const char* to_string(Status s) {
  switch (s) {
    case Status::success:
      return "STATUS_SUCCESS";
    case Status::pending:
      return "STATUS_PENDING";
    case Status::end_of_file:
      return "STATUS_END_OF_FILE";
    case Status::more_processing_required:
      return "STATUS_MORE_PROCESSING_REQUIRED";
    case Status::invalid_parameter:
      return "STATUS_INVALID_PARAMETER";
    case Status::no_such_device:
      return "STATUS_NO_SUCH_DEVICE";
    case Status::delete_pending:
      return "STATUS_DELETE_PENDING";
    case Status::not_supported:
      return "STATUS_NOT_SUPPORTED";
    case Status::invalid_device_request:
      return "STATUS_INVALID_DEVICE_REQUEST";
    case Status::object_name_not_found:
      return "STATUS_OBJECT_NAME_NOT_FOUND";
    case Status::insufficient_resources:
      return "STATUS_INSUFFICIENT_RESOURCES";
    case Status::cancelled:
      return "STATUS_CANCELLED";
    case Status::io_device_error:
      return "STATUS_IO_DEVICE_ERROR";
    case Status::device_busy:
      return "STATUS_DEVICE_BUSY";
  }
  return "STATUS_?";
}

const char* to_string(Major m) {
  static constexpr const char* kNames[] = {"IRP_MJ_CREATE", "IRP_MJ_CLOSE",          "IRP_MJ_READ",
                                           "IRP_MJ_WRITE",  "IRP_MJ_DEVICE_CONTROL", "IRP_MJ_PNP"};
  const auto i = static_cast<unsigned>(m);
  return i < kMajorCount ? kNames[i] : "IRP_MJ_?";
}

const char* to_string(Minor m) {
  static constexpr const char* kNames[] = {"-",
                                           "IRP_MN_START_DEVICE",
                                           "IRP_MN_QUERY_RESOURCE_REQUIREMENTS",
                                           "IRP_MN_QUERY_ID",
                                           "IRP_MN_QUERY_DEVICE_RELATIONS",
                                           "IRP_MN_REMOVE_DEVICE",
                                           "IRP_MN_SURPRISE_REMOVAL",
                                           "IRP_MN_FILTER_RESOURCE_REQUIREMENTS",
                                           "IRP_MN_READ_CONFIG",
                                           "IRP_MN_QUERY_CAPABILITIES",
                                           "IRP_MN_QUERY_PNP_DEVICE_STATE",
                                           "IRP_MN_QUERY_REMOVE_DEVICE",
                                           "IRP_MN_CANCEL_REMOVE_DEVICE",
                                           "IRP_MN_QUERY_STOP_DEVICE",
                                           "IRP_MN_STOP_DEVICE",
                                           "IRP_MN_CANCEL_STOP_DEVICE"};
  const auto i = static_cast<unsigned>(m);
  return i < sizeof kNames / sizeof kNames[0] ? kNames[i] : "IRP_MN_?";
}

IoManager::IoManager(ke::Kernel& kernel, Pool& pool, IoCosts costs)
    : kernel_(kernel), pool_(pool), costs_(costs) {}

IoManager::~IoManager() = default;

Irp* IoManager::allocate_irp(int stack_size, bool pnp) {
  kernel_.cpu().consume(costs_.allocate_irp);
  Irp* irp;
  if (!free_list_.empty()) {
    irp = free_list_.back();
    free_list_.pop_back();
    *irp = Irp{};
  } else {
    irp_store_.push_back(std::make_unique<Irp>());
    irp = irp_store_.back().get();
  }
  irp->id = next_irp_id_++;
  irp->stack.resize(static_cast<std::size_t>(std::max(stack_size, 1)));
  irp->current_location = irp->stack_count() + 1;
  irp->issued_ps = kernel_.cpu().now_ps();
  irp->pnp = pnp;
  ++(pnp ? stats_.pnp_irps : stats_.irps_allocated);
  return irp;
}

void IoManager::free_irp(Irp* irp) {
  if (irp == nullptr) return;
  if (std::find(free_list_.begin(), free_list_.end(), irp) != free_list_.end()) {
    logger().error("IRP {} freed twice", irp->id);
    return;
  }
  free_list_.push_back(irp);
}

Status IoManager::call_driver(DeviceObject& device, Irp& irp) {
  kernel_.cpu().consume(costs_.call_driver);
  --irp.current_location;
  if (irp.current_location <= 0) {
    // NO_MORE_IRP_STACK_LOCATIONS: parameter 1 is the IRP.
    kernel_.bug_check(ke::kNoMoreIrpStackLocations, irp.id);
  }
  IoStackLocation& sl = irp.current();
  sl.device = &device;
  if (device.driver == nullptr) {
    // A device object its driver deleted (the device was removed while the request was on
    // its way down): no dispatch routine to call. Fail the request as the driver's remove
    // lock would (STATUS_NO_SUCH_DEVICE for a device that is gone), never jump to nothing.
    irp.io_status = {Status::no_such_device, 0};
    complete_request(irp);
    return Status::no_such_device;
  }
  if (!irp.pnp) ++stats_.dispatches;
  if (util::events().enabled()) {
    if (sl.major == Major::pnp)
      util::events().emit("io", "dispatch",
                          {{"irp", irp.id},
                           {"device", device.name.empty() ? device.driver->name : device.name},
                           {"major", to_string(sl.major)},
                           {"minor", to_string(sl.pnp.minor)},
                           {"location", irp.current_location},
                           {"irql", kernel_.irql()}});
    else
      util::events().emit("io", "dispatch",
                          {{"irp", irp.id},
                           {"device", device.name.empty() ? device.driver->name : device.name},
                           {"major", to_string(sl.major)},
                           {"location", irp.current_location},
                           {"irql", kernel_.irql()}});
  }
  DispatchRoutine routine = device.driver->major_function[static_cast<unsigned>(sl.major)];
  if (routine == nullptr) routine = &IoManager::invalid_device_request;
  // The dispatch routine is the driver's code: what it does (raising IRQL, touching pageable
  // memory) is charged to it by Driver Verifier and the bug checks.
  const ke::Kernel::DriverCode code(kernel_, device.driver->name);
  return routine(&device, &irp);
}

void IoManager::mark_irp_pending(Irp& irp) {
  irp.current().control |= kSlPendingReturned;
}

void IoManager::set_completion_routine(Irp& irp, CompletionRoutine routine, void* context,
                                       bool on_success, bool on_error, bool on_cancel) {
  IoStackLocation& next = irp.next();
  next.completion = routine;
  next.context = context;
  next.control = static_cast<std::uint8_t>(
      (next.control & kSlPendingReturned) | (on_success ? kSlInvokeOnSuccess : 0) |
      (on_error ? kSlInvokeOnError : 0) | (on_cancel ? kSlInvokeOnCancel : 0));
}

void IoManager::copy_current_irp_stack_location_to_next(Irp& irp) {
  IoStackLocation& next = irp.next();
  next = irp.current();
  next.completion = nullptr;
  next.context = nullptr;
  next.control = 0;
}

void IoManager::skip_current_irp_stack_location(Irp& irp) {
  // The next IoCallDriver reuses this location: the lower driver sees the same parameters.
  ++irp.current_location;
}

Status IoManager::invalid_device_request(DeviceObject* device, Irp* irp) {
  irp->io_status = {Status::invalid_device_request, 0};
  device->driver->io->complete_request(*irp);
  return Status::invalid_device_request;
}

Status IoManager::succeed_request(DeviceObject* device, Irp* irp) {
  irp->io_status = {Status::success, 0};
  device->driver->io->complete_request(*irp);
  return Status::success;
}

void IoManager::complete_request(Irp& irp) {
  if (irp.current_location > irp.stack_count()) {
    // MULTIPLE_IRP_COMPLETE_REQUESTS: no driver holds the IRP (completed already, or never sent).
    kernel_.bug_check(ke::kMultipleIrpCompleteRequests, irp.id);
  }
  if (irp.io_status.status == Status::pending) {
    logger().error("IRP {} completed with STATUS_PENDING", irp.id);
    irp.io_status.status = Status::io_device_error;
  }
  if (util::events().enabled())
    util::events().emit("io", "complete_request",
                        {{"irp", irp.id},
                         {"status", to_string(irp.io_status.status)},
                         {"location", irp.current_location},
                         {"irql", kernel_.irql()}});
  // Unwind: each location's completion routine runs with the device of the driver above it,
  // which set it. A location without one passes PendingReturned up (IoMarkIrpPending's copy).
  while (irp.current_location <= irp.stack_count()) {
    kernel_.cpu().consume(costs_.complete);
    IoStackLocation done = irp.current();
    irp.current() = IoStackLocation{};
    irp.pending_returned = done.control & kSlPendingReturned;
    ++irp.current_location;
    DeviceObject* upper =
        irp.current_location <= irp.stack_count() ? irp.current().device : nullptr;
    const bool ok = nt_success(irp.io_status.status);
    const bool invoke =
        done.completion != nullptr && ((ok && (done.control & kSlInvokeOnSuccess)) ||
                                       (!ok && (done.control & kSlInvokeOnError)) ||
                                       (irp.cancel && (done.control & kSlInvokeOnCancel)));
    if (invoke) {
      ++stats_.completion_routines;
      if (util::events().enabled())
        util::events().emit(
            "io", "completion_routine",
            {{"irp", irp.id},
             {"device", upper ? (upper->name.empty() ? upper->driver->name : upper->name) : ""},
             {"pending_returned", irp.pending_returned}});
      if (done.completion(upper, &irp, done.context) == Status::more_processing_required) {
        if (util::events().enabled())
          util::events().emit("io", "more_processing_required",
                              {{"irp", irp.id}, {"location", irp.current_location}});
        return;  // the routine's driver owns the IRP again; it completes it later (or frees it)
      }
    } else if (irp.pending_returned && irp.current_location <= irp.stack_count()) {
      irp.current().control |= kSlPendingReturned;
    }
  }
  finish(irp);
}

void IoManager::finish(Irp& irp) {
  if (!irp.pnp) ++stats_.irps_completed;
  irp.done = true;
  const std::uint64_t now = kernel_.cpu().now_ps();
  if (!irp.pnp) stats_.request_latency.add(now - irp.issued_ps);
  if (irp.copy_back && nt_success(irp.io_status.status) && irp.io_status.information > 0)
    copy_memory(irp.user_buffer, irp.system_buffer, irp.io_status.information);
  if (irp.user_iosb != nullptr) *irp.user_iosb = irp.io_status;
  if (util::events().enabled())
    util::events().emit("io", "request_done",
                        {{"irp", irp.id},
                         {"status", to_string(irp.io_status.status)},
                         {"bytes", irp.io_status.information},
                         {"pending_returned", irp.pending_returned}});
  if (!irp.io_manager_owned) return;  // a driver's own IRP: its completion routine frees it
  // A request that went pending is finished here, and its waiter told; one completed before its
  // dispatch routine returned is finished by the system service itself (file.cpp).
  if (irp.pending_returned) {
    if (irp.system_buffer != 0) pool_.free(irp.system_buffer);
    ke::Event* event = irp.user_event;
    free_irp(&irp);
    if (event != nullptr) kernel_.set_event(*event);
  }
}

void IoManager::copy_memory(std::uint64_t dst, std::uint64_t src, std::uint64_t n) {
  // A word at a time (then bytes), as the processor's block copy does it.
  kernel_.cpu().copy_block(dst, src, n, 4);
  ++stats_.buffered_copies;
}

}  // namespace io
