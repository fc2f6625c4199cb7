#pragma once
// The CPU's programmer-visible contract, the one hw/ header that sw/ may include. Plain C++:
// the software stack runs against it on the SystemC CPU model, or on a fake in unit tests.
//
// Time model: every call that touches the bus or does work advances simulated time on the
// calling context; interrupts are accepted at those points (after a bus access, inside
// consume(), in halt(), on enable_interrupts()) when IF is set and INTR is asserted. Acceptance
// runs the INTA cycle and calls TrapHandler::interrupt() as a nested call on the context that
// holds the CPU, exactly as an interrupt lands on the current kernel stack on real hardware.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>

namespace hw {

enum class Space : std::uint8_t { memory, io };

// A bus access that the bus or a target refused (unmapped address, wrong width, read of a
// write-only register). Delivered to software as a trap; the access reads as all ones.
struct BusFault {
  Space space = Space::memory;
  std::uint64_t address = 0;
  unsigned width = 0;
  bool write = false;
  std::string reason;
};

// A page fault (x86 #PF): the linear address (CR2) and the error code's bits: the page was
// present (a protection violation) or not, the access was a write, the CPU was in user mode.
struct PageFault {
  std::uint64_t address = 0;
  bool present = false, write = false, user = false;
  std::uint32_t error_code() const {
    return (present ? 1u : 0u) | (write ? 2u : 0u) | (user ? 4u : 0u);
  }
};

class TrapHandler {
 public:
  virtual ~TrapHandler() = default;
  // An accepted external interrupt. Entered with IF clear; IF is restored on return (IRET).
  virtual void interrupt(std::uint8_t vector) = 0;
  // A refused bus access by the current context. The faulting access returns after this.
  virtual void bus_error(const BusFault& fault) = 0;
  // A page fault by the current context, before its access completes; when this returns the
  // access is tried again (it faults again unless the handler mapped the page). Entered with
  // IF as the faulting code had it. The default resolves nothing.
  virtual void page_fault(const PageFault&) {}
};

using ContextId = int;
constexpr ContextId kNoContext = -1;

// What the CPU is running, as traces show it. The CPU itself marks isr (inside an accepted
// interrupt) and idle (halted); software marks dpc and thread through set_probe().
enum class ContextKind : std::uint8_t { thread = 0, isr = 1, dpc = 2, idle = 3 };

// Values software reports for traces only, with no architectural effect (like a POST-code
// port): the kernel's IRQL, the kind of code running, the current thread's id, the number of
// devices Plug and Play has started (a step per START_DEVICE, down again on a removal), and the
// routine running (a number the kernel gives each ISR, DPC and thread; the view names it).
enum class Probe : std::uint8_t { irql, context_kind, thread_id, devices_started, routine };

class Processor {
 public:
  using Cycles = std::uint64_t;
  virtual ~Processor() = default;

  // --- identity and time
  virtual unsigned cpu_id() const = 0;
  virtual std::uint64_t clock_hz() const = 0;
  // Simulated time as seen by the calling context (includes any temporally decoupled offset).
  virtual std::uint64_t now_ps() const = 0;

  // --- bus accesses: timed transactions, width 1, 2 or 4 bytes
  virtual std::uint32_t read(Space space, std::uint64_t address, unsigned width) = 0;
  virtual void write(Space space, std::uint64_t address, unsigned width, std::uint32_t value) = 0;

  std::uint8_t inb(std::uint16_t port) {
    return static_cast<std::uint8_t>(read(Space::io, port, 1));
  }
  std::uint16_t inw(std::uint16_t port) {
    return static_cast<std::uint16_t>(read(Space::io, port, 2));
  }
  std::uint32_t inl(std::uint16_t port) { return read(Space::io, port, 4); }
  void outb(std::uint16_t port, std::uint8_t v) { write(Space::io, port, 1, v); }
  void outw(std::uint16_t port, std::uint16_t v) { write(Space::io, port, 2, v); }
  void outl(std::uint16_t port, std::uint32_t v) { write(Space::io, port, 4, v); }
  std::uint32_t read32(std::uint64_t a) { return read(Space::memory, a, 4); }
  void write32(std::uint64_t a, std::uint32_t v) { write(Space::memory, a, 4, v); }

