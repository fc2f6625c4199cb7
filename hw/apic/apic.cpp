#include "hw/apic/apic.h"

#include <algorithm>

#include <fmt/format.h>

#include "hw/core/sim_time.h"
#include "util/event_log.h"

namespace hw::apic {

// ---- the APIC bus

unsigned ApicBus::send(const Message& m, const LocalApic* sender) {
  // The targets as flags by APIC (every device interrupt comes here: no allocation per message).
  const auto n = static_cast<unsigned>(lapics_.size());
  std::array<bool, kMaxLocalApics> hit{};
  unsigned count = 0;
  for (unsigned i = 0; i < n; ++i) {
    const LocalApic* l = lapics_[i];
    switch (m.shorthand) {
      case Shorthand::none:
        hit[i] = l->matches(m);
        break;
      case Shorthand::self:
        hit[i] = l == sender;
        break;
      case Shorthand::all:
        hit[i] = true;
        break;
      case Shorthand::others:
        hit[i] = l != sender;
        break;
    }
    count += hit[i] ? 1 : 0;
  }
  if (count == 0) return 0;
  if (m.mode == Delivery::lowest && count > 1) {
    // The lowest arbitration priority wins; among equals, the first at or after the rotation
    // point (the APIC after the last winner), so equal CPUs take turns deterministically.
    LocalApic* best = nullptr;
    unsigned best_index = 0, best_class = 0;
    for (unsigned k = 0; k < n; ++k) {
      const unsigned i = (rotation_ + k) % n;
      if (!hit[i]) continue;
      const unsigned cls = lapics_[i]->apr() >> 4;
      if (best == nullptr || cls < best_class) {
        best = lapics_[i];
        best_index = i;
        best_class = cls;
      }
    }
    rotation_ = (best_index + 1) % n;
    best->note_lowest_priority_win();
    best->deliver_later(m.vector, m.level);
    return 1;
  }
  for (unsigned i = 0; i < n; ++i) {
    if (hit[i]) lapics_[i]->deliver_later(m.vector, m.level);
  }
  return count;
}

void ApicBus::eoi(std::uint8_t vector) {
  if (ioapic_ != nullptr) ioapic_->eoi(vector);
}

// ---- local APIC

LocalApic::LocalApic(const sc_core::sc_module_name& name, std::uint8_t id, ApicBus& bus)
    : sc_module(name),
      in("in"),
      intr("intr"),
      inta("inta"),
      log_(this->name()),
      bus_(bus),
      regs_(this->name()),
      id_(std::uint32_t{id} << 24),
      arrivals_("arrivals") {
  in.register_b_transport(this, &LocalApic::b_transport);
  inta.bind(*this);
  auto rw = [this](const char* n, std::uint32_t off, std::uint32_t& field, std::uint32_t mask,
                   std::uint32_t fixed) {
    Register& r = regs_.add(n, off, 4, 0, Access::read_write);
    r.on_read = [&field] { return field; };
    r.on_write = [&field, mask, fixed](std::uint32_t v) { field = (v & mask) | fixed; };
  };
  rw("id", kRegId, id_, 0xff000000u, 0);
  regs_.add("version", kRegVersion, 4, 0x00050014, Access::read_only);  // 6 LVT entries, xAPIC
  Register& tpr = regs_.add("tpr", kRegTpr, 4, 0, Access::read_write);
  tpr.on_read = [this] {
    ++stats_.tpr_reads;
    return std::uint32_t{tpr_};
  };
  tpr.on_write = [this](std::uint32_t v) {
    ++stats_.tpr_writes;
    tpr_ = static_cast<std::uint8_t>(v);
    update();
  };
  regs_.add("apr", kRegApr, 4, 0, Access::read_only).on_read = [this] {
    return std::uint32_t{apr()};
  };
  regs_.add("ppr", kRegPpr, 4, 0, Access::read_only).on_read = [this] {
    return std::uint32_t{ppr()};
  };
  regs_.add("eoi", kRegEoi, 4, 0, Access::write_only).on_write = [this](std::uint32_t) { eoi(); };
  rw("ldr", kRegLdr, ldr_, 0xff000000u, 0);
  rw("dfr", kRegDfr, dfr_, 0xf0000000u, 0x0fffffffu);
  Register& svr = regs_.add("svr", kRegSvr, 4, 0xff, Access::read_write);
  svr.on_read = [this] { return svr_; };
  svr.on_write = [this](std::uint32_t v) {
    svr_ = v & 0x3ff;
    update();
  };
  for (unsigned i = 0; i < 8; ++i) {
    regs_.add(fmt::format("isr{}", i), kRegIsr + 0x10 * i, 4, 0, Access::read_only).on_read =
        [this, i] { return isr_[i]; };
    regs_.add(fmt::format("tmr{}", i), kRegTmr + 0x10 * i, 4, 0, Access::read_only).on_read =
        [this, i] { return tmr_[i]; };
    regs_.add(fmt::format("irr{}", i), kRegIrr + 0x10 * i, 4, 0, Access::read_only).on_read =
        [this, i] { return irr_[i]; };
  }
  Register& esr = regs_.add("esr", kRegEsr, 4, 0, Access::read_write);
  esr.on_read = [this] { return esr_; };
  esr.on_write = [this](std::uint32_t) {  // a write latches the errors since the last one
    esr_ = esr_pending_;
    esr_pending_ = 0;
  };
  Register& icr_low = regs_.add("icr_low", kRegIcrLow, 4, 0, Access::read_write);
  icr_low.on_read = [this] {
    const bool busy = hw::now_ps() < icr_busy_until_ps_;
    return (icr_low_ & ~kDeliveryPending) | (busy ? kDeliveryPending : 0u);
  };
  icr_low.on_write = [this](std::uint32_t v) { write_icr(v); };
  rw("icr_high", kRegIcrHigh, icr_high_, 0xff000000u, 0);
  // The LVT and the local timer are storage here (reset: masked): software may program them,
  // but nothing is delivered through them.
  for (auto [n, off] : {std::pair{"lvt_timer", kRegLvtTimer},
                        {"lvt_thermal", kRegLvtThermal},
                        {"lvt_perf", kRegLvtPerf},
                        {"lvt_lint0", kRegLvtLint0},
                        {"lvt_lint1", kRegLvtLint1},
                        {"lvt_error", kRegLvtError}})
    regs_.add(n, off, 4, kMasked, Access::read_write);
  regs_.add("timer_initial", kRegTimerInitial, 4, 0, Access::read_write);
  regs_.add("timer_current", kRegTimerCurrent, 4, 0, Access::read_only);
  regs_.add("timer_divide", kRegTimerDivide, 4, 0, Access::read_write);
  bus_.attach(this);

  SC_HAS_PROCESS(LocalApic);
  SC_METHOD(arrive);
  sensitive << arrivals_;
  dont_initialize();
}

void LocalApic::set(Bits& b, unsigned v, bool on) {
  const std::uint32_t bit = 1u << (v & 31);
  b[v >> 5] = on ? (b[v >> 5] | bit) : (b[v >> 5] & ~bit);
}

int LocalApic::highest(const Bits& b) {
  for (int w = 7; w >= 0; --w) {
    if (b[static_cast<unsigned>(w)] != 0)
      return w * 32 + 31 - __builtin_clz(b[static_cast<unsigned>(w)]);
  }
  return -1;
}

std::uint8_t LocalApic::ppr() const {
  const int isrv = highest(isr_);
  const unsigned isr_class = isrv < 0 ? 0 : static_cast<unsigned>(isrv) & 0xf0;
  return (tpr_ & 0xf0) >= isr_class ? tpr_.value() : static_cast<std::uint8_t>(isr_class);
}

std::uint8_t LocalApic::apr() const {
  const int isrv = highest(isr_), irrv = highest(irr_);
  const unsigned top = static_cast<unsigned>(std::max(std::max(isrv, irrv), 0)) & 0xf0;
  return (tpr_ & 0xf0) >= top ? tpr_.value() : static_cast<std::uint8_t>(top);
}

bool LocalApic::matches(const Message& m) const {
  if (!m.logical) return m.destination == 0xff || m.destination == id();
  const std::uint8_t logical_id = static_cast<std::uint8_t>(ldr_ >> 24);
  if ((dfr_ >> 28) == 0xf) return (logical_id & m.destination) != 0;  // flat: a bit per APIC
  // Cluster: the high nibble names the cluster (15: all), the low one a bit in it.
  const unsigned cluster = m.destination >> 4;
  return (cluster == 0xf || cluster == (logical_id >> 4u)) &&
         (logical_id & m.destination & 0x0f) != 0;
}

void LocalApic::deliver_later(std::uint8_t vector, bool level) {
  in_flight_.push_back({vector, level});
  hw::notify_after(arrivals_, bus_.latency());
}

void LocalApic::arrive() {
  if (in_flight_.empty()) return;
  const InFlight m = in_flight_.front();
  in_flight_.pop_front();
  if (m.vector < 16) {
    error(kEsrReceiveIllegal);
    return;
  }
  ++stats_.received;
  set(irr_, m.vector, true);
  set(tmr_, m.vector, m.level);
  if (util::events().enabled())
    util::events().emit(name(), "accept", {{"vector", m.vector}, {"level", m.level}});
  update();
}

void LocalApic::update() {
  const int irrv = highest(irr_);
  const bool want =
      software_enabled() && irrv >= 0 && (static_cast<unsigned>(irrv) & 0xf0) > (ppr() & 0xf0u);
  if (want != int_) {
    int_ = want;
    intr.write(int_);
  }
}

std::uint8_t LocalApic::acknowledge() {
  const int irrv = highest(irr_);
  if (!software_enabled() || irrv < 0 || (static_cast<unsigned>(irrv) & 0xf0) <= (ppr() & 0xf0u)) {
    // The request was withdrawn (TPR raised, or the APIC disabled) between INTR and INTA.
    ++stats_.spurious;
    if (util::events().enabled()) util::events().emit(name(), "spurious", {});
    update();
    return static_cast<std::uint8_t>(svr_);
  }
  const auto v = static_cast<std::uint8_t>(irrv);
  set(irr_, v, false);
  set(isr_, v, true);
  isrv_ = static_cast<std::uint8_t>(highest(isr_));
  ++stats_.acknowledged;
  update();
  return v;
}

void LocalApic::eoi() {
  const int v = highest(isr_);
  if (v < 0) return;  // an EOI with nothing in service is ignored
  ++stats_.eois;
  set(isr_, static_cast<unsigned>(v), false);
  const int top = highest(isr_);
  isrv_ = static_cast<std::uint8_t>(top < 0 ? 0 : top);
  if (test(tmr_, static_cast<unsigned>(v))) bus_.eoi(static_cast<std::uint8_t>(v));
  update();
}

void LocalApic::write_icr(std::uint32_t low) {
  icr_low_ = low & 0x000cdfffu;  // vector, mode, dest mode, level, trigger, shorthand
  Message m;
  m.vector = static_cast<std::uint8_t>(low);
  m.mode = static_cast<Delivery>((low >> kDeliveryShift) & 7);
  m.logical = (low & kLogical) != 0;
  m.destination = static_cast<std::uint8_t>(icr_high_ >> 24);
  m.shorthand = static_cast<Shorthand>((low >> kShorthandShift) & 3);
  m.level = false;  // IPIs are edge-triggered (a level-triggered fixed IPI is not defined)
  if (m.mode != Delivery::fixed && m.mode != Delivery::lowest) {
    ++stats_.unsupported;
    log_.warn("ICR delivery mode {} is not modelled; the IPI is dropped",
              static_cast<unsigned>(m.mode));
    return;
  }
  if (m.vector < 16) {
    error(kEsrSendIllegal);
    return;
  }
  ++stats_.ipis_sent;
  icr_busy_until_ps_ = hw::now_ps() + to_ps(bus_.latency());
  const unsigned n = bus_.send(m, this);
  if (util::events().enabled())
    util::events().emit(name(), "ipi",
                        {{"vector", m.vector},
                         {"mode", m.mode == Delivery::lowest ? "lowest" : "fixed"},
                         {"destination", m.destination},
                         {"logical", m.logical},
                         {"shorthand", static_cast<unsigned>(m.shorthand)},
                         {"targets", n}});
}

void LocalApic::error(std::uint32_t bits) {
  ++stats_.errors;
  esr_pending_ |= bits;
  if (util::events().enabled()) util::events().emit(name(), "error", {{"esr", bits}});
}

void LocalApic::b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time&) {
  regs_.transport(tx);
  if (tx.get_response_status() == tlm::TLM_ADDRESS_ERROR_RESPONSE) error(kEsrIllegalRegister);
}

