// Deferred procedure calls (KeInitializeDpc, KeInsertQueueDpc, KiRetireDpcList).
#include <fmt/format.h>

#include "sw/ke/kernel.h"
#include "util/event_log.h"

namespace ke {

void Kernel::initialize_dpc(Dpc& dpc, std::string name, DpcRoutine routine, void* context) {
  dpc.name = std::move(name);
  dpc.routine = routine;
  dpc.context = context;
  dpc.importance = DpcImportance::medium;
  dpc.inserted = false;
  if (dpc.id == 0) dpc.id = ++dpc_ids_;
}

void Kernel::set_importance_dpc(Dpc& dpc, DpcImportance importance) {
  dpc.importance = importance;
}

bool Kernel::insert_queue_dpc(Dpc& dpc, void* arg1, void* arg2) {
  // The queue is touched with interrupts off: an ISR may queue a DPC at any moment.
  const bool was_enabled = cpu_.disable_interrupts();
  if (dpc.inserted) {  // already queued: the first arguments stand
    if (was_enabled) cpu_.enable_interrupts();
    return false;
  }
  dpc.inserted = true;
  dpc.arg1 = arg1;
  dpc.arg2 = arg2;
  dpc.queued_ps = cpu_.now_ps();
  dpc.origin_ps = interrupt_origin_ps_ != 0 ? interrupt_origin_ps_ : dpc_origin_ps_;
  if (dpc.importance == DpcImportance::high) {
    dpc_queue_.push_front(&dpc);
  } else {
    dpc_queue_.push_back(&dpc);
  }
  ++stats_.dpcs_queued;
  if (util::events().enabled())
    util::events().emit(
        "ke", "dpc_queue",
        {{"name", dpc.name}, {"depth", static_cast<std::uint64_t>(dpc_queue_.size())}});
  if (was_enabled) cpu_.enable_interrupts();
  // Queued below DISPATCH_LEVEL: the DPC software interrupt fires at once.
  if (irql_ < kDispatchLevel) dispatch_software_interrupt(irql_);
  return true;
}

bool Kernel::remove_queue_dpc(Dpc& dpc) {
  const bool was_enabled = cpu_.disable_interrupts();
  const bool was = dpc.inserted;
  if (was) {
    dpc_queue_.erase(std::remove(dpc_queue_.begin(), dpc_queue_.end(), &dpc), dpc_queue_.end());
    dpc.inserted = false;
  }
  if (was_enabled) cpu_.enable_interrupts();
  return was;
}

void Kernel::drain_dpc_queue() {
  if (dpc_active_) return;  // a DPC is never preempted by another DPC
  dpc_active_ = true;
  for (;;) {
    cpu_.disable_interrupts();
    if (dpc_queue_.empty()) break;
    Dpc* dpc = dpc_queue_.front();
    dpc_queue_.pop_front();
    dpc->inserted = false;  // from here on the routine may queue it again
    void* a1 = dpc->arg1;
    void* a2 = dpc->arg2;
    ++stats_.dpcs_executed;
    cpu_.enable_interrupts();  // DPCs run with interrupts on: ISRs preempt them
    const std::uint64_t t0 = cpu_.now_ps();
    if (dpc->origin_ps != 0) stats_.isr_to_dpc.add(t0 - dpc->queued_ps);
    if (util::events().enabled()) util::events().emit("ke", "dpc_enter", {{"name", dpc->name}});
    push_frame({hw::ContextKind::dpc, nullptr, dpc});
    dpc_origin_ps_ = dpc->origin_ps;
    cpu_.consume(config_.costs.dpc_dispatch);
    dpc->routine(dpc, dpc->context, a1, a2);
    dpc_origin_ps_ = 0;
    if (irql_ != kDispatchLevel)
      bug_check(
          kIrqlUnexpectedValue,
          (static_cast<std::uint64_t>(irql_) << 16) | (kDispatchLevel << 8) | kUniqueDpcReturn, 0,
          dpc->id, 0);  // Windows: the routine's and the DPC's addresses (host pointers here)
    pop_frame();
    stats_.dpc.add(cpu_.now_ps() - t0);
    dpc->time.add(cpu_.now_ps() - t0);
    if (!dpc->seen) {
      dpc->seen = true;
      dpcs_seen_.push_back(dpc);
    }
    if (util::events().enabled()) util::events().emit("ke", "dpc_exit", {{"name", dpc->name}});
  }
  dpc_active_ = false;
  // Interrupts stay off here; the caller restores them (the trap's IRET or the thread's IF).
}

}  // namespace ke
