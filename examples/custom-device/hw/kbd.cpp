#include "hw/kbd.h"

#include "hw/core/sim_time.h"
#include "util/event_log.h"

namespace kbd {

Keyboard::Keyboard(const sc_core::sc_module_name& name, std::string input, Timing timing,
                   unsigned fifo)
    : sc_module(name),
      in("in"),
      input_(std::move(input)),
      timing_(timing),
      fifo_depth_(fifo),
      regs_(this->name()) {
  in.register_b_transport(this, &Keyboard::b_transport);
  hw::Register& data = regs_.add("data", 0, 1, 0, hw::Access::read_only);
  hw::Register& status = regs_.add("status", 1, 1, 0, hw::Access::read_only);
  hw::Register& control = regs_.add("control", 2, 1, 0, hw::Access::read_write);
  data.on_read = [this] { return read_data(); };
  status.on_read = [this] {
    const std::uint32_t v = (obf_ ? kObf : 0u) | (overrun_ ? kOverrun : 0u);
    overrun_ = false;  // reported once
    return v;
  };
  control.on_write = [this, &control](std::uint32_t v) {
    control.set(v);
    ie_ = (v & kIe) != 0;
    update();
  };
  SC_HAS_PROCESS(Keyboard);
  SC_METHOD(arrive);
  sensitive << arrive_event_;
  dont_initialize();
  SC_METHOD(present);
  sensitive << present_event_;
  dont_initialize();
  if (!input_.empty()) arrive_event_.notify(timing_.interval);
}

void Keyboard::b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time&) {
  regs_.transport(tx);
}

std::uint32_t Keyboard::read_data() {
  if (!obf_) {
    ++stats_.empty_reads;
    return 0;
  }
  const std::uint8_t v = data_;
  obf_ = false;
  ++stats_.taken;
  update();
  if (!fifo_.empty() && !presenting_) {
    presenting_ = true;
    hw::notify_after(present_event_, timing_.load_time);
  }
  return v;
}

void Keyboard::arrive() {
  const auto c = static_cast<std::uint8_t>(input_[next_++]);
  ++stats_.typed;
  if (fifo_.size() >= fifo_depth_) {
    ++stats_.overruns;
    overrun_ = true;
  } else {
    fifo_.push_back(c);
  }
  if (util::events().enabled()) util::events().emit(name(), "key", {{"code", std::uint64_t{c}}});
  if (!obf_ && !presenting_) {
    presenting_ = true;
    present_event_.notify(timing_.load_time);
  }
  if (next_ < input_.size()) arrive_event_.notify(timing_.interval);
}

void Keyboard::present() {
  presenting_ = false;
  if (obf_ || fifo_.empty()) return;
  data_ = fifo_.front();
  fifo_.pop_front();
  obf_ = true;
  update();
}

void Keyboard::update() {
  const bool level = obf_ && ie_;
  if (level == line_) return;
  line_ = level;
  if (level) ++stats_.raised;
  irq.write(level);
}

void Keyboard::trace(sc_core::sc_trace_file* tf) const {
  hw::trace(tf, obf_, std::string(name()) + ".obf");
  hw::trace(tf, data_, std::string(name()) + ".data");
}

}  // namespace kbd
