#include "sw/ke/kernel.h"

#include <fmt/format.h>

#include "sw/hal/pit.h"
#include "util/event_log.h"
#include "util/log.h"

namespace ke {
Kernel::Kernel(hw::Processor& cpu, hal::Hal& hal, KernelConfig config)
    : cpu_(cpu), hal_(hal), config_(config), tick_ps_(1'000'000'000'000ull / config.tick_hz) {
  // The boot context is the first thread; it becomes the idle thread in run().
  auto idle = std::make_unique<Thread>();
  idle->id = 0;
  idle->name = "idle";
  idle->priority = 0;
  idle->state = ThreadState::running;
  idle->context = cpu.current_context();
  idle_ = current_ = idle.get();
  threads_.push_back(std::move(idle));
}

Kernel::~Kernel() = default;

void Kernel::initialize() {
  cpu_.set_trap_handler(this);
  hal_.initialize();
  initialize_interrupt(clock_interrupt_, "clock", &Kernel::clock_isr, this, config_.clock_irq,
                       InterruptMode::latched, false);
  initialize_dpc(clock_dpc_, "clock", &Kernel::clock_dpc, this);
  set_importance_dpc(clock_dpc_, DpcImportance::high);
  connect_interrupt(clock_interrupt_);
  hal::pit_start_periodic(cpu_, config_.timer_port,
                          hal::pit_divisor(config_.timer_clock_hz, config_.tick_hz));
  cpu_.set_probe(hw::Probe::irql, irql_);
  cpu_.set_probe(hw::Probe::thread_id, 0);
  cpu_.enable_interrupts();
}

void Kernel::run(const std::string& name, int priority, std::function<void()> system_main) {
  create_thread(name, priority, std::move(system_main));
  // KiIdleLoop: everything else happens in interrupts, DPCs and the threads they ready.
  for (;;) {
    show_kind();
    cpu_.halt();
  }
}

// ---- contexts shown in traces and bug-check reports

void Kernel::push_frame(Thread::Frame frame) {
  current_->frames.push_back(frame);
  cpu_.set_probe(hw::Probe::context_kind, static_cast<std::uint32_t>(frame.kind));
}

void Kernel::pop_frame() {
  current_->frames.pop_back();
  show_kind();
}

void Kernel::show_kind() {
  hw::ContextKind kind = current_->frames.empty()
                             ? (current_ == idle_ ? hw::ContextKind::idle : hw::ContextKind::thread)
                             : current_->frames.back().kind;
  cpu_.set_probe(hw::Probe::context_kind, static_cast<std::uint32_t>(kind));
}

std::string Kernel::describe_frames() const {
  std::string s = fmt::format("thread '{}' (id {}, priority {})", current_->name, current_->id,
                              current_->priority);
  for (const auto& f : current_->frames) {
    if (f.interrupt != nullptr) {
      s += fmt::format(" > ISR '{}' (IRQ{}, IRQL {})", f.interrupt->name, f.interrupt->irq,
                       f.interrupt->irql);
    } else if (f.dpc != nullptr) {
      s += fmt::format(" > DPC '{}'", f.dpc->name);
    }
  }
  return s;
}

// ---- IRQL (KfRaiseIrql, KfLowerIrql, HalRequestSoftwareInterrupt(DISPATCH_LEVEL))

void Kernel::set_irql(Irql irql) {
  if (irql == irql_) return;
  const Irql old = irql_;
  irql_ = irql;
  ++stats_.irql_changes;
  cpu_.set_probe(hw::Probe::irql, irql);
  if (util::events().enabled()) util::events().emit("ke", "irql", {{"from", old}, {"to", irql}});
  hal_.irql_changed(irql);
  cpu_.consume(config_.costs.irql_change);
}

Irql Kernel::raise_irql(Irql new_irql) {
  const Irql old = irql_;
  if (new_irql < old) bug_check(kIrqlNotGreaterOrEqual, old, new_irql, 0, 0);
  set_irql(new_irql);
  return old;
}

void Kernel::lower_irql(Irql new_irql) {
  if (new_irql > irql_) bug_check(kIrqlNotLessOrEqual, 0, irql_, new_irql, 0);
  // Interrupts the HAL deferred (lazy IRQL) above the new level run now, highest first, each
  // raised to its own IRQL from the new level, as if it had just arrived. Interrupts stay off
  // until the replayed ISR has raised IRQL (ReactOS KfLowerIrql disables them around the
  // replay): lowering reopens the PIC, and a lower request it held (IRQ6 behind a deferred
  // IRQ5) must not get in first. It arrives inside the ISR, is deferred in turn and replayed
  // after it: the order eager IRQL gives.
  if (hal_.has_pending()) {
    const bool interrupts_were_enabled = cpu_.disable_interrupts();
    for (int irq = hal_.take_pending(new_irql); irq >= 0; irq = hal_.take_pending(new_irql)) {
      set_irql(new_irql);
      ++stats_.replayed;
      if (util::events().enabled()) util::events().emit("ke", "replay", {{"irq", irq}});
      service_interrupt(static_cast<unsigned>(irq), cpu_.now_ps(), true);
    }
    if (interrupts_were_enabled) cpu_.enable_interrupts();
  }
  // Dropping below DISPATCH_LEVEL with DPCs queued or a thread switch asked for: the pending
  // DISPATCH_LEVEL software interrupt is taken on the way down (22 -> 2 -> 0, never 22 -> 0 -> 2).
  if (new_irql < kDispatchLevel && (!dpc_queue_.empty() || dispatch_pending_)) {
    dispatch_software_interrupt(new_irql);
    return;
  }
  set_irql(new_irql);
}

void Kernel::dispatch_software_interrupt(Irql target) {
  // KiDispatchInterrupt: drain the DPC queue, then switch threads if one was asked for. Repeats
  // while interrupts during the drain add work; ends at `target` with IF as it found it.
  const bool interrupts_were_enabled = cpu_.interrupts_enabled();
  set_irql(kDispatchLevel);
  do {
    drain_dpc_queue();
    if (dispatch_pending_) reschedule();
  } while (!dpc_queue_.empty() || dispatch_pending_);
  set_irql(target);
  if (interrupts_were_enabled) cpu_.enable_interrupts();
}

}  // namespace ke
