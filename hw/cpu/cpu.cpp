#define SC_INCLUDE_DYNAMIC_PROCESSES
#include "hw/cpu/cpu.h"

#include <cmath>
#include <cstring>
#include <type_traits>

#include "hw/core/sim_time.h"
#include "util/event_log.h"

namespace hw::cpu {
namespace {
const sc_core::sc_time kMaxSleep(250, sc_core::SC_US);
constexpr unsigned kSettleDeltas = 32;
}  // namespace

Cpu::Cpu(const sc_core::sc_module_name& name, unsigned id, const Timing& timing)
    : sc_module(name),
      out("out"),
      apic_out("apic_out"),
      inta("inta"),
      bus_master("bus_master"),
      log_(this->name()),
      id_(id),
      timing_(timing),
      period_(period_of(timing.clock_hz)),
      quantum_(from_ps(timing.quantum_ps)),
      io_cost_(cycles(timing.io_access)),
      mem_cost_(cycles(timing.mem_access)) {
  out.register_invalidate_direct_mem_ptr(this, &Cpu::invalidate_direct_mem_ptr);
  intr.on_change([this](bool level) { intr_changed(level); });
  // Targets serve this CPU's accesses at kernel time plus its run-ahead offset; with several
  // CPUs only the running one has an offset (hw/core/sim_time.h).
  hw::add_time_offset_source(&local_);
  hw::schedule_hook() = &Cpu::scheduled;
  // The M/IO# extension stays on the CPU's payload, set per access (attaching and removing it
  // each time cost two library calls per port access).
  tx_.set_extension(&io_ext_);
}

Cpu::~Cpu() {
  tx_.clear_extension(&io_ext_);  // a member: the payload must not free it
  hw::remove_time_offset_source(&local_);
}

void Cpu::boot(std::function<void()> entry, std::size_t stack_bytes) {
  // Started by another CPU's software (an application processor): it starts at that CPU's
  // time, which may be ahead of the kernel's (run-ahead), not at the kernel's.
  if (sc_core::sc_is_running()) boot_at_ps_ = hw::now_ps();
  boot_ = create_context("boot", std::move(entry), stack_bytes);
  current_ = boot_;
}

Cpu::Stats Cpu::stats() const {
  Stats s = stats_;
  if (halted_ && sc_core::sc_time_stamp() > halt_start_)
    s.halted_ps += to_ps(sc_core::sc_time_stamp() - halt_start_);
  return s;
}

std::uint64_t Cpu::now_ps() const {
  return kernel_time().value() + to_ps(local_);
}

// ---- contexts

ContextId Cpu::create_context(const std::string& name, std::function<void()> entry,
                              std::size_t stack_bytes) {
  auto id = static_cast<ContextId>(contexts_->size());
  auto ctx = std::make_unique<Context>();
  ctx->name = name;
  ctx->entry = std::move(entry);
  ctx->holder = this;
  contexts_->push_back(std::move(ctx));
  sc_core::sc_spawn_options opts;
  opts.set_stack_size(static_cast<int>(stack_bytes));
  // Process names: the boot processor's as they always were, the others' with their CPU
  // (spawned from another CPU's context, names would otherwise collide).
  std::string process = id_ == 0 ? "ctx_" + name : "ctx_" + std::string(basename()) + "_" + name;
  if (sc_core::sc_find_object(process.c_str()) != nullptr) {
    // Another machine in the same simulation (a test comparing two): its whole path.
    std::string path = this->name();
    for (char& ch : path)
      if (ch == '.') ch = '_';
    process = "ctx_" + path + "_" + name;
  }
  sc_core::sc_spawn([this, id] { run_context(id); }, process.c_str(), &opts);
  activity_changed();
  return id;
}

bool Cpu::context_portable(ContextId id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= contexts_->size()) return false;
  const Context& c = context(id);
  return !c.finished && c.depth == 0;
}

void Cpu::run_context(ContextId id) {
  Context& c = context(id);
  hw::running_processor_slot() = this;
  in_context_ = true;
  kernel_now_ = sc_core::sc_time_stamp();
  delta_now_ = sc_core::sc_delta_count();
  activity_changed();  // a context starts: others ran before it
  // Started by whichever CPU first switches to it (its creator, or another it moved to).
  while (c.holder->current_ != id) wait_resume(c.wake);
  hw::running_processor_slot() = c.holder;
  if (id == boot_ && boot_at_ps_ > sc_core::sc_time_stamp().value()) {
    wait_resume(sc_core::sc_time::from_value(boot_at_ps_ - sc_core::sc_time_stamp().value()));
    hw::running_processor_slot() = this;  // others ran meanwhile
  }
  c.entry();
  c.finished = true;
  Cpu& cpu = *c.holder;  // the CPU it ended on
  if (cpu.current_ != id || cpu.powered_off_) return;
  if (id == cpu.boot_) {
    cpu.sync();
    cpu.power_off(cpu.exit_status_);
  } else {
    cpu.log_.error("context '{}' ended while holding the CPU; nothing left to run", c.name);
    cpu.power_off(1);
  }
}

void Cpu::switch_to(ContextId next) {
  if (next < 0 || static_cast<std::size_t>(next) >= contexts_->size() || context(next).finished) {
    log_.error("switch to context {} which does not exist or has ended", next);
    power_off(1);
    return;
  }
  if (next == current_) return;
  Context& to = context(next);
  // Another CPU's context may move here only if no interrupt is in progress on its stack.
  if (to.holder != this && to.depth != 0) {
    log_.error(
        "switch to context '{}', suspended inside an interrupt on {}: only that CPU can "
        "return from it",
        to.name, to.holder->name());
    power_off(1);
    return;
  }
  const ContextId me = current_;
  Context& self = context(me);
  advance(cycles(timing_.context_save + timing_.context_restore), false);
  sync();  // the handover happens at one global instant
  ++stats_.context_switches;
  current_ = next;
  fault_depth_ = to.faults;  // the marker shows the running context's faults (synced above)
  self.released.notify();    // saved: another CPU waiting to resume it may go on
  // The processor `next` ran on may still be switching away from it (it was readied here while
  // it ran there): its state is saved first, as KiSwapContext waits on the new thread's
  // SwapBusy only after saving the old one, so two processors swapping threads never wait on
  // each other.
  while (to.holder != this && to.holder->current_ == next) wait_resume(to.released);
  to.holder = this;
  to.wake.notify();
  activity_changed();
  // Resumed when a CPU makes this context its current one again: this CPU, or another it moved
  // to, which from here on is the one running this code.
  while (self.holder->current_ != me) wait_resume(self.wake);
  hw::running_processor_slot() = self.holder;
}

