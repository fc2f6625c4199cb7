#pragma once
// The cycle-approximate CPU: a loosely-timed TLM initiator that implements the processor
// interface for the software stack. Work is charged by consume(); every register access is a
// timed bus transaction (DMI for RAM); interrupt acceptance runs an INTA cycle and calls the
// trap handler on the context holding the CPU. With quantum 0 an interrupt is taken at the
// instant INTR rises (while IF is set); with quantum Q the CPU runs ahead of the kernel by at
// most Q and interrupt latency is late by at most Q. Even with quantum 0 the CPU runs ahead
// without yielding while no other process is scheduled before its time (the exact result, for
// less host time); it synchronizes before every bus access and at the next scheduled event.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <tlm_utils/simple_initiator_socket.h>
#include <systemc>
#include <tlm>

#include "hw/bus/bus_master_if.h"
#include "hw/core/address_space.h"
#include "hw/core/pin.h"
#include "hw/core/traced.h"
#include "hw/cpu/processor.h"
#include "hw/intc/inta_if.h"
#include "util/log.h"

namespace hw::cpu {

using bus::Arbiter;

struct Timing {
  std::uint64_t clock_hz = 100'000'000;
  std::uint64_t quantum_ps = 0;   // temporal decoupling; 0 = exact
  unsigned interrupt_entry = 30;  // recognize INTR, flush, vector through the IDT
  unsigned context_save = 20;     // push the trap frame
  unsigned context_restore = 20;  // pop it and IRET
  unsigned inta = 8;              // the two INTA bus cycles
  unsigned io_access = 4;         // IN/OUT instruction cost beyond its bus cycles
  unsigned mem_access = 1;        // a load or store beyond its bus cycles
  unsigned apic_access = 10;      // a local APIC register access (inside the CPU, no bus cycle)
  // Block accesses (copy_block & co.) by DMI in runs that need no kernel: false does them word
  // by word through the full access path, the reference they must equal.
  bool fast_blocks = true;
  unsigned tlb_entries = 64;       // the TLB's entries (replaced in turn, a deterministic choice)
  unsigned page_fault_entry = 40;  // recognize #PF, push the error code, vector through the IDT
};

class Cpu : public sc_core::sc_module, public Processor {
 public:
  struct Stats {
    std::uint64_t interrupts = 0, bus_errors = 0, halts = 0, context_switches = 0;
    std::uint64_t mem_reads = 0, mem_writes = 0, io_reads = 0, io_writes = 0, dmi_accesses = 0;
    std::uint64_t apic_accesses = 0;  // to the local APIC page (part of mem_reads/mem_writes)
    std::uint64_t work_cycles = 0;    // charged through consume()
    std::uint64_t bus_cycles = 0;     // used outside b_transport (DMI, bus share of work)
    std::uint64_t halted_ps = 0, stall_ps = 0;
    // Paging: translations the TLB answered and those it did not, table walks and the memory
    // accesses they made (PDE/PTE reads, A/D writes), page faults by kind.
    std::uint64_t tlb_hits = 0, tlb_misses = 0, page_walks = 0, walk_accesses = 0;
    std::uint64_t faults_not_present = 0, faults_protection = 0, faults_user = 0;
  };

  tlm_utils::simple_initiator_socket<Cpu> out;
  // The local APIC's register page, decoded inside the CPU (each CPU sees its own APIC at the
  // same address, and the accesses never reach the system bus). Bound only on APIC machines.
  tlm_utils::simple_initiator_socket_optional<Cpu> apic_out;
  PinIn intr;  // INTR: read at instruction boundaries, a rising edge wakes a sleeping CPU
  sc_core::sc_port<intc::inta_if> inta;
  sc_core::sc_port<bus::bus_master_if, 1, sc_core::SC_ZERO_OR_MORE_BOUND> bus_master;

  Cpu(const sc_core::sc_module_name& name, unsigned id, const Timing& timing);
  ~Cpu() override;

