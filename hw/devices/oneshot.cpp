#include "hw/devices/oneshot.h"

#include "hw/core/sim_time.h"
#include "util/event_log.h"

namespace hw::devices {

OneShot::OneShot(const sc_core::sc_module_name& name)
    : sc_module(name), in("in"), log_(this->name()), regs_(this->name()) {
  in.register_b_transport(this, &OneShot::b_transport);
  Register& delay = regs_.add("delay", 0, 4, 0, Access::read_write);
  Register& status = regs_.add("status", 4, 1, 0, Access::read_only);
  Register& ack = regs_.add("ack", 5, 1, 0, Access::write_only);
  delay.on_write = [this, &delay](std::uint32_t v) {
    delay.set(v);
    write_delay(v);
  };
  status.on_read = [this] {
    return (pending_ ? std::uint32_t{kStatusPending} : 0u) |
           (armed_ ? std::uint32_t{kStatusArmed} : 0u);
  };
  ack.on_write = [this](std::uint32_t v) { write_ack(v); };
  SC_HAS_PROCESS(OneShot);
  SC_METHOD(fire);
  sensitive << fire_event_;
  dont_initialize();
}

void OneShot::b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time&) {
  regs_.transport(tx);
}

void OneShot::write_delay(std::uint32_t ns) {
  armed_ = true;
  fire_event_.cancel();
  hw::notify_after(fire_event_, sc_core::sc_time(static_cast<double>(ns), sc_core::SC_NS));
}

void OneShot::write_ack(std::uint32_t v) {
  if ((v & kAckPending) && pending_) {
    pending_ = false;
    ++stats_.acknowledged;
    irq.write(false);
  }
  if (v & kAckDisarm) {
    armed_ = false;
    fire_event_.cancel();
  }
}

void OneShot::fire() {
  armed_ = false;
  ++stats_.fired;
  if (pending_) log_.warn("fired again before the previous interrupt was acknowledged");
  pending_ = true;
  if (util::events().enabled()) util::events().emit(name(), "fire", {});
  irq.write(true);
}

void OneShot::trace(sc_core::sc_trace_file* tf) const {
  hw::trace(tf, pending_, std::string(name()) + ".pending");
}

}  // namespace hw::devices