void Cpu::power_off(int exit_status) {
  flush_demand();
  if (!powered_off_) {
    powered_off_ = true;
    power_off_ps_ = now_ps();
    exit_status_ = exit_status;
    log_.debug("power off, status {}", exit_status);
    // From a context running ahead: let the kernel reach the power-off's time first, so the
    // run ends there (the VCD's last time, the bus's elapsed cycles) whatever the slicing.
    auto self = sc_core::sc_get_current_process_handle();
    if (self.valid() && self.proc_kind() == sc_core::SC_THREAD_PROC_) sync();
    sc_core::sc_stop();
  }
  // Software that powers the machine off runs no further: sc_stop() ends the run after this
  // evaluation phase, and a context of this CPU must not keep executing (running ahead) until
  // then. Other callers (the simulation loop, tests) just return.
  auto self = sc_core::sc_get_current_process_handle();
  if (self.valid() && self.proc_kind() == sc_core::SC_THREAD_PROC_) {
    local_ = sc_core::SC_ZERO_TIME;  // frozen: it must not offset anyone else's time
    in_context_ = false;
    for (;;) sc_core::wait(never_);
  }
}

void Cpu::stop(int exit_status) {
  power_off(exit_status);
  for (;;) sc_core::wait(never_);  // only reached from outside a process: cannot happen in a run
}

// ---- time

Cpu::Horizon Cpu::horizon_;

sc_core::sc_time Cpu::refresh_horizon() {
  Horizon& h = horizon_;
  h.value = sc_core::sc_time_to_pending_activity();
  h.delta = sc_core::sc_delta_count();
  h.valid = true;
  ++h.generation;
  return h.value;
}

const sc_core::sc_time& Cpu::refresh_limit() const {
  sc_core::sc_time limit = std::min(kMaxRunAhead, time_to_pending_activity());
  if (run_limit_ != sc_core::SC_ZERO_TIME) {
    const sc_core::sc_time now = kernel_time();
    limit = now >= run_limit_ ? sc_core::SC_ZERO_TIME : std::min(limit, run_limit_ - now);
  }
  limit_ = limit;
  limit_gen_ = horizon_.generation;
  return limit_;
}

void Cpu::scheduled(const sc_core::sc_time& at) {
  Horizon& h = horizon_;
  if (h.valid && at < h.value) {
    h.value = at;
    ++h.generation;
  }
}

void Cpu::kernel_wait(const sc_core::sc_time& t) {
  if (t == sc_core::SC_ZERO_TIME) return;
  wait_resume(t);
  intr_settled_ = true;  // every delta of the earlier instant has run
}

void Cpu::intr_changed(bool level) {
  // This CPU's own context changed the line (its INTA, its EOI, its write to a device): seen at
  // once. Another process (a device's timer, another CPU): from the next delta cycle, as a
  // signal would deliver it, so a CPU that resumed at the same instant before or after that
  // process acts alike whichever SystemC ran first.
  if (in_context_ && hw::running_processor() == this) {
    intr_delta_ = kNoDelta;
    return;
  }
  const sc_dt::uint64 now = sc_core::sc_delta_count();
  if (intr_delta_ != now) intr_before_ = !level;
  intr_delta_ = now;
}

void Cpu::settle_intr() {
  // Never suspend ahead of the kernel: other processes would run at a time the CPU has passed.
  if (local_ != sc_core::SC_ZERO_TIME) {
    sync();  // a timed wait lets every delta cycle of the earlier instant run
    return;
  }
  // Until nothing else is due at this instant, but at most kSettleDeltas delta cycles: another
  // CPU settling at the same instant is itself activity, and two would keep each other going
  // forever. The longest chain to INTR (a device's drive, a wired-OR, the I/O APIC, the local
  // APIC's drive, each a delta) is far shorter.
  for (unsigned d = 0; d < kSettleDeltas; ++d) {
    wait_resume(sc_core::SC_ZERO_TIME);
    if (!sc_core::sc_pending_activity_at_current_time()) break;
  }
  intr_settled_ = true;
}

void Cpu::sync() {
  if (local_ != sc_core::SC_ZERO_TIME) kernel_wait(catch_up());
  check_stop();
}

sc_core::sc_time Cpu::resume_ahead(const sc_core::sc_time& start) {
  const sc_core::sc_time now = sc_core::sc_time_stamp();
  if (now >= start) return now - start;
  // Woken before the time the CPU had reached (nothing should be scheduled there): it stays
  // at its own time, ahead of the kernel again.
  local_ = start - now;
  return sc_core::SC_ZERO_TIME;
}

void Cpu::check_stop() {
  // A stop asked for from outside (Ctrl-C) ends the run here, outside interrupt handlers, and
  // this context goes no further: the statistics never show an interrupt accepted whose handler
  // has not run, whatever the host's timing.
  if (interrupt_depth_ == 0 && hw::stop_requested() &&
      sc_core::sc_get_status() == sc_core::SC_RUNNING) {
    sc_core::sc_stop();
    in_context_ = false;
    for (;;) sc_core::wait(never_);
  }
}

