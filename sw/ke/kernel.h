#pragma once
// The kernel (the ke routines, and a KPRCB per processor): per-processor IRQL, DPC queue,
// current/idle thread and ready queues; the trap dispatcher and interrupt objects, threads and
// the scheduler, events and waits with timeouts, spin locks that spin across processors, the
// clock, bug checks. Plain C++ over the processor interface.
//
// Several processors: the kernel is given one processor object for "the CPU running this code"
// (hal::CurrentProcessor) and the list of processors; each routine acts on the running CPU's
// PRCB. A thread is placed on a processor of its affinity each time it becomes ready (an idle one
// first) and an idle processor takes ready threads from busy ones, so threads move between
// processors; one preempted inside an interrupt resumes where that interrupt was taken.
//
// One concept per file: irql.cpp (IRQL, software interrupts), interrupt.cpp (trap dispatcher,
// interrupt objects), dpc.cpp, thread.cpp (threads, scheduler, waits, events), clock.cpp,
// bugcheck.cpp. Each public routine names its NT counterpart.
#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hw/cpu/processor.h"
#include "sw/hal/hal.h"
#include "sw/ke/bugcheck.h"
#include "sw/ke/histogram.h"
#include "sw/ke/irql.h"
#include "sw/ke/objects.h"
#include "util/event_log.h"

namespace ke {

// Cycles the kernel charges for its own work (on top of the port I/O it does through the HAL).
struct KernelCosts {
  unsigned irql_change = 4;          // KfRaiseIrql / KfLowerIrql bookkeeping
  unsigned interrupt_dispatch = 60;  // KiInterruptDispatch around the ISR
  unsigned dpc_dispatch = 40;        // KiRetireDpcList per DPC
  unsigned thread_dispatch = 150;    // KiSwapContext and the ready-queue work
  unsigned clock_isr = 100;          // KeUpdateSystemTime
  // The boot processor's share of starting each other processor (INIT and startup IPIs): the
  // processors start one after another, as on a real boot, never at one instant in an order
  // the simulator's scheduler would choose.
  unsigned processor_start = 200;
};

struct KernelConfig {
  // The processors (CPU n is processors[n]); empty = only the one the kernel is given.
  std::vector<hw::Processor*> processors;
  unsigned max_dpc_queue_depth = 4;  // MaximumDpcQueueDepth: a remote queue this deep gets an IPI
  unsigned spin_cycles = 10;         // one test of a held spin lock (the PAUSE loop's iteration)
  unsigned clock_irq = 0;
  std::uint16_t timer_port = 0x40;
  std::uint64_t timer_clock_hz = 1'193'182;
  std::uint64_t tick_hz = 1000;
  int quantum_ticks = 2;
  std::size_t stack_bytes = 1 << 20;
  // Interrupts in a row on a level-sensitive vector that no ISR claims before the kernel calls
  // it a storm (HARDWARE_INTERRUPT_STORM). Windows does not document its threshold; a device
  // that really interrupts is claimed long before this many.
  unsigned storm_threshold = 1000;
  KernelCosts costs;
};

// The whole kernel's counts. interrupts, dpcs_executed, context_switches, irql_changes, ipis and
// the spin-wait figures are the processors' (ProcessorStats) summed by Kernel::stats().
struct KernelStats {
  std::uint64_t interrupts = 0, spurious = 0, deferred = 0, replayed = 0;
  std::uint64_t dpcs_queued = 0, dpcs_executed = 0, context_switches = 0, irql_changes = 0;
  std::uint64_t clock_ticks = 0;
  std::uint64_t ipis = 0;        // DISPATCH_LEVEL requests sent to other processors
  std::uint64_t migrations = 0;  // threads that resumed on another processor than they last ran
  std::uint64_t spin_waits = 0, spin_wait_ps = 0;  // acquisitions that found the lock held
  Histogram isr, dpc, isr_to_dpc, interrupt_to_thread;
};

// ISR and DPC time over the run, per processor, in buckets of equal length (the report's
// WPA-style timeline). The buckets start at 100 us; when a run outgrows kMaxBuckets they are
// merged pairwise and their length doubles, so any run fits. A routine's time goes to the
// buckets it spans; a nested ISR's time counts in the routine it interrupted too.
struct Timeline {
  static constexpr std::size_t kMaxBuckets = 256;
  std::uint64_t bucket_ps = 100'000'000;
  struct Cpu {
    std::vector<std::uint64_t> isr_ps, dpc_ps;
  };
  std::vector<Cpu> cpus;
  void add(unsigned cpu, bool isr, std::uint64_t from_ps, std::uint64_t to_ps);
};

// Time a processor spent at each kind of IRQL.
enum class IrqlBand : std::uint8_t { passive, apc, dispatch, device, high };
constexpr unsigned kIrqlBands = 5;

// A processor's own counts.
struct ProcessorStats {
  std::uint64_t interrupts = 0, dpcs_executed = 0, context_switches = 0, irql_changes = 0;
  std::uint64_t ipis_received = 0, ipis_sent = 0;
  std::uint64_t migrations = 0;  // threads that came here from another processor
  std::uint64_t spin_waits = 0, spin_wait_ps = 0;
  std::array<std::uint64_t, kIrqlBands> irql_ps{};  // by IrqlBand, up to the last change
};

// KPRCB: what the kernel keeps per processor.
struct Prcb {
  unsigned number = 0;
  hw::Processor* cpu = nullptr;
  Irql irql = kPassiveLevel;
  std::uint64_t irql_since_ps = 0;
  std::deque<Dpc*> dpc_queue;
  bool dpc_active = false;
  bool dispatch_pending = false;    // a thread switch is asked for
  bool dispatch_requested = false;  // an IPI for DISPATCH_LEVEL is on its way here
  bool quantum_end = false;
  std::uint64_t interrupt_origin_ps = 0;  // entry time of the innermost running interrupt
  std::uint64_t dpc_origin_ps = 0;        // origin of the running DPC
  Thread* idle = nullptr;
  Thread* current = nullptr;
  std::array<std::deque<Thread*>, 32> ready{};
  // Threads in the ready queues (Windows' ReadySummary, as a count): placement and the idle
  // processors' search skip empty processors without looking at 32 queues each.
  unsigned queued = 0;
  unsigned threads = 0;  // threads created on this processor (for placement)
  // KeIpiGenericCall's work for this processor, run by its IPI handler.
  std::vector<std::function<void()>> ipi_work;
  ProcessorStats stats;
};

class Kernel : public hw::TrapHandler {
 public:
  Kernel(hw::Processor& cpu, hal::Hal& hal, KernelConfig config);
  ~Kernel() override;
  Kernel(const Kernel&) = delete;
  Kernel& operator=(const Kernel&) = delete;