  // --- block accesses: what software does word by word over memory (buffered I/O's copies, a
  // cache's fills, an application writing or checking a buffer), in one call. Each is exactly
  // the loop it replaces: accesses of `width` bytes (1, 2 or 4) in address order, then single
  // bytes for a tail shorter than `width`; a copy reads each word and then writes it. So the
  // simulated time, bus cycles, statistics, faults and interrupt points (an interrupt is taken
  // between two words at its instant) are those of the loop. The defaults here are that loop;
  // an implementation may do the same faster (the CPU model's DMI path).
  virtual void read_block(std::uint64_t address, void* data, std::size_t bytes, unsigned width = 4);
  virtual void write_block(std::uint64_t address, const void* data, std::size_t bytes,
                           unsigned width = 4);
  virtual void copy_block(std::uint64_t dst, std::uint64_t src, std::size_t bytes,
                          unsigned width = 4);
  // Writes `value`'s low `width` bytes to every word (and its low byte to a tail).
  virtual void fill_block(std::uint64_t address, std::uint32_t value, std::size_t bytes,
                          unsigned width = 4);

  // --- work: `cycles` of computation, of which the fraction `bus_share` needs the bus
  // (instruction fetch, cache misses) and so competes with DMA.
  virtual void consume(Cycles cycles, double bus_share = 0.0) = 0;
  // One round of a spin-wait loop (the PAUSE instruction and the test around it): `cycles` of
  // work after which the caller looks at memory another processor writes. Unlike consume() the
  // processor does not run ahead of the machine's time here, so what the loop sees (a lock
  // released, an answer counted) is what the other processors did by then, whatever else is
  // observed or traced.
  virtual void pause(Cycles cycles) { consume(cycles); }

  // --- interrupt flag (STI / CLI) and HLT
  virtual void enable_interrupts() = 0;
  // Clears IF and returns whether it was set (for restore).
  virtual bool disable_interrupts() = 0;
  virtual bool interrupts_enabled() const = 0;
  // Waits until INTR is asserted. With IF set the interrupt is accepted before returning;
  // with IF clear it returns with the request still pending (the caller may poll).
  virtual void halt() = 0;
  // The INTR input as the CPU sees it now.
  virtual bool interrupt_pending() const = 0;

  virtual void set_trap_handler(TrapHandler* handler) = 0;

  // --- paging, x86 32-bit: a page directory of 1024 PDEs at CR3, each naming a page table of
  // 1024 PTEs, 4 KiB pages; entry bits present (0), writable (1), user (2), accessed (5), dirty
  // (6, PTE). With paging on, memory accesses (not I/O ports) go through the TLB and on a miss a
  // walk of the tables by real memory reads (costed, counted) that sets A, and D on a write. A
  // write needs W in both levels (CR0.WP set, as Windows runs), a user-mode access U in both.
  // DMA engines and devices keep using physical addresses. Without paging (the default) nothing
  // of this exists.
  virtual void load_cr3(std::uint64_t) {}  // MOV CR3: the page directory; flushes the TLB
  virtual std::uint64_t cr3() const { return 0; }
  virtual std::uint64_t cr2() const { return 0; }  // the last page fault's address
  virtual void set_paging(bool) {}                 // CR0.PG
  virtual bool paging() const { return false; }
  virtual void invalidate_page(std::uint64_t) {}  // INVLPG: the page's TLB entry goes
  virtual void set_user_mode(bool) {}             // the current privilege: user or kernel

  virtual void set_probe(Probe probe, std::uint32_t value) = 0;

