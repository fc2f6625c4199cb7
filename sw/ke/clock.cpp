// The clock: the ISR is the top half (tick count, quantum), a DPC the bottom half (timer
// expiry, quantum end), as in KeUpdateSystemTime / KiTimerExpiration.
#include "sw/ke/kernel.h"
#include "util/event_log.h"

namespace ke {

bool Kernel::clock_isr(Interrupt*, void* context) {
  auto& k = *static_cast<Kernel*>(context);
  ++k.tick_count_;
  ++k.stats_.clock_ticks;
  k.cpu_.consume(k.config_.costs.clock_isr);
  if (k.current_ != k.idle_ && --k.current_->quantum <= 0) k.quantum_end_ = true;
  const bool timer_due = !k.timers_.empty() && k.timers_.begin()->first <= k.tick_count_;
  if (timer_due || k.quantum_end_) k.insert_queue_dpc(k.clock_dpc_, nullptr, nullptr);
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
  if (k.quantum_end_) {
    k.quantum_end_ = false;
    Thread& cur = *k.current_;
    cur.quantum = k.config_.quantum_ticks;
    // Round robin: an equal-priority ready thread takes over; the current one goes to the tail.
    auto& q = k.ready_[static_cast<std::size_t>(cur.priority)];
    if (cur.state == ThreadState::running && cur.id != 0 && !q.empty()) {
      cur.state = ThreadState::ready;
      q.push_back(&cur);
      k.dispatch_pending_ = true;
      if (util::events().enabled())
        util::events().emit("ke", "quantum_end", {{"thread", cur.name}});
    }
  }
}

}  // namespace ke