  // KiSystemStartup / KiInitializeKernel: install the trap handler and the HAL's PIC setup,
  // connect the clock and start it. Runs on the boot context at PASSIVE_LEVEL.
  void initialize();
  // Phase 1: start `system_main` in a thread of its own, then turn the boot context into the
  // idle thread (KiIdleLoop). Does not return.
  [[noreturn]] void run(const std::string& name, int priority, std::function<void()> system_main);

  // --- IRQL
  Irql irql() { return prcb().irql; }  // KeGetCurrentIrql
  Irql raise_irql(Irql new_irql);      // KeRaiseIrql
  void lower_irql(Irql new_irql);      // KeLowerIrql

  // --- processors
  unsigned processor_count() const {
    return static_cast<unsigned>(prcbs_.size());
  }                                                       // KeNumberProcessors
  unsigned current_processor() { return prcb().number; }  // KeGetCurrentProcessorNumber
  const Prcb& processor(unsigned n) const { return *prcbs_[n]; }
  // Starts processor `n` (n > 0): called on that processor's boot context, which becomes its
  // idle thread (KiSystemStartup on an application processor). Does not return.
  [[noreturn]] void start_processor(unsigned n);

  // --- DPCs
  void initialize_dpc(Dpc& dpc, std::string name, DpcRoutine routine,
                      void* context);                           // KeInitializeDpc
  void set_importance_dpc(Dpc& dpc, DpcImportance importance);  // KeSetImportanceDpc
  void set_target_processor_dpc(Dpc& dpc, unsigned number);     // KeSetTargetProcessorDpc
  bool insert_queue_dpc(Dpc& dpc, void* arg1, void* arg2);      // KeInsertQueueDpc
  bool remove_queue_dpc(Dpc& dpc);                              // KeRemoveQueueDpc