  // The master id the bus gave this CPU (for bus-cycle accounting).
  void set_bus_master_id(unsigned id) { master_id_ = id; }
  // Memory accesses in [base, base + size) go to apic_out (which must be bound).
  void set_local_apic_window(std::uint64_t base, std::uint64_t size) {
    apic_base_ = base;
    apic_size_ = size;
  }
  // The first context: runs `entry` when the simulation starts. When it returns, the CPU
  // powers off with status 0 (unless power_off() chose another).
  void boot(std::function<void()> entry, std::size_t stack_bytes = 1 << 20);
  // The processors of one machine share one table of execution contexts, so a context one CPU
  // suspended may be resumed by another (a thread moving between processors). Called on each
  // other processor with the boot processor, before either creates a context.
  void share_contexts(Cpu& with) { contexts_ = with.contexts_; }

  // For register-level scripts and benches, which drive the bus below the software: wait with
  // the CPU doing nothing, and run an INTA cycle without taking the interrupt.
  // Catches up with the kernel (drops the run-ahead offset): before letting other processes
  // run from this CPU's thread, or acting on pins at the CPU's own time.
  void synchronize() { sync(); }
  // One delta cycle from the running context (a script letting signals settle), through the
  // CPU's own suspension: what it caches per resumption (kernel time, delta) is read anew.
  void wait_delta() { wait_resume(sc_core::SC_ZERO_TIME); }
  void idle_for(const sc_core::sc_time& t);
  std::uint8_t acknowledge_cycle();

  int exit_status() const { return exit_status_; }
  bool powered_off() const { return powered_off_; }
  // The simulated time of the power-off, the CPU's own (it may be ahead of the kernel's).
  std::uint64_t power_off_ps() const { return power_off_ps_; }
  // Statistics, counting a halt still in progress up to now.
  Stats stats() const;
  const Timing& timing() const { return timing_; }
  // Where the current sc_start() ends: running ahead stops there, so nothing the CPU does is
  // placed beyond the end of a run (SystemC does not count the end as pending activity).
  void set_run_limit(const sc_core::sc_time& t) {
    run_limit_ = t;
    limit_gen_ = 0;  // run_ahead_limit() includes it
  }
  // The processor whose software (or model code called from it) is running now, -1 when a
  // model's own process runs: the event log's order key for simultaneous events.
  static int emitting_cpu() {
    const Processor* p = hw::running_processor();
    return in_context_ && p != nullptr ? static_cast<int>(p->cpu_id()) : -1;
  }
  // Adds this CPU's signals to a VCD. `paging`: with the MMU's markers (CR3, a page fault in
  // progress, a TLB miss's walk), for a machine whose software turns paging on. With a sampling
  // writer (SystemC's) the CPU then catches up with the kernel before traced changes and model
  // accesses; iocosim's takes each change with its own time and needs none of that.
  void trace(sc_core::sc_trace_file* tf, bool paging = false);

  // --- Processor
  unsigned cpu_id() const override { return id_; }
  std::uint64_t clock_hz() const override { return timing_.clock_hz; }
  std::uint64_t now_ps() const override;
  std::uint32_t read(Space space, std::uint64_t address, unsigned width) override;
  void write(Space space, std::uint64_t address, unsigned width, std::uint32_t value) override;
  void read_block(std::uint64_t address, void* data, std::size_t bytes, unsigned width) override;
  void write_block(std::uint64_t address, const void* data, std::size_t bytes,
                   unsigned width) override;
  void copy_block(std::uint64_t dst, std::uint64_t src, std::size_t bytes, unsigned width) override;
  void fill_block(std::uint64_t address, std::uint32_t value, std::size_t bytes,
                  unsigned width) override;
  void consume(Cycles cycles, double bus_share = 0.0) override;
  void pause(Cycles cycles) override;
  void enable_interrupts() override;
  bool disable_interrupts() override;
  bool interrupts_enabled() const override { return if_; }
  void halt() override;
  bool interrupt_pending() const override { return intr_line(); }
  void set_trap_handler(TrapHandler* handler) override { trap_ = handler; }
  void load_cr3(std::uint64_t pd) override;
  std::uint64_t cr3() const override { return cr3_; }
  std::uint64_t cr2() const override { return cr2_; }
  void set_paging(bool on) override;
  bool paging() const override { return paging_; }
  void invalidate_page(std::uint64_t va) override;
  void set_user_mode(bool user) override { user_ = user; }
  void set_probe(Probe probe, std::uint32_t value) override;
  ContextId create_context(const std::string& name, std::function<void()> entry,
                           std::size_t stack_bytes) override;
  void switch_to(ContextId next) override;
  ContextId current_context() const override { return current_; }
  bool context_portable(ContextId id) const override;
  void power_off(int exit_status) override;
  [[noreturn]] void stop(int exit_status) override;