void Cpu::advance_slow(sc_core::sc_time t, bool interruptible) {
  flush_demand();
  if (can_run_ahead(t)) {
    if (interruptible) poll_interrupt();
    local_ += t;
    if (interruptible) poll_interrupt();
    return;
  }
  if (quantum_ != sc_core::SC_ZERO_TIME && t < quantum_) {
    // Work shorter than the quantum adds to the offset, which never exceeds one quantum: INTR
    // is looked at (after a sync) whenever it reaches Q, however much a handler left in it,
    // which is what bounds interrupt latency by the quantum (an offset beyond Q that
    // can_run_ahead() allowed has nothing scheduled in it that could raise INTR). Nor does it
    // pass the end of the current run, so a huge quantum still yields when the run (or a slice
    // of it) ends.
    while (t > sc_core::SC_ZERO_TIME) {
      if (local_ >= quantum_ || past_run_limit(sc_core::SC_ZERO_TIME)) sync();
      sc_core::sc_time step = std::min(t, quantum_ - local_);
      if (run_limit_ != sc_core::SC_ZERO_TIME && kernel_time() < run_limit_)
        step = std::min(step, run_limit_ - kernel_time() - local_);
      if (step == sc_core::SC_ZERO_TIME) step = std::min(t, quantum_);
      local_ += step;
      t -= step;
      if (local_ >= quantum_ || past_run_limit(sc_core::SC_ZERO_TIME)) sync();
      if (interruptible) poll_interrupt();
    }
    return;
  }
  // Work of a quantum or more (or any, in exact mode) is one wait to its end, woken by INTR when
  // interruptible: an interrupt is taken at its instant, and the work costs one suspension
  // whatever the quantum (stepping it by Q cost one per Q: a 1 us quantum made the default run
  // 1.39 times as costly as exact mode).
  // No work: a synchronization (pause(0): a spin-wait round is looked at at the machine's time).
  if (t == sc_core::SC_ZERO_TIME) {
    sync();
    if (interruptible) poll_interrupt();
    return;
  }
  // The catch-up (the run-ahead offset) and the wait are one wait: nothing is scheduled before
  // the CPU's own time (that is what let it run ahead), so nothing can happen in between.
  if (!interruptible || !if_) {
    kernel_wait(catch_up() + t);
    check_stop();
    if (interruptible) poll_interrupt();
    return;
  }
  // Exact mode: wake on INTR rising, take the interrupt at that instant, then finish the work.
  for (;;) {
    poll_interrupt();
    if (t == sc_core::SC_ZERO_TIME) return;
    const sc_core::sc_time ahead = catch_up();  // a handler may have left the CPU ahead
    const sc_core::sc_time start = kernel_time() + ahead;
    if (if_) {
      // Sleep in slices: SystemC leaves a timeout that an earlier INTR edge cut short in its
      // event queue until it expires, so one long sleep interrupted thousands of times fills
      // the queue and slows every event of the simulation. A slice bounds how many pile up.
      wait_resume(ahead + std::min(t, kMaxSleep), intr.posedge_event());
    } else {
      wait_resume(ahead + t);
    }
    intr_settled_ = true;  // woken by time, or by INTR itself rising
    check_stop();
    t -= std::min(t, resume_ahead(start));
  }
}

void Cpu::pause(Cycles n) {
  // A spin lock's look at memory at the machine's time (pause(0), on every acquire and release
  // with several CPUs, so twice per ISR): in exact mode, running ahead means nothing is scheduled
  // at or before the CPU's own time, so no other processor can touch memory before it and
  // catching up would only cost a suspension (nor would any same-instant process be left to
  // order against below).
  if (n == 0 && quantum_ == sc_core::SC_ZERO_TIME && can_run_ahead(sc_core::SC_ZERO_TIME)) return;
  pausing_ = true;
  consume(n);
  pausing_ = false;
  // Processors that look at memory at one instant (two taking one spin lock) do so in processor
  // order, not in the order SystemC resumed them, which how many waits led there (a VCD's
  // catch-ups, the run-ahead's folded ones) can change: processor k lets the instant's other
  // processes run first, up to k delta cycles.
  for (unsigned i = 0; i < id_ && sc_core::sc_pending_activity_at_current_time(); ++i)
    wait_resume(sc_core::SC_ZERO_TIME);
}

void Cpu::consume(Cycles n, double bus_share) {
  stats_.work_cycles += n;
  if (bus_share <= 0.0 || bus_master.size() == 0) {
    advance(cycles(n), true);
    return;
  }
  consume_shared(cycles(n), bus_share);
}

void Cpu::consume_shared(sc_core::sc_time t, double bus_share) {
  const double share = std::min(bus_share, 1.0);
  // The share is the demand a transparent DMA sees. An interrupt taken inside sets its own and
  // restores this one; on return the work goes on with it.
  const double outer = want_;
  const WorkPiece outer_piece = piece_;
  set_demand(share);
  while (t > sc_core::SC_ZERO_TIME) {
    const Arbiter::Progress p = bus_master->cpu_progress(share, local_);
    if (p.rate >= 1.0) {
      start_piece(share, 1.0);
      const sc_core::sc_time before = t;
      t = advance_watching(t);
      finish_piece(before - t);
      continue;
    }
    // The DMA holds the bus (burst) or steals cycles: the work advances at p.rate until the
    // segment's end; a segment that starts or ends meanwhile wakes the CPU to look again.
    const std::uint64_t here = to_ps(kernel_time() + local_);
    const sc_core::sc_time window = from_ps(p.until - here);
    sc_core::sc_time wall = window;
    if (p.rate > 0.0) wall = std::min(window, t / p.rate);
    start_piece(share, p.rate);
    const sc_core::sc_time spent = wall - advance_watching(wall);
    const sc_core::sc_time done = std::min(t, spent * p.rate);
    finish_piece(done);
    stats_.stall_ps += to_ps(spent - done);
    t -= done;
  }
  piece_ = outer_piece;
  // The outer share again, told to the bus only once time moves on: a program that computes in
  // consecutive consume() calls would otherwise drop and raise its demand at one instant, each
  // change waking a transparent DMA to re-project the same end, and no call could run ahead.
  want_ = outer;
}

// The computation's bus cycles are accounted as its work is done, not when consume() is called:
// a statistics window that ends in an interrupt handler (the DMA benchmark's) must not count
// cycles of work still to come. Pieces are flushed at interrupt entry.
void Cpu::account_work(const sc_core::sc_time& work, double share) {
  if (work <= sc_core::SC_ZERO_TIME) return;
  const double bus = static_cast<double>(to_ps(work)) * 1e-12 *
                         static_cast<double>(bus_master->bus_clock_hz()) * share +
                     bus_fraction_;
  const auto whole = static_cast<std::uint64_t>(std::floor(bus));
  bus_fraction_ = bus - static_cast<double>(whole);
  stats_.bus_cycles += whole;
  bus_master->account(master_id_, whole);
}

void Cpu::start_piece(double share, double rate) {
  piece_ = {share, rate, now_ps(), sc_core::SC_ZERO_TIME};
}

void Cpu::finish_piece(const sc_core::sc_time& done) {
  if (done > piece_.flushed) account_work(done - piece_.flushed, piece_.share);
  piece_.share = 0.0;
}

