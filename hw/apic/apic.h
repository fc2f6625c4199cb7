#pragma once
// The multiprocessor interrupt path (Intel SDM vol. 3A ch. 10; 82093AA I/O APIC datasheet):
// a local APIC inside each CPU and an I/O APIC on the system bus, joined by the APIC bus that
// carries interrupt messages, IPIs and EOI broadcasts.
//
// Local APIC (xAPIC register page at 0xFEE00000; each CPU sees its own, because the CPU decodes
// the page before its accesses reach the system bus, as the real part does): ID, version, TPR,
// APR, PPR, EOI, LDR, DFR (flat and cluster), SVR (software enable, spurious vector), ISR/TMR/
// IRR (eight 32-bit words each), ESR (write to latch), ICR (fixed and lowest-priority IPIs,
// physical and logical destinations, the four shorthands), the LVT registers as storage (the
// local timer and LINT pins are not modelled: the clock stays on the 8254 through the I/O APIC).
// Every register is 32 bits at a 16-byte offset; another width or an unknown offset is a bus
// error (and ESR bit 7).
//
// Delivery: a message is resolved to its targets when it is sent (lowest priority: the target
// with the lowest arbitration priority, ties rotating from the last winner) and lands in their
// IRRs `latency` later. A local APIC asserts INTR while its highest requested vector's class is
// above the PPR's; the INTA cycle moves that vector to the ISR, or returns the spurious vector if
// TPR has risen since. EOI retires the highest in-service vector; a level-triggered one (TMR)
// is broadcast to the I/O APIC, which clears Remote IRR and re-sends if the line is still high.
//
// I/O APIC (IOREGSEL at +0x00, IOWIN at +0x10): ID, version (24 entries), arbitration ID, and
// the redirection table: vector, delivery mode (fixed, lowest priority), destination mode and
// destination, polarity, trigger mode, mask, with Remote IRR for level inputs. Edges on a masked
// input are lost; a level input that is asserted when unmasked is delivered then.
#include <array>
#include <cstdint>
#include <deque>
#include <stdexcept>
#include <vector>

#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include "hw/core/pin.h"
#include "hw/core/register_bank.h"
#include "hw/core/traced.h"
#include "hw/intc/inta_if.h"
#include "util/log.h"

namespace hw::apic {

constexpr std::uint64_t kLocalApicBase = 0xfee00000;
constexpr std::uint64_t kLocalApicSize = 0x1000;
constexpr std::uint64_t kIoApicBase = 0xfec00000;
constexpr std::uint64_t kIoApicSize = 0x20;
constexpr unsigned kIoApicPins = 24;
constexpr unsigned kMaxLocalApics = 8;

// Local APIC register offsets.
enum LocalReg : std::uint32_t {
  kRegId = 0x20,
  kRegVersion = 0x30,
  kRegTpr = 0x80,
  kRegApr = 0x90,
  kRegPpr = 0xa0,
  kRegEoi = 0xb0,
  kRegLdr = 0xd0,
  kRegDfr = 0xe0,
  kRegSvr = 0xf0,
  kRegIsr = 0x100,
  kRegTmr = 0x180,
  kRegIrr = 0x200,
  kRegEsr = 0x280,
  kRegIcrLow = 0x300,
  kRegIcrHigh = 0x310,
  kRegLvtTimer = 0x320,
  kRegLvtThermal = 0x330,
  kRegLvtPerf = 0x340,
  kRegLvtLint0 = 0x350,
  kRegLvtLint1 = 0x360,
  kRegLvtError = 0x370,
  kRegTimerInitial = 0x380,
  kRegTimerCurrent = 0x390,
  kRegTimerDivide = 0x3e0,
};

// ICR / redirection-entry fields (the same layout in both).
enum : std::uint32_t {
  kDeliveryShift = 8,
  kLogical = 1u << 11,
  kDeliveryPending = 1u << 12,
  kPolarityLow = 1u << 13,
  kRemoteIrr = 1u << 14,  // I/O APIC; in the ICR: level assert
  kLevel = 1u << 15,
  kMasked = 1u << 16,
  kShorthandShift = 18,
  kSvrEnable = 1u << 8,
};
enum class Delivery : std::uint8_t {
  fixed = 0,
  lowest = 1,
  smi = 2,
  nmi = 4,
  init = 5,
  startup = 6,
  extint = 7
};
enum class Shorthand : std::uint8_t { none = 0, self = 1, all = 2, others = 3 };
// ESR bits.
enum : std::uint32_t {
  kEsrSendIllegal = 1u << 5,
  kEsrReceiveIllegal = 1u << 6,
  kEsrIllegalRegister = 1u << 7
};

struct Message {
  std::uint8_t vector = 0;
  Delivery mode = Delivery::fixed;
  bool logical = false;
  std::uint8_t destination = 0;
  Shorthand shorthand = Shorthand::none;
  bool level = false;  // trigger mode: the target sets TMR, its EOI is broadcast
};

class LocalApic;
class IoApic;

// The APIC bus: routes messages between the local APICs and from the I/O APIC, and broadcasts
// EOIs of level-triggered vectors to the I/O APIC.
class ApicBus {
 public:
  explicit ApicBus(sc_core::sc_time latency) : latency_(latency) {}
  // At most kMaxLocalApics (send() keeps its targets in an array that size); the platform's
  // cpu.count is bounded by it, so more is a model bug.
  void attach(LocalApic* lapic) {
    if (lapics_.size() >= kMaxLocalApics)
      throw std::logic_error("APIC bus: more than kMaxLocalApics local APICs");
    lapics_.push_back(lapic);
  }
  void attach(IoApic* ioapic) { ioapic_ = ioapic; }
  // Resolves `m` to its targets now and delivers it `latency` later. `sender`: the sending
  // local APIC (for the shorthands), or null for the I/O APIC. Returns the number of targets.
  unsigned send(const Message& m, const LocalApic* sender);
  void eoi(std::uint8_t vector);
  const sc_core::sc_time& latency() const { return latency_; }
  const std::vector<LocalApic*>& lapics() const { return lapics_; }