 private:
  struct Context {
    std::string name;
    std::function<void()> entry;
    sc_core::sc_event wake;
    sc_core::sc_event released;  // its holder switched to another context
    Cpu* holder = nullptr;       // the CPU running it, or that last ran it (first: its creator)
    // Interrupts being taken on its stack. A context suspended inside one resumes only on the
    // CPU that took it: the handler's return (IRET) is that CPU's.
    unsigned depth = 0;
    std::uint8_t faults = 0;  // page faults being handled on its stack (the VCD's marker)
    bool finished = false;
  };
  Context& context(ContextId id) const { return *(*contexts_)[static_cast<std::size_t>(id)]; }
  // An interrupt or exception being taken on the current context, for its lifetime: counted on
  // the CPU (a stop request waits for none in progress) and on the context, which cannot then
  // move to another CPU (the handler's return is this CPU's). The handler runs in kernel mode;
  // its return restores the interrupted privilege (IRET pops CS).
  struct HandlerFrame {
    Cpu& cpu;
    Context* context;
    bool user;
    explicit HandlerFrame(Cpu& c)
        : cpu(c),
          context(c.current_ == kNoContext ? nullptr : &c.context(c.current_)),
          user(c.user_) {
      ++cpu.interrupt_depth_;
      if (context != nullptr) ++context->depth;
      cpu.user_ = false;
    }
    ~HandlerFrame() {
      --cpu.interrupt_depth_;
      if (context != nullptr) --context->depth;
      cpu.user_ = user;
    }
    HandlerFrame(const HandlerFrame&) = delete;
    HandlerFrame& operator=(const HandlerFrame&) = delete;
  };