  // --- interrupts
  // KeInitializeInterrupt, from the translated vector and the rest of IoConnectInterrupt's
  // parameters. False (and the object unusable) if the vector is none the HAL hands out or the
  // IRQL is not the vector's, SynchronizeIrql is below the IRQL, or the affinity names no
  // processor the HAL delivers the vector to.
  bool initialize_interrupt(Interrupt& interrupt, std::string name, ServiceRoutine routine,
                            void* context, const InterruptParameters& parameters);
  // The same for code with a bus IRQ and no translated resource (kernel scenarios, tests): the
  // HAL translates it (vector, IRQL, affinity).
  void initialize_interrupt(Interrupt& interrupt, std::string name, ServiceRoutine routine,
                            void* context, unsigned irq, InterruptMode mode, bool share);
  bool connect_interrupt(Interrupt& interrupt);     // KeConnectInterrupt
  void disconnect_interrupt(Interrupt& interrupt);  // KeDisconnectInterrupt
  bool synchronize_execution(Interrupt& interrupt, bool (*routine)(void*),
                             void* context);  // KeSynchronizeExecution

  // --- spin locks
  // KeAcquireInterruptSpinLock / KeReleaseInterruptSpinLock: raises to the interrupt's
  // SynchronizeIrql and takes its spin lock, which the ISR holds on whichever processor it runs:
  // the way to share data with an ISR on several processors (raising IRQL alone only keeps it
  // off this one).
  Irql acquire_interrupt_spin_lock(Interrupt& interrupt);
  void release_interrupt_spin_lock(Interrupt& interrupt, Irql old_irql);
  Irql acquire_spin_lock(SpinLock& lock);                 // KeAcquireSpinLock
  void release_spin_lock(SpinLock& lock, Irql old_irql);  // KeReleaseSpinLock
  void acquire_spin_lock_at_dpc_level(SpinLock& lock);    // KeAcquireSpinLockAtDpcLevel
  void release_spin_lock_from_dpc_level(SpinLock& lock);  // KeReleaseSpinLockFromDpcLevel

  // --- threads and waits
  // PsCreateSystemThread; the thread runs on the processor of `affinity` (bit n = CPU n) with
  // the fewest threads so far (ties: the lowest number).
  Thread& create_thread(const std::string& name, int priority, std::function<void()> entry,
                        std::uint64_t affinity = ~std::uint64_t{0});
  Thread* current_thread() { return prcb().current; }  // KeGetCurrentThread
  // Every thread's id and name (for traces: the VCD shows thread ids).
  // The waveform's routine trace: each number's routine ("ISR disk0", "DPC disk0_dpc",
  // "thread io-app", "idle"), numbered as they first run.
  const std::vector<std::string>& routine_names() const { return routine_names_; }
  std::vector<std::pair<int, std::string>> thread_names() const {
    std::vector<std::pair<int, std::string>> out;
    for (const auto& t : threads_) out.emplace_back(t->id, t->name);
    return out;
  }
  void set_priority_thread(Thread& thread, int priority);  // KeSetPriorityThread
  // KeSetSystemAffinityThreadEx: the current thread may run only on `affinity`'s processors
  // until reverted. Called below DISPATCH_LEVEL it returns on one of them; at DISPATCH_LEVEL the
  // move waits until IRQL drops below it. An affinity naming a processor that does not exist,
  // or none, has no effect (Microsoft's documented behaviour). Returns the previous system
  // affinity, 0 if there was none.
  std::uint64_t set_system_affinity_thread(std::uint64_t affinity);
  // KeRevertToUserAffinityThreadEx: back to `previous` (what the set returned; 0 = the thread's
  // own affinity), moving now if this processor is not in it.
  void revert_to_user_affinity_thread(std::uint64_t previous);
  void initialize_event(Event& event, std::string name, EventType type,
                        bool signaled);  // KeInitializeEvent
  void set_event(Event& event);          // KeSetEvent
  void clear_event(Event& event);        // KeClearEvent
  // KeWaitForSingleObject. timeout: none = forever, 0 = poll, else simulated picoseconds
  // (rounded up to clock ticks, as NT's timer expiry is).
  Status wait_for_single_object(Event& event, std::optional<std::uint64_t> timeout_ps);
  void delay_execution(std::uint64_t interval_ps);  // KeDelayExecutionThread
  void yield();                                     // ZwYieldExecution

  std::uint64_t tick_count() const { return tick_count_; }  // KeQueryTickCount
  std::uint64_t tick_ps() const { return tick_ps_; }

