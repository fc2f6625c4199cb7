// IoAcquireRemoveLock, IoReleaseRemoveLock, IoReleaseRemoveLockAndWait: how REMOVE_DEVICE waits
// for the requests a driver is still working on (Microsoft, "Using Remove Locks").
#include "sw/io/io_manager.h"
#include "util/event_log.h"

namespace io {
namespace {

void initialize(ke::Kernel& kernel, RemoveLock& lock) {
  if (lock.initialized) return;
  kernel.initialize_event(lock.drained, "remove_lock", ke::EventType::notification, false);
  lock.initialized = true;
}

}  // namespace

Status IoManager::acquire_remove_lock(RemoveLock& lock) {
  initialize(kernel_, lock);
  if (lock.removed) return Status::delete_pending;
  ++lock.count;
  return Status::success;
}

void IoManager::release_remove_lock(RemoveLock& lock) {
  initialize(kernel_, lock);
  if (lock.count == 0) return;  // a release without an acquisition: nothing to give back
  if (--lock.count == 0) kernel_.set_event(lock.drained);
}

void IoManager::release_remove_lock_and_wait(RemoveLock& lock) {
  initialize(kernel_, lock);
  lock.removed = true;
  const std::uint64_t outstanding = lock.count > 2 ? lock.count - 2 : 0;
  if (util::events().enabled() && outstanding > 0)
    util::events().emit("io", "remove_lock_wait", {{"requests", outstanding}});
  // The caller's own acquisition, then the lock's initial count.
  release_remove_lock(lock);
  release_remove_lock(lock);
  if (lock.count > 0) kernel_.wait_for_single_object(lock.drained, std::nullopt);
}

}  // namespace io
