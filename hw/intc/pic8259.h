#pragma once
// An Intel 8259A programmable interrupt controller, one chip. Two of them (master and a slave
// on the master's IR2) make the PC/AT pair; the platform wires slave.intr to master.ir[2] and
// master.cascade to slave.cascade_target.
//
// Programming model (datasheet 231468): A0=0 takes ICW1, OCW2, OCW3 and reads IRR/ISR/poll;
// A0=1 takes ICW2..ICW4 during initialization, then OCW1, and reads IMR. Only 8086 mode
// vectors are modeled; MCS-80/85 mode is accepted with a warning and behaves as 8086 mode.
//
// Where the datasheet is silent we follow the behaviour operating systems rely on and say so:
// ICW1 also clears IRR and ISR (as the PC BIOS and every OS assume after re-initialization).
#include <array>
#include <cstdint>
#include <vector>

#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include "hw/core/pin.h"
#include "hw/core/register_bank.h"
#include "hw/core/traced.h"
#include "hw/intc/inta_if.h"
#include "util/log.h"

namespace hw::intc {

enum Icw1 : std::uint8_t {
  kIcw1Ic4 = 1u << 0,   // ICW4 will follow
  kIcw1Sngl = 1u << 1,  // single chip, no ICW3
  kIcw1Adi = 1u << 2,   // call address interval (MCS-80/85 only)
  kIcw1Ltim = 1u << 3,  // level-triggered inputs
  kIcw1Init = 1u << 4,  // marks an A0=0 write as ICW1
};

enum Icw4 : std::uint8_t {
  kIcw4Upm = 1u << 0,   // 8086 mode
  kIcw4Aeoi = 1u << 1,  // automatic EOI at the end of the second INTA pulse
  kIcw4Ms = 1u << 2,    // buffered mode: 1 = master
  kIcw4Buf = 1u << 3,   // buffered mode (M/S decides master vs slave instead of SP/EN)
  kIcw4Sfnm = 1u << 4,  // special fully nested mode
};

enum Ocw2 : std::uint8_t {
  kOcw2Level = 0x07,  // L2..L0
  kOcw2Eoi = 1u << 5,
  kOcw2Sl = 1u << 6,  // specific level
  kOcw2R = 1u << 7,   // rotate
};

enum Ocw3 : std::uint8_t {
  kOcw3Ris = 1u << 0,  // read ISR (with RR), else IRR
  kOcw3Rr = 1u << 1,   // read register command
  kOcw3P = 1u << 2,    // poll command
  kOcw3Sel = 1u << 3,  // marks an A0=0 write (D4=0) as OCW3 rather than OCW2
  kOcw3Smm = 1u << 5,  // special mask mode (with ESMM)
  kOcw3Esmm = 1u << 6,
};

class Pic8259 : public sc_core::sc_module, public inta_if, public cascade_if {
 public:
  struct Stats {
    std::uint64_t reads = 0, writes = 0;  // programming accesses (A0=0 and A0=1)
    std::uint64_t acknowledges = 0;       // INTA sequences and polls that found a request
    std::uint64_t spurious = 0;           // INTA with no request: default IR7
    std::uint64_t eois = 0;
    std::array<std::uint64_t, 8> per_ir{};  // acknowledged interrupts per input
  };

  tlm_utils::simple_target_socket<Pic8259> in;    // offsets 0 (A0=0) and 1 (A0=1)
  std::array<PinIn, 8> ir;                        // IR0..IR7
  PinOut intr{"int"};                             // INT
  sc_core::sc_export<inta_if> inta;               // from the CPU (master) — unused on a slave
  sc_core::sc_export<cascade_if> cascade_target;  // on a slave
  sc_core::sc_port<cascade_if, 0, sc_core::SC_ZERO_OR_MORE_BOUND> cascade;  // on a master

  // `sp_en_master`: the SP/EN pin strapping, which decides master vs slave when not buffered.
  Pic8259(const sc_core::sc_module_name& name, bool sp_en_master);

  void reset();  // power-on state: uninitialized, no INT

