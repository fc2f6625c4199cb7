#pragma once
// The 8259A pair as Verilated RTL (hw/rtl/pic_pair.sv) behind a TLM-to-pin bridge. Register
// accesses, INTA cycles and IRQ pin changes become clocked cycles of the RTL; the clock runs only
// while there is such work (a function call per edge, no clock process). The cycles take no
// simulated time: the TLM model's register accesses take none either, and bus timing is the
// bus model's, so the two controllers are interchangeable cycle for cycle of the platform.
#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include "hw/core/register_bank.h"
#include "hw/core/traced.h"
#include "hw/intc/controller.h"
#include "hw/intc/inta_if.h"
#include "hw/intc/pic8259.h"

class Vpic_pair;
class VerilatedContext;
class VerilatedVcdC;

namespace hw::rtl {

class PicRtl : public sc_core::sc_module, public intc::inta_if, public intc::InterruptController {
 public:
  tlm_utils::simple_target_socket<PicRtl> master_in;  // offsets 0/1, as a Pic8259's `in`
  tlm_utils::simple_target_socket<PicRtl> slave_in;
  tlm_utils::simple_target_socket<PicRtl> elcr_in;  // offsets 0/1: ELCR1, ELCR2
  std::array<PinIn, 16> irq;                        // IRQ0..15; the cascade input is unused
  PinOut intr{"int"};
  sc_core::sc_export<intc::inta_if> inta;

  // `vcd`: Verilator's own trace of the RTL internals, or empty for none.
  PicRtl(const sc_core::sc_module_name& name, unsigned cascade, const std::string& vcd = "");
  ~PicRtl() override;

  std::uint8_t acknowledge() override;

  // --- InterruptController: the views read from the RTL's debug outputs and counters.
  const char* model_name() const override { return "rtl"; }
  tlm::tlm_base_target_socket<>& socket(bool slave) override {
    return slave ? slave_in : master_in;
  }
  tlm::tlm_base_target_socket<>& elcr_socket() override { return elcr_in; }
  std::uint8_t elcr(bool slave) const override;
  PinIn& irq_input(unsigned n) override { return irq[n]; }
  PinOut& intr_output() override { return intr; }
  sc_core::sc_export<intc::inta_if>& inta_export() override { return inta; }
  std::uint8_t irr(bool slave) const override;
  std::uint8_t isr(bool slave) const override;
  std::uint8_t imr(bool slave) const override;
  intc::Pic8259::Stats stats(bool slave) const override;
  // The registers as sc_trace variables (refreshed after every RTL cycle).
  void trace(sc_core::sc_trace_file* tf) override;
  bool int_out() const { return int_; }
  std::uint64_t cycles() const { return cycles_; }
  void flush_trace();

 private:
  void b_transport_master(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay);
  void b_transport_slave(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay);
  void b_transport_elcr(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay);
  void transport(bool slave, tlm::tlm_generic_payload& tx);
  // A register access as a one-cycle strobe: a chip's (`slave`), or the ELCR pair's (`elcr`).
  std::uint32_t read(bool slave, bool a0, bool elcr = false);
  void write(bool slave, bool a0, std::uint8_t v, bool elcr = false);
  void on_irq();
  void cycle();    // one clock: rising edge, then falling
  void release();  // after a strobe drops
  void settle();
  void eval();
  void update_int();

  std::unique_ptr<VerilatedContext> context_;
  std::unique_ptr<Vpic_pair> model_;
  std::unique_ptr<VerilatedVcdC> vcd_;
  std::uint64_t vcd_time_ = 0;
  unsigned cascade_;
  RegisterBank master_regs_, slave_regs_, elcr_regs_;
  Traced<bool> int_ = false;  // traced, as are the registers below: they report changes
  std::uint64_t cycles_ = 0;
  std::array<intc::Pic8259::Stats, 2> access_{};  // reads, writes and per-IR counts per chip
  std::array<Traced<std::uint8_t>, 6> traced_{};  // master irr/isr/imr, slave irr/isr/imr
};

}  // namespace hw::rtl
