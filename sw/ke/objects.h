#pragma once
// Kernel objects: DPC (KDPC), interrupt (KINTERRUPT), thread (KTHREAD), event (KEVENT), spin
// lock (KSPIN_LOCK). Plain structs owned by their creators, as in NT; the kernel links them.
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "hw/cpu/processor.h"
#include "sw/ke/histogram.h"
#include "sw/ke/irql.h"

namespace ke {

enum class Status { success, timeout };  // STATUS_SUCCESS, STATUS_TIMEOUT

struct Dpc;
// PKDEFERRED_ROUTINE: (Dpc, DeferredContext, SystemArgument1, SystemArgument2).
using DpcRoutine = void (*)(Dpc* dpc, void* context, void* arg1, void* arg2);

// KDPC_IMPORTANCE: High goes to the head of the queue; MediumHigh and High reach another
// processor at once (an IPI).
enum class DpcImportance { low, medium, medium_high, high };

struct Dpc {
  std::string name;
  DpcRoutine routine = nullptr;
  void* context = nullptr;
  void* arg1 = nullptr;
  void* arg2 = nullptr;
  DpcImportance importance = DpcImportance::medium;
  int target = -1;  // KeSetTargetProcessorDpc; -1 = the processor that queues it
  bool inserted = false;
  unsigned queued_on = 0;       // the processor whose queue holds it
  unsigned ran_on = 0;          // the processor that last ran it
  std::uint64_t queued_ps = 0;  // when it was queued
  std::uint64_t origin_ps = 0;  // the interrupt that led to it (0 if none)
  Histogram time;               // execution time of each run, for the per-driver report
  bool seen = false;            // the kernel has it in its list of DPCs that ran
  std::uint32_t id = 0;         // numbered by KeInitializeDpc (bug-check parameter 3)
  // Its number in the waveform's routine trace (0: not numbered yet); traces only.
  mutable std::uint32_t routine_id = 0;
  std::string owner;  // the driver it belongs to ("\\Driver\\Disk"), for reports; "" unknown
};

struct SpinLock {
  bool held = false;
  int owner = -1;        // the processor holding it
  std::uint32_t id = 0;  // numbered by the kernel at first use (bug-check parameter 1)
};

struct Interrupt;
// PKSERVICE_ROUTINE: returns true if the interrupt was its device's.
using ServiceRoutine = bool (*)(Interrupt* interrupt, void* context);

enum class InterruptMode { level_sensitive, latched };  // KINTERRUPT_MODE

// KeInitializeInterrupt's parameters as IoConnectInterrupt takes them from a translated
// resource: the vector and IRQL the HAL translated the bus interrupt to, the IRQL the ISR's
// spin lock is taken at, the mode, whether the vector may be shared, the processors the ISR
// may run on, and a spin lock several interrupt objects may share (null: the object's own).
struct InterruptParameters {
  std::uint8_t vector = 0;
  Irql irql = 0;
  Irql synchronize_irql = 0;  // 0: the IRQL; else at least it
  InterruptMode mode = InterruptMode::latched;
  bool share = false;
  std::uint64_t affinity = ~std::uint64_t{0};  // ProcessorEnableMask
  SpinLock* spin_lock = nullptr;
};

struct Interrupt {
  std::string name;
  unsigned irq = 0;  // the controller input behind the vector
  std::uint8_t vector = 0;
  Irql irql = 0;              // the vector's IRQL
  Irql synchronize_irql = 0;  // at least irql; for KeSynchronizeExecution
  InterruptMode mode = InterruptMode::latched;
  bool share = false;
  std::uint64_t affinity = ~std::uint64_t{0};  // the processors its ISR runs on
  ServiceRoutine routine = nullptr;
  void* context = nullptr;
  SpinLock lock;                // its own spin lock, unless it was given one to share
  SpinLock* spin_lock = &lock;  // the lock the ISR holds (Interrupt objects do not move)
  bool connected = false;
  std::uint64_t count = 0;   // calls of the routine
  std::uint64_t claims = 0;  // calls that returned true (the interrupt was its device's)
  Histogram time;  // execution time of each call of the routine, for the per-driver report
  mutable std::uint32_t routine_id = 0;  // its number in the waveform's routine trace
  std::string owner;                     // the driver that connected it, for reports; "" unknown
};

enum class ThreadState { initialized, ready, running, waiting, terminated };

struct Event;

struct Thread {
  int id = 0;
  std::string name;
  int priority = 8;
  ThreadState state = ThreadState::initialized;
  hw::ContextId context = hw::kNoContext;
  std::function<void()> entry;
  int quantum = 0;  // clock ticks left
  // The processor it runs on, or whose ready queue holds it; the one it last ran on; the one
  // it was placed on when created (KTHREAD's IdealProcessor).
  unsigned processor = 0, ran_on = 0, ideal = 0;
  bool has_run = false;
  // Where it may run (bit n = CPU n): its own affinity, or a system affinity a driver set for a
  // while (KeSetSystemAffinityThreadEx; 0 = none).
  std::uint64_t user_affinity = ~std::uint64_t{0};
  std::uint64_t system_affinity = 0;
  std::uint64_t affinity() const { return system_affinity != 0 ? system_affinity : user_affinity; }
  bool interrupts_enabled = true;  // the IF this thread runs with (saved across switches)
  // Wait state.
  Event* waiting_on = nullptr;
  std::uint64_t wait_due_tick = 0;  // 0 = no timeout
  Status wait_status = Status::success;
  std::uint64_t readied_by_interrupt_ps = 0;  // for interrupt-to-thread latency
  // The chain of contexts on this thread's stack (ISRs, DPCs), for bug-check reports and traces.
  // Formatted only when a report is written: pushing one is on every interrupt's path.
  struct Frame {
    hw::ContextKind kind;
    const Interrupt* interrupt;  // for ISR frames
    const Dpc* dpc;              // for DPC frames
  };
  std::vector<Frame> frames;
  std::uint32_t routine_id = 0;  // its number in the waveform's routine trace
  // The page directory of its process (KPROCESS DirectoryTableBase), loaded into CR3 when it is
  // switched to; 0: a system thread, which runs in whatever address space is loaded (the kernel's
  // half is the same in every one).
  std::uint64_t directory = 0;
  // The drivers whose code the thread is running (a dispatch routine, a pageable routine),
  // innermost last: who raised IRQL or touched memory, for Driver Verifier and bug checks.
  std::vector<const std::string*> driver_code;
};

// An access violation in kernel mode that the memory manager raises as an exception (the
// STATUS_ACCESS_VIOLATION of an SEH __except): the access to a user address nobody committed,
// a failed paging read of user data. It unwinds out of the faulting access to the nearest
// handler (the system service or workload that probed the buffer); one that leaves a thread's
// routine bug-checks KMODE_EXCEPTION_NOT_HANDLED.
struct AccessViolation {
  std::uint32_t status = 0xC0000005;  // STATUS_ACCESS_VIOLATION, or STATUS_IN_PAGE_ERROR
  std::uint64_t address = 0;
  bool write = false;
};

enum class EventType { notification, synchronization };  // NotificationEvent / SynchronizationEvent

struct Event {
  std::string name;
  EventType type = EventType::notification;
  bool signaled = false;
  std::deque<Thread*> waiters;
};

}  // namespace ke
