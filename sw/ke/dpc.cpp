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

void Kernel::set_target_processor_dpc(Dpc& dpc, unsigned number) {
  // A processor that does not exist: the DPC stays on the processor that queues it.
  dpc.target = number < prcbs_.size() ? static_cast<int>(number) : -1;
}

bool Kernel::insert_queue_dpc(Dpc& dpc, void* arg1, void* arg2) {
  // The queue is touched with interrupts off: an ISR may queue a DPC at any moment.
  const bool was_enabled = cpu_.disable_interrupts();
  if (dpc.inserted) {  // already queued: the first arguments stand
    if (was_enabled) cpu_.enable_interrupts();
    return false;
  }
  Prcb& here = prcb();
  Prcb& target = dpc.target >= 0 ? *prcbs_[static_cast<unsigned>(dpc.target)] : here;
  dpc.inserted = true;
  dpc.queued_on = target.number;
  dpc.arg1 = arg1;
  dpc.arg2 = arg2;
  dpc.queued_ps = cpu_.now_ps();
  dpc.origin_ps = here.interrupt_origin_ps != 0 ? here.interrupt_origin_ps : here.dpc_origin_ps;
  if (dpc.importance == DpcImportance::high) {
    target.dpc_queue.push_front(&dpc);
  } else {
    target.dpc_queue.push_back(&dpc);
  }
  ++stats_.dpcs_queued;
  if (util::events().enabled())
    emit("dpc_queue",
         {{"name", dpc.name}, {"depth", static_cast<std::uint64_t>(target.dpc_queue.size())}},
         {{"cpu", here.number}, {"target", target.number}});
  if (was_enabled) cpu_.enable_interrupts();
  if (&target == &here) {
    // Queued below DISPATCH_LEVEL: the DPC software interrupt fires at once. (Microsoft's
    // rule defers a low-importance DPC unless the queue is deep or the request rate low; the
    // rate is not modelled and counted as low, so every importance runs at once here.)
    if (here.irql < kDispatchLevel) dispatch_software_interrupt(here.irql);
    return true;
  }
  // Another processor's queue ("Organization of DPC Queues"): MediumHigh and High importance,
  // or a queue deeper than MaximumDpcQueueDepth, interrupt the target at once; otherwise the
  // DPC waits for the target's next drain. Windows Internals adds "or the target is idle",
  // which is followed here: an idle processor would otherwise sleep on the queue. The clock
  // (on CPU 0) also asks any processor with a waiting queue, as each CPU's own tick would.
  if (dpc.importance == DpcImportance::high || dpc.importance == DpcImportance::medium_high ||
      target.dpc_queue.size() > config_.max_dpc_queue_depth || target.current == target.idle)
    request_dispatch(target);
  return true;
}

bool Kernel::remove_queue_dpc(Dpc& dpc) {
  const bool was_enabled = cpu_.disable_interrupts();
  const bool was = dpc.inserted;
  if (was) {
    auto& q = prcbs_[dpc.queued_on]->dpc_queue;
    q.erase(std::remove(q.begin(), q.end(), &dpc), q.end());
    dpc.inserted = false;
  }
  if (was_enabled) cpu_.enable_interrupts();
  return was;
}

void Kernel::drain_dpc_queue() {
  Prcb& p = prcb();
  if (p.dpc_active) return;  // a DPC is never preempted by another DPC
  p.dpc_active = true;
  for (;;) {
    cpu_.disable_interrupts();
    if (p.dpc_queue.empty()) break;
    Dpc* dpc = p.dpc_queue.front();
    p.dpc_queue.pop_front();
    dpc->inserted = false;  // from here on the routine may queue it again
    dpc->ran_on = p.number;
    void* a1 = dpc->arg1;
    void* a2 = dpc->arg2;
    ++p.stats.dpcs_executed;
    cpu_.enable_interrupts();  // DPCs run with interrupts on: ISRs preempt them
    const std::uint64_t t0 = cpu_.now_ps();
    if (dpc->origin_ps != 0) stats_.isr_to_dpc.add(t0 - dpc->queued_ps);
    if (util::events().enabled()) emit("dpc_enter", {{"name", dpc->name}}, {{"cpu", p.number}});
    push_frame({hw::ContextKind::dpc, nullptr, dpc});
    p.dpc_origin_ps = dpc->origin_ps;
    cpu_.consume(config_.costs.dpc_dispatch);
    dpc->routine(dpc, dpc->context, a1, a2);
    p.dpc_origin_ps = 0;
    if (p.irql != kDispatchLevel)
      bug_check(
          kIrqlUnexpectedValue,
          (static_cast<std::uint64_t>(p.irql) << 16) | (kDispatchLevel << 8) | kUniqueDpcReturn, 0,
          dpc->id, 0);  // Windows: the routine's and the DPC's addresses (host pointers here)
    pop_frame();
    const std::uint64_t t1 = cpu_.now_ps();
    stats_.dpc.add(t1 - t0);
    timeline_.add(p.number, false, t0, t1);
    dpc->time.add(t1 - t0);
    if (!dpc->seen) {
      dpc->seen = true;
      dpcs_seen_.push_back(dpc);
    }
    if (util::events().enabled()) emit("dpc_exit", {{"name", dpc->name}}, {{"cpu", p.number}});
  }
  p.dpc_active = false;
  // Interrupts stay off here; the caller restores them (the trap's IRET or the thread's IF).
}

}  // namespace ke