void Cpu::flush_piece() {
  if (piece_.share <= 0.0) return;
  const std::uint64_t now = now_ps();
  const sc_core::sc_time progress =
      from_ps(static_cast<std::uint64_t>(static_cast<double>(now - piece_.mark_ps) * piece_.rate));
  account_work(progress, piece_.share);
  piece_.flushed += progress;
  piece_.mark_ps = now;
}

void Cpu::set_demand(double share) {
  want_ = share;
  if (share == demand_) return;
  demand_ = share;
  bus_master->cpu_demand(share, local_);  // what it schedules comes through scheduled()
}

sc_core::sc_time Cpu::advance_watching(sc_core::sc_time t) {
  // Running ahead is safe: a DMA segment starts from a scheduled process, which bounds it.
  if ((quantum_ != sc_core::SC_ZERO_TIME && t < quantum_) || can_run_ahead(t)) {
    advance(t, true);
    return sc_core::SC_ZERO_TIME;
  }
  const sc_core::sc_event& changed = bus_master->arbitration_event();
  for (;;) {
    poll_interrupt();
    if (t == sc_core::SC_ZERO_TIME) return t;
    const sc_core::sc_time ahead = catch_up();  // folded into the wait, as in advance()
    const sc_core::sc_time start = kernel_time() + ahead;
    if (if_) {
      wait_resume(ahead + std::min(t, kMaxSleep), intr_or_arbitration());
    } else {
      wait_resume(ahead + std::min(t, kMaxSleep), changed);
    }
    intr_settled_ = true;
    check_stop();
    t -= std::min(t, resume_ahead(start));
    if (changed.triggered()) {
      poll_interrupt();
      return t;
    }
  }
}

// ---- interrupts

void Cpu::enable_interrupts() {
  if (!if_) before_traced_change();
  if_ = true;
  poll_interrupt();
}

bool Cpu::disable_interrupts() {
  bool was = if_;
  if (was) before_traced_change();
  if_ = false;
  return was;
}

void Cpu::halt() {
  // In exact mode the catch-up folds into the sleep: nothing is scheduled before the CPU's own
  // time (that is what let it run ahead), so INTR cannot rise before it, and the idle CPU costs
  // one suspension instead of two. A quantum's offset has no such bound, a sampling VCD writer
  // reads the idle marker at kernel time, and a stop asked for ends the run at the CPU's time:
  // those catch up first.
  if (quantum_ != sc_core::SC_ZERO_TIME || traced_ || hw::stop_requested()) sync();
  ++stats_.halts;
  if (!intr_line()) {
    std::uint8_t saved = kind_;
    kind_ = static_cast<std::uint8_t>(ContextKind::idle);
    const sc_core::sc_time ahead = catch_up();
    halt_start_ = kernel_time() + ahead;
    halted_ = true;
    wait_resume(intr.posedge_event());
    intr_settled_ = true;
    halted_ = false;
    // (Woken before its own time, the CPU stays there: it took no time halted.)
    const sc_core::sc_time now = kernel_time();
    stats_.halted_ps += now > halt_start_ ? to_ps(now - halt_start_) : 0;
    resume_ahead(halt_start_);
    kind_ = saved;
  }
  poll_interrupt();
}

void Cpu::idle_for(const sc_core::sc_time& t) {
  sync();
  kernel_wait(t);
}

std::uint8_t Cpu::acknowledge_cycle() {
  sync();
  inta_active_ = true;
  // The first INTA bus cycle: the controller freezes its request and sets the in-service bit
  // at its end, so INTR (the 8259A's INT, the local APIC's output) stays high from the
  // request until then; every interrupt is a pulse of at least this width in the waveform.
  // A higher-priority request that arrives meanwhile is the one acknowledged, as on the bus.
  const unsigned first = timing_.inta / 2;
  advance(cycles(first), false);
  // The controller's traced state (INT, IRR, ISR) changes now: with a VCD open the kernel's
  // time must be the acknowledge's, or the waveform samples INT already low at the request's
  // instant and the pulse is lost.
  before_traced_change();
  const std::uint8_t vector = inta->acknowledge();
  intr_settled_ = false;
  // The second cycle reads the vector.
  advance(cycles(timing_.inta - first), false);
  before_traced_change();
  inta_active_ = false;
  return vector;
}

void Cpu::take_interrupt() {
  sync();  // acceptance happens at one global instant, as the PIC sees it
  flush_piece();
  if_ = false;
  const HandlerFrame frame(*this);
  const std::uint8_t vector = acknowledge_cycle();
  advance(cycles(timing_.interrupt_entry + timing_.context_save), false);
  // Counted as its handler is entered, with the event, so a run that ends inside the INTA
  // cycles or the entry counts no interrupt the software has not seen.
  ++stats_.interrupts;
  if (util::events().enabled()) util::events().emit(name(), "interrupt", {{"vector", vector}});
  const std::uint8_t saved = kind_;
  before_traced_change();
  kind_ = static_cast<std::uint8_t>(ContextKind::isr);
  if (trap_ != nullptr) {
    trap_->interrupt(vector);
  } else {
    log_.error("interrupt vector {:#04x} accepted but no trap handler is installed", vector);
    power_off(1);
  }
  before_traced_change();
  kind_ = saved;
  advance(cycles(timing_.context_restore), false);
  before_traced_change();
  if_ = true;                 // IRET restores the flags
  piece_.mark_ps = now_ps();  // the interrupted work goes on from here
}

void Cpu::set_probe(Probe probe, std::uint32_t value) {
  // Software reports its state at every transition, often unchanged (the IRQL a DPC drain
  // restores, the thread a dispatch keeps): only a change is traced, so only a change catches up.
  auto update = [&](auto& field) {
    const auto v = static_cast<std::remove_reference_t<decltype(field)>>(value);
    if (v == field) return;
    before_traced_change();
    field = v;
  };
  switch (probe) {
    case Probe::irql:
      update(irql_);
      break;
    case Probe::context_kind:
      update(kind_);
      break;
    case Probe::thread_id:
      update(thread_id_);
      break;
    case Probe::devices_started:
      update(devices_started_);
      break;
    case Probe::routine:
      update(routine_);
      break;
  }
}

// ---- bus

std::uint32_t Cpu::read(Space space, std::uint64_t address, unsigned width) {
  std::uint32_t v = 0;
  if (paging_ && space == Space::memory) {
    if (!paged_access(tlm::TLM_READ_COMMAND, address, width, v))
      v = detail::low_bytes(0xffffffffu, width);
    return v;
  }
  if (!access(tlm::TLM_READ_COMMAND, space, address, width, v))
    v = detail::low_bytes(0xffffffffu, width);  // a floating bus reads all ones
  return v;
}

