#include "hw/rtl/pic_rtl.h"

// Verilator's headers see SystemC and call sc_time_stamp() unqualified.
using sc_core::sc_time_stamp;

#include <verilated.h>
#include <verilated_vcd_c.h>

#include "Vpic_pair.h"
#include "hw/core/sim_time.h"
#include "util/event_log.h"

namespace hw::rtl {

PicRtl::PicRtl(const sc_core::sc_module_name& name, unsigned cascade, const std::string& vcd)
    : sc_module(name),
      master_in("master_in"),
      slave_in("slave_in"),
      elcr_in("elcr_in"),
      inta("inta"),
      context_(std::make_unique<VerilatedContext>()),
      cascade_(cascade),
      master_regs_(std::string(this->name()) + ".master"),
      slave_regs_(std::string(this->name()) + ".slave"),
      elcr_regs_(std::string(this->name()) + ".elcr") {
  if (!vcd.empty()) context_->traceEverOn(true);
  model_ = std::make_unique<Vpic_pair>(context_.get(), "pic_pair");
  if (!vcd.empty()) {
    vcd_ = std::make_unique<VerilatedVcdC>();
    model_->trace(vcd_.get(), 99);
    vcd_->open(vcd.c_str());
  }
  inta.bind(*this);
  master_in.register_b_transport(this, &PicRtl::b_transport_master);
  slave_in.register_b_transport(this, &PicRtl::b_transport_slave);
  for (bool slave : {false, true}) {
    RegisterBank& bank = slave ? slave_regs_ : master_regs_;
    Register& a0_0 = bank.add("a0_0", 0, 1, 0, Access::read_write);
    Register& a0_1 = bank.add("a0_1", 1, 1, 0, Access::read_write);
    a0_0.on_read = [this, slave] { return read(slave, false); };
    a0_1.on_read = [this, slave] { return read(slave, true); };
    a0_0.on_write = [this, slave](std::uint32_t v) {
      write(slave, false, static_cast<std::uint8_t>(v));
    };
    a0_1.on_write = [this, slave](std::uint32_t v) {
      write(slave, true, static_cast<std::uint8_t>(v));
    };
  }
  elcr_in.register_b_transport(this, &PicRtl::b_transport_elcr);
  for (bool a0 : {false, true}) {
    Register& r = elcr_regs_.add(a0 ? "elcr2" : "elcr1", a0 ? 1 : 0, 1, 0, Access::read_write);
    r.on_read = [this, a0] { return read(false, a0, /*elcr=*/true); };
    r.on_write = [this, a0](std::uint32_t v) {
      write(false, a0, static_cast<std::uint8_t>(v), /*elcr=*/true);
    };
  }
  // Power-on reset: one clock with rst high.
  model_->rst = 1;
  cycle();
  model_->rst = 0;
  eval();

  // The inputs call in as they change (hw/core/pin.h); the cascade input is internal.
  for (unsigned i = 0; i < 16; ++i)
    if (i != cascade) irq[i].on_change([this](bool) { on_irq(); });
}

PicRtl::~PicRtl() {
  if (vcd_) vcd_->close();
  model_->final();
}

void PicRtl::flush_trace() {
  if (vcd_) vcd_->flush();
}

// ---- the clock, run only for work

void PicRtl::eval() {
  model_->eval();
  if (vcd_) {
    // Several cycles can fall in one simulated instant; the trace needs increasing times, so
    // they are spread one picosecond apart.
    vcd_time_ = std::max(vcd_time_ + 1, hw::now_ps());
    vcd_->dump(vcd_time_);
  }
}

void PicRtl::release() {
  // A strobe dropped between clocks changes only combinational logic, which the next clock's
  // evaluation computes anyway (the next edge samples the strobe low either way); it is
  // evaluated on its own only for the RTL's VCD, where that instant is a step of its own.
  if (vcd_) eval();
}

void PicRtl::settle() {
  // One more clock with no strobe: the master samples its cascade input (the slave's INT) on
  // the clock, as every IR input, so a change in the slave reaches it one cycle later.
  cycle();
}

void PicRtl::cycle() {
  model_->clk = 1;
  eval();
  model_->clk = 0;
  eval();
  ++cycles_;
  const std::uint8_t now[] = {model_->m_irr, model_->m_isr, model_->m_imr,
                              model_->s_irr, model_->s_isr, model_->s_imr};
  for (std::size_t i = 0; i < traced_.size(); ++i) traced_[i] = now[i];
}

void PicRtl::trace(sc_core::sc_trace_file* tf) {
  const std::string n = name();
  static constexpr const char* kNames[] = {"master.irr", "master.isr", "master.imr",
                                           "slave.irr",  "slave.isr",  "slave.imr"};
  for (std::size_t i = 0; i < traced_.size(); ++i) hw::trace(tf, traced_[i], n + "." + kNames[i]);
  hw::trace(tf, int_, n + ".int");
}

void PicRtl::update_int() {
  const bool now = model_->int_o != 0;
  if (now == int_) return;
  int_ = now;
  if (util::events().enabled()) util::events().emit(name(), "int", {{"level", int_}});
  intr.write(int_);
}

// ---- pins

void PicRtl::on_irq() {
  std::uint16_t bits = 0;
  for (unsigned i = 0; i < 16; ++i) {
    if (i != cascade_ && irq[i].read()) bits |= static_cast<std::uint16_t>(1u << i);
  }
  model_->irq = bits;
  cycle();  // the RTL samples IR on the clock
  settle();
  update_int();
}

// ---- register accesses: a strobe for one cycle; read data is valid in that cycle

void PicRtl::b_transport_master(tlm::tlm_generic_payload& tx, sc_core::sc_time&) {
  transport(false, tx);
}
void PicRtl::b_transport_slave(tlm::tlm_generic_payload& tx, sc_core::sc_time&) {
  transport(true, tx);
}

void PicRtl::b_transport_elcr(tlm::tlm_generic_payload& tx, sc_core::sc_time&) {
  elcr_regs_.transport(tx);
}

void PicRtl::transport(bool slave, tlm::tlm_generic_payload& tx) {
  (slave ? slave_regs_ : master_regs_).transport(tx);
  if (tx.is_response_ok()) ++(tx.is_read() ? access_[slave].reads : access_[slave].writes);
}

std::uint32_t PicRtl::read(bool slave, bool a0, bool elcr) {
  model_->sel_elcr = elcr;
  model_->sel_slave = slave;
  model_->a0 = a0;
  model_->rd = 1;
  eval();
  const std::uint32_t v = model_->dout;
  const std::uint32_t acks = slave ? model_->s_acks : model_->m_acks;
  cycle();  // a poll read is an acknowledge: the edge updates ISR
  model_->rd = 0;
  release();
  const bool acknowledged = (slave ? model_->s_acks : model_->m_acks) != acks;
  if (acknowledged) ++access_[slave].per_ir[v & 7u];
  settle();
  // A poll read's freeze ends one cycle after it; the master samples the slave's INT (which may
  // have fallen and risen again then) one cycle later still.
  if (acknowledged) settle();
  update_int();
  return v;
}

void PicRtl::write(bool slave, bool a0, std::uint8_t v, bool elcr) {
  model_->sel_elcr = elcr;
  model_->sel_slave = slave;
  model_->a0 = a0;
  model_->din = v;
  model_->wr = 1;
  cycle();
  model_->wr = 0;
  release();
  settle();
  update_int();
}

// ---- INTA

std::uint8_t PicRtl::acknowledge() {
  const std::uint32_t master_acks = model_->m_acks, slave_acks = model_->s_acks,
                      slave_spurious = model_->s_spurious;
  // Pulse 1 takes the level (ISR set); pulse 2 drives the vector and, with automatic EOI, ends
  // the interrupt at its trailing edge. The master samples the slave's INT in between.
  model_->inta1 = 1;
  cycle();
  model_->inta1 = 0;
  model_->inta2 = 1;
  eval();
  const std::uint8_t vector = model_->vec;
  cycle();
  model_->inta2 = 0;
  release();
  // Which input was taken, for statistics: the chips count acknowledges, the vector says which.
  // A cascade acknowledge took the cascade level on the master, and the slave's own level
  // unless the slave found nothing (its default IR7).
  if (model_->m_acks != master_acks) {
    const bool cascade = model_->s_acks != slave_acks || model_->s_spurious != slave_spurious;
    ++access_[0].per_ir[cascade ? cascade_ : (vector & 7u)];
    if (model_->s_acks != slave_acks) ++access_[1].per_ir[vector & 7u];
  }
  if (util::events().enabled()) util::events().emit(name(), "inta", {{"vector", vector}});
  settle();
  update_int();
  return vector;
}

// ---- views

std::uint8_t PicRtl::irr(bool slave) const {
  return slave ? model_->s_irr : model_->m_irr;
}
std::uint8_t PicRtl::isr(bool slave) const {
  return slave ? model_->s_isr : model_->m_isr;
}
std::uint8_t PicRtl::imr(bool slave) const {
  return slave ? model_->s_imr : model_->m_imr;
}

std::uint8_t PicRtl::elcr(bool slave) const {
  return slave ? model_->s_elcr : model_->m_elcr;
}

intc::Pic8259::Stats PicRtl::stats(bool slave) const {
  intc::Pic8259::Stats s = access_[slave];
  s.acknowledges = slave ? model_->s_acks : model_->m_acks;
  s.spurious = slave ? model_->s_spurious : model_->m_spurious;
  s.eois = slave ? model_->s_eois : model_->m_eois;
  return s;
}

}  // namespace hw::rtl