  // KeIpiGenericCall: runs `routine` on every started processor — this one now, the others from
  // an IPI — and returns once all have run it. Called below DISPATCH_LEVEL (it spins, with
  // interrupts on, until the others answer: two processors calling it at once answer each
  // other). What the memory manager uses to turn paging on everywhere and to flush a mapping
  // from the other processors' TLBs (KeFlushMultipleTb's shootdown).
  void ipi_generic_call(const std::function<void()>& routine);
  // KeFlushSingleTb / KeFlushMultipleTb: the pages' translations leave every processor's TLB.
  void flush_tb(const std::vector<std::uint64_t>& pages);

  // --- page faults: the memory manager's MmAccessFault, called by the trap handler. Without
  // one a page fault is a bug check (PAGE_FAULT_IN_NONPAGED_AREA).
  void set_page_fault_handler(std::function<void(const hw::PageFault&)> handler) {
    page_fault_handler_ = std::move(handler);
  }
  // The routine running on this processor, for a bug check's parameters and report: its number
  // in the routine trace (0 when a thread runs no ISR or DPC), its name, and the driver it
  // belongs to ("" for the kernel's own).
  struct RunningRoutine {
    std::uint32_t id = 0;
    std::string name;
    std::string owner;
  };
  RunningRoutine running_routine();
  // The driver whose code runs now on this processor: the innermost ISR's or DPC's owner, else
  // the driver the thread entered (enter_driver), else "" (the kernel's own code).
  const std::string& running_driver();
  // Marks the current thread as running `driver`'s code until leave_driver (DriverCode does
  // both around a scope). `driver` must outlive the mark.
  void enter_driver(const std::string& driver) { prcb().current->driver_code.push_back(&driver); }
  void leave_driver() {
    auto& d = prcb().current->driver_code;
    if (!d.empty()) d.pop_back();
  }
  // The current thread runs `driver`'s code for this object's lifetime, however the scope ends
  // (an access violation unwinding out of a dispatch or pageable routine leaves no stale mark).
  class DriverCode {
   public:
    DriverCode(Kernel& kernel, const std::string& driver) : kernel_(kernel) {
      kernel_.enter_driver(driver);
    }
    ~DriverCode() { kernel_.leave_driver(); }
    DriverCode(const DriverCode&) = delete;
    DriverCode& operator=(const DriverCode&) = delete;

   private:
    Kernel& kernel_;
  };
  // Driver Verifier's hook on raising IRQL: called (below DISPATCH_LEVEL, once per raise from
  // below it to DISPATCH_LEVEL or above, never from inside itself) before the raise.
  void set_raise_hook(std::function<void(Irql new_irql)> hook) { raise_hook_ = std::move(hook); }
  // KeAttachProcess: the current thread runs in the address space of the page directory
  // `directory` from now on (loaded into CR3 now, and whenever the thread is switched to).
  void attach_process(std::uint64_t directory) {
    prcb().current->directory = directory;
    cpu_.load_cr3(directory);
  }

  // KeBugCheckEx: report and stop the machine (exit status 3). Never returns.
  [[noreturn]] void bug_check(std::uint32_t code, std::uint64_t p1 = 0, std::uint64_t p2 = 0,
                              std::uint64_t p3 = 0, std::uint64_t p4 = 0);

  // The bug check that stopped this processor, if one did.
  const std::optional<BugCheckRecord>& last_bug_check() const { return bug_check_; }
  KernelStats stats() const;
  // A processor's IRQL time, counted up to now.
  std::array<std::uint64_t, kIrqlBands> irql_time(unsigned n) const;
  // For the per-driver latency report: interrupt objects ever connected, DPCs that have run.
  const std::vector<const Interrupt*>& interrupt_objects() const { return interrupts_seen_; }
  const std::vector<const Dpc*>& dpc_objects() const { return dpcs_seen_; }
  const Timeline& timeline() const { return timeline_; }
  hw::Processor& cpu() { return cpu_; }
  hal::Hal& hal() { return hal_; }
  const KernelConfig& config() const { return config_; }

  // --- hw::TrapHandler
  void interrupt(std::uint8_t vector) override;
  void bus_error(const hw::BusFault& fault) override;
  void page_fault(const hw::PageFault& fault) override;

