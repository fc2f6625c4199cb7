// Threads, the scheduler, dispatcher objects and waits, spin locks.
#include <exception>

#include <fmt/format.h>

#include "sw/ke/kernel.h"
#include "util/event_log.h"

namespace ke {

// ---- threads

Thread& Kernel::create_thread(const std::string& name, int priority, std::function<void()> entry,
                              std::uint64_t affinity) {
  // The ideal processor: of those the affinity allows, the one with the fewest threads.
  Prcb* home = nullptr;
  for (auto& p : prcbs_) {
    if (!(affinity >> p->number & 1)) continue;
    if (home == nullptr || p->threads < home->threads) home = p.get();
  }
  if (home == nullptr) home = prcbs_[0].get();  // an affinity naming no processor: CPU 0
  ++home->threads;
  auto t = std::make_unique<Thread>();
  t->id = static_cast<int>(threads_.size());
  t->name = name;
  t->priority = std::clamp(priority, 1, 31);
  t->entry = std::move(entry);
  t->quantum = config_.quantum_ticks;
  t->processor = t->ran_on = t->ideal = home->number;
  t->user_affinity = affinity;
  Thread& thread = *t;
  threads_.push_back(std::move(t));
  thread.context = home->cpu->create_context(
      name, [this, &thread] { thread_startup(thread); }, config_.stack_bytes);
  if (util::events().enabled() && prcbs_.size() > 1)
    util::events().emit("ke", "thread_create", {{"thread", name}, {"cpu", home->number}});
  const Irql old = raise_irql(std::max(prcb().irql, kDispatchLevel));
  ready_thread(thread);
  lower_irql(old);
  return thread;
}

void Kernel::thread_startup(Thread& thread) {
  // KiThreadStartup: a new thread starts inside the dispatcher, at DISPATCH_LEVEL.
  lower_irql(kPassiveLevel);
  cpu_.enable_interrupts();
  try {
    thread.entry();
  } catch (const AccessViolation& av) {
    // No handler of its own took the exception (KiDispatchException finds none in kernel mode).
    bug_check(kKmodeExceptionNotHandled, av.status, running_routine().id, av.write ? 1 : 0,
              av.address);
  }
  terminate_current();
}

void Kernel::terminate_current() {
  raise_irql(std::max(prcb().irql, kDispatchLevel));
  Prcb& p = prcb();
  p.current->state = ThreadState::terminated;
  if (util::events().enabled())
    util::events().emit("ke", "thread_exit", {{"thread", p.current->name}});
  reschedule();
  // Nothing ever switches back to a terminated thread.
  cpu_.stop(1);
  std::terminate();  // stop() never returns; reaching here is a processor-model bug
}

void Kernel::set_priority_thread(Thread& thread, int priority) {
  const Irql old = raise_irql(std::max(prcb().irql, kDispatchLevel));
  priority = std::clamp(priority, 1, 31);
  Prcb& home = *prcbs_[thread.processor];
  if (thread.state == ThreadState::ready) {
    auto& q = home.ready[static_cast<std::size_t>(thread.priority)];
    const auto gone = std::remove(q.begin(), q.end(), &thread);
    home.queued -= static_cast<unsigned>(q.end() - gone);
    q.erase(gone, q.end());
    thread.priority = priority;
    ready_thread(thread);
  } else {
    thread.priority = priority;
    home.dispatch_pending = true;  // the running thread may no longer be the highest
    if (&home != &prcb()) request_dispatch(home);
  }
  lower_irql(old);
}

void Kernel::ready_thread(Thread& thread) {
  Prcb& here = prcb();
  Prcb& home = *prcbs_[choose_processor(thread)];
  thread.processor = home.number;
  thread.state = ThreadState::ready;
  if (thread.readied_by_interrupt_ps == 0) {
    thread.readied_by_interrupt_ps =
        here.interrupt_origin_ps != 0 ? here.interrupt_origin_ps : here.dpc_origin_ps;
  }
  home.ready[static_cast<std::size_t>(thread.priority)].push_back(&thread);
  ++home.queued;
  if (home.current == home.idle || thread.priority > home.current->priority) {
    home.dispatch_pending = true;
    // Another processor's thread: its scheduler runs there, asked by a DISPATCH_LEVEL IPI.
    if (&home != &here) request_dispatch(home);
  }
}

unsigned Kernel::choose_processor(const Thread& thread) {
  if (prcbs_.size() == 1) return 0;
  // Preempted inside an interrupt: that interrupt returns on the processor that took it.
  if (thread.has_run && !cpu_.context_portable(thread.context)) return thread.processor;
  const std::uint64_t allowed = thread.affinity() & processors_mask();
  auto idle = [this, allowed](unsigned n) {
    if (!(allowed >> n & 1)) return false;
    const Prcb& p = *prcbs_[n];
    return p.current == p.idle && p.queued == 0;  // else a thread is on its way there
  };
  // KiDeferredReadyThread's order: the ideal processor if idle, the last one if idle, any idle
  // one of the affinity (the lowest number); none idle: the last processor (its cache), else the
  // ideal one, else the first the affinity allows.
  if (idle(thread.ideal)) return thread.ideal;
  if (idle(thread.ran_on)) return thread.ran_on;
  for (unsigned n = 0; n < prcbs_.size(); ++n)
    if (idle(n)) return n;
  if (allowed >> thread.ran_on & 1) return thread.ran_on;
  if (allowed >> thread.ideal & 1) return thread.ideal;
  for (unsigned n = 0; n < prcbs_.size(); ++n)
    if (allowed >> n & 1) return n;
  return thread.processor;
}

Thread* Kernel::find_movable_thread(bool take) {
  // An idle processor looks through the busy processors' ready queues (KiSearchForNewThread):
  // the highest priority first, then the lowest processor number, each queue from its head. A
  // queue of an idle processor is left to it (it was asked to run that thread already).
  const unsigned me = prcb().number;
  bool any = false;
  for (const auto& other : prcbs_)
    any = any || (other->number != me && other->current != other->idle && other->queued != 0);
  if (!any) return nullptr;
  for (int pri = 31; pri >= 1; --pri) {
    for (auto& other : prcbs_) {
      if (other->number == me || other->current == other->idle || other->queued == 0) continue;
      auto& q = other->ready[static_cast<std::size_t>(pri)];
      for (auto it = q.begin(); it != q.end(); ++it) {
        Thread* t = *it;
        if (!allowed_here(*t, me) || !cpu_.context_portable(t->context)) continue;
        if (take) {
          q.erase(it);
          --other->queued;
          t->processor = me;
        }
        return t;
      }
    }
  }
  return nullptr;
}

Thread* Kernel::select_next(bool take) {
  Prcb& pr = prcb();
  Thread* cur = pr.current;
  for (int p = pr.queued == 0 ? 0 : 31; p >= 1; --p) {
    auto& q = pr.ready[static_cast<std::size_t>(p)];
    if (q.empty()) continue;
    // A running thread keeps the CPU against equal priorities until its quantum ends.
    if (cur->state == ThreadState::running && cur != pr.idle && cur->priority >= p) return cur;
    Thread* next = q.front();
    if (take) {
      q.pop_front();
      --pr.queued;
    }
    return next;
  }
  if (cur->state == ThreadState::running && cur != pr.idle) return cur;
  if (prcbs_.size() > 1) {
    if (Thread* moved = find_movable_thread(take)) return moved;
  }
  return cur->state == ThreadState::running ? cur : pr.idle;
}

void Kernel::reschedule() {
  Prcb& p = prcb();
  p.dispatch_pending = false;
  Thread* cur = p.current;
  // Its affinity no longer includes this processor (a system affinity was set): it goes to
  // one that it does include, unless an interrupt in progress on its stack holds it here.
  if (cur->state == ThreadState::running && cur != p.idle && !allowed_here(*cur, p.number) &&
      cpu_.context_portable(cur->context)) {
    ready_thread(*cur);
  }
  if (select_next(false) == cur) return;
  // The scheduler's own work takes time, during which another processor may ready a thread
  // here; it saw this processor's current thread (not idle, perhaps of higher priority) and
  // asked for no dispatch. So the choice is made after the work: chosen before it, a thread
  // readied meanwhile sat in the ready queue behind an idle processor for good.
  cpu_.consume(config_.costs.thread_dispatch);
  Thread* next = select_next(true);
  if (next == cur) return;
  if (cur->state == ThreadState::running && cur != p.idle) {
    // Preempted: back to the head of its queue, so it resumes before its equals.
    cur->state = ThreadState::ready;
    p.ready[static_cast<std::size_t>(cur->priority)].push_front(cur);
    ++p.queued;
  }
  swap_to(*next);
}

void Kernel::swap_to(Thread& next) {
  Prcb& p = prcb();
  Thread& prev = *p.current;
  prev.interrupts_enabled = cpu_.interrupts_enabled();
  cpu_.disable_interrupts();
  p.current = &next;
  next.state = ThreadState::running;
  next.processor = p.number;
  if (next.has_run && next.ran_on != p.number) {
    ++p.stats.migrations;
    if (util::events().enabled())
      util::events().emit("ke", "thread_migrate",
                          {{"thread", next.name}, {"from", next.ran_on}, {"to", p.number}});
  }
  next.ran_on = p.number;
  next.has_run = true;
  if (next.quantum <= 0) next.quantum = config_.quantum_ticks;
  ++p.stats.context_switches;
  if (next.readied_by_interrupt_ps != 0) {
    stats_.interrupt_to_thread.add(cpu_.now_ps() - next.readied_by_interrupt_ps);
    next.readied_by_interrupt_ps = 0;
  }
  if (util::events().enabled())
    emit("thread_switch", {{"from", prev.name}, {"to", next.name}, {"irql", p.irql}},
         {{"cpu", p.number}});
  cpu_.set_probe(hw::Probe::thread_id, static_cast<std::uint32_t>(next.id));
  show_kind();
  // KiSwapContext's address-space switch: another process's thread gets its page directory.
  if (next.directory != 0 && next.directory != cpu_.cr3()) cpu_.load_cr3(next.directory);
  cpu_.switch_to(next.context);
  // Running again as `prev`: whoever switched back set current_ to us.
  cpu_.set_probe(hw::Probe::thread_id, static_cast<std::uint32_t>(prev.id));
  show_kind();
  if (prev.interrupts_enabled) cpu_.enable_interrupts();
}

void Kernel::yield() {
  const Irql old = raise_irql(std::max(prcb().irql, kDispatchLevel));
  Prcb& p = prcb();
  auto& q = p.ready[static_cast<std::size_t>(p.current->priority)];
  if (!q.empty()) {
    p.current->state = ThreadState::ready;
    q.push_back(p.current);
    ++p.queued;
    p.dispatch_pending = true;
    reschedule();
  }
  lower_irql(old);
}

// ---- affinity

std::uint64_t Kernel::set_system_affinity_thread(std::uint64_t affinity) {
  Prcb& p = prcb();
  if (p.irql > kDispatchLevel) bug_check(kIrqlNotLessOrEqual, 0, p.irql, 0, 0);
  Thread& self = *p.current;
  const std::uint64_t previous = self.system_affinity;
  if (affinity == 0 || (affinity & ~processors_mask()) != 0) return previous;
  self.system_affinity = affinity;
  if (util::events().enabled())
    emit("affinity", {{"thread", self.name}, {"mask", affinity}}, {{"cpu", p.number}});
  apply_affinity();
  return previous;
}

void Kernel::revert_to_user_affinity_thread(std::uint64_t previous) {
  Prcb& p = prcb();
  if (p.irql > kDispatchLevel) bug_check(kIrqlNotLessOrEqual, 0, p.irql, 0, 0);
  Thread& self = *p.current;
  self.system_affinity = (previous & ~processors_mask()) != 0 ? 0 : previous;
  if (util::events().enabled())
    emit("affinity", {{"thread", self.name}, {"mask", self.affinity() & processors_mask()}},
         {{"cpu", p.number}});
  apply_affinity();
}

void Kernel::apply_affinity() {
  // Not allowed here any more: a dispatch moves it, on the way below DISPATCH_LEVEL.
  const Irql old = raise_irql(std::max(prcb().irql, kDispatchLevel));
  Prcb& p = prcb();
  if (!allowed_here(*p.current, p.number)) p.dispatch_pending = true;
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
  const Irql old = raise_irql(std::max(prcb().irql, kDispatchLevel));
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
  Prcb& p = prcb();
  if (p.irql >= kDispatchLevel && !polling) {
    // A DPC has no thread of its own to put to sleep; any other code at DISPATCH_LEVEL or above
    // would block the scheduler that has to wake it.
    if (p.dpc_active)
      bug_check(kAttemptedSwitchFromDpc, static_cast<std::uint64_t>(p.current->id), 0, 0, 0);
    bug_check(kIrqlNotLessOrEqual, 0, p.irql, 0, 0);
  }
  const Irql old = p.irql;
  if (p.irql < kDispatchLevel) set_irql(kDispatchLevel);
  if (event != nullptr && event->signaled) {
    if (event->type == EventType::synchronization) event->signaled = false;
    lower_irql(old);
    return Status::success;
  }
  if (polling) {
    lower_irql(old);
    return Status::timeout;
  }
  Thread& self = *p.current;
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

// ---- spin locks: raising to DISPATCH_LEVEL keeps this processor's scheduler out; the lock keeps
// the other processors out, which spin (test, PAUSE, test: each round `spin_cycles`, simulated
// and counted) until the holder releases it.

void Kernel::spin_acquire(SpinLock& lock) {
  Prcb& p = prcb();
  const int me = static_cast<int>(p.number);
  // Held by this processor: spinning would never end.
  if (lock.held && lock.owner == me) bug_check(kSpinLockAlreadyOwned, lock_id(lock), 0, 0, 0);
  // The lock's word is looked at when the machine's time has caught up with this processor's
  // (the holder's release is then visible, or not, by simulated time alone).
  if (prcbs_.size() > 1) cpu_.pause(0);
  if (lock.held) {
    const std::uint64_t t0 = cpu_.now_ps();
    if (util::events().enabled())
      util::events().emit("ke", "spin_wait",
                          {{"lock", lock_id(lock)}, {"cpu", me}, {"owner", lock.owner}});
    while (lock.held) cpu_.pause(config_.spin_cycles);
    const std::uint64_t waited = cpu_.now_ps() - t0;
    ++p.stats.spin_waits;
    p.stats.spin_wait_ps += waited;
  }
  lock.held = true;
  lock.owner = me;
}

void Kernel::spin_release(SpinLock& lock) {
  if (!lock.held || lock.owner != static_cast<int>(prcb().number))
    bug_check(kSpinLockNotOwned, lock_id(lock), 0, 0, 0);
  if (prcbs_.size() > 1) cpu_.pause(0);  // released at the machine's time, as it is taken
  lock.held = false;
  lock.owner = -1;
}

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
  const Irql irql = prcb().irql;
  if (irql < kDispatchLevel) bug_check(kIrqlNotGreaterOrEqual, irql, kDispatchLevel, 0, 0);
  spin_acquire(lock);
}

void Kernel::release_spin_lock_from_dpc_level(SpinLock& lock) {
  spin_release(lock);
}

}  // namespace ke
