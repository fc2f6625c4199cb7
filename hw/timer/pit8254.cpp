#include "hw/timer/pit8254.h"

#include "hw/core/sim_time.h"
#include "util/event_log.h"

namespace hw::timer {
namespace {
constexpr std::uint64_t kPsPerSecond = 1'000'000'000'000ULL;
__extension__ typedef unsigned __int128 u128;  // GCC/Clang; -Wpedantic needs the marker
}  // namespace

Pit8254::Pit8254(const sc_core::sc_module_name& name, std::uint64_t input_hz)
    : sc_module(name), in("in"), log_(this->name()), regs_(this->name()), hz_(input_hz) {
  in.register_b_transport(this, &Pit8254::b_transport);
  Register& counter = regs_.add("counter0", 0, 1, 0, Access::read_write);
  Register& control = regs_.add("control", 3, 1, 0, Access::write_only);
  counter.on_read = [this] { return read_counter(); };
  counter.on_write = [this](std::uint32_t v) { write_counter(v); };
  control.on_write = [this](std::uint32_t v) { write_control(v); };
  SC_HAS_PROCESS(Pit8254);
  SC_METHOD(on_event);
  sensitive << next_;
  dont_initialize();
}

void Pit8254::reset() {
  next_.cancel();
  mode_ = 0;
  rw_ = 3;
  write_msb_next_ = read_msb_next_ = latched_ = counting_ = pending_high_ = false;
  reload_ = 0x10000;
  next_reload_ = 0;
  set_out(false);
}

std::uint64_t Pit8254::clocks_to_ps(std::uint64_t clocks) const {
  // 128-bit: hours of simulated time at MHz clocks overflow 64 bits once multiplied by 10^12.
  return epoch_ps_ + static_cast<std::uint64_t>(static_cast<u128>(clocks) * kPsPerSecond / hz_);
}

std::uint64_t Pit8254::clocks_since_epoch() const {
  std::uint64_t now = hw::now_ps();
  if (now < epoch_ps_) return 0;
  return static_cast<std::uint64_t>(static_cast<u128>(now - epoch_ps_) * hz_ / kPsPerSecond);
}

void Pit8254::b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time&) {
  regs_.transport(tx);
  if (tx.is_response_ok()) ++(tx.is_read() ? stats_.reads : stats_.writes);
}

std::uint16_t Pit8254::current_count() const {
  if (!counting_) return static_cast<std::uint16_t>(reload_);
  std::uint64_t elapsed = clocks_since_epoch();
  if (mode_ == 2) {
    std::uint64_t in_period = elapsed - std::min(elapsed, cycle_start_);
    return static_cast<std::uint16_t>(reload_ - std::min<std::uint64_t>(in_period, reload_ - 1));
  }
  // Mode 0 keeps decrementing past zero, wrapping at 16 bits.
  return static_cast<std::uint16_t>(reload_ - elapsed);
}

std::uint32_t Pit8254::read_counter() {
  std::uint16_t v = latched_ ? latch_ : current_count();
  unsigned rw = rw_;
  std::uint8_t byte;
  if (rw == 1) {
    byte = v & 0xff;
  } else if (rw == 2) {
    byte = v >> 8;
  } else {
    byte = read_msb_next_ ? (v >> 8) : (v & 0xff);
    read_msb_next_ = !read_msb_next_;
    if (read_msb_next_) return byte;  // the latch holds until both bytes are read
  }
  latched_ = false;
  return byte;
}

void Pit8254::write_counter(std::uint32_t v) {
  auto b = static_cast<std::uint8_t>(v);
  switch (rw_) {
    case 1:
      load(b);
      break;
    case 2:
      load(static_cast<std::uint32_t>(b) << 8);
      break;
    default:
      if (!write_msb_next_) {
        pending_lsb_ = b;
        write_msb_next_ = true;
        // Mode 0: writing the first byte stops the count (datasheet, mode 0).
        if (mode_ == 0 && counting_) {
          counting_ = false;
          next_.cancel();
          set_out(false);
        }
      } else {
        write_msb_next_ = false;
        load(pending_lsb_ | static_cast<std::uint32_t>(b) << 8);
      }
  }
}

