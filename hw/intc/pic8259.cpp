#include "hw/intc/pic8259.h"

#include "hw/core/sim_time.h"
#include "util/event_log.h"

namespace hw::intc {

Pic8259::Pic8259(const sc_core::sc_module_name& name, bool sp_en_master)
    : sc_module(name),
      in("in"),
      inta("inta"),
      cascade_target("cascade_target"),
      cascade("cascade"),
      log_(this->name()),
      regs_(this->name()),
      a0_0_(regs_.add("a0_0", 0, 1, 0, Access::read_write)),
      a0_1_(regs_.add("a0_1", 1, 1, 0, Access::read_write)),
      sp_en_master_(sp_en_master) {
  in.register_b_transport(this, &Pic8259::b_transport);
  inta.bind(*this);
  cascade_target.bind(*this);
  a0_0_.on_read = [this] { return read_a0_0(); };
  a0_1_.on_read = [this] { return read_a0_1(); };
  a0_0_.on_write = [this](std::uint32_t v) { write_a0_0(v); };
  a0_1_.on_write = [this](std::uint32_t v) { write_a0_1(v); };

  // The inputs call in as they change, in the writer's call (hw/core/pin.h).
  for (unsigned i = 0; i < 8; ++i) ir[i].on_change([this, i](bool level) { on_ir(i, level); });
}

void Pic8259::reset() {
  step_ = InitStep::ready;
  initialized_ = false;
  icw1_ = icw2_ = icw3_ = icw4_ = 0;
  edge_ = irr_ = isr_ = imr_ = 0;
  lowest_ = 7;
  read_isr_ = poll_ = special_mask_ = rotate_aeoi_ = false;
  update();
}

bool Pic8259::is_master() const {
  if (icw1_ & kIcw1Sngl) return true;
  if (icw4_ & kIcw4Buf) return (icw4_ & kIcw4Ms) != 0;
  return sp_en_master_;
}

bool Pic8259::cascaded_level(unsigned level) const {
  return !(icw1_ & kIcw1Sngl) && is_master() && (icw3_ >> level & 1);
}

void Pic8259::b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time&) {
  regs_.transport(tx);
  if (tx.is_response_ok()) ++(tx.is_read() ? stats_.reads : stats_.writes);
}

// ---- registers

std::uint32_t Pic8259::read_a0_0() {
  if (poll_) {
    // Poll: this read is the interrupt acknowledge (datasheet "Poll Command").
    poll_ = false;
    int level = winning_request();  // from the frozen IRR
    if (level < 0) {
      update();  // thaw
      return 0x00;
    }
    accept(static_cast<unsigned>(level));
    // INT as the read leaves it, IRR still frozen: the answered level is in service now.
    irr_ = frozen_irr_;
    const bool during_read = winning_request() >= 0;
    const bool was_high = intr.read();
    update();  // thaw
    if (!during_read && int_ && was_high) {
      // A request of higher priority came inside the poll window (frozen out until now): INT
      // falls at the read and rises again as the freeze ends, as it does inside an INTA
      // sequence, so an edge-triggered master input sees a new edge (docs/models.md).
      intr.write(false);
      intr.write(true);
    }
    return 0x80 | static_cast<unsigned>(level);
  }
  return read_isr_ ? isr_ : irr_;
}

std::uint32_t Pic8259::read_a0_1() {
  if (poll_) return read_a0_0();  // the poll answers the next read at either address
  return imr_;
}

void Pic8259::write_a0_0(std::uint32_t v) {
  auto b = static_cast<std::uint8_t>(v);
  if (b & kIcw1Init) {
    write_icw1(b);
  } else if (b & kOcw3Sel) {
    write_ocw3(b);
  } else {
    write_ocw2(b);
  }
}

void Pic8259::write_a0_1(std::uint32_t v) {
  auto b = static_cast<std::uint8_t>(v);
  switch (step_) {
    case InitStep::icw2:
      icw2_ = b;
      if (!(icw1_ & kIcw1Sngl)) {
        step_ = InitStep::icw3;
      } else if (icw1_ & kIcw1Ic4) {
        step_ = InitStep::icw4;
      } else {
        step_ = InitStep::ready;
        initialized_ = true;
      }
      break;
    case InitStep::icw3:
      icw3_ = b;
      step_ = (icw1_ & kIcw1Ic4) ? InitStep::icw4 : InitStep::ready;
      initialized_ = step_ == InitStep::ready;
      break;
    case InitStep::icw4:
      icw4_ = b;
      if (!(icw4_ & kIcw4Upm)) log_.warn("ICW4 selects MCS-80/85 mode; vectors follow 8086 mode");
      step_ = InitStep::ready;
      initialized_ = true;
      log_.debug("initialized: vector base {:#04x}, {}, {}{}{}", vector_base(),
                 level_triggered() ? "level" : "edge", is_master() ? "master" : "slave",
                 (icw4_ & kIcw4Aeoi) ? ", auto-EOI" : "", (icw4_ & kIcw4Sfnm) ? ", SFNM" : "");
      break;
    case InitStep::ready:
      imr_ = b;  // OCW1
      break;
  }
  update();
}

