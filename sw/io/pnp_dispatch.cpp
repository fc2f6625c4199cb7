// The driver-facing half of Plug and Play: forwarding an IRP synchronously, passing it down,
// the dispatch routine every function and filter driver here shares, and the HAL's
// translation of raw resources.
#include <algorithm>
#include <vector>

#include "sw/io/io_manager.h"
#include "sw/io/log.h"
#include "util/event_log.h"

namespace io {
using detail::logger;

namespace {

struct SyncForward {
  IoManager* io;
  ke::Event event;
};

Status signal_forwarder(DeviceObject*, Irp* irp, void* context) {
  auto* s = static_cast<SyncForward*>(context);
  (void)irp;
  s->io->kernel().set_event(s->event);
  // The IRP belongs to the forwarding driver again: it completes it after its own work.
  return Status::more_processing_required;
}

}  // namespace

Status IoManager::forward_irp_synchronously(DeviceObject& lower, Irp& irp) {
  SyncForward s{this, {}};
  kernel_.initialize_event(s.event, "forward_sync", ke::EventType::notification, false);
  copy_current_irp_stack_location_to_next(irp);
  set_completion_routine(irp, &signal_forwarder, &s, true, true, true);
  if (call_driver(lower, irp) == Status::pending)
    kernel_.wait_for_single_object(s.event, std::nullopt);
  return irp.io_status.status;
}

Status IoManager::send_pnp(DeviceObject& device, const IoStackLocation::Pnp& parameters,
                           PnpResult* result, ke::Event& done) {
  DeviceObject* top = get_attached_device(device);
  Irp* irp = allocate_irp(top->stack_size, /*pnp=*/true);
  irp->io_manager_owned = true;
  irp->pnp_result = result;
  irp->io_status = {Status::not_supported, 0};
  IoStatusBlock iosb;
  irp->user_iosb = &iosb;
  irp->user_event = &done;
  IoStackLocation& sl = irp->next();
  sl.major = Major::pnp;
  sl.pnp = parameters;
  kernel_.clear_event(done);
  if (call_driver(*top, *irp) == Status::pending) {
    kernel_.wait_for_single_object(done, std::nullopt);
  } else {
    free_irp(irp);
  }
  return iosb.status;
}

Status IoManager::read_config(DeviceObject& device, std::uint32_t offset, std::uint8_t* buffer,
                              std::uint32_t length) {
  IoStackLocation::Pnp p;
  p.minor = Minor::read_config;
  p.buffer = buffer;
  p.offset = offset;
  p.length = length;
  ke::Event done;
  kernel_.initialize_event(done, "read_config", ke::EventType::notification, false);
  // A stack whose bus driver has no configuration space leaves STATUS_NOT_SUPPORTED.
  return send_pnp(device, p, nullptr, done);
}

Status IoManager::fail_request(Irp& irp, Status status) {
  irp.io_status = {status, 0};
  complete_request(irp);
  return status;
}

Status IoManager::pass_down(DeviceObject& device, Irp& irp) {
  if (device.lower == nullptr) {
    // The bottom of a stack that does not handle this minor: complete it as it stands.
    const Status s = irp.io_status.status;
    complete_request(irp);
    return s;
  }
  skip_current_irp_stack_location(irp);
  return call_driver(*device.lower, irp);
}

Status IoManager::dispatch_pnp(DeviceObject* device, Irp* irp) {
  IoManager& io = *device->driver->io;
  const IoStackLocation& sl = irp->current();
  PnpDevice* hooks = device->pnp;
  switch (sl.pnp.minor) {
    case Minor::start_device: {
      // Down first: the bus driver programs the hardware's decoders before the function
      // driver touches a register (Microsoft: "the function driver must not start its device
      // until the lower drivers have completed the IRP").
      Status s =
          device->lower ? io.forward_irp_synchronously(*device->lower, *irp) : Status::success;
      if (nt_success(s) && hooks && sl.pnp.raw && sl.pnp.translated) {
        s = hooks->start(*sl.pnp.raw, *sl.pnp.translated);
        hooks->started_ = nt_success(s);
      }
      irp->io_status = {s, 0};
      io.complete_request(*irp);
      return s;
    }
    case Minor::query_remove_device:
    case Minor::query_stop_device: {
      // The driver may veto: then the IRP goes no further down, failed; the PnP manager sends
      // the CANCEL (Microsoft, "Removing a Device", "Stopping a Device").
      const Status s = hooks == nullptr                             ? Status::success
                       : sl.pnp.minor == Minor::query_remove_device ? hooks->query_remove()
                                                                    : hooks->query_stop();
      if (!nt_success(s)) return io.fail_request(*irp, s);
      irp->io_status.status = Status::success;
      return io.pass_down(*device, *irp);
    }
    case Minor::cancel_remove_device:
    case Minor::cancel_stop_device: {
      // A cancel is handled on the way up: the lower drivers resume first.
      Status s =
          device->lower ? io.forward_irp_synchronously(*device->lower, *irp) : Status::success;
      if (hooks) {
        if (sl.pnp.minor == Minor::cancel_remove_device)
          hooks->cancel_remove();
        else
          hooks->cancel_stop();
      }
      if (s == Status::not_supported) s = Status::success;
      irp->io_status = {s, 0};
      io.complete_request(*irp);
      return s;
    }
    case Minor::stop_device: {
      if (hooks) {
        hooks->stop();
        hooks->started_ = false;
      }
      irp->io_status.status = Status::success;
      return io.pass_down(*device, *irp);
    }
    case Minor::query_pnp_device_state: {
      if (hooks && irp->pnp_result != nullptr) {
        irp->pnp_result->device_state |= hooks->device_state();
        irp->io_status.status = Status::success;
      }
      return io.pass_down(*device, *irp);
    }
    case Minor::surprise_removal: {
      if (hooks) {
        hooks->gone_ = true;  // before the hook: a DPC still queued sees it
        hooks->surprise_removal();
      }
      irp->io_status.status = Status::success;
      return io.pass_down(*device, *irp);
    }
    case Minor::remove_device: {
      if (hooks) {
        hooks->gone_ = true;
        // Every request the driver still works on ends before it lets go of the device.
        io.acquire_remove_lock(hooks->remove_lock);
        io.release_remove_lock_and_wait(hooks->remove_lock);
        hooks->remove();
      }
      irp->io_status.status = Status::success;
      DeviceObject* lower = device->lower;
      const Status s = io.pass_down(*device, *irp);
      // After the lower drivers have seen it: detach and delete (IoDetachDevice, IoDeleteDevice).
      if (lower != nullptr) io.detach_device(*lower);
      io.delete_device(*device);
      device->removed = true;
      return s;
    }
    default:
      return io.pass_down(*device, *irp);
  }
}

bool IoManager::map_register_window(const ResourceList& raw, std::uint64_t min_length,
                                    hal::RegisterWindow& out) const {
  const Resource* r = find_resource(raw, ResourceType::port);
  if (r == nullptr) r = find_resource(raw, ResourceType::memory);
  if (r == nullptr || r->length < min_length) return false;
  out = hal::RegisterWindow(kernel_.cpu(),
                            r->type == ResourceType::port ? hw::Space::io : hw::Space::memory,
                            r->start, r->length);
  return true;
}

std::size_t IoManager::fail_device_requests(DeviceObject& device, Status status) {
  const ke::Irql old = kernel_.raise_irql(std::max(kernel_.irql(), ke::kDispatchLevel));
  std::vector<Irp*> failed;
  if (device.current_irp != nullptr) failed.push_back(device.current_irp);
  device.current_irp = nullptr;
  while (Irp* irp = remove_device_queue(device.queue)) failed.push_back(irp);
  device.queue.busy = false;
  for (Irp* irp : failed) {
    irp->io_status = {status, 0};
    complete_request(*irp);
  }
  kernel_.lower_irql(old);
  return failed.size();
}

InterruptResource IoManager::interrupt_resource(const Resource& translated) {
  InterruptResource r;
  r.vector = translated.vector;
  r.irql = translated.irql;
  r.mode = translated.level ? ke::InterruptMode::level_sensitive : ke::InterruptMode::latched;
  r.shared = translated.share == Share::shared;
  r.affinity = translated.affinity;
  return r;
}

ResourceList IoManager::translate_resources(const ResourceList& raw) const {
  ResourceList out = raw;
  for (auto& r : out) {
    if (r.type != ResourceType::interrupt) continue;
    // HalGetInterruptVector. PIC HAL: vector = base + IRQ, IRQL = 27 - IRQ, CPU 0. APIC HAL:
    // IRQL = the vector's class, the processors the I/O APIC may deliver it to.
    r.vector = kernel_.hal().vector_of_irq(r.irq);
    r.irql = kernel_.hal().irql_of_irq(r.irq);
    r.affinity = kernel_.hal().affinity_of_irq(r.irq);
  }
  return out;
}

}  // namespace io