void Pit8254::write_control(std::uint32_t v) {
  const unsigned sel = (v & kCwSelMask) >> kCwSelShift;
  const unsigned rw = (v & kCwRwMask) >> kCwRwShift;
  unsigned mode = (v & kCwModeMask) >> kCwModeShift;
  if (sel != 0) {
    ++stats_.unsupported;
    log_.warn("control word {:#04x} addresses {} which is not modeled; ignored", v,
              sel == 3   ? "the read-back command"
              : sel == 1 ? "counter 1"
                         : "counter 2");
    return;
  }
  if (rw == 0) {  // counter latch command: freeze the count until it is read
    if (!latched_) {
      latch_ = current_count();
      latched_ = true;
      read_msb_next_ = false;
    }
    return;
  }
  if (mode >= 6) mode -= 4;  // modes 6 and 7 are aliases of 2 and 3
  if (v & kCwBcd) {
    ++stats_.unsupported;
    log_.warn("control word {:#04x} selects BCD counting, which is not modeled; counting binary",
              v);
  }
  if (mode != 0 && mode != 2) {
    ++stats_.unsupported;
    log_.error(
        "control word {:#04x} selects mode {}, which is not modeled (modes 0 and 2 are); "
        "counter stopped",
        v, mode);
  }
  mode_ = mode;
  rw_ = rw;
  write_msb_next_ = read_msb_next_ = latched_ = false;
  counting_ = false;
  pending_high_ = false;
  next_.cancel();
  // Writing a control word sets OUT: low in mode 0, high in mode 2.
  set_out(mode_ == 2);
}

void Pit8254::load(std::uint32_t count) {
  if (count == 0) count = 0x10000;
  if (mode_ != 0 && mode_ != 2) return;
  if (mode_ == 2 && counting_) {
    next_reload_ = count;  // takes effect when the current period ends
    return;
  }
  reload_ = count;
  next_reload_ = 0;
  // The count is transferred to the counting element on the next CLK pulse.
  epoch_ps_ = 0;  // clocks_to_ps() measures from the epoch; first compute the epoch itself
  epoch_ps_ = hw::now_ps() + clocks_to_ps(1);
  cycle_start_ = 0;
  counting_ = true;
  pending_high_ = false;
  if (mode_ == 0) set_out(false);
  schedule();
}

void Pit8254::schedule() {
  std::uint64_t at;
  if (mode_ == 0) {
    at = clocks_to_ps(reload_);
  } else if (pending_high_) {
    at = clocks_to_ps(cycle_start_ + reload_);
  } else {
    at = clocks_to_ps(cycle_start_ + reload_ - 1);  // OUT low for the clock in which count is 1
  }
  std::uint64_t now = hw::now_ps();
  hw::notify_after(next_, from_ps(at - std::min(at, now)));
}

void Pit8254::on_event() {
  if (!counting_) return;
  if (mode_ == 0) {
    set_out(true);  // terminal count; OUT stays high until a new count or control word
    return;
  }
  if (!pending_high_) {
    set_out(false);
    pending_high_ = true;
  } else {
    set_out(true);
    pending_high_ = false;
    cycle_start_ += reload_;
    if (next_reload_ != 0) {
      reload_ = next_reload_;
      next_reload_ = 0;
    }
  }
  schedule();
}

void Pit8254::set_out(bool level) {
  if (level == out_level_) return;
  out_level_ = level;
  if (level) ++stats_.out_rising;
  if (util::events().enabled()) util::events().emit(name(), "out", {{"level", level}});
  out.write(level);
}

void Pit8254::trace(sc_core::sc_trace_file* tf) const {
  hw::trace(tf, out_level_, std::string(name()) + ".out");
}

}  // namespace hw::timer
