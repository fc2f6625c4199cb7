// Threads, the scheduler, dispatcher objects and waits, spin locks.
#include <exception>

#include <fmt/format.h>

#include "sw/ke/kernel.h"
#include "util/event_log.h"

namespace ke {

// ---- threads

Thread& Kernel::create_thread(const std::string& name, int priority, std::function<void()> entry) {
  auto t = std::make_unique<Thread>();
  t->id = static_cast<int>(threads_.size());
  t->name = name;
  t->priority = std::clamp(priority, 1, 31);
  t->entry = std::move(entry);
  t->quantum = config_.quantum_ticks;
  Thread& thread = *t;
  threads_.push_back(std::move(t));
  thread.context = cpu_.create_context(
      name, [this, &thread] { thread_startup(thread); }, config_.stack_bytes);
  const Irql old = raise_irql(std::max(irql_, kDispatchLevel));
  ready_thread(thread);
  lower_irql(old);
  return thread;
}

void Kernel::thread_startup(Thread& thread) {
  // KiThreadStartup: a new thread starts inside the dispatcher, at DISPATCH_LEVEL.
  lower_irql(kPassiveLevel);
  cpu_.enable_interrupts();
  thread.entry();
  terminate_current();
}

void Kernel::terminate_current() {
  raise_irql(std::max(irql_, kDispatchLevel));
  current_->state = ThreadState::terminated;
  if (util::events().enabled())
    util::events().emit("ke", "thread_exit", {{"thread", current_->name}});
  reschedule();
  // Nothing ever switches back to a terminated thread.
  cpu_.stop(1);
  std::terminate();  // stop() never returns; reaching here is a processor-model bug
}

void Kernel::set_priority_thread(Thread& thread, int priority) {
  const Irql old = raise_irql(std::max(irql_, kDispatchLevel));
  priority = std::clamp(priority, 1, 31);
  if (thread.state == ThreadState::ready) {
    auto& q = ready_[static_cast<std::size_t>(thread.priority)];
    q.erase(std::remove(q.begin(), q.end(), &thread), q.end());
    thread.priority = priority;
    ready_thread(thread);
  } else {
    thread.priority = priority;
    dispatch_pending_ = true;  // the running thread may no longer be the highest
  }
  lower_irql(old);
}

void Kernel::ready_thread(Thread& thread) {
  thread.state = ThreadState::ready;
  if (thread.readied_by_interrupt_ps == 0) {
    thread.readied_by_interrupt_ps =
        interrupt_origin_ps_ != 0 ? interrupt_origin_ps_ : dpc_origin_ps_;
  }
  ready_[static_cast<std::size_t>(thread.priority)].push_back(&thread);
  if (current_ == idle_ || thread.priority > current_->priority) dispatch_pending_ = true;
}

Thread* Kernel::select_next() {
  for (int p = 31; p >= 1; --p) {
    auto& q = ready_[static_cast<std::size_t>(p)];
    if (q.empty()) continue;
    // A running thread keeps the CPU against equal priorities until its quantum ends.
    if (current_->state == ThreadState::running && current_ != idle_ && current_->priority >= p)
      return current_;
    Thread* next = q.front();
    q.pop_front();
    return next;
  }
  return current_->state == ThreadState::running ? current_ : idle_;
}

void Kernel::reschedule() {
  dispatch_pending_ = false;
  Thread* next = select_next();
  if (next == current_) return;
  if (current_->state == ThreadState::running && current_ != idle_) {
    // Preempted: back to the head of its queue, so it resumes before its equals.
    current_->state = ThreadState::ready;
    ready_[static_cast<std::size_t>(current_->priority)].push_front(current_);
  }
  swap_to(*next);
}

void Kernel::swap_to(Thread& next) {
  Thread& prev = *current_;
  cpu_.consume(config_.costs.thread_dispatch);
  prev.interrupts_enabled = cpu_.interrupts_enabled();
  cpu_.disable_interrupts();
  current_ = &next;
  next.state = ThreadState::running;
  if (next.quantum <= 0) next.quantum = config_.quantum_ticks;
  ++stats_.context_switches;
  if (next.readied_by_interrupt_ps != 0) {
    stats_.interrupt_to_thread.add(cpu_.now_ps() - next.readied_by_interrupt_ps);
    next.readied_by_interrupt_ps = 0;
  }
  if (util::events().enabled())
    util::events().emit("ke", "thread_switch",
                        {{"from", prev.name}, {"to", next.name}, {"irql", irql_}});
  cpu_.set_probe(hw::Probe::thread_id, static_cast<std::uint32_t>(next.id));
  show_kind();
  cpu_.switch_to(next.context);
  // Running again as `prev`: whoever switched back set current_ to us.
  cpu_.set_probe(hw::Probe::thread_id, static_cast<std::uint32_t>(prev.id));
  show_kind();
  if (prev.interrupts_enabled) cpu_.enable_interrupts();
}

void Kernel::yield() {
  const Irql old = raise_irql(std::max(irql_, kDispatchLevel));
  if (!ready_[static_cast<std::size_t>(current_->priority)].empty()) {
    current_->state = ThreadState::ready;
    ready_[static_cast<std::size_t>(current_->priority)].push_back(current_);
    dispatch_pending_ = true;
    reschedule();
  }
  lower_irql(old);
}

// ---- events and waits

void Kernel::initialize_event(Event& event, std::string name, EventType type, bool signaled) {
  event.name = std::move(name);
  event.type = type;
  event.signaled = signaled;
  event.waiters.clear();
}

void Kernel::set_event(Event& event) {
  const Irql old = raise_irql(std::max(irql_, kDispatchLevel));
  event.signaled = true;
  if (util::events().enabled()) util::events().emit("ke", "set_event", {{"event", event.name}});
  while (event.signaled && !event.waiters.empty()) {
    Thread* t = event.waiters.front();
    event.waiters.pop_front();
    // A synchronization event wakes one waiter and resets; a notification event wakes all.
    if (event.type == EventType::synchronization) event.signaled = false;
    unwait(*t, Status::success);
  }
  lower_irql(old);
}

void Kernel::clear_event(Event& event) {
  event.signaled = false;
}

void Kernel::unwait(Thread& thread, Status status) {
  if (thread.wait_due_tick != 0) {
    for (auto it = timers_.lower_bound(thread.wait_due_tick);
         it != timers_.end() && it->first == thread.wait_due_tick; ++it) {
      if (it->second == &thread) {
        timers_.erase(it);
        break;
      }
    }
  }
  if (thread.waiting_on != nullptr) {
    auto& w = thread.waiting_on->waiters;
    w.erase(std::remove(w.begin(), w.end(), &thread), w.end());
  }
  thread.waiting_on = nullptr;
  thread.wait_due_tick = 0;
  thread.wait_status = status;
  ready_thread(thread);
}

Status Kernel::wait_for_single_object(Event& event, std::optional<std::uint64_t> timeout_ps) {
  return wait(&event, timeout_ps);
}

void Kernel::delay_execution(std::uint64_t interval_ps) {
  wait(nullptr, interval_ps);
}

Status Kernel::wait(Event* event, std::optional<std::uint64_t> timeout_ps) {
  const bool polling = timeout_ps.has_value() && *timeout_ps == 0;
  if (irql_ >= kDispatchLevel && !polling) {
    // A DPC has no thread of its own to put to sleep; any other code at DISPATCH_LEVEL or above
    // would block the scheduler that has to wake it.
    if (dpc_active_)
      bug_check(kAttemptedSwitchFromDpc, static_cast<std::uint64_t>(current_->id), 0, 0, 0);
    bug_check(kIrqlNotLessOrEqual, 0, irql_, 0, 0);
  }
  const Irql old = irql_;
  if (irql_ < kDispatchLevel) set_irql(kDispatchLevel);
  if (event != nullptr && event->signaled) {
    if (event->type == EventType::synchronization) event->signaled = false;
    lower_irql(old);
    return Status::success;
  }
  if (polling) {
    lower_irql(old);
    return Status::timeout;
  }
  Thread& self = *current_;
  self.state = ThreadState::waiting;
  self.waiting_on = event;
  self.wait_status = Status::success;
  if (event != nullptr) event->waiters.push_back(&self);
  if (timeout_ps.has_value()) {
    // Timer expiry is checked at clock ticks: round up, and never expire on the current tick.
    self.wait_due_tick =
        tick_count_ + std::max<std::uint64_t>(1, (*timeout_ps + tick_ps_ - 1) / tick_ps_);
    timers_.emplace(self.wait_due_tick, &self);
  }
  if (util::events().enabled())
    util::events().emit(
        "ke", "wait",
        {{"thread", self.name}, {"event", event ? event->name : std::string("(delay)")}});
  reschedule();
  lower_irql(old);
  return self.wait_status;
}

// ---- spin locks (one processor: acquiring is raising to DISPATCH_LEVEL and marking ownership)

Irql Kernel::acquire_spin_lock(SpinLock& lock) {
  const Irql old = raise_irql(kDispatchLevel);
  acquire_spin_lock_at_dpc_level(lock);
  return old;
}

void Kernel::release_spin_lock(SpinLock& lock, Irql old_irql) {
  release_spin_lock_from_dpc_level(lock);
  lower_irql(old_irql);
}

void Kernel::acquire_spin_lock_at_dpc_level(SpinLock& lock) {
  if (irql_ < kDispatchLevel) bug_check(kIrqlNotGreaterOrEqual, irql_, kDispatchLevel, 0, 0);
  // On one processor a held lock can only be held by the caller: spinning would never end.
  if (lock.held) bug_check(kSpinLockAlreadyOwned, lock_id(lock), 0, 0, 0);
  lock.held = true;
}

void Kernel::release_spin_lock_from_dpc_level(SpinLock& lock) {
  if (!lock.held) bug_check(kSpinLockNotOwned, lock_id(lock), 0, 0, 0);
  lock.held = false;
}

}  // namespace ke