void Pic8259::write_icw1(std::uint8_t v) {
  icw1_ = v;
  if (!(v & kIcw1Ic4)) {
    icw4_ = 0;
    log_.warn("ICW1 without IC4 selects MCS-80/85 mode; vectors follow 8086 mode");
  }
  // Datasheet: the edge-sense circuit is reset (a request needs a fresh low-to-high transition),
  // IMR cleared, IR7 lowest priority, slave address 7, special mask cleared, status read = IRR.
  edge_ = 0;
  imr_ = 0;
  isr_ = 0;
  lowest_ = 7;
  icw3_ = 7;
  special_mask_ = false;
  read_isr_ = false;
  poll_ = false;
  rotate_aeoi_ = false;
  initialized_ = false;
  step_ = InitStep::icw2;
  update();
}

void Pic8259::write_ocw2(std::uint8_t v) {
  const unsigned level = v & kOcw2Level;
  switch (v & (kOcw2R | kOcw2Sl | kOcw2Eoi)) {
    case kOcw2Eoi: {  // non-specific EOI: the highest-priority in-service level
      int l = highest(eoi_candidates());
      if (l >= 0) end_of_interrupt(static_cast<unsigned>(l), false);
      break;
    }
    case kOcw2Sl | kOcw2Eoi:
      end_of_interrupt(level, false);
      break;
    case kOcw2R | kOcw2Eoi: {  // rotate on non-specific EOI
      int l = highest(eoi_candidates());
      if (l >= 0) end_of_interrupt(static_cast<unsigned>(l), true);
      break;
    }
    case kOcw2R | kOcw2Sl | kOcw2Eoi:
      end_of_interrupt(level, true);
      break;
    case kOcw2R | kOcw2Sl:
      lowest_ = level;
      break;  // set priority
    case kOcw2R:
      rotate_aeoi_ = true;
      break;
    case 0:
      rotate_aeoi_ = false;
      break;
    case kOcw2Sl:
      break;  // no operation
  }
  update();
}

void Pic8259::write_ocw3(std::uint8_t v) {
  if (v & kOcw3Esmm) special_mask_ = (v & kOcw3Smm) != 0;
  if (v & kOcw3Rr) read_isr_ = (v & kOcw3Ris) != 0;
  // Poll overrides the status read. The request state is frozen from this write to the read
  // that answers it (datasheet, Poll Command: "interrupt is frozen from WR to RD"). An OCW3
  // without P in between cancels the poll and thaws the requests: every OCW3 rewrites the
  // read-select state, and the datasheet's next RD then reads the selected status register.
  poll_ = (v & kOcw3P) != 0;
  if (poll_) frozen_irr_ = live_irr();
  update();
}

// ---- pins

void Pic8259::on_ir(unsigned i, bool level) {
  // Inside an acknowledge the slave's INT changes as the slave answers pulse 2, in the middle
  // of this chip's own sequence: its input sees that once the sequence is done, in order (a
  // fall and a rise are both edges), as the pin would have after the INTA pulses.
  if (acknowledging_) {
    deferred_.push_back({i, level});
    return;
  }
  const auto bit = static_cast<std::uint8_t>(1u << i);
  if (((line_ & bit) != 0) == level) return;
  line_ = static_cast<std::uint8_t>(level ? line_ | bit : line_ & ~bit);
  // Edge mode: a rising edge sets the latch; a line that drops before INTA loses its request
  // (the datasheet's "default IR7" case), so the latch is cleared with the line.
  edge_ = static_cast<std::uint8_t>(level ? edge_ | bit : edge_ & ~bit);
  log_.debug("IR{} {}", i, level ? "raised" : "lowered");
  if (util::events().enabled()) util::events().emit(name(), "ir", {{"line", i}, {"level", level}});
  update();
}

// ---- priority logic

int Pic8259::highest(std::uint8_t bits) const {
  if (bits == 0) return -1;
  // Rotated so that the highest-priority level (the one after the lowest) is bit 0: the first
  // set bit is then the winner.
  const unsigned first = (lowest_ + 1) & 7;
  const unsigned rotated = ((bits >> first) | (bits << (8 - first))) & 0xffu;
  return static_cast<int>((static_cast<unsigned>(__builtin_ctz(rotated)) + first) & 7);
}

int Pic8259::winning_request() const {
  if (!initialized_) return -1;
  int req = highest(irr_ & ~imr_);
  if (req < 0) return -1;
  // Special mask mode: a masked in-service level no longer inhibits lower levels.
  std::uint8_t blocking = special_mask_ ? (isr_ & ~imr_) : isr_.value();
  int svc = highest(blocking);
  if (svc < 0) return req;
  unsigned rp = priority(static_cast<unsigned>(req)), sp = priority(static_cast<unsigned>(svc));
  if (rp < sp) return req;
  // Special fully nested mode: a slave's input is not locked out by its own in-service bit,
  // so a higher-priority request inside that slave reaches the CPU (datasheet, SFNM a).
  if (rp == sp && (icw4_ & kIcw4Sfnm) && cascaded_level(static_cast<unsigned>(req))) return req;
  return -1;
}