void Cpu::write(Space space, std::uint64_t address, unsigned width, std::uint32_t value) {
  if (paging_ && space == Space::memory) {
    paged_access(tlm::TLM_WRITE_COMMAND, address, width, value);
    return;
  }
  access(tlm::TLM_WRITE_COMMAND, space, address, width, value);
}

// ---- paging

namespace {
constexpr std::uint32_t kPresent = 1u << 0, kWritable = 1u << 1, kUser = 1u << 2,
                        kAccessed = 1u << 5, kDirty = 1u << 6;
constexpr std::uint64_t kPageMask = 0xfff;
// A fault the handler leaves unresolved is taken again; this many in a row on one access is a
// software bug the model reports rather than spin on forever.
constexpr unsigned kFaultRetries = 16;
}  // namespace

void Cpu::load_cr3(std::uint64_t pd) {
  if ((pd & ~kPageMask) != cr3_) before_traced_change();
  cr3_ = pd & ~kPageMask;
  for (auto& e : tlb_) e.valid = false;  // MOV CR3 flushes the (non-global) TLB
}

void Cpu::set_paging(bool on) {
  paging_ = on;
  tlb_.assign(std::max(1u, timing_.tlb_entries), TlbEntry{});
  tlb_next_ = 0;
}

void Cpu::invalidate_page(std::uint64_t va) {
  for (auto& e : tlb_)
    if (e.valid && e.vpn == va >> 12) e.valid = false;
}

std::uint32_t Cpu::walk_read(std::uint64_t pa) {
  ++stats_.walk_accesses;
  std::uint32_t v = 0;
  if (!access(tlm::TLM_READ_COMMAND, Space::memory, pa, 4, v)) v = 0;  // a hole reads as absent
  return v;
}

void Cpu::walk_write(std::uint64_t pa, std::uint32_t v) {
  ++stats_.walk_accesses;
  access(tlm::TLM_WRITE_COMMAND, Space::memory, pa, 4, v);
}

bool Cpu::walk(std::uint64_t va, bool write, std::uint64_t& pa, PageFault& fault) {
  ++stats_.page_walks;
  before_traced_change();
  walking_ = true;
  // The walker's accesses are part of one instruction: no interrupt is taken between them.
  in_walk_ = true;
  const std::uint64_t pde_at = cr3_ + ((va >> 22) & 0x3ff) * 4;
  const std::uint32_t pde = walk_read(pde_at);
  fault = {va, false, write, user_};
  bool ok = (pde & kPresent) != 0;
  std::uint32_t pte = 0;
  std::uint64_t pte_at = 0;
  if (ok) {
    pte_at = (pde & ~static_cast<std::uint32_t>(kPageMask)) + ((va >> 12) & 0x3ff) * 4;
    pte = walk_read(pte_at);
    ok = (pte & kPresent) != 0;
  }
  if (ok) {
    const bool writable = (pde & kWritable) && (pte & kWritable);
    const bool user = (pde & kUser) && (pte & kUser);
    fault.present = true;
    ok = !(write && !writable) && !(user_ && !user);
    if (ok) {
      if (!(pde & kAccessed)) walk_write(pde_at, pde | kAccessed);
      const std::uint32_t updated = pte | kAccessed | (write ? kDirty : 0);
      if (updated != pte) walk_write(pte_at, updated);
      TlbEntry& e = tlb_[tlb_next_];
      tlb_next_ = (tlb_next_ + 1) % tlb_.size();
      e = {true, writable, user, (updated & kDirty) != 0, va >> 12, updated >> 12};
      pa = ((updated >> 12) << 12) | (va & kPageMask);
    }
  }
  in_walk_ = false;
  before_traced_change();
  walking_ = false;
  return ok;
}

bool Cpu::translate(std::uint64_t va, bool write, std::uint64_t& pa, PageFault& fault) {
  for (auto& e : tlb_) {
    if (!e.valid || e.vpn != va >> 12) continue;
    // A first write to a clean page walks again, to set D in its PTE (as x86 does).
    if (write && e.writable && !e.dirty) {
      e.valid = false;
      break;
    }
    if ((write && !e.writable) || (user_ && !e.user)) {
      fault = {va, true, write, user_};
      return false;
    }
    ++stats_.tlb_hits;
    pa = (e.pfn << 12) | (va & kPageMask);
    return true;
  }
  ++stats_.tlb_misses;
  return walk(va, write, pa, fault);
}

bool Cpu::tlb_peek(std::uint64_t va, bool write, std::uint64_t& pa) const {
  for (const auto& e : tlb_) {
    if (!e.valid || e.vpn != va >> 12) continue;
    if ((write && (!e.writable || !e.dirty)) || (user_ && !e.user)) return false;
    pa = (e.pfn << 12) | (va & kPageMask);
    return true;
  }
  return false;
}

void Cpu::take_page_fault(const PageFault& fault) {
  ++(!fault.present ? stats_.faults_not_present
                    : (fault.user ? stats_.faults_user : stats_.faults_protection));
  cr2_ = fault.address;
  if (util::events().enabled())
    util::events().emit(name(), "page_fault",
                        {{"address", fault.address},
                         {"code", fault.error_code()},
                         {"present", fault.present},
                         {"write", fault.write},
                         {"user", fault.user}});
  before_traced_change();
  Context* faulting = current_ == kNoContext ? nullptr : &context(current_);
  if (faulting != nullptr) ++faulting->faults;
  ++fault_depth_;
  advance(cycles(timing_.page_fault_entry + timing_.context_save), false);
  // Like an interrupt, the handler runs on the faulting context's stack: a context suspended in
  // it (waiting for a paging read) returns from it on this CPU. The marker drops however the
  // handler ends (an access violation unwinds through here).
  struct Marker {
    Cpu& cpu;
    Context* context;
    ~Marker() {
      cpu.before_traced_change();
      if (context != nullptr) --context->faults;
      cpu.fault_depth_ = context != nullptr ? context->faults : 0;
    }
  } marker{*this, faulting};
  {
    const HandlerFrame frame(*this);
    if (trap_ != nullptr) trap_->page_fault(fault);
  }
  advance(cycles(timing_.context_restore), false);
}

