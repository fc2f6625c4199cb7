#include <algorithm>

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
  ++stats_.start_io;
  if (util::events().enabled())
    util::events().emit("io", "start_io",
                        {{"irp", irp.id}, {"device", device.name}, {"irql", kernel_.irql()}});
  device.driver->start_io(&device, &irp);
}

void IoManager::start_packet(DeviceObject& device, Irp& irp, std::optional<std::uint64_t> key,
                             CancelRoutine cancel) {
  const ke::Irql old = acquire_cancel_spin_lock();  // raises to DISPATCH_LEVEL
  if (cancel != nullptr) irp.cancel_routine = cancel;
  const bool queued = key ? insert_by_key_device_queue(device.queue, irp, *key)
                          : insert_device_queue(device.queue, irp);
  if (queued) {
    release_cancel_spin_lock(old);
    return;
  }
  device.current_irp = &irp;
  if (cancel != nullptr) irp.cancel_routine = nullptr;  // StartIo owns it now
  start_io(device, irp);
  kernel_.lower_irql(old);
}

void IoManager::start_next_packet(DeviceObject& device, bool cancelable) {
  device.current_irp = nullptr;
  Irp* next = remove_device_queue(device.queue);
  if (next == nullptr) return;
  if (cancelable) next->cancel_routine = nullptr;
  device.current_irp = next;
  start_io(device, *next);
}

void IoManager::start_next_packet_by_key(DeviceObject& device, bool cancelable, std::uint64_t key) {
  device.current_irp = nullptr;
  Irp* next = remove_by_key_device_queue(device.queue, key);
  if (next == nullptr) return;
  if (cancelable) next->cancel_routine = nullptr;
  device.current_irp = next;
  start_io(device, *next);
}

}  // namespace io
