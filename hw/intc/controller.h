#pragma once
// What the platform needs of an 8259A pair, whichever model implements it: the TLM chips
// (TlmPicPair) or the Verilated RTL behind its bridge (hw/rtl/pic_rtl.h).
#include <cstdint>

#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include "hw/core/pin.h"
#include "hw/core/register_bank.h"
#include "hw/intc/inta_if.h"
#include "hw/intc/pic8259.h"

namespace hw::intc {

class InterruptController {
 public:
  virtual ~InterruptController() = default;
  virtual const char* model_name() const = 0;
  virtual tlm::tlm_base_target_socket<>& socket(bool slave) = 0;
  // The edge/level control registers (ELCR, as the PC chipsets place at 0x4D0/0x4D1): offset 0
  // the master's inputs, 1 the slave's; bit n set = IR n level-sensitive (shareable). The
  // master's cascade input stays edge-sensitive (its bit reads 0). Reset: all edge.
  virtual tlm::tlm_base_target_socket<>& elcr_socket() = 0;
  virtual std::uint8_t elcr(bool slave) const = 0;
  // IRQ n's input (0..7 master, 8..15 slave); the cascade input is wired inside the pair.
  virtual PinIn& irq_input(unsigned n) = 0;
  virtual PinOut& intr_output() = 0;
  virtual sc_core::sc_export<inta_if>& inta_export() = 0;
  virtual std::uint8_t irr(bool slave) const = 0;
  virtual std::uint8_t isr(bool slave) const = 0;
  virtual std::uint8_t imr(bool slave) const = 0;
  virtual Pic8259::Stats stats(bool slave) const = 0;
  virtual void trace(sc_core::sc_trace_file* tf) = 0;
};

// The TLM pair: a module holding two Pic8259 chips ("platform.pic.master", "platform.pic.slave"),
// the slave's INT on the master's cascade input. The RTL pair, named alike, traces the same
// names ("platform.pic.master.irr"), so one GTKWave save file serves both.
class TlmPicPair : public sc_core::sc_module, public InterruptController {
 public:
  Pic8259 master{"master", true};
  Pic8259 slave{"slave", false};

  TlmPicPair(const sc_core::sc_module_name& name, unsigned cascade)
      : sc_module(name), cascade_(cascade), elcr_regs_(std::string(this->name()) + ".elcr") {
    slave.intr.bind(slave_int_);
    master.ir[cascade].bind(slave_int_);
    master.cascade.bind(slave.cascade_target);
    elcr_in.register_b_transport(this, &TlmPicPair::b_transport_elcr);
    for (bool s : {false, true}) {
      Register& r = elcr_regs_.add(s ? "elcr2" : "elcr1", s ? 1 : 0, 1, 0, Access::read_write);
      r.on_read = [this, s] { return std::uint32_t{(s ? slave : master).elcr()}; };
      r.on_write = [this, s](std::uint32_t v) {
        const auto bits = static_cast<std::uint8_t>(v & (s ? kElcr2Writable : elcr1_writable()));
        (s ? slave : master).set_elcr(bits);
      };
    }
  }
  // The bits of ELCR1/ELCR2 software can set, as the PIIX has them (QEMU's, KVM's and FreeBSD's
  // masks agree): IRQ0 (the timer), IRQ1 (the keyboard), IRQ2 (the cascade), IRQ8 (the RTC)
  // and IRQ13 (the FPU) stay edge-triggered; so does the cascade input wherever it is.
  static constexpr std::uint8_t kElcr1Writable = 0xf8, kElcr2Writable = 0xde;
  std::uint8_t elcr1_writable() const {
    return static_cast<std::uint8_t>(kElcr1Writable & ~(1u << cascade_));
  }
  tlm_utils::simple_target_socket<TlmPicPair> elcr_in{"elcr"};

  const char* model_name() const override { return "tlm"; }
  tlm::tlm_base_target_socket<>& socket(bool s) override { return s ? slave.in : master.in; }
  tlm::tlm_base_target_socket<>& elcr_socket() override { return elcr_in; }
  std::uint8_t elcr(bool s) const override { return (s ? slave : master).elcr(); }
  PinIn& irq_input(unsigned n) override { return n < 8 ? master.ir[n] : slave.ir[n - 8]; }
  PinOut& intr_output() override { return master.intr; }
  sc_core::sc_export<inta_if>& inta_export() override { return master.inta; }
  std::uint8_t irr(bool s) const override { return (s ? slave : master).irr(); }
  std::uint8_t isr(bool s) const override { return (s ? slave : master).isr(); }
  std::uint8_t imr(bool s) const override { return (s ? slave : master).imr(); }
  Pic8259::Stats stats(bool s) const override { return (s ? slave : master).stats(); }
  void trace(sc_core::sc_trace_file* tf) override {
    master.trace(tf);
    slave.trace(tf);
  }
  unsigned cascade() const { return cascade_; }

 private:
  void b_transport_elcr(tlm::tlm_generic_payload& tx, sc_core::sc_time&) {
    elcr_regs_.transport(tx);
  }

  unsigned cascade_;
  RegisterBank elcr_regs_;
  Pin slave_int_{"slave_int"};
};

}  // namespace hw::intc
