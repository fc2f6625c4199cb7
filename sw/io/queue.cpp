#include <algorithm>
#include <utility>

#include "sw/io/io_manager.h"
#include "util/event_log.h"

namespace io {

bool IoManager::insert_device_queue(DeviceQueue& queue, Irp& irp) {
  if (!queue.busy) {
    queue.busy = true;
    return false;
  }
  queue.entries.push_back(&irp);
  irp.queued = true;
  return true;
}

bool IoManager::insert_by_key_device_queue(DeviceQueue& queue, Irp& irp, std::uint64_t key) {
  irp.sort_key = key;
  if (!queue.busy) {
    queue.busy = true;
    return false;
  }
  // Sorted by key, equal keys in arrival order.
  auto at = std::upper_bound(queue.entries.begin(), queue.entries.end(), key,
                             [](std::uint64_t k, const Irp* e) { return k < e->sort_key; });
  queue.entries.insert(at, &irp);
  irp.queued = true;
  return true;
}

Irp* IoManager::remove_device_queue(DeviceQueue& queue) {
  if (queue.entries.empty()) {
    queue.busy = false;
    return nullptr;
  }
  Irp* irp = queue.entries.front();
  queue.entries.pop_front();
  irp->queued = false;
  return irp;
}

Irp* IoManager::remove_by_key_device_queue(DeviceQueue& queue, std::uint64_t key) {
  if (queue.entries.empty()) {
    queue.busy = false;
    return nullptr;
  }
  // The first entry at or after the key; past the last, wrap to the first (a C-SCAN sweep).
  auto it = std::find_if(queue.entries.begin(), queue.entries.end(),
                         [key](const Irp* e) { return e->sort_key >= key; });
  if (it == queue.entries.end()) it = queue.entries.begin();
  Irp* irp = *it;
  queue.entries.erase(it);
  irp->queued = false;
  return irp;
}

bool IoManager::remove_entry_device_queue(DeviceQueue& queue, Irp& irp) {
  auto it = std::find(queue.entries.begin(), queue.entries.end(), &irp);
  if (it == queue.entries.end()) return false;
  queue.entries.erase(it);
  irp.queued = false;
  return true;
}

void IoManager::start_io(DeviceObject& device, Irp& irp) {
  for (Irp* current = &irp; current != nullptr;) {
    ++stats_.start_io;
    if (util::events().enabled())
      util::events().emit(
          "io", "start_io",
          {{"irp", current->id}, {"device", device.name}, {"irql", kernel_.irql()}});
    device.in_start_io = true;
    device.driver->start_io(&device, current);
    device.in_start_io = false;
    // Deferred StartIo: a start_next_packet the routine made itself runs now, not nested in it.
    current = nullptr;
    if (const auto deferred = std::exchange(device.deferred_start_next, std::nullopt))
      current = next_packet(device, deferred->cancelable, deferred->key);
  }
}

void IoManager::set_start_io_attributes(DeviceObject& device, bool deferred_start_io,
                                        bool non_cancelable) {
  device.start_io_deferred = deferred_start_io;
  device.start_io_non_cancelable = non_cancelable;
}

void IoManager::start_packet(DeviceObject& device, Irp& irp, std::optional<std::uint64_t> key,
                             CancelRoutine cancel) {
  const ke::Irql old = acquire_cancel_spin_lock();  // raises to DISPATCH_LEVEL
  if (cancel != nullptr) irp.cancel_routine = cancel;
  const bool queued = key ? insert_by_key_device_queue(device.queue, irp, *key)
                          : insert_device_queue(device.queue, irp);
  if (queued) {
    if (cancel != nullptr && irp.cancel) {
      // Cancelled before it could wait (ReactOS IoStartPacket): its cancel routine takes it off
      // the queue, releases the cancel spin lock and completes it, as for IoCancelIrp.
      irp.cancel_routine = nullptr;
      irp.cancel_irql = old;
      ++stats_.cancelled;
      if (util::events().enabled())
        util::events().emit("io", "cancel", {{"irp", irp.id}, {"has_routine", true}});
      cancel(&device, &irp);
      return;
    }
    release_cancel_spin_lock(old);
    return;
  }
  device.current_irp = &irp;
  if (device.start_io_non_cancelable) irp.cancel_routine = nullptr;
  start_io(device, irp);
  kernel_.lower_irql(old);
}

Irp* IoManager::next_packet(DeviceObject& device, bool cancelable,
                            std::optional<std::uint64_t> key) {
  const ke::Irql old = cancelable ? acquire_cancel_spin_lock() : kernel_.irql();
  device.current_irp = nullptr;
  Irp* next =
      key ? remove_by_key_device_queue(device.queue, *key) : remove_device_queue(device.queue);
  if (next != nullptr) {
    device.current_irp = next;
    if (cancelable && device.start_io_non_cancelable) next->cancel_routine = nullptr;
  }
  if (cancelable) release_cancel_spin_lock(old);
  return next;
}

void IoManager::start_next(DeviceObject& device, bool cancelable,
                           std::optional<std::uint64_t> key) {
  if (device.start_io_deferred && device.in_start_io) {
    device.deferred_start_next = DeviceObject::DeferredStartNext{cancelable, key};
    return;
  }
  if (Irp* next = next_packet(device, cancelable, key)) start_io(device, *next);
}

void IoManager::start_next_packet(DeviceObject& device, bool cancelable) {
  start_next(device, cancelable, std::nullopt);
}

void IoManager::start_next_packet_by_key(DeviceObject& device, bool cancelable, std::uint64_t key) {
  start_next(device, cancelable, key);
}

}  // namespace io
