#include "hw/devices/serial.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "hw/core/sim_time.h"
#include "util/event_log.h"
#include "util/units.h"

namespace hw::devices {

Serial::Serial(const sc_core::sc_module_name& name, std::uint64_t baud, unsigned fifo_depth)
    : sc_module(name),
      in("in"),
      irq("irq"),
      log_(this->name()),
      regs_(this->name()),
      char_ps_(10 * 1'000'000'000'000ull / std::max<std::uint64_t>(baud, 1)),
      depth_(std::max(1u, fifo_depth)) {
  in.register_b_transport(this, &Serial::b_transport);
  Register& data = regs_.add("data", 0, 1, 0, Access::read_write);
  data.on_read = [this]() -> std::uint32_t {
    if (rx_.empty()) return 0;
    const std::uint8_t c = rx_.front();
    rx_.pop_front();
    update_irq();
    return c;
  };
  data.on_write = [this](std::uint32_t v) {
    tx_irq_ = false;
    if (tx_.size() >= depth_) {
      ++stats_.tx_dropped;
      if (stats_.tx_dropped <= 10) log_.warn("TX FIFO full: character {:#04x} dropped", v);
      if (util::events().enabled()) util::events().emit(this->name(), "tx_dropped", {{"char", v}});
    } else {
      tx_.push_back(static_cast<std::uint8_t>(v));
      if (!shifting_) start_tx();
    }
    update_irq();
  };
  regs_.add("status", 1, 1, 0, Access::read_only).on_read = [this] {
    std::uint32_t s = 0;
    if (!rx_.empty()) s |= kSerRxReady;
    if (tx_.empty() && !shifting_) s |= kSerTxEmpty;
    if (tx_.size() >= depth_) s |= kSerTxFull;
    if (overrun_) s |= kSerOverrun;
    if (irq_level_) s |= kSerIrq;
    overrun_ = false;
    return s;
  };
  Register& control = regs_.add("control", 2, 1, 0, Access::read_write);
  control.on_read = [this] { return std::uint32_t{control_}; };
  control.on_write = [this](std::uint32_t v) {
    control_ = static_cast<std::uint8_t>(v & (kSerRxIe | kSerTxIe));
    tx_irq_ = false;
    update_irq();
  };
  regs_.add("rx_level", 3, 1, 0, Access::read_only).on_read = [this] {
    return static_cast<std::uint32_t>(rx_.size());
  };
  SC_HAS_PROCESS(Serial);
  SC_METHOD(rx_arrive);  // runs at start to schedule the first arrival
  sensitive << rx_event_;
  SC_METHOD(tx_shift);
  sensitive << tx_event_;
  dont_initialize();
  SC_METHOD(drive);
  sensitive << drive_event_;
  dont_initialize();
}

Serial::~Serial() {
  flush();
  if (out_ != nullptr) std::fclose(out_);
}

void Serial::flush() {
  if (out_ != nullptr) std::fflush(out_);
}

std::string Serial::set_output_file(const std::string& path) {
  out_ = std::fopen(path.c_str(), "wb");
  if (out_ == nullptr) return fmt::format("{}: cannot write the serial output", path);
  return {};
}

void Serial::queue_input(std::uint64_t at_ps, const std::string& bytes) {
  // Characters follow each other one character time apart, and never overtake earlier input.
  std::uint64_t t = at_ps;
  if (!arrivals_.empty()) t = std::max(t, arrivals_.back().first + char_ps_);
  for (unsigned char c : bytes) {
    t += char_ps_;  // the character is complete after its ten bit times
    arrivals_.emplace_back(t, c);
  }
}

std::string Serial::set_input_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return fmt::format("{}: cannot read the serial input", path);
  std::ostringstream s;
  s << f.rdbuf();
  queue_input(0, s.str());
  return {};
}