  bool initialized() const { return initialized_; }
  bool is_master() const;
  // The chipset's edge/level control for this chip's inputs (ELCR, TlmPicPair): bit n set
  // makes IR n level-sensitive, as LTIM does for all of them. Not changed by ICW1.
  void set_elcr(std::uint8_t level_inputs);
  std::uint8_t elcr() const { return elcr_; }
  std::uint8_t irr() const { return irr_; }
  std::uint8_t isr() const { return isr_; }
  std::uint8_t imr() const { return imr_; }
  bool int_out() const { return int_; }
  std::uint8_t vector_base() const { return icw2_ & 0xf8; }
  bool special_mask() const { return special_mask_; }
  const Stats& stats() const { return stats_; }

  std::uint8_t acknowledge() override;
  bool cascade_acknowledge(unsigned cas, std::uint8_t& vector) override;

  // Adds the VCD signals of this chip (IRR, ISR, IMR, INT) to a trace file.
  void trace(sc_core::sc_trace_file* tf) const;

 private:
  enum class InitStep : std::uint8_t { ready, icw2, icw3, icw4 };

  void b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay);
  std::uint32_t read_a0_0();
  std::uint32_t read_a0_1();
  void write_a0_0(std::uint32_t v);
  void write_a0_1(std::uint32_t v);
  void write_icw1(std::uint8_t v);
  void write_ocw2(std::uint8_t v);
  void write_ocw3(std::uint8_t v);
  void on_ir(unsigned line, bool level);
  std::uint8_t acknowledge_sequence();

  unsigned priority(unsigned level) const { return (level - lowest_ - 1) & 7; }
  bool level_triggered() const { return (icw1_ & kIcw1Ltim) != 0; }
  bool cascaded_level(unsigned level) const;
  // The request that would be delivered now, or -1: the highest-priority unmasked request that
  // beats the highest-priority in-service level (see .cpp for special mask and SFNM).
  int winning_request() const;
  // IRR as the inputs make it now (IRR itself is frozen while a poll is pending).
  std::uint8_t live_irr() const;
  // What a non-specific EOI may clear: in special mask mode a masked in-service level is not
  // cleared (datasheet, Special Mask Mode), so the highest unmasked in-service level is.
  std::uint8_t eoi_candidates() const {
    return special_mask_ ? static_cast<std::uint8_t>(isr_ & ~imr_) : isr_.value();
  }
  // Highest-priority set bit of `bits`, or -1.
  int highest(std::uint8_t bits) const;
  // The first half of an acknowledge (INTA pulse 1 or a poll read): IRR -> ISR.
  void accept(unsigned level);
  void end_of_interrupt(unsigned level, bool rotate);
  void update();

  util::Logger log_;
  RegisterBank regs_;
  Register& a0_0_;
  Register& a0_1_;
  const bool sp_en_master_;

  InitStep step_ = InitStep::ready;
  bool initialized_ = false;
  std::uint8_t icw1_ = 0, icw2_ = 0, icw3_ = 0, icw4_ = 0;
  // Input changes that arrived inside an acknowledge (the slave's INT), handled after it.
  struct Deferred {
    unsigned line;
    bool level;
  };
  bool acknowledging_ = false;
  std::vector<Deferred> deferred_;
  std::uint8_t line_ = 0;  // IR input levels
  std::uint8_t edge_ = 0;  // edge-sense latches (edge mode)
  // Traced (the VCD): each reports its changes (hw/core/traced.h).
  Traced<std::uint8_t> irr_ = 0, isr_ = 0, imr_ = 0;
  std::uint8_t elcr_ = 0;        // power-on: every input edge-sensitive
  std::uint8_t frozen_irr_ = 0;  // IRR as the poll command found it
  unsigned lowest_ = 7;          // the lowest-priority level; rotation moves it
  bool read_isr_ = false, poll_ = false, special_mask_ = false, rotate_aeoi_ = false;
  Traced<bool> int_ = false;
  Stats stats_;
};

}  // namespace hw::intc