 private:
  // The running processor's PRCB.
  Prcb& prcb() {
    if (prcbs_.size() == 1) return *prcbs_[0];
    const hw::Processor* running = hw::running_processor();
    for (auto& p : prcbs_) {
      if (p->cpu == running) return *p;
    }
    return *prcbs_[0];
  }
  void set_irql(Irql irql);
  void dispatch_software_interrupt(Irql target);  // the DISPATCH_LEVEL software interrupt
  void drain_dpc_queue();                         // KiRetireDpcList
  // Asks processor `target` for a DISPATCH_LEVEL interrupt (an IPI), unless one is on its way.
  void request_dispatch(Prcb& target);
  void dispatch_ipi();  // the DISPATCH_LEVEL IPI's handler on the receiving processor
  [[noreturn]] void idle_loop();
  // A "ke" event; `smp_fields` (the processor, a DPC's target) are added only on several
  // processors, so a one-processor log keeps its shape.
  void emit(std::string_view ev, std::initializer_list<util::EventField> fields,
            std::initializer_list<util::EventField> smp_fields);
  void end_quantum(Prcb& p);          // round robin at quantum end
  void spin_acquire(SpinLock& lock);  // spins while another processor holds it
  void spin_release(SpinLock& lock);
  // Raise, EOI (unless a replay, already EOIed at deferral), ISRs with interrupts on, lower.
  void service_interrupt(unsigned irq, std::uint64_t entry_ps, bool replay);
  void check_storm(unsigned irq, bool claimed);
  std::uint64_t processors_on(unsigned irq) const;  // the union of its objects' affinities
  void ready_thread(Thread& thread);                // KiReadyThread
  // The processor a thread that became ready goes to (KiDeferredReadyThread's choice).
  unsigned choose_processor(const Thread& thread);
  // A ready thread of another processor this one may take (KiSearchForNewThread), or null.
  Thread* find_movable_thread(bool take);
  bool allowed_here(const Thread& thread, unsigned n) const {
    return (thread.affinity() >> n & 1) != 0;
  }
  std::uint64_t processors_mask() const {
    return prcbs_.size() >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << prcbs_.size()) - 1;
  }
  void apply_affinity();
  void reschedule();               // KiSwapThread at DISPATCH_LEVEL
  Thread* select_next(bool take);  // the next thread to run; `take` removes it from its queue
  void swap_to(Thread& next);
  void thread_startup(Thread& thread);
  [[noreturn]] void terminate_current();
  Status wait(Event* event, std::optional<std::uint64_t> timeout_ps);
  void unwait(Thread& thread, Status status);
  static bool clock_isr(Interrupt* interrupt, void* context);
  static void clock_dpc(Dpc* dpc, void* context, void* arg1, void* arg2);
  void push_frame(Thread::Frame frame);
  void pop_frame();
  void show_kind();
  // The running routine's number for the waveform (numbered at first use).
  std::uint32_t routine_number(std::uint32_t& id, const char* kind, const std::string& name) {
    if (id == 0) {
      id = static_cast<std::uint32_t>(routine_names_.size());
      routine_names_.push_back(*kind != '\0' ? std::string(kind) + " " + name : name);
    }
    return id;
  }
  // The lock's number (given at first use): a bug check's parameter 1 where Windows gives the
  // lock's address, which here would be a host pointer that changes from run to run.
  std::uint64_t lock_id(SpinLock& lock) {
    if (lock.id == 0) lock.id = ++spin_lock_ids_;
    return lock.id;
  }
  std::string describe_frames(const Prcb& p) const;

  hw::Processor& cpu_;
  hal::Hal& hal_;
  KernelConfig config_;
  std::uint64_t tick_ps_;

  std::vector<std::unique_ptr<Prcb>> prcbs_;

  std::array<std::vector<Interrupt*>, 16> connected_{};
  std::array<unsigned, 16> unclaimed_{};  // level-sensitive interrupts in a row nobody claimed
  Interrupt clock_interrupt_;
  Dpc clock_dpc_;
  std::uint64_t tick_count_ = 0;

  std::vector<std::unique_ptr<Thread>> threads_;
  std::multimap<std::uint64_t, Thread*> timers_;  // due tick -> waiting thread
  bool bug_checked_ = false;
  std::optional<BugCheckRecord> bug_check_;
  std::uint32_t spin_lock_ids_ = 0;  // numbers locks for bug-check parameters
  std::uint32_t dpc_ids_ = 0;        // numbers DPC objects, likewise
  std::vector<const Interrupt*> interrupts_seen_;
  std::vector<std::string> routine_names_{"-"};
  std::vector<const Dpc*> dpcs_seen_;
  std::function<void(const hw::PageFault&)> page_fault_handler_;
  std::function<void(Irql)> raise_hook_;
  bool in_raise_hook_ = false;
  KernelStats stats_;
  Timeline timeline_;
};

}  // namespace ke
