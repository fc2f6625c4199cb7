#include "sw/ke/kernel.h"

#include <fmt/format.h>

#include "sw/hal/pit.h"
#include "util/event_log.h"
#include "util/log.h"

namespace ke {
namespace {
IrqlBand band_of(Irql irql) {
  if (irql == kPassiveLevel) return IrqlBand::passive;
  if (irql == kApcLevel) return IrqlBand::apc;
  if (irql == kDispatchLevel) return IrqlBand::dispatch;
  if (irql == kHighLevel) return IrqlBand::high;
  return IrqlBand::device;
}
}  // namespace

Kernel::Kernel(hw::Processor& cpu, hal::Hal& hal, KernelConfig config)
    : cpu_(cpu), hal_(hal), config_(config), tick_ps_(1'000'000'000'000ull / config.tick_hz) {
  if (config_.processors.empty()) config_.processors.push_back(&cpu);
  // Each processor's boot context is its first thread; it becomes its idle thread (run() on
  // the boot processor, start_processor() on the others).
  for (unsigned n = 0; n < config_.processors.size(); ++n) {
    auto p = std::make_unique<Prcb>();
    p->number = n;
    p->cpu = config_.processors[n];
    auto idle = std::make_unique<Thread>();
    idle->id = static_cast<int>(threads_.size());
    idle->name = n == 0 ? "idle" : fmt::format("idle{}", n);
    idle->priority = 0;
    idle->state = ThreadState::running;
    idle->processor = n;
    // The boot processor is running its boot context now; the others have not started, and
    // their first context (created when they start) will be their idle thread's.
    idle->context = n == 0 ? p->cpu->current_context() : hw::kNoContext;
    p->idle = p->current = idle.get();
    threads_.push_back(std::move(idle));
    prcbs_.push_back(std::move(p));
  }
}

Kernel::~Kernel() = default;

void Kernel::initialize() {
  for (hw::Processor* p : config_.processors) p->set_trap_handler(this);
  hal_.initialize();
  hal_.initialize_processor(prcb().irql);
  initialize_interrupt(clock_interrupt_, "clock", &Kernel::clock_isr, this, config_.clock_irq,
                       InterruptMode::latched, false);
  initialize_dpc(clock_dpc_, "clock", &Kernel::clock_dpc, this);
  // The clock is the kernel's own (KeUpdateSystemTime is ntoskrnl's; LatencyMon lists it so).
  clock_interrupt_.owner = clock_dpc_.owner = "ntoskrnl";
  set_importance_dpc(clock_dpc_, DpcImportance::high);
  connect_interrupt(clock_interrupt_);
  hal::pit_start_periodic(cpu_, config_.timer_port,
                          hal::pit_divisor(config_.timer_clock_hz, config_.tick_hz));
  cpu_.set_probe(hw::Probe::irql, prcb().irql);
  cpu_.set_probe(hw::Probe::thread_id, 0);
  cpu_.enable_interrupts();
}

void Kernel::start_processor(unsigned n) {
  Prcb& p = *prcbs_.at(n);
  p.idle->context = cpu_.current_context();
  p.irql_since_ps = cpu_.now_ps();
  hal_.initialize_processor(p.irql);
  cpu_.set_probe(hw::Probe::irql, p.irql);
  cpu_.set_probe(hw::Probe::thread_id, static_cast<std::uint32_t>(p.idle->id));
  if (util::events().enabled()) util::events().emit("ke", "processor_start", {{"cpu", n}});
  for (auto& work : p.ipi_work) work();  // generic calls made before it started
  p.ipi_work.clear();
  cpu_.enable_interrupts();
  idle_loop();
}

void Timeline::add(unsigned cpu, bool isr, std::uint64_t from_ps, std::uint64_t to_ps) {
  if (to_ps <= from_ps) return;
  // Most ISRs and DPCs fall inside one bucket that exists already (every interrupt comes here).
  if (cpu < cpus.size()) {
    auto& v = isr ? cpus[cpu].isr_ps : cpus[cpu].dpc_ps;
    const std::uint64_t b = from_ps / bucket_ps;
    if (b < v.size() && b + 1 < kMaxBuckets && (to_ps - 1) / bucket_ps == b) {
      v[b] += to_ps - from_ps;
      return;
    }
  }
  if (cpus.size() <= cpu) cpus.resize(cpu + 1);
  // Longer buckets until the end fits (every processor's, so all share one time axis).
  while (to_ps / bucket_ps >= kMaxBuckets) {
    for (auto& c : cpus) {
      for (auto* v : {&c.isr_ps, &c.dpc_ps}) {
        for (std::size_t i = 0; i < v->size(); i += 2)
          (*v)[i / 2] = (*v)[i] + (i + 1 < v->size() ? (*v)[i + 1] : 0);
        v->resize((v->size() + 1) / 2);
      }
    }
    bucket_ps *= 2;
  }
  auto& v = isr ? cpus[cpu].isr_ps : cpus[cpu].dpc_ps;
  for (std::uint64_t t = from_ps; t < to_ps;) {
    const std::size_t b = t / bucket_ps;
    const std::uint64_t end = std::min(to_ps, (b + 1) * bucket_ps);
    if (v.size() <= b) v.resize(b + 1, 0);
    v[b] += end - t;
    t = end;
  }
}

KernelStats Kernel::stats() const {
  KernelStats s = stats_;
  for (const auto& p : prcbs_) {
    s.interrupts += p->stats.interrupts;
    s.dpcs_executed += p->stats.dpcs_executed;
    s.context_switches += p->stats.context_switches;
    s.irql_changes += p->stats.irql_changes;
    s.ipis += p->stats.ipis_sent;
    s.migrations += p->stats.migrations;
    s.spin_waits += p->stats.spin_waits;
    s.spin_wait_ps += p->stats.spin_wait_ps;
  }
  return s;
}

std::array<std::uint64_t, kIrqlBands> Kernel::irql_time(unsigned n) const {
  const Prcb& p = *prcbs_.at(n);
  auto t = p.stats.irql_ps;
  t[static_cast<unsigned>(band_of(p.irql))] += p.cpu->now_ps() - p.irql_since_ps;
  return t;
}

void Kernel::run(const std::string& name, int priority, std::function<void()> system_main) {
  create_thread(name, priority, std::move(system_main), 1);  // the system thread on CPU 0
  idle_loop();
}

void Kernel::idle_loop() {
  // KiIdleLoop: everything else happens in interrupts, DPCs and the threads they ready. A DPC
  // queued here by another processor without a request (medium importance) runs before the
  // processor sleeps.
  Prcb& p = prcb();
  for (;;) {
    show_kind();
    // A thread readied here while this processor was between threads (no dispatch was asked
    // for then) runs before the processor sleeps, as KiIdleLoop checks for a next thread.
    if (select_next(false) != p.idle) p.dispatch_pending = true;
    if (!p.dpc_queue.empty() || p.dispatch_pending) {
      cpu_.disable_interrupts();
      dispatch_software_interrupt(p.irql);
      cpu_.enable_interrupts();
      continue;
    }
    cpu_.halt();
  }
}

// ---- contexts shown in traces and bug-check reports

void Kernel::push_frame(Thread::Frame frame) {
  prcb().current->frames.push_back(frame);
  cpu_.set_probe(hw::Probe::context_kind, static_cast<std::uint32_t>(frame.kind));
  if (frame.interrupt != nullptr)
    cpu_.set_probe(hw::Probe::routine,
                   routine_number(frame.interrupt->routine_id, "ISR", frame.interrupt->name));
  else if (frame.dpc != nullptr)
    cpu_.set_probe(hw::Probe::routine,
                   routine_number(frame.dpc->routine_id, "DPC", frame.dpc->name));
}

void Kernel::pop_frame() {
  prcb().current->frames.pop_back();
  show_kind();
}

void Kernel::show_kind() {
  Prcb& p = prcb();
  hw::ContextKind kind = p.current->frames.empty() ? (p.current == p.idle ? hw::ContextKind::idle
                                                                          : hw::ContextKind::thread)
                                                   : p.current->frames.back().kind;
  cpu_.set_probe(hw::Probe::context_kind, static_cast<std::uint32_t>(kind));
  std::uint32_t routine = 0;
  if (p.current->frames.empty()) {
    Thread& t = *p.current;
    routine = routine_number(t.routine_id, &t == p.idle ? "" : "thread", t.name);
  } else if (const Thread::Frame& f = p.current->frames.back(); f.interrupt != nullptr) {
    routine = routine_number(f.interrupt->routine_id, "ISR", f.interrupt->name);
  } else if (f.dpc != nullptr) {
    routine = routine_number(f.dpc->routine_id, "DPC", f.dpc->name);
  }
  cpu_.set_probe(hw::Probe::routine, routine);
}

std::string Kernel::describe_frames(const Prcb& p) const {
  std::string s = fmt::format("thread '{}' (id {}, priority {})", p.current->name, p.current->id,
                              p.current->priority);
  for (const auto& f : p.current->frames) {
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
  Prcb& p = prcb();
  if (irql == p.irql) return;
  const Irql old = p.irql;
  p.irql = irql;
  const std::uint64_t now = cpu_.now_ps();
  p.stats.irql_ps[static_cast<unsigned>(band_of(old))] += now - p.irql_since_ps;
  p.irql_since_ps = now;
  ++p.stats.irql_changes;
  cpu_.set_probe(hw::Probe::irql, irql);
  if (util::events().enabled()) emit("irql", {{"from", old}, {"to", irql}}, {{"cpu", p.number}});
  hal_.irql_changed(irql);
  cpu_.consume(config_.costs.irql_change);
}

Irql Kernel::raise_irql(Irql new_irql) {
  const Irql old = prcb().irql;
  if (new_irql < old) bug_check(kIrqlNotGreaterOrEqual, old, new_irql, 0, 0);
  if (raise_hook_ && new_irql >= kDispatchLevel && old < kDispatchLevel && !in_raise_hook_) {
    in_raise_hook_ = true;
    raise_hook_(new_irql);
    in_raise_hook_ = false;
  }
  set_irql(new_irql);
  return old;
}

void Kernel::lower_irql(Irql new_irql) {
  Prcb& p = prcb();
  if (new_irql > p.irql) bug_check(kIrqlNotLessOrEqual, 0, p.irql, new_irql, 0);
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
  if (new_irql < kDispatchLevel && (!p.dpc_queue.empty() || p.dispatch_pending)) {
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
  // The processor is looked up again after each round: a thread switch may have resumed this
  // thread on another one.
  Prcb* p = &prcb();
  do {
    if (p->quantum_end) end_quantum(*p);
    drain_dpc_queue();
    if (p->dispatch_pending) reschedule();
    p = &prcb();
  } while (!p->dpc_queue.empty() || p->dispatch_pending);
  set_irql(target);
  if (interrupts_were_enabled) cpu_.enable_interrupts();
}

void Kernel::emit(std::string_view ev, std::initializer_list<util::EventField> fields,
                  std::initializer_list<util::EventField> smp_fields) {
  if (prcbs_.size() == 1) {
    util::events().emit("ke", ev, fields);
  } else {
    util::events().emit("ke", ev, fields, smp_fields);
  }
}

void Kernel::request_dispatch(Prcb& target) {
  if (target.dispatch_requested) return;
  target.dispatch_requested = true;
  ++prcb().stats.ipis_sent;
  if (util::events().enabled())
    util::events().emit("ke", "ipi", {{"from", prcb().number}, {"to", target.number}});
  hal_.request_dispatch_interrupt(target.number);
}

void Kernel::dispatch_ipi() {
  // The IPI's vector is of DISPATCH_LEVEL's class: the local APIC delivered it only below
  // DISPATCH_LEVEL. EOI first, then the software interrupt's work (KiDispatchInterrupt), which
  // drains the DPC queue and switches threads.
  Prcb& p = prcb();
  ++p.stats.ipis_received;
  p.dispatch_requested = false;
  hal_.local_eoi();
  if (util::events().enabled()) util::events().emit("ke", "ipi_received", {{"cpu", p.number}});
  // KeIpiGenericCall's routines first (IPI_LEVEL work on Windows, so a held-off DISPATCH_LEVEL
  // does not delay them past this point).
  while (!p.ipi_work.empty()) {
    auto work = std::move(p.ipi_work.front());
    p.ipi_work.erase(p.ipi_work.begin());
    work();
  }
  dispatch_software_interrupt(p.irql);
}

void Kernel::ipi_generic_call(const std::function<void()>& routine) {
  routine();
  if (prcbs_.size() == 1) return;
  // Each other processor runs the routine and counts itself off; this one spins until all have.
  auto pending = std::make_shared<unsigned>(0);
  const unsigned self = prcb().number;
  for (auto& p : prcbs_) {
    if (p->number == self) continue;
    if (p->idle->context == hw::kNoContext) {
      // Not started yet: it runs the routine as it starts (start_processor), unwaited for.
      p->ipi_work.push_back(routine);
      continue;
    }
    ++*pending;
    p->ipi_work.push_back([routine, pending] {
      routine();
      --*pending;
    });
    p->dispatch_requested = false;  // a new IPI even if a dispatch request is on its way
    request_dispatch(*p);
  }
  const bool was_enabled = cpu_.interrupts_enabled();
  cpu_.enable_interrupts();
  while (*pending > 0) cpu_.pause(config_.spin_cycles);
  if (!was_enabled) cpu_.disable_interrupts();
}

void Kernel::flush_tb(const std::vector<std::uint64_t>& pages) {
  if (pages.empty()) return;
  ipi_generic_call([this, &pages] {
    for (std::uint64_t va : pages) cpu_.invalidate_page(va);
  });
}

}  // namespace ke