bool Cpu::paged_access(tlm::tlm_command cmd, std::uint64_t va, unsigned width,
                       std::uint32_t& data) {
  const bool write = cmd == tlm::TLM_WRITE_COMMAND;
  // An access across a page boundary: each byte on its own page.
  if (detail::is_access_width(width) && (va & kPageMask) + width > kPageMask + 1) {
    bool ok = true;
    std::uint32_t assembled = 0;
    for (unsigned i = 0; i < width; ++i) {
      std::uint32_t byte = write ? (data >> (8 * i)) & 0xff : 0;
      ok = paged_access(cmd, va + i, 1, byte) && ok;
      assembled |= (byte & 0xff) << (8 * i);
    }
    if (!write) data = assembled;
    return ok;
  }
  for (unsigned tries = 0;; ++tries) {
    std::uint64_t pa = 0;
    PageFault fault;
    if (translate(va, write, pa, fault)) return access(cmd, Space::memory, pa, width, data);
    if (tries == kFaultRetries) {
      log_.error("page fault at {:#x} ({}) not resolved after {} tries: stopping", va,
                 fault.present ? "protection" : "not present", kFaultRetries);
      power_off(1);
      return false;
    }
    take_page_fault(fault);
  }
}

void Cpu::prepare(tlm::tlm_command cmd, std::uint64_t address, unsigned width,
                  std::uint32_t& data) {
  tx_.set_command(cmd);
  tx_.set_address(address);
  tx_.set_data_ptr(reinterpret_cast<unsigned char*>(&data));
  tx_.set_data_length(width);
  tx_.set_streaming_width(width);
  tx_.set_byte_enable_ptr(nullptr);
  tx_.set_dmi_allowed(false);
  tx_.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
}

bool Cpu::access(tlm::tlm_command cmd, Space space, std::uint64_t address, unsigned width,
                 std::uint32_t& data) {
  flush_demand();
  const bool is_io = space == Space::io;
  const bool is_read = cmd == tlm::TLM_READ_COMMAND;
  ++(is_io ? (is_read ? stats_.io_reads : stats_.io_writes)
           : (is_read ? stats_.mem_reads : stats_.mem_writes));
  tlm::tlm_response_status status = tlm::TLM_OK_RESPONSE;
  // The target serves the access at the CPU's own time: kernel time plus the run-ahead offset,
  // passed as the annotated delay (hw/core/sim_time.h). With a VCD open, catch up first instead
  // when the target is a model: its traced variables are sampled at kernel time. RAM by DMI
  // traces nothing, so those accesses run ahead as without a VCD.
  const bool is_apic = !is_io && address - apic_base_ < apic_size_;
  if (quantum_ == sc_core::SC_ZERO_TIME && traced_ && (is_io || !dmi_hit(address, width))) sync();
  sc_core::sc_time delay = local_ + (is_io ? io_cost_ : mem_cost_);
  if (!detail::is_access_width(width)) {
    status = tlm::TLM_BURST_ERROR_RESPONSE;
  } else if (is_apic) {
    // Inside the CPU: no bus cycle, no arbitration, a fixed cost.
    ++stats_.apic_accesses;
    delay += cycles(timing_.apic_access);
    prepare(cmd, address - apic_base_, width, data);
    apic_out->b_transport(tx_, delay);
    intr_settled_ = false;
    status = tx_.get_response_status();
  } else if (!is_io && dmi_hit(address, width)) {
    dmi_transfer(is_read, address, width, data, delay);
  } else {
    prepare(cmd, address, width, data);
    io_ext_.space = is_io ? Space::io : Space::memory;
    out->b_transport(tx_, delay);
    intr_settled_ = false;  // the target may have changed an interrupt output just now
    status = tx_.get_response_status();
    if (!is_io && status == tlm::TLM_OK_RESPONSE && tx_.is_dmi_allowed() && !dmi_valid_) {
      tlm::tlm_generic_payload q;
      q.set_address(address);
      q.set_command(cmd);
      dmi_valid_ = out->get_direct_mem_ptr(q, dmi_) && dmi_.is_read_write_allowed();
    }
  }
  apply_delay(delay);
  const bool ok = status == tlm::TLM_OK_RESPONSE;
  if (!ok) {
    ++stats_.bus_errors;
    BusFault fault{space, address, width, !is_read, response_text(status)};
    log_.debug("bus error: {} {} {:#x} width {}: {}", is_io ? "port" : "memory",
               is_read ? "read" : "write", address, width, fault.reason);
    if (util::events().enabled())
      util::events().emit(name(), "bus_error",
                          {{"space", is_io ? "io" : "memory"},
                           {"address", address},
                           {"width", width},
                           {"write", !is_read},
                           {"reason", fault.reason}});
    if (trap_ != nullptr) {
      trap_->bus_error(fault);
    } else {
      log_.warn("bus error with no trap handler: {} {:#x}: {}", is_io ? "port" : "memory", address,
                fault.reason);
    }
  }
  if (!in_walk_) poll_interrupt();  // the instruction boundary (a table walk is inside one)
  return ok;
}

void Cpu::dmi_transfer(bool is_read, std::uint64_t address, unsigned width, std::uint32_t& data,
                       sc_core::sc_time& delay) {
  std::uint8_t* p = dmi_.get_dmi_ptr() + (address - dmi_.get_start_address());
  if (is_read) {
    data = 0;
    std::memcpy(&data, p, width);
  } else {
    std::memcpy(p, &data, width);
  }
  ++stats_.dmi_accesses;
  delay += is_read ? dmi_.get_read_latency() : dmi_.get_write_latency();
  if (bus_master.size() > 0) {
    ++stats_.bus_cycles;
    delay += bus_master->use_bus(master_id_, 1, local_) + period_of(bus_master->bus_clock_hz());
  }
}

void Cpu::apply_delay(const sc_core::sc_time& delay) {
  // In exact mode now (or run ahead), otherwise as decoupled offset.
  local_ = sc_core::SC_ZERO_TIME;
  if (can_run_ahead(delay)) {
    local_ = delay;
  } else if (quantum_ == sc_core::SC_ZERO_TIME) {
    kernel_wait(delay);
  } else {
    local_ = delay;
    if (local_ >= quantum_) sync();
  }
}

// ---- block accesses