void LocalApic::trace(sc_core::sc_trace_file* tf) {
  const std::string n = name();
  intr.trace(tf, n + ".intr");
  hw::trace(tf, tpr_, n + ".tpr");
  hw::trace(tf, isrv_, n + ".isrv");
}

// ---- I/O APIC

namespace {
enum : std::uint32_t { kIoRegId = 0, kIoRegVersion = 1, kIoRegArb = 2, kIoRegRedir = 0x10 };
// The bits software may write in a redirection entry (Delivery Status and Remote IRR are
// read-only; the destination is bits 56..63).
constexpr std::uint64_t kRedirWritable = 0xff000000'0001afffull;
}  // namespace

IoApic::IoApic(const sc_core::sc_module_name& name, ApicBus& bus)
    : sc_module(name), in("in"), log_(this->name()), bus_(bus), regs_(this->name()) {
  in.register_b_transport(this, &IoApic::b_transport);
  redir_.fill(kMasked);  // reset: every input masked
  Register& sel = regs_.add("ioregsel", 0x00, 4, 0, Access::read_write);
  sel.on_read = [this] { return select_; };
  sel.on_write = [this](std::uint32_t v) { select_ = v & 0xff; };
  Register& win = regs_.add("iowin", 0x10, 4, 0, Access::read_write);
  win.on_read = [this] { return read_window(); };
  win.on_write = [this](std::uint32_t v) { write_window(v); };
  bus_.attach(this);

  // The inputs call in as they change (hw/core/pin.h).
  for (unsigned pin = 0; pin < kIoApicPins; ++pin)
    irq[pin].on_change([this, pin](bool level) { sample(pin, level); });
}

