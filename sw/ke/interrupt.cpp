// Interrupt objects and the trap dispatcher (KiInterruptDispatch, KiChainedDispatch).
#include <algorithm>

#include <fmt/format.h>

#include "sw/ke/kernel.h"
#include "util/event_log.h"
#include "util/log.h"

namespace ke {

bool Kernel::initialize_interrupt(Interrupt& interrupt, std::string name, ServiceRoutine routine,
                                  void* context, const InterruptParameters& p) {
  interrupt.name = std::move(name);
  interrupt.routine = routine;
  interrupt.context = context;
  interrupt.vector = p.vector;
  interrupt.irql = p.irql;
  interrupt.synchronize_irql = p.synchronize_irql == 0 ? p.irql : p.synchronize_irql;
  interrupt.mode = p.mode;
  interrupt.share = p.share;
  interrupt.spin_lock = p.spin_lock != nullptr ? p.spin_lock : &interrupt.lock;
  interrupt.connected = false;
  const int irq = hal_.irq_of_vector(p.vector);
  interrupt.irq = irq < 0 ? static_cast<unsigned>(connected_.size()) : static_cast<unsigned>(irq);
  const bool valid =
      irq >= 0 && hal_.irql_of_irq(interrupt.irq) == p.irql && interrupt.synchronize_irql >= p.irql;
  // Unusable unless the parameters are the HAL's translation: an object with no processor to
  // run on, which connect refuses.
  interrupt.affinity = valid ? p.affinity & hal_.affinity_of_irq(interrupt.irq) : 0;
  return interrupt.affinity != 0;
}

void Kernel::initialize_interrupt(Interrupt& interrupt, std::string name, ServiceRoutine routine,
                                  void* context, unsigned irq, InterruptMode mode, bool share) {
  InterruptParameters p;
  p.vector = hal_.vector_of_irq(irq);
  p.irql = hal_.irql_of_irq(irq);
  p.mode = mode;
  p.share = share;
  initialize_interrupt(interrupt, std::move(name), routine, context, p);
}

bool Kernel::connect_interrupt(Interrupt& interrupt) {
  // Only an object initialize_interrupt accepted (it leaves the others no processor).
  if (interrupt.connected || interrupt.irq >= connected_.size() ||
      interrupt.irq == hal_.pic().ports().cascade || interrupt.affinity == 0)
    return false;
  auto& chain = connected_[interrupt.irq];
  // A vector is shared only if every object on it agrees to share, in the same mode.
  if (!chain.empty() &&
      (!interrupt.share || !chain.front()->share || chain.front()->mode != interrupt.mode))
    return false;
  const Irql old = raise_irql(kHighLevel);
  const std::uint64_t before = processors_on(interrupt.irq);
  chain.push_back(&interrupt);
  interrupt.connected = true;
  if (std::find(interrupts_seen_.begin(), interrupts_seen_.end(), &interrupt) ==
      interrupts_seen_.end())
    interrupts_seen_.push_back(&interrupt);
  // The line goes to the processors some object on it is connected on: the first connection
  // enables it, a later one with other processors widens it.
  const std::uint64_t after = processors_on(interrupt.irq);
  if (chain.size() == 1 || after != before) hal_.enable_system_interrupt(interrupt.irq, after);
  lower_irql(old);
  return true;
}

void Kernel::disconnect_interrupt(Interrupt& interrupt) {
  if (!interrupt.connected) return;
  const Irql old = raise_irql(kHighLevel);
  auto& chain = connected_[interrupt.irq];
  const std::uint64_t before = processors_on(interrupt.irq);
  chain.erase(std::remove(chain.begin(), chain.end(), &interrupt), chain.end());
  interrupt.connected = false;
  if (chain.empty())
    hal_.disable_system_interrupt(interrupt.irq);
  else if (processors_on(interrupt.irq) != before)
    hal_.enable_system_interrupt(interrupt.irq, processors_on(interrupt.irq));
  lower_irql(old);
}

std::uint64_t Kernel::processors_on(unsigned irq) const {
  std::uint64_t processors = 0;
  for (const Interrupt* obj : connected_[irq]) processors |= obj->affinity;
  return processors;
}

bool Kernel::synchronize_execution(Interrupt& interrupt, bool (*routine)(void*), void* context) {
  // The ISR's IRQL keeps it out on this processor; its spin lock keeps it out on the others
  // (an ISR running there holds it: this one spins until it returns).
  const Irql old = acquire_interrupt_spin_lock(interrupt);
  const bool result = routine(context);
  release_interrupt_spin_lock(interrupt, old);
  return result;
}

Irql Kernel::acquire_interrupt_spin_lock(Interrupt& interrupt) {
  const Irql old = raise_irql(std::max(prcb().irql, interrupt.synchronize_irql));
  spin_acquire(*interrupt.spin_lock);
  return old;
}

void Kernel::release_interrupt_spin_lock(Interrupt& interrupt, Irql old_irql) {
  spin_release(*interrupt.spin_lock);
  lower_irql(old_irql);
}

void Kernel::interrupt(std::uint8_t vector) {
  const std::uint64_t entry = cpu_.now_ps();
  ++prcb().stats.interrupts;
  if (hal_.apic()) {
    if (vector == hal::kApicSpuriousVector) {  // no EOI: nothing went in service
      ++stats_.spurious;
      if (util::events().enabled()) util::events().emit("ke", "spurious", {{"vector", vector}});
      return;
    }
    if (vector == hal::kDispatchIpiVector) {
      dispatch_ipi();
      return;
    }
  }
  const int irq = hal_.irq_of_vector(vector);
  if (irq < 0) bug_check(kTrapCauseUnknown, 1, vector, 0, 0);
  switch (hal_.begin_system_interrupt(static_cast<unsigned>(irq))) {
    case hal::Begin::spurious:
      ++stats_.spurious;
      if (util::events().enabled()) util::events().emit("ke", "spurious", {{"irq", irq}});
      return;
    case hal::Begin::deferred:
      ++stats_.deferred;
      if (util::events().enabled())
        util::events().emit("ke", "deferred", {{"irq", irq}, {"irql", prcb().irql}});
      return;
    case hal::Begin::service:
      break;
  }
  service_interrupt(static_cast<unsigned>(irq), entry, false);
}

void Kernel::service_interrupt(unsigned irq, std::uint64_t entry_ps, bool replay) {
  const auto& chain = connected_[irq];
  if (chain.empty())
    bug_check(kTrapCauseUnknown, 1, hal_.vector_of_irq(irq), 0, 0);  // nothing connected
  cpu_.consume(config_.costs.interrupt_dispatch);
  Prcb& p = prcb();
  const Irql old = p.irql;
  set_irql(hal_.irql_of_irq(irq));
  if (!replay) hal_.acknowledge_interrupt(irq);
  const std::uint64_t outer_origin = p.interrupt_origin_ps;
  p.interrupt_origin_ps = entry_ps;
  // Interrupts back on: only higher IRQLs can get in now (the PIC mask or lazy deferral keeps
  // the rest out), which is how a higher-priority device preempts this ISR.
  cpu_.enable_interrupts();
  bool claimed = false;
  for (Interrupt* obj : chain) {
    // ProcessorEnableMask: the object is connected on those processors only.
    if (!(obj->affinity >> p.number & 1)) continue;
    ++obj->count;
    push_frame({hw::ContextKind::isr, obj, nullptr});
    const std::uint64_t t0 = cpu_.now_ps();
    if (util::events().enabled())
      emit("isr_enter", {{"name", obj->name}, {"irq", irq}, {"irql", obj->irql}},
           {{"cpu", p.number}});
    // At SynchronizeIrql (above the vector's IRQL when several objects share a lock), holding
    // the object's spin lock, as KeSynchronizeExecution and KeAcquireInterruptSpinLock take it.
    const Irql at = obj->synchronize_irql;
    if (at > p.irql) set_irql(at);
    spin_acquire(*obj->spin_lock);
    const bool mine = obj->routine(obj, obj->context);
    spin_release(*obj->spin_lock);
    if (at > p.irql) set_irql(hal_.irql_of_irq(irq));
    if (mine) ++obj->claims;
    claimed = claimed || mine;
    const std::uint64_t t1 = cpu_.now_ps();
    stats_.isr.add(t1 - t0);
    timeline_.add(p.number, true, t0, t1);
    obj->time.add(t1 - t0);
    if (util::events().enabled())
      emit("isr_exit", {{"name", obj->name}, {"claimed", mine}}, {{"cpu", p.number}});
    pop_frame();
    // A level-triggered line stays up while any device on it asserts, so one claim is enough;
    // a latched (edge) vector gives every sharer a look.
    if (mine && obj->mode == InterruptMode::level_sensitive) break;
  }
  cpu_.disable_interrupts();
  if (chain.front()->mode == InterruptMode::level_sensitive) check_storm(irq, claimed);
  if (!replay) hal_.end_system_interrupt(irq);
  p.interrupt_origin_ps = outer_origin;
  lower_irql(old);  // DPCs and any thread switch happen here, still inside the interrupt
}

void Kernel::check_storm(unsigned irq, bool claimed) {
  // A level-triggered line that stays asserted while every ISR on it declines interrupts again
  // as soon as IRQL drops: the machine would do nothing else. Windows stops it with
  // HARDWARE_INTERRUPT_STORM (Microsoft, "Bug Check 0xF2"), naming the ISR.
  if (claimed) {
    unclaimed_[irq] = 0;
    return;
  }
  if (++unclaimed_[irq] < config_.storm_threshold) return;
  const auto& chain = connected_[irq];
  std::string names;
  for (const Interrupt* obj : chain) names += (names.empty() ? "" : ", ") + obj->name;
  util::Logger("ke").error(
      "interrupt storm on IRQ {} (vector {:#x}): {} interrupts in a row, "
      "none claimed by {}",
      irq, hal_.vector_of_irq(irq), unclaimed_[irq], names);
  // Parameters 1-3 are addresses on Windows (the first ISR, its context, its interrupt object);
  // here, with no host addresses in a bug check: the vector, the interrupts in a row, and the
  // first interrupt object's number (its place among the objects ever connected, from 1).
  const auto it = std::find(interrupts_seen_.begin(), interrupts_seen_.end(), chain.front());
  bug_check(kHardwareInterruptStorm, hal_.vector_of_irq(irq), unclaimed_[irq],
            static_cast<std::uint64_t>(it - interrupts_seen_.begin()) + 1,
            chain.size() > 1 ? 2 : 1);
}

void Kernel::bus_error(const hw::BusFault& fault) {
  // A refused access from kernel-mode code is an unhandled access violation.
  constexpr std::uint32_t kStatusAccessViolation = 0xC0000005;
  util::Logger("ke").error("bus error: {} {:#x} width {}: {}",
                           fault.space == hw::Space::io ? "port" : "address", fault.address,
                           fault.width, fault.reason);
  bug_check(kKmodeExceptionNotHandled, kStatusAccessViolation, fault.address, fault.write ? 1 : 0,
            fault.space == hw::Space::io ? 1 : 0);
}

void Kernel::page_fault(const hw::PageFault& fault) {
  if (page_fault_handler_) {
    page_fault_handler_(fault);
    return;
  }
  // No memory manager: nothing is pageable, so any fault is an address never valid.
  bug_check(kPageFaultInNonpagedArea, fault.address, fault.write ? 1 : 0, running_routine().id, 0);
}

const std::string& Kernel::running_driver() {
  static const std::string none;
  const Thread& t = *prcb().current;
  if (!t.frames.empty()) {
    const Thread::Frame& f = t.frames.back();
    if (f.interrupt != nullptr) return f.interrupt->owner;
    if (f.dpc != nullptr) return f.dpc->owner;
  }
  return t.driver_code.empty() ? none : *t.driver_code.back();
}

Kernel::RunningRoutine Kernel::running_routine() {
  const Thread& t = *prcb().current;
  if (t.frames.empty()) return {0, t.name, {}};
  const Thread::Frame& f = t.frames.back();
  if (f.interrupt != nullptr)
    return {routine_number(f.interrupt->routine_id, "ISR", f.interrupt->name), f.interrupt->name,
            f.interrupt->owner};
  if (f.dpc != nullptr)
    return {routine_number(f.dpc->routine_id, "DPC", f.dpc->name), f.dpc->name, f.dpc->owner};
  return {0, t.name, {}};
}

}  // namespace ke