void Cpu::open_window(Window& w) {
  flush_demand();
  w.open = true;
  w.limit_ps = 0;
  w.bus_cycles = 0;
  if (!timing_.fast_blocks || !dmi_valid_ || (if_ && intr_line())) return;  // INTR: taken next
  // can_run_ahead(): the access's time is before the next activity, the run-ahead bound and
  // the end of the run (all from kernel time, which does not move while the CPU runs ahead).
  w.limit_ps = to_ps(run_ahead_limit());
  w.lo = dmi_.get_start_address();
  w.hi = dmi_.get_end_address();
  w.base = dmi_.get_dmi_ptr();
  const bool bus = bus_master.size() > 0;
  w.idle = !bus || bus_master->dma_idle();
  w.busy_until_ps = w.idle ? 0 : bus_master->dma_steals_until();
  // With a quantum, access() also keeps an offset below the quantum without syncing.
  if (quantum_ != sc_core::SC_ZERO_TIME) w.limit_ps = std::max(w.limit_ps, to_ps(quantum_));
  const sc_core::sc_time cycle =
      bus ? period_of(bus_master->bus_clock_hz()) : sc_core::SC_ZERO_TIME;
  w.read_step = cycles(timing_.mem_access) + dmi_.get_read_latency() + cycle;
  w.write_step = cycles(timing_.mem_access) + dmi_.get_write_latency() + cycle;
}

void Cpu::close_window(Window& w) {
  if (w.bus_cycles != 0) bus_master->account(master_id_, w.bus_cycles);
  w.bus_cycles = 0;
  w.open = false;
}

bool Cpu::fast_word(bool is_read, std::uint64_t address, unsigned width, std::uint32_t& data,
                    Window& w) {
  if (!w.open) open_window(w);
  if (w.limit_ps == 0 || address < w.lo || address + width - 1 > w.hi ||
      address - apic_base_ < apic_size_)
    return false;
  ++(is_read ? stats_.mem_reads : stats_.mem_writes);
  sc_core::sc_time delay = local_ + mem_cost_;
  dmi_transfer(is_read, address, width, data, delay);
  if (to_ps(delay) < w.limit_ps) {
    local_ = delay;  // apply_delay()'s run-ahead; no interrupt is pending (open_window)
    return true;
  }
  close_window(w);
  apply_delay(delay);  // the word that reaches the window's end: the kernel runs
  poll_interrupt();
  return true;
}

std::uint32_t Cpu::block_read(std::uint64_t address, unsigned width, Window& w) {
  std::uint32_t v = 0;
  if (fast_word(true, address, width, v, w)) return v;
  close_window(w);
  return read(Space::memory, address, width);
}

void Cpu::block_write(std::uint64_t address, unsigned width, std::uint32_t value, Window& w) {
  if (fast_word(false, address, width, value, w)) return;
  close_window(w);
  write(Space::memory, address, width, value);
}

std::size_t Cpu::fast_run(Window& w, std::uint64_t a, std::uint64_t b, std::size_t words,
                          unsigned width, unsigned reads, unsigned writes) {
  if (!w.open) open_window(w);
  if (!w.idle && to_ps(kernel_time() + local_) >= w.busy_until_ps) w.idle = true;
  if (w.limit_ps == 0 || !w.idle || words == 0) return 0;
  // Every word inside the DMI region and outside the local APIC's page.
  for (std::uint64_t x : {a, b}) {
    if (x < w.lo || x > w.hi) return 0;
    words = std::min<std::size_t>(words, (w.hi - x + 1) / width);
    if (apic_size_ != 0 && x < apic_base_ + apic_size_ && apic_base_ < x + words * width) return 0;
  }
  // The last access must end before the window's limit (each ends later than the one before).
  const std::uint64_t now = to_ps(local_),
                      step = reads * to_ps(w.read_step) + writes * to_ps(w.write_step);
  if (now >= w.limit_ps) return 0;
  if (step != 0) words = std::min<std::size_t>(words, (w.limit_ps - 1 - now) / step);
  return words;
}

void Cpu::account_run(Window& w, std::size_t words, unsigned reads, unsigned writes) {
  stats_.mem_reads += words * reads;
  stats_.mem_writes += words * writes;
  stats_.dmi_accesses += words * (reads + writes);
  if (bus_master.size() > 0) {
    stats_.bus_cycles += words * (reads + writes);
    w.bus_cycles += words * (reads + writes);
  }
  local_ += from_ps(words * (reads * to_ps(w.read_step) + writes * to_ps(w.write_step)));
}

template <typename Run, typename Word>
void Cpu::block(std::uint64_t a, std::uint64_t b, std::size_t bytes, unsigned width, unsigned reads,
                unsigned writes, Run run_op, Word word_op) {
  Window w;
  for (std::size_t i = 0; i < bytes;) {
    const std::size_t run = fast_run(w, a + i, b + i, (bytes - i) / width, width, reads, writes);
    if (run != 0) {
      run_op(i, run * width, w);
      account_run(w, run, reads, writes);
      i += run * width;
      continue;
    }
    const unsigned n = detail::block_step(i, bytes, width);
    word_op(i, n, w);
    i += n;
  }
  close_window(w);
}

template <typename Run, typename Word>
void Cpu::paged_block(std::uint64_t a, std::uint64_t b, std::size_t bytes, unsigned width,
                      bool a_write, unsigned reads, unsigned writes, Run run_op, Word word_op) {
  constexpr std::uint64_t kPage = kPageMask + 1;
  Window w;
  for (std::size_t i = 0; i < bytes;) {
    const std::uint64_t va = a + i, vb = b + i;
    std::size_t words = (bytes - i) / width;
    words = std::min<std::size_t>(words, (kPage - (va & kPageMask)) / width);
    words = std::min<std::size_t>(words, (kPage - (vb & kPageMask)) / width);
    std::uint64_t pa = 0, pb = 0;
    if (words > 0 && timing_.fast_blocks && tlb_peek(va, a_write, pa) && tlb_peek(vb, false, pb)) {
      const std::size_t run = fast_run(w, pa, pb, words, width, reads, writes);
      if (run != 0) {
        run_op(i, run * width, pa, pb, w);
        account_run(w, run, reads, writes);
        stats_.tlb_hits += run * (reads + writes);  // each word's lookups, all hits
        i += run * width;
        continue;
      }
    }
    close_window(w);
    const unsigned n = detail::block_step(i, bytes, width);
    word_op(i, n);
    i += n;
  }
  close_window(w);
}