 private:
  sc_core::sc_time latency_;
  std::vector<LocalApic*> lapics_;
  IoApic* ioapic_ = nullptr;
  unsigned rotation_ = 0;  // lowest-priority tie-break: the next after the last winner
};

class LocalApic : public sc_core::sc_module, public intc::inta_if {
 public:
  struct Stats {
    std::uint64_t received = 0;      // messages landed in the IRR
    std::uint64_t acknowledged = 0;  // INTA cycles that delivered a vector
    std::uint64_t spurious = 0;      // INTA cycles answered with the spurious vector
    std::uint64_t eois = 0;
    std::uint64_t ipis_sent = 0;
    std::uint64_t tpr_reads = 0, tpr_writes = 0;
    std::uint64_t lowest_priority_won = 0;  // lowest-priority messages this APIC won
    std::uint64_t errors = 0;               // ESR conditions raised
    std::uint64_t unsupported = 0;  // ICR delivery modes not modelled (INIT, SIPI, NMI, ...)
  };

  tlm_utils::simple_target_socket<LocalApic> in;  // the CPU's private window
  PinOut intr{"intr"};
  sc_core::sc_export<intc::inta_if> inta;

  LocalApic(const sc_core::sc_module_name& name, std::uint8_t id, ApicBus& bus);

  // INTA: the highest requested vector above the PPR moves to the ISR.
  std::uint8_t acknowledge() override;

  std::uint8_t id() const { return static_cast<std::uint8_t>(id_ >> 24); }
  std::uint8_t tpr() const { return tpr_; }
  std::uint8_t ppr() const;
  std::uint8_t apr() const;
  bool software_enabled() const { return (svr_ & kSvrEnable) != 0; }
  bool irr(std::uint8_t v) const { return test(irr_, v); }
  bool isr(std::uint8_t v) const { return test(isr_, v); }
  const Stats& stats() const { return stats_; }
  void trace(sc_core::sc_trace_file* tf);

  // For the APIC bus.
  bool matches(const Message& m) const;
  void deliver_later(std::uint8_t vector, bool level);
  void note_lowest_priority_win() { ++stats_.lowest_priority_won; }

 private:
  using Bits = std::array<std::uint32_t, 8>;
  static bool test(const Bits& b, unsigned v) { return (b[v >> 5] >> (v & 31)) & 1; }
  static void set(Bits& b, unsigned v, bool on);
  static int highest(const Bits& b);  // -1 if none

  void b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay);
  void write_icr(std::uint32_t low);
  void eoi();
  void arrive();  // the oldest message in flight lands
  void update();  // recomputes INTR
  void error(std::uint32_t bits);

  util::Logger log_;
  ApicBus& bus_;
  RegisterBank regs_;
  std::uint32_t id_;
  Traced<std::uint8_t> tpr_ = 0;  // traced: reports its changes
  std::uint32_t ldr_ = 0, dfr_ = 0xffffffffu, svr_ = 0xff;
  std::uint32_t esr_ = 0, esr_pending_ = 0;
  std::uint32_t icr_low_ = 0, icr_high_ = 0;
  std::uint64_t icr_busy_until_ps_ = 0;
  Bits irr_{}, isr_{}, tmr_{};
  struct InFlight {
    std::uint8_t vector;
    bool level;
  };
  std::deque<InFlight> in_flight_;
  sc_core::sc_event_queue arrivals_;
  bool int_ = false;
  // Traced: the highest in-service vector (0: none).
  Traced<std::uint8_t> isrv_ = 0;
  Stats stats_;
};

class IoApic : public sc_core::sc_module {
 public:
  struct Stats {
    std::uint64_t messages = 0;    // interrupt messages sent
    std::uint64_t eois = 0;        // EOI broadcasts that cleared a Remote IRR
    std::uint64_t lost_edges = 0;  // edges on masked inputs
    std::array<std::uint64_t, kIoApicPins> per_pin{};
  };

  tlm_utils::simple_target_socket<IoApic> in;
  std::array<PinIn, kIoApicPins> irq;

  IoApic(const sc_core::sc_module_name& name, ApicBus& bus);

  // EOI broadcast from a local APIC.
  void eoi(std::uint8_t vector);
  std::uint64_t entry(unsigned pin) const { return redir_[pin]; }
  const Stats& stats() const { return stats_; }
  void trace(sc_core::sc_trace_file* tf);

 private:
  void b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay);
  std::uint32_t read_window() const;
  void write_window(std::uint32_t v);
  void sample(unsigned pin, bool now);  // an input changed
  bool asserted(unsigned pin) const;
  // Sends the pin's message if it is deliverable now (unmasked, and for a level input asserted
  // with Remote IRR clear).
  void try_level(unsigned pin);
  void send(unsigned pin);

  util::Logger log_;
  ApicBus& bus_;
  RegisterBank regs_;
  std::uint32_t select_ = 0;
  std::uint32_t id_ = 0;
  std::array<std::uint64_t, kIoApicPins> redir_{};
  std::array<bool, kIoApicPins> level_{};  // the inputs as last sampled
  Stats stats_;
};

}  // namespace hw::apic