std::uint32_t IoApic::read_window() const {
  if (select_ == kIoRegId) return id_;
  if (select_ == kIoRegVersion) return ((kIoApicPins - 1) << 16) | 0x11;
  if (select_ == kIoRegArb) return id_;
  if (select_ >= kIoRegRedir && select_ < kIoRegRedir + 2 * kIoApicPins) {
    const std::uint64_t e = redir_[(select_ - kIoRegRedir) / 2];
    return static_cast<std::uint32_t>((select_ & 1) ? e >> 32 : e);
  }
  return 0;  // reserved registers read as zero
}

void IoApic::write_window(std::uint32_t v) {
  if (select_ == kIoRegId) {
    id_ = v & 0x0f000000u;
    return;
  }
  if (select_ < kIoRegRedir || select_ >= kIoRegRedir + 2 * kIoApicPins) return;  // read-only
  const unsigned pin = (select_ - kIoRegRedir) / 2;
  std::uint64_t e = redir_[pin];
  const std::uint64_t keep = e & ~kRedirWritable;
  std::uint64_t w = (select_ & 1) ? (std::uint64_t{v} << 32) | (e & 0xffffffffu)
                                  : (e & 0xffffffff'00000000ull) | v;
  e = (w & kRedirWritable) | keep;
  if (!(e & kLevel)) e &= ~std::uint64_t{kRemoteIrr};  // an edge input has no Remote IRR
  redir_[pin] = e;
  try_level(pin);  // unmasking an asserted level input delivers it now
}

bool IoApic::asserted(unsigned pin) const {
  return level_[pin] != ((redir_[pin] & kPolarityLow) != 0);
}

void IoApic::sample(unsigned pin, bool now) {
  if (now == level_[pin]) return;
  const bool was = asserted(pin);
  level_[pin] = now;
  const std::uint64_t e = redir_[pin];
  if (e & kLevel) {
    try_level(pin);
  } else if (!was && asserted(pin)) {
    if (e & kMasked) {
      ++stats_.lost_edges;
    } else {
      send(pin);
    }
  }
}

void IoApic::try_level(unsigned pin) {
  std::uint64_t& e = redir_[pin];
  if (!(e & kLevel) || (e & kMasked) || (e & kRemoteIrr) || !asserted(pin)) return;
  e |= kRemoteIrr;
  send(pin);
}

void IoApic::send(unsigned pin) {
  const std::uint64_t e = redir_[pin];
  Message m;
  m.vector = static_cast<std::uint8_t>(e);
  m.mode = static_cast<Delivery>((e >> kDeliveryShift) & 7);
  m.logical = (e & kLogical) != 0;
  m.destination = static_cast<std::uint8_t>(e >> 56);
  m.level = (e & kLevel) != 0;
  if (m.mode != Delivery::fixed && m.mode != Delivery::lowest) {
    log_.warn("input {}: delivery mode {} is not modelled; the interrupt is dropped", pin,
              static_cast<unsigned>(m.mode));
    return;
  }
  ++stats_.messages;
  ++stats_.per_pin[pin];
  const unsigned n = bus_.send(m, nullptr);
  if (util::events().enabled())
    util::events().emit(name(), "message", {{"pin", pin}, {"vector", m.vector}, {"targets", n}});
  // A level message nobody accepted leaves Remote IRR set until software fixes the entry, as on
  // the real part; say so, because the line then looks dead.
  if (n == 0) log_.warn("input {}: no local APIC matches destination {:#x}", pin, m.destination);
}

void IoApic::eoi(std::uint8_t vector) {
  for (unsigned pin = 0; pin < kIoApicPins; ++pin) {
    std::uint64_t& e = redir_[pin];
    if ((e & kLevel) && (e & kRemoteIrr) && static_cast<std::uint8_t>(e) == vector) {
      e &= ~std::uint64_t{kRemoteIrr};
      ++stats_.eois;
      try_level(pin);  // still asserted: the device wants service again
    }
  }
}

void IoApic::b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time&) {
  regs_.transport(tx);
}

void IoApic::trace(sc_core::sc_trace_file* tf) {
  for (unsigned pin = 0; pin < kIoApicPins; ++pin)
    irq[pin].trace(tf, fmt::format("{}.irq.{}", name(), pin));
}

}  // namespace hw::apic