std::string Serial::set_input_script(const std::string& path) {
  std::ifstream f(path);
  if (!f) return fmt::format("{}: cannot read the serial input script", path);
  std::string line;
  std::uint64_t last = 0;
  for (int n = 1; std::getline(f, line); ++n) {
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.find(' ');
    std::uint64_t at = 0;
    if (space == std::string::npos || !util::parse_duration_ps(line.substr(0, space), at))
      return fmt::format("{}:{}: expected 'TIME TEXT' such as '1ms hello\\n'", path, n);
    if (at < last) return fmt::format("{}:{}: times must not go backwards", path, n);
    last = at;
    std::string text;
    for (std::size_t i = space + 1; i < line.size(); ++i) {
      if (line[i] != '\\' || i + 1 == line.size()) {
        text += line[i];
        continue;
      }
      const char e = line[++i];
      if (e == 'n') {
        text += '\n';
      } else if (e == 'r') {
        text += '\r';
      } else if (e == 't') {
        text += '\t';
      } else if (e == '\\') {
        text += '\\';
      } else if (e == 'x' && i + 2 < line.size()) {
        std::uint64_t v = 0;
        if (!util::parse_u64("0x" + line.substr(i + 1, 2), v))
          return fmt::format("{}:{}: bad escape \\x{}", path, n, line.substr(i + 1, 2));
        text += static_cast<char>(v);
        i += 2;
      } else {
        return fmt::format("{}:{}: unknown escape \\{}", path, n, e);
      }
    }
    queue_input(at, text);
  }
  return {};
}

void Serial::b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time&) {
  regs_.transport(tx);
}

void Serial::rx_arrive() {
  const std::uint64_t now = hw::now_ps();
  while (!arrivals_.empty() && arrivals_.front().first <= now) {
    const std::uint8_t c = arrivals_.front().second;
    arrivals_.pop_front();
    ++stats_.rx_chars;
    if (rx_.size() >= depth_) {
      overrun_ = true;
      ++stats_.rx_overruns;
      if (stats_.rx_overruns <= 10)
        log_.warn("RX overrun: character {:#04x} lost (FIFO of {} full){}", c, depth_,
                  stats_.rx_overruns == 10 ? "; further overruns not logged" : "");
      if (util::events().enabled()) util::events().emit(name(), "rx_overrun", {{"char", c}});
    } else {
      rx_.push_back(c);
    }
  }
  if (!arrivals_.empty()) rx_event_.notify(hw::from_ps(arrivals_.front().first - now));
  update_irq();
}

void Serial::start_tx() {
  // The head of the FIFO moves into the shift register and goes out over one character time.
  shifting_ = true;
  shifter_ = tx_.front();
  tx_.pop_front();
  hw::notify_after(tx_event_, hw::from_ps(char_ps_));
}

void Serial::tx_shift() {
  ++stats_.tx_chars;
  if (out_ != nullptr) std::fputc(shifter_, out_);
  if (!tx_.empty()) {
    shifter_ = tx_.front();
    tx_.pop_front();
    tx_event_.notify(hw::from_ps(char_ps_));
  } else {
    shifting_ = false;
    if (control_ & kSerTxIe) tx_irq_ = true;
  }
  update_irq();
}

void Serial::update_irq() {
  const bool level = ((control_ & kSerRxIe) && !rx_.empty()) || ((control_ & kSerTxIe) && tx_irq_);
  if (level && !irq_level_) ++stats_.interrupts;
  irq_level_ = level;
  hw::notify_after(drive_event_, sc_core::SC_ZERO_TIME);
}

// IRQ is written only from this process.
void Serial::drive() {
  irq.write(irq_level_);
}

void Serial::trace(sc_core::sc_trace_file* tf) const {
  const std::string n = name();
  sc_core::sc_trace(tf, irq_level_, n + ".irq");
  sc_core::sc_trace(tf, shifting_, n + ".tx_busy");
  sc_core::sc_trace(tf, overrun_, n + ".overrun");
}

}  // namespace hw::devices
