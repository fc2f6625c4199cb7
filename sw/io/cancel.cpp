#include "sw/io/io_manager.h"
#include "util/event_log.h"

namespace io {

ke::Irql IoManager::acquire_cancel_spin_lock() {
  const ke::Irql old = kernel_.raise_irql(std::max(kernel_.irql(), ke::kDispatchLevel));
  return old;
}

void IoManager::release_cancel_spin_lock(ke::Irql old_irql) {
  kernel_.lower_irql(old_irql);
}

CancelRoutine IoManager::set_cancel_routine(Irp& irp, CancelRoutine routine) {
  CancelRoutine old = irp.cancel_routine;
  irp.cancel_routine = routine;
  return old;
}

bool IoManager::cancel_irp(Irp& irp) {
  const ke::Irql old = acquire_cancel_spin_lock();
  irp.cancel = true;
  CancelRoutine routine = irp.cancel_routine;
  irp.cancel_routine = nullptr;
  if (util::events().enabled())
    util::events().emit("io", "cancel", {{"irp", irp.id}, {"has_routine", routine != nullptr}});
  if (routine == nullptr) {
    release_cancel_spin_lock(old);
    return false;
  }
  ++stats_.cancelled;
  irp.cancel_irql = old;
  // The routine releases the cancel spin lock (with irp.cancel_irql) and completes the IRP.
  DeviceObject* device = irp.current_location <= irp.stack_count() ? irp.current().device : nullptr;
  routine(device, &irp);
  return true;
}

}  // namespace io
