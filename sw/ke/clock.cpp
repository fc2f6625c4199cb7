// The clock: the ISR is the top half (tick count, quantum), a DPC the bottom half (timer
// expiry, quantum end), as in KeUpdateSystemTime / KiTimerExpiration.
#include "sw/ke/kernel.h"
#include "util/event_log.h"

namespace ke {

// The clock interrupts CPU 0 only; its tick also counts down the quantum of every processor's
// running thread (each CPU's own clock interrupt does that in Windows) and asks any other
// processor whose quantum ended, or whose DPC queue waits, for a DISPATCH_LEVEL interrupt.
bool Kernel::clock_isr(Interrupt*, void* context) {
  auto& k = *static_cast<Kernel*>(context);
  ++k.tick_count_;
  ++k.stats_.clock_ticks;
  k.cpu_.consume(k.config_.costs.clock_isr);
  bool any_quantum_end = false;
  for (auto& p : k.prcbs_) {
    if (p->current != p->idle && --p->current->quantum <= 0) {
      p->quantum_end = true;
      any_quantum_end = true;
    }
  }
  const bool remote_dpcs = [&k] {
    for (std::size_t n = 1; n < k.prcbs_.size(); ++n)
      if (!k.prcbs_[n]->dpc_queue.empty()) return true;
    return false;
  }();
  const bool timer_due = !k.timers_.empty() && k.timers_.begin()->first <= k.tick_count_;
  if (timer_due || any_quantum_end || remote_dpcs)
    k.insert_queue_dpc(k.clock_dpc_, nullptr, nullptr);
  return true;
}

void Kernel::clock_dpc(Dpc*, void* context, void*, void*) {
  auto& k = *static_cast<Kernel*>(context);
  while (!k.timers_.empty() && k.timers_.begin()->first <= k.tick_count_) {
    Thread* t = k.timers_.begin()->second;
    k.timers_.erase(k.timers_.begin());
    t->wait_due_tick = 0;
    if (util::events().enabled()) util::events().emit("ke", "timeout", {{"thread", t->name}});
    k.unwait(*t, Status::timeout);
  }
  Prcb& here = k.prcb();
  if (here.quantum_end) k.end_quantum(here);
  for (std::size_t n = 1; n < k.prcbs_.size(); ++n) {
    Prcb& p = *k.prcbs_[n];
    if (p.quantum_end || !p.dpc_queue.empty()) k.request_dispatch(p);
  }
}

void Kernel::end_quantum(Prcb& p) {
  p.quantum_end = false;
  Thread& cur = *p.current;
  cur.quantum = config_.quantum_ticks;
  // Round robin: an equal-priority ready thread takes over; the current one goes to the tail.
  auto& q = p.ready[static_cast<std::size_t>(cur.priority)];
  if (cur.state == ThreadState::running && &cur != p.idle && !q.empty()) {
    cur.state = ThreadState::ready;
    q.push_back(&cur);
    ++p.queued;
    p.dispatch_pending = true;
    if (util::events().enabled()) util::events().emit("ke", "quantum_end", {{"thread", cur.name}});
  }
}

}  // namespace ke