void Pic8259::accept(unsigned level) {
  std::uint8_t bit = static_cast<std::uint8_t>(1u << level);
  isr_ |= bit;
  edge_ &= static_cast<std::uint8_t>(~bit);
  frozen_irr_ &= static_cast<std::uint8_t>(~bit);  // acknowledging resets the IRR bit
  ++stats_.acknowledges;
  ++stats_.per_ir[level];
}

void Pic8259::end_of_interrupt(unsigned level, bool rotate) {
  isr_ &= static_cast<std::uint8_t>(~(1u << level));
  if (rotate) lowest_ = level;
  ++stats_.eois;
  if (util::events().enabled())
    util::events().emit(name(), "eoi", {{"level", level}, {"rotate", rotate}});
}

std::uint8_t Pic8259::acknowledge() {
  acknowledging_ = true;
  const std::uint8_t vector = acknowledge_sequence();
  acknowledging_ = false;
  // Swapped out first: an input change handled here may start nothing re-entrant, but the list
  // is this call's.
  std::vector<Deferred> changes;
  changes.swap(deferred_);
  for (const Deferred& d : changes) on_ir(d.line, d.level);
  return vector;
}

std::uint8_t Pic8259::acknowledge_sequence() {
  // INTA pulse 1: freeze and resolve. The ISR bit is set here, so INT falls unless a request
  // of higher priority still beats it; with automatic EOI it rises again at the end of pulse 2
  // if another request is pending (docs/models.md, "INT inside INTA"). No request (it vanished, or
  // it is masked or now lower than what is in service): the chip answers with IR7 but sets no ISR
  // bit.
  int level = winning_request();
  std::uint8_t vector;
  if (level < 0) {
    ++stats_.spurious;
    vector = vector_base() | 7;
    log_.debug("INTA with no request: spurious IR7");
    if (util::events().enabled()) util::events().emit(name(), "spurious", {{"vector", vector}});
    update();
    return vector;
  }
  auto l = static_cast<unsigned>(level);
  accept(l);
  update();
  if (cascaded_level(l)) {
    // INTA pulse 2 is answered by the slave selected on CAS2..0.
    bool answered = false;
    for (int i = 0; i < cascade.size() && !answered; ++i)
      answered = cascade[i]->cascade_acknowledge(l, vector);
    if (!answered) {
      vector = 0xff;  // nobody drives the data bus
      log_.warn("INTA for cascade IR{} but no slave with that identity answered", l);
    }
  } else {
    vector = vector_base() | l;
  }
  if (util::events().enabled())
    util::events().emit(name(), "inta", {{"level", l}, {"vector", vector}});
  if (icw4_ & kIcw4Aeoi) {
    // Automatic EOI at the trailing edge of the second INTA pulse.
    end_of_interrupt(l, rotate_aeoi_);
    update();
  }
  return vector;
}

bool Pic8259::cascade_acknowledge(unsigned cas, std::uint8_t& vector) {
  if (is_master() || (icw3_ & 7) != cas) return false;
  vector = acknowledge();
  return true;
}

std::uint8_t Pic8259::live_irr() const {
  // Level-sensitive inputs request while high; edge-sensitive ones from a rising edge until
  // acknowledged (or the line drops). LTIM makes every input level-sensitive.
  const std::uint8_t level = level_triggered() ? 0xff : elcr_;
  return static_cast<std::uint8_t>((line_ & level) | (edge_ & line_ & ~level));
}

void Pic8259::set_elcr(std::uint8_t level_inputs) {
  elcr_ = level_inputs;
  update();
}

void Pic8259::update() {
  irr_ = poll_ ? frozen_irr_ : live_irr();
  bool next = winning_request() >= 0;
  if (next != int_) {
    int_ = next;
    log_.debug("INT {}", int_ ? "asserted" : "deasserted");
    if (util::events().enabled()) util::events().emit(name(), "int", {{"level", int_}});
    // Written at once: INT falling and rising again inside one INTA sequence (the ISR bit set
    // at the first pulse, cleared by automatic EOI at the end of the second) is a low pulse an
    // edge-triggered master input sees as a new edge for the slave's next request, as the
    // master's IR2 sees the real chip's INT go low and high.
    intr.write(int_);
  }
}

void Pic8259::trace(sc_core::sc_trace_file* tf) const {
  std::string n = name();
  hw::trace(tf, irr_, n + ".irr");
  hw::trace(tf, isr_, n + ".isr");
  hw::trace(tf, imr_, n + ".imr");
  hw::trace(tf, int_, n + ".int");
}

}  // namespace hw::intc