  // --- execution contexts: one holds the CPU at a time; switch_to() hands it over and
  // returns when some other context hands it back (on a machine whose processors share their
  // contexts, perhaps on another processor: a switch_to() there to a context suspended here
  // resumes it there, after the processor it left has let go of it). An entry function that returns
  // ends its context; it must have handed the CPU on first (or the CPU idles forever).
  virtual ContextId create_context(const std::string& name, std::function<void()> entry,
                                   std::size_t stack_bytes) = 0;
  virtual void switch_to(ContextId next) = 0;
  virtual ContextId current_context() const = 0;
  // Whether another processor of the machine may resume the context (a thread moving between
  // processors): it has not ended and no interrupt is in progress on its stack (whose return
  // belongs to the processor that took it). Implementations without shared contexts: never.
  virtual bool context_portable(ContextId) const { return false; }

  // Ends the simulation with the given exit status. Called from software it does not return:
  // the calling context runs no further.
  virtual void power_off(int exit_status) = 0;
  // Ends the simulation like power_off() and never returns to the caller: what a bug check
  // does after its report. The context that calls it is frozen where it stands.
  [[noreturn]] virtual void stop(int exit_status) = 0;
};

// The block accesses word by word: the reference the fast implementations must equal.
namespace detail {
// The access widths of a block: `width` while a whole word remains, then bytes.
inline unsigned block_step(std::size_t offset, std::size_t bytes, unsigned width) {
  return offset + width <= bytes ? width : 1;
}
// The widths a bus access may have.
inline bool is_access_width(unsigned width) {
  return width == 1 || width == 2 || width == 4;
}
// The low `width` bytes of `value` (all of it from 4 bytes on).
inline std::uint32_t low_bytes(std::uint32_t value, unsigned width) {
  return width >= 4 ? value : value & ((1u << (8 * width)) - 1);
}
// Block data is in the host's byte order, as RAM's DMI pointer holds it.
inline std::uint32_t load_word(const void* p, unsigned width) {
  std::uint32_t v = 0;
  std::memcpy(&v, p, width);
  return v;
}
inline void store_word(void* p, unsigned width, std::uint32_t v) {
  std::memcpy(p, &v, width);
}
}  // namespace detail

inline void Processor::read_block(std::uint64_t address, void* data, std::size_t bytes,
                                  unsigned width) {
  auto* out = static_cast<std::uint8_t*>(data);
  for (std::size_t i = 0; i < bytes;) {
    const unsigned w = detail::block_step(i, bytes, width);
    detail::store_word(out + i, w, read(Space::memory, address + i, w));
    i += w;
  }
}
inline void Processor::write_block(std::uint64_t address, const void* data, std::size_t bytes,
                                   unsigned width) {
  const auto* in = static_cast<const std::uint8_t*>(data);
  for (std::size_t i = 0; i < bytes;) {
    const unsigned w = detail::block_step(i, bytes, width);
    write(Space::memory, address + i, w, detail::load_word(in + i, w));
    i += w;
  }
}
inline void Processor::copy_block(std::uint64_t dst, std::uint64_t src, std::size_t bytes,
                                  unsigned width) {
  for (std::size_t i = 0; i < bytes;) {
    const unsigned w = detail::block_step(i, bytes, width);
    write(Space::memory, dst + i, w, read(Space::memory, src + i, w));
    i += w;
  }
}
inline void Processor::fill_block(std::uint64_t address, std::uint32_t value, std::size_t bytes,
                                  unsigned width) {
  for (std::size_t i = 0; i < bytes;) {
    const unsigned w = detail::block_step(i, bytes, width);
    write(Space::memory, address + i, w, detail::low_bytes(value, w));
    i += w;
  }
}

// The processor executing the caller (KeGetCurrentProcessorNumber's source: on x86 the PCR a
// segment register points at). Each implementation sets it whenever one of its contexts starts
// or resumes, so software on several CPUs finds its own processor's state; null until then.
inline Processor*& running_processor_slot() {
  static Processor* running = nullptr;
  return running;
}
inline Processor* running_processor() {
  return running_processor_slot();
}

}  // namespace hw