  void run_context(ContextId id);
  bool access(tlm::tlm_command cmd, Space space, std::uint64_t address, unsigned width,
              std::uint32_t& data);
  // The access is to RAM through the DMI pointer (not the local APIC's page).
  bool dmi_hit(std::uint64_t address, unsigned width) const {
    return dmi_valid_ && address >= dmi_.get_start_address() &&
           address + width - 1 <= dmi_.get_end_address() && address - apic_base_ >= apic_size_;
  }
  // RAM by DMI: the access's data, statistics and bus use; adds its cost to `delay`.
  void dmi_transfer(bool is_read, std::uint64_t address, unsigned width, std::uint32_t& data,
                    sc_core::sc_time& delay);
  // The end of an access: its time applied (run ahead, kernel wait, or decoupled offset).
  void apply_delay(const sc_core::sc_time& delay);
  // Block accesses run words by DMI back to back while they need no kernel: nothing else can
  // run before the CPU's time passes `limit_ps` (the next scheduled activity, the run-ahead
  // bound, the end of the run, or the quantum), no interrupt is pending, the words are in RAM.
  // Each word does what access() does on that path; any other word goes through access(),
  // after which the window is looked at again (other processes may have run).
  struct Window {
    bool open = false;
    std::uint64_t limit_ps = 0;    // 0: no fast words
    std::uint64_t lo = 0, hi = 0;  // the DMI region
    std::uint8_t* base = nullptr;
    // With no DMA segment in progress a DMI access's time is fixed (these steps) and its bus
    // cycle only counted (flushed to the bus when the window closes): whole runs go at once.
    // Otherwise `idle` is false and each word asks the bus as access() does, until the CPU's
    // time reaches `busy_until_ps`, the segment's end (from then on no access waits: a CPU
    // running ahead with a quantum would otherwise ask the bus word by word for the rest).
    bool idle = false;
    std::uint64_t busy_until_ps = 0;
    sc_core::sc_time read_step, write_step;
    std::uint64_t bus_cycles = 0;
  };
  void open_window(Window& w);
  void close_window(Window& w);
  bool fast_word(bool is_read, std::uint64_t address, unsigned width, std::uint32_t& data,
                 Window& w);
  // A run of whole words the window allows at once (the bus idle): at most `words` from `a`
  // (and `b`, a copy's source), each word `reads` reads and `writes` writes, all ending
  // before the limit.
  std::size_t fast_run(Window& w, std::uint64_t a, std::uint64_t b, std::size_t words,
                       unsigned width, unsigned reads, unsigned writes);
  // The statistics and time of `words` such words.
  void account_run(Window& w, std::size_t words, unsigned reads, unsigned writes);
  // A block access from `a` (and `b`, a copy's source): runs by `run_op(offset, length, w)`
  // where fast_run() allows them, every other word (and the tail's bytes) by
  // `word_op(offset, width, w)` through the full access path.
  template <typename Run, typename Word>
  void block(std::uint64_t a, std::uint64_t b, std::size_t bytes, unsigned width, unsigned reads,
             unsigned writes, Run run_op, Word word_op);
  // The same under paging: whole-word runs within one translated page of `a` (written when
  // `a_write`) and `b` (read) whose TLB entries allow the access go by DMI at their physical
  // addresses, counted as the word loop's TLB hits; any other word is the word loop's own
  // access (a walk, a fault, an interrupt), after which the next run translates afresh.
  template <typename Run, typename Word>
  void paged_block(std::uint64_t a, std::uint64_t b, std::size_t bytes, unsigned width,
                   bool a_write, unsigned reads, unsigned writes, Run run_op, Word word_op);
  std::uint32_t block_read(std::uint64_t address, unsigned width, Window& w);
  void block_write(std::uint64_t address, unsigned width, std::uint32_t value, Window& w);
  // Fills tx_ for one access of `width` bytes at `address`, data in `data`.
  void prepare(tlm::tlm_command cmd, std::uint64_t address, unsigned width, std::uint32_t& data);
  // Advances this context's time by `t`. Interruptible waits accept interrupts on the way.
  // Inline for its common case, running ahead (every computation and handler step of the
  // interrupt path takes it); anything else is advance_slow(), which starts by telling the
  // bus a changed share (flush_demand()) and so tests running ahead itself.
  [[gnu::always_inline]] void advance(sc_core::sc_time t, bool interruptible) {
    if (want_ == demand_ && can_run_ahead(t)) {
      // A request already pending (raised during non-interruptible work, a page fault's
      // entry) is taken before this work, as the exact path does; then one raised by its end.
      if (interruptible) poll_interrupt();
      local_ += t;
      if (interruptible) poll_interrupt();
      return;
    }
    advance_slow(t, interruptible);
  }
  void advance_slow(sc_core::sc_time t, bool interruptible);
  // consume() with a bus share (a DMA segment may slow the work): pieces between arbitration
  // changes.
  void consume_shared(sc_core::sc_time t, double bus_share);
  // Like advance(t, true), but returns early, with the time not spent, when the bus's
  // arbitration changes (a DMA segment starts or ends).
  sc_core::sc_time advance_watching(sc_core::sc_time t);
  void set_demand(double share);  // the bus share the arbiter sees
  // A share consume() restored at its end (want_) reaches the arbiter before time moves on or
  // the bus is used: at the same instant, so the arbiter sees the same demand over time.
  void flush_demand() {
    if (want_ != demand_) set_demand(want_);
  }
  // INTR rising or the bus's arbitration changing, as one persistent list (a temporary
  // `a | b` allocates on every wait).
  const sc_core::sc_event_or_list& intr_or_arbitration() {
    if (intr_or_arbitration_.size() == 0) {
      intr_or_arbitration_ |= intr.posedge_event();
      intr_or_arbitration_ |= bus_master->arbitration_event();
    }
    return intr_or_arbitration_;
  }
  sc_core::sc_event_or_list intr_or_arbitration_;
  // The piece of computation in progress (consume() between two arbitration changes), whose
  // bus cycles are accounted as it progresses.
  struct WorkPiece {
    double share = 0.0;  // 0: none
    double rate = 1.0;
    std::uint64_t mark_ps = 0;  // progress before this is accounted
    sc_core::sc_time flushed;   // work of this piece accounted at interrupt entries
  };
  void account_work(const sc_core::sc_time& work, double share);
  void start_piece(double share, double rate);
  void finish_piece(const sc_core::sc_time& done);
  void flush_piece();  // at interrupt entry: accounts the piece's progress so far
  void sync();         // brings the decoupled local offset into the kernel's time
  // Drops the run-ahead offset and returns it, for a wait that covers it.
  sc_core::sc_time catch_up() {
    const sc_core::sc_time t = local_;
    local_ = sc_core::SC_ZERO_TIME;
    return t;
  }
  // After such a wait that was to end no earlier than `start` (the CPU's own time then): the
  // time spent past `start`.
  sc_core::sc_time resume_ahead(const sc_core::sc_time& start);
  void check_stop();  // a stop asked for from outside ends the run here (sync())
  // The CPU may skip the wait (in exact mode) or the quantum's synchronization when no process
  // is scheduled to run before its time plus `t`: nothing can change INTR or a device in
  // between, so yielding would change nothing but the host time spent. Inline and one compare
  // (asked about 13 times per interrupt): the three bounds are folded into one limit on the
  // offset (run_ahead_limit()), recomputed only when the horizon or the kernel's time moves.
  [[gnu::always_inline]] bool can_run_ahead(const sc_core::sc_time& t) const {
    return !pausing_ && local_ + t < run_ahead_limit();
  }
  // The offset the CPU's time must stay below to run ahead: the next activity, kMaxRunAhead and
  // the end of the run, from kernel time. Keyed by the horizon's generation (every change of
  // the horizon moves it) and the delta count (kernel time moves only with it).
  [[gnu::always_inline]] const sc_core::sc_time& run_ahead_limit() const {
    const Horizon& h = horizon_;
    return limit_gen_ == h.generation && h.valid && h.delta == delta_count() ? limit_
                                                                             : refresh_limit();
  }
  const sc_core::sc_time& refresh_limit() const;
  mutable sc_core::sc_time limit_;
  mutable std::uint64_t limit_gen_ = 0;  // the horizon's generation limit_ was computed in
  // How far the CPU may run ahead of the kernel in exact mode, even with nothing scheduled:
  // long computations still yield, so the simulation loop stays responsive (progress, Ctrl-C).
  static inline const sc_core::sc_time kMaxRunAhead{250, sc_core::SC_US};
  // sc_time_to_pending_activity() as last asked (it walks the kernel's queues, ~100
  // instructions): it holds while no process runs, kernel time stands still and nothing is
  // scheduled, which is what running ahead is. What models schedule from a CPU's access or INTA
  // comes through scheduled() (hw::notify_after); whatever else may schedule activity from a
  // CPU's context (a notification of its own, a new context, a suspension) calls
  // activity_changed(). Shared by every CPU: one kernel. The delta count keys it too: code that
  // waits from a CPU's context without the CPU (a register-level script settling signals)
  // leaves it stale otherwise.
  struct Horizon {
    bool valid = false;
    sc_dt::uint64 delta = 0;
    sc_core::sc_time value;
    std::uint64_t generation = 1;  // moves at every change: each CPU's limit_ is keyed by it
  };
  static Horizon horizon_;  // (defined in cpu.cpp)
  static sc_core::sc_time refresh_horizon();
  static sc_core::sc_time time_to_pending_activity() {
    const Horizon& h = horizon_;
    return h.valid && h.delta == delta_count() ? h.value : refresh_horizon();
  }
  static void activity_changed() {
    horizon_.valid = false;
    ++horizon_.generation;
  }
  // A model scheduled activity `at` after the kernel's now (hw::notify_after): the cached time
  // to the next activity stays valid, moved earlier if that is earlier. Accesses to models do
  // not drop the cache: what they schedule comes through here.
  static void scheduled(const sc_core::sc_time& at);
  // This CPU's time plus `t` reaches the end of the current sc_start() (run_limit_).
  bool past_run_limit(const sc_core::sc_time& t) const {
    return run_limit_ != sc_core::SC_ZERO_TIME && kernel_time() + local_ + t >= run_limit_;
  }
  // The instruction boundary: accept INTR if IF is set. INTR is a pin (hw/core/pin.h), so a
  // change the CPU itself caused (an INTA, an EOI, a write that lowers a device's request) is
  // seen at once; but a model that drives its line from its own process a delta later (the
  // block device, the DMA controller) withdraws a request only after the delta cycles of this
  // instant, so after an access a high INTR is trusted only once they have run, or the CPU
  // would take a phantom interrupt.
  // Accepts while IF && INTR: after an IRET the next boundary comes at once, and a request that
  // rose while the handler ran with IF clear (no edge left to wait for) is taken there.
  // Inlined where it is called (it is, at every instruction boundary): the common case is
  // two loads and a compare.
  [[gnu::always_inline]] void poll_interrupt() {
    while (if_ && intr_line()) {
      if (!intr_settled_) settle_intr();
      if (!if_ || !intr_line()) return;
      take_interrupt();
    }
  }
  void settle_intr();
  // INTR as this CPU sees it (intr_changed()).
  [[gnu::always_inline]] bool intr_line() const {
    return intr_delta_ == kNoDelta || delta_count() != intr_delta_ ? intr.read() : intr_before_;
  }
  void intr_changed(bool level);
  static constexpr sc_dt::uint64 kNoDelta = ~sc_dt::uint64{0};
  sc_dt::uint64 intr_delta_ = kNoDelta;  // the delta cycle another process changed INTR in
  bool intr_before_ = false;             // INTR before that delta
  // A sampling VCD writer (SystemC's) reads traced variables when the kernel runs: while running
  // ahead the CPU catches up before changing one (IF, INTA, context kind, the probes), or the
  // change would show at a time that depends on when the kernel next ran.
  void before_traced_change() {
    if (traced_) sync();
  }
  void kernel_wait(const sc_core::sc_time& t);  // wait(t); a positive wait settles INTR
  // Every suspension of a context of this CPU: sc_core::wait, then mark this CPU as the one
  // running (hw::running_processor()), since another CPU's context may have run meanwhile.
  template <typename... Args>
  void wait_resume(Args&&... args) {
    flush_demand();
    in_context_ = false;
    sc_core::wait(std::forward<Args>(args)...);
    in_context_ = true;
    kernel_now_ = sc_core::sc_time_stamp();
    delta_now_ = sc_core::sc_delta_count();
    activity_changed();  // other processes ran
    hw::running_processor_slot() = this;
  }
  void take_interrupt();
  // Paging: the access at linear address `va`, translated (faulting and retrying as needed).
  bool paged_access(tlm::tlm_command cmd, std::uint64_t va, unsigned width, std::uint32_t& data);
  // The physical address of `va` for this access, or the fault it takes.
  bool translate(std::uint64_t va, bool write, std::uint64_t& pa, PageFault& fault);
  // The TLB's translation of `va` if an entry allows the access as it stands (no walk, no
  // statistics): what the word loop would get as a hit.
  bool tlb_peek(std::uint64_t va, bool write, std::uint64_t& pa) const;
  bool walk(std::uint64_t va, bool write, std::uint64_t& pa, PageFault& fault);
  std::uint32_t walk_read(std::uint64_t pa);
  void walk_write(std::uint64_t pa, std::uint32_t v);
  void take_page_fault(const PageFault& fault);
  struct TlbEntry {
    bool valid = false, writable = false, user = false, dirty = false;
    std::uint64_t vpn = 0, pfn = 0;
  };
  std::vector<TlbEntry> tlb_;
  std::size_t tlb_next_ = 0;
  bool paging_ = false, user_ = false, in_walk_ = false;
  bool pausing_ = false;                   // inside pause(): no running ahead
  static inline bool in_context_ = false;  // a context of some CPU is what runs now
  // The kernel's time, read once per resumption of a context: it does not move while one runs
  // (sc_time_stamp() is a library call, and the interrupt path asked it about 70 times).
  static inline sc_core::sc_time kernel_now_;
  static sc_core::sc_time kernel_time() {
    return in_context_ ? kernel_now_ : sc_core::sc_time_stamp();
  }
  // The delta cycle, likewise (asked at every instruction boundary and run-ahead test).
  static inline sc_dt::uint64 delta_now_ = 0;
  [[gnu::always_inline]] static sc_dt::uint64 delta_count() {
    return in_context_ ? delta_now_ : sc_core::sc_delta_count();
  }
  // Traced paging markers: a page fault's handler in progress (its nesting depth), a TLB miss's
  // walk in progress.
  Traced<std::uint8_t> fault_depth_ = 0;
  Traced<bool> walking_ = false;
  Traced<std::uint64_t> cr3_ = 0;
  std::uint64_t cr2_ = 0;
  void invalidate_direct_mem_ptr(sc_dt::uint64 start, sc_dt::uint64 end);
  sc_core::sc_time cycles(std::uint64_t n) const { return static_cast<double>(n) * period_; }

