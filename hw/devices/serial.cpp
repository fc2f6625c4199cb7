#include "hw/devices/serial.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <utility>

#include <fmt/format.h>

#include "hw/core/sim_time.h"
#include "util/event_log.h"
#include "util/units.h"

namespace hw::devices {

Serial::Serial(const sc_core::sc_module_name& name, std::uint64_t baud, unsigned fifo_depth)
    : sc_module(name),
      in("in"),
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
}

Serial::~Serial() {
  close_output();
  if (in_ != nullptr) std::fclose(in_);
}

void Serial::flush() {
  if (out_ != nullptr && std::fflush(out_) != 0 && out_errno_ == 0) out_errno_ = errno;
}

std::string Serial::close_output() {
  if (out_ == nullptr) return {};
  flush();
  if (std::fclose(out_) != 0 && out_errno_ == 0) out_errno_ = errno;
  out_ = nullptr;
  if (out_errno_ == 0) return {};
  return fmt::format("{}: writing the serial output failed: {}", out_path_,
                     std::strerror(out_errno_));
}

std::string Serial::set_output_file(const std::string& path) {
  out_ = std::fopen(path.c_str(), "wb");
  if (out_ == nullptr) return fmt::format("{}: cannot write the serial output", path);
  out_path_ = path;
  return {};
}

namespace {
constexpr std::size_t kBlock = 64 * 1024;
constexpr std::size_t kMaxScriptLine = 64 * 1024;
constexpr std::size_t kMaxScript = 16 * 1024 * 1024;

// "" if `path` names a readable regular file (or a pipe, which streams), else why not.
std::string check_input(const std::string& path, const char* what) {
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(st)) return fmt::format("{}: cannot read the {}", path, what);
  if (std::filesystem::is_directory(st))
    return fmt::format("{}: is a directory, not the {}", path, what);
  return {};
}
}  // namespace

std::string Serial::set_input_file(const std::string& path) {
  if (std::string err = check_input(path, "serial input"); !err.empty()) return err;
  in_ = std::fopen(path.c_str(), "rb");
  if (in_ == nullptr) return fmt::format("{}: cannot read the serial input", path);
  return {};
}

bool Serial::next_input(std::uint64_t& at_ps, std::uint8_t& c) {
  // Characters follow each other one character time apart, and never overtake earlier input:
  // a segment (the file, a script line) starts at max(its time, the last arrival + one
  // character time), and each character is complete ten bit times after the one before.
  auto take = [&](std::uint64_t segment_start, std::uint8_t ch) {
    if (!in_segment_) {
      cursor_ps_ = segment_start;
      if (any_arrival_) cursor_ps_ = std::max(cursor_ps_, last_arrival_ps_ + char_ps_);
      in_segment_ = true;
    }
    cursor_ps_ += char_ps_;
    at_ps = last_arrival_ps_ = cursor_ps_;
    any_arrival_ = true;
    c = ch;
    return true;
  };
  while (in_ != nullptr) {
    if (block_pos_ < block_.size()) return take(0, block_[block_pos_++]);
    block_.resize(kBlock);
    const std::size_t n = std::fread(block_.data(), 1, kBlock, in_);
    block_.resize(n);
    block_pos_ = 0;
    if (n == 0) {
      if (std::ferror(in_)) log_.error("reading the serial input failed; no further input");
      std::fclose(in_);
      in_ = nullptr;
      in_segment_ = false;
    }
  }
  while (!script_.empty()) {
    const ScriptLine& line = script_.front();
    if (script_pos_ < line.text.size())
      return take(line.at_ps, static_cast<std::uint8_t>(line.text[script_pos_++]));
    script_.pop_front();
    script_pos_ = 0;
    in_segment_ = false;
  }
  return false;
}

std::string Serial::set_input_script(const std::string& path) {
  if (std::string err = check_input(path, "serial input script"); !err.empty()) return err;
  std::ifstream f(path);
  if (!f) return fmt::format("{}: cannot read the serial input script", path);
  std::string line;
  std::uint64_t last = 0;
  std::size_t total = 0;
  for (int n = 1;; ++n) {
    // Lines are read with a bound, so an endless one (a device such as /dev/zero) is an error,
    // not a hang or an empty script.
    line.clear();
    char ch = 0;
    bool any = false;
    while (f.get(ch) && ch != '\n') {
      any = true;
      if (line.size() == kMaxScriptLine)
        return fmt::format("{}:{}: line longer than {} bytes", path, n, kMaxScriptLine);
      line += ch;
    }
    if (!any && !f) break;
    total += line.size() + 1;
    if (total > kMaxScript)
      return fmt::format("{}:{}: script larger than {} bytes", path, n, kMaxScript);
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
    script_.push_back({at, std::move(text)});
  }
  if (f.bad()) return fmt::format("{}: reading the serial input script failed", path);
  return {};
}

void Serial::b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time&) {
  regs_.transport(tx);
}

void Serial::rx_arrive() {
  const std::uint64_t now = hw::now_ps();
  if (!has_next_) has_next_ = next_input(next_ps_, next_char_);
  while (has_next_ && next_ps_ <= now) {
    const std::uint8_t c = next_char_;
    has_next_ = next_input(next_ps_, next_char_);
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
  if (has_next_) rx_event_.notify(hw::from_ps(next_ps_ - now));
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
  if (out_ != nullptr && std::fputc(shifter_, out_) == EOF && out_errno_ == 0) out_errno_ = errno;
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
  irq.write(level);
}

void Serial::trace(sc_core::sc_trace_file* tf) const {
  const std::string n = name();
  hw::trace(tf, irq_level_, n + ".irq");
  hw::trace(tf, shifting_, n + ".tx_busy");
  hw::trace(tf, overrun_, n + ".overrun");
}

}  // namespace hw::devices