void Cpu::read_block(std::uint64_t address, void* data, std::size_t bytes, unsigned width) {
  if (!detail::is_access_width(width)) return Processor::read_block(address, data, bytes, width);
  auto* out = static_cast<std::uint8_t*>(data);
  if (paging_) {
    paged_block(
        address, address, bytes, width, false, 1, 0,
        [&](std::size_t i, std::size_t len, std::uint64_t pa, std::uint64_t, Window& w) {
          std::memcpy(out + i, w.base + (pa - w.lo), len);
        },
        [&](std::size_t i, unsigned n) {
          detail::store_word(out + i, n, read(Space::memory, address + i, n));
        });
    return;
  }
  block(
      address, address, bytes, width, 1, 0,
      [&](std::size_t i, std::size_t len, Window& w) {
        std::memcpy(out + i, w.base + (address + i - w.lo), len);
      },
      [&](std::size_t i, unsigned n, Window& w) {
        detail::store_word(out + i, n, block_read(address + i, n, w));
      });
}

void Cpu::write_block(std::uint64_t address, const void* data, std::size_t bytes, unsigned width) {
  if (!detail::is_access_width(width)) return Processor::write_block(address, data, bytes, width);
  const auto* in = static_cast<const std::uint8_t*>(data);
  if (paging_) {
    paged_block(
        address, address, bytes, width, true, 0, 1,
        [&](std::size_t i, std::size_t len, std::uint64_t pa, std::uint64_t, Window& w) {
          std::memcpy(w.base + (pa - w.lo), in + i, len);
        },
        [&](std::size_t i, unsigned n) {
          write(Space::memory, address + i, n, detail::load_word(in + i, n));
        });
    return;
  }
  block(
      address, address, bytes, width, 0, 1,
      [&](std::size_t i, std::size_t len, Window& w) {
        std::memcpy(w.base + (address + i - w.lo), in + i, len);
      },
      [&](std::size_t i, unsigned n, Window& w) {
        block_write(address + i, n, detail::load_word(in + i, n), w);
      });
}

// The DMI part of a copy: forward, word by word where the destination overlaps the source's
// later words (each word then reads what the earlier ones wrote, as the loop does).
static void copy_run(std::uint8_t* d, const std::uint8_t* s, std::size_t len, unsigned width) {
  if (d + len <= s || s + len <= d || d <= s) {
    std::memmove(d, s, len);  // a forward word-by-word copy gives the same bytes
  } else {
    for (std::size_t k = 0; k < len; k += width) std::memmove(d + k, s + k, width);
  }
}

void Cpu::copy_block(std::uint64_t dst, std::uint64_t src, std::size_t bytes, unsigned width) {
  if (!detail::is_access_width(width)) return Processor::copy_block(dst, src, bytes, width);
  if (paging_) {
    paged_block(
        dst, src, bytes, width, true, 1, 1,
        [&](std::size_t, std::size_t len, std::uint64_t pd, std::uint64_t ps, Window& w) {
          copy_run(w.base + (pd - w.lo), w.base + (ps - w.lo), len, width);
        },
        [&](std::size_t i, unsigned n) {
          write(Space::memory, dst + i, n, read(Space::memory, src + i, n));
        });
    return;
  }
  block(
      dst, src, bytes, width, 1, 1,
      [&](std::size_t i, std::size_t len, Window& w) {
        copy_run(w.base + (dst + i - w.lo), w.base + (src + i - w.lo), len, width);
      },
      [&](std::size_t i, unsigned n, Window& w) {
        block_write(dst + i, n, block_read(src + i, n, w), w);
      });
}

void Cpu::fill_block(std::uint64_t address, std::uint32_t value, std::size_t bytes,
                     unsigned width) {
  if (!detail::is_access_width(width)) return Processor::fill_block(address, value, bytes, width);
  const auto byte = static_cast<std::uint8_t>(value);
  // A value of one repeated byte (a zero fill, typically) is a memset.
  const bool one_byte =
      detail::low_bytes(value, width) == detail::low_bytes(0x01010101u * byte, width);
  if (paging_) {
    paged_block(
        address, address, bytes, width, true, 0, 1,
        [&](std::size_t, std::size_t len, std::uint64_t pa, std::uint64_t, Window& w) {
          std::uint8_t* d = w.base + (pa - w.lo);
          if (one_byte) {
            std::memset(d, byte, len);
          } else {
            for (std::size_t k = 0; k < len; k += width) detail::store_word(d + k, width, value);
          }
        },
        [&](std::size_t i, unsigned n) {
          write(Space::memory, address + i, n, detail::low_bytes(value, n));
        });
    return;
  }
  block(
      address, address, bytes, width, 0, 1,
      [&](std::size_t i, std::size_t len, Window& w) {
        std::uint8_t* d = w.base + (address + i - w.lo);
        if (one_byte) {
          std::memset(d, byte, len);
        } else {
          for (std::size_t k = 0; k < len; k += width) detail::store_word(d + k, width, value);
        }
      },
      [&](std::size_t i, unsigned n, Window& w) {
        block_write(address + i, n, detail::low_bytes(value, n), w);
      });
}

void Cpu::invalidate_direct_mem_ptr(sc_dt::uint64, sc_dt::uint64) {
  dmi_valid_ = false;
}

void Cpu::trace(sc_core::sc_trace_file* tf, bool paging) {
  // A sampling writer (SystemC's) reads variables at kernel time: the CPU catches up before a
  // traced change and an access to a model. iocosim's takes each change with its own time.
  if (!hw::reports_changes(tf)) traced_ = true;
  std::string n = name();
  intr.trace(tf, n + ".intr");
  hw::trace(tf, inta_active_, n + ".inta");
  hw::trace(tf, if_, n + ".if");
  hw::trace(tf, kind_, n + ".context_kind");
  hw::trace(tf, irql_, n + ".irql");
  hw::trace(tf, thread_id_, n + ".thread_id");
  hw::trace(tf, devices_started_, n + ".devices_started");
  hw::trace(tf, routine_, n + ".routine");
  if (!paging) return;
  hw::trace(tf, cr3_, n + ".cr3");
  hw::trace(tf, fault_depth_, n + ".page_fault");
  hw::trace(tf, walking_, n + ".tlb_miss");
}

}  // namespace hw::cpu