  util::Logger log_;
  const unsigned id_;
  const Timing timing_;
  const sc_core::sc_time period_, quantum_;
  const sc_core::sc_time io_cost_, mem_cost_;       // an access's own cycles, as times (per access)
  sc_core::sc_time local_ = sc_core::SC_ZERO_TIME;  // decoupled offset ahead of sc_time_stamp()
  std::uint64_t boot_at_ps_ = 0;  // booted by another CPU: the time its software did it
  unsigned master_id_ = 0;
  std::uint64_t apic_base_ = 0, apic_size_ = 0;  // size 0: no local APIC
  double bus_fraction_ = 0.0;  // carries fractional bus cycles of consume() between calls
  double demand_ = 0.0;        // the bus share of the computation in progress, as told the bus
  double want_ = 0.0;          // the share the CPU has now (flush_demand())
  WorkPiece piece_;
  unsigned interrupt_depth_ = 0;  // interrupts being taken (nested)

  TrapHandler* trap_ = nullptr;
  Traced<bool> if_ = false;
  std::shared_ptr<std::vector<std::unique_ptr<Context>>> contexts_ =
      std::make_shared<std::vector<std::unique_ptr<Context>>>();
  ContextId current_ = kNoContext;
  ContextId boot_ = kNoContext;
  int exit_status_ = 0;
  sc_core::sc_event never_;  // stop() waits on it: nothing notifies it
  bool powered_off_ = false;
  std::uint64_t power_off_ps_ = 0;

  tlm::tlm_generic_payload tx_;
  AddressSpaceExtension io_ext_;
  tlm::tlm_dmi dmi_;
  bool dmi_valid_ = false;
  bool intr_settled_ = true;
  bool traced_ = false;
  sc_core::sc_time run_limit_ = sc_core::SC_ZERO_TIME;  // zero: none

  // Traced state.
  // The probes the VCD shows: each reports its changes (hw/core/traced.h).
  Traced<std::uint8_t> kind_ = static_cast<std::uint8_t>(ContextKind::thread);
  Traced<std::uint8_t> irql_ = 0;
  Traced<std::uint32_t> thread_id_ = 0;
  Traced<std::uint32_t> devices_started_ = 0;
  Traced<std::uint32_t> routine_ = 0;
  Traced<bool> inta_active_ = false;
  bool halted_ = false;
  sc_core::sc_time halt_start_;
  Stats stats_;
};

}  // namespace hw::cpu
