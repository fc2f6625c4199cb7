#include "hw/dma/dma.h"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "hw/core/sim_time.h"
#include "util/event_log.h"

namespace hw::dma {
namespace {
constexpr unsigned kDirMemMem = 0, kDirDevMem = 1, kDirMemDev = 2;

unsigned dir_of(std::uint32_t ctrl) {
  return (ctrl >> kCtrlDirShift) & 3;
}
unsigned mode_of(std::uint32_t ctrl) {
  return (ctrl >> kCtrlModeShift) & 3;
}
unsigned width_of(std::uint32_t ctrl) {
  const unsigned w = (ctrl >> kCtrlWidthShift) & 3;
  return w == 3 ? 0 : 1u << w;
}
}  // namespace

const char* to_string(DmaError e) {
  switch (e) {
    case DmaError::none:
      return "none";
    case DmaError::bad_control:
      return "bad control (reserved direction, mode or width)";
    case DmaError::bad_count:
      return "bad count (zero, or not a multiple of the unit width)";
    case DmaError::no_device:
      return "no device on this channel";
    case DmaError::bad_address:
      return "memory address not decoded";
    case DmaError::bad_descriptor:
      return "bad descriptor";
    case DmaError::aborted:
      return "aborted by software";
  }
  return "?";
}

DmaController::DmaController(const sc_core::sc_module_name& name, unsigned channels,
                             std::uint64_t chunk_bytes)
    : sc_module(name),
      in("in"),
      out("out"),
      bus("bus"),
      log_(this->name()),
      regs_(this->name()),
      ch_(channels),
      chunk_(std::max<std::uint64_t>(chunk_bytes, 4)) {
  // The platform's config checks the range; a model built outside it is a programming error.
  if (channels < kMinChannels || channels > kMaxChannels)
    throw std::logic_error(fmt::format("{}: {} channels (supported: {}..{})", this->name(),
                                       channels, kMinChannels, kMaxChannels));
  for (unsigned i = 0; i < channels; ++i) {
    dreq.emplace_back();
    dack.emplace_back(fmt::format("dack{}", i));
  }
  in.register_b_transport(this, &DmaController::b_transport);
  regs_.add("irq_status", 0x00, 4, 0, Access::read_only).on_read = [this] {
    std::uint32_t v = 0;
    for (unsigned i = 0; i < ch_.size(); ++i) {
      if ((ch_[i].ctrl & kCtrlIe) && (ch_[i].status & (kStatTc | kStatError))) v |= 1u << i;
    }
    return v;
  };
  regs_.add("channels", 0x04, 4, channels, Access::read_only);
  for (unsigned i = 0; i < channels; ++i) {
    const std::uint64_t b = channel_base(i);
    // Address and count registers: plain storage, frozen while the channel runs.
    auto field = [this, i, b](const char* n, std::uint64_t off, auto Channel::*m) {
      Register& r = regs_.add(fmt::format("ch{}.{}", i, n), b + off, 4, 0, Access::read_write);
      r.on_read = [this, i, m] { return static_cast<std::uint32_t>(ch_[i].*m); };
      r.on_write = [this, i, m, n](std::uint32_t v) {
        if (ch_[i].active) {
          ++ch_[i].stats.ignored_writes;
          log_.warn("channel {}: write to {} while active ignored", i, n);
          return;
        }
        ch_[i].*m = v;
      };
    };
    field("src", 0x00, &Channel::src);
    field("dst", 0x04, &Channel::dst);
    field("count", 0x08, &Channel::count);
    field("desc", 0x14, &Channel::desc);
    Register& ctrl = regs_.add(fmt::format("ch{}.control", i), b + 0x0c, 4, 0, Access::read_write);
    ctrl.on_read = [this, i] { return ch_[i].ctrl | (ch_[i].active ? kCtrlEnable : 0u); };
    ctrl.on_write = [this, i](std::uint32_t v) { write_control(i, v); };
    Register& st = regs_.add(fmt::format("ch{}.status", i), b + 0x10, 4, 0, Access::read_write);
    st.on_read = [this, i] { return status(i); };
    st.on_write = [this, i](std::uint32_t v) {
      ch_[i].status &= ~(v & (kStatTc | kStatError));
      if (!(ch_[i].status & kStatError)) ch_[i].error = DmaError::none;
      hw::notify_after(drive_event_, sc_core::SC_ZERO_TIME);
    };
    regs_.add(fmt::format("ch{}.error", i), b + 0x18, 4, 0, Access::read_only).on_read = [this, i] {
      return static_cast<std::uint32_t>(ch_[i].error);
    };
  }
  SC_HAS_PROCESS(DmaController);
  SC_THREAD(engine);
  SC_METHOD(drive);
  sensitive << drive_event_;
  dont_initialize();
}

void DmaController::attach(unsigned channel, DmaPeripheral* device) {
  ch_.at(channel).device = device;
}

std::uint32_t DmaController::status(unsigned i) const {
  const Channel& c = ch_[i];
  std::uint32_t v = c.status & (kStatTc | kStatError);
  if (c.active) v |= kStatActive;
  if (dreq[i].read()) v |= kStatDreq;
  return v;
}

void DmaController::b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time&) {
  regs_.transport(tx);
}

void DmaController::write_control(unsigned i, std::uint32_t v) {
  Channel& c = ch_[i];
  if (c.active) {
    if (!(v & kCtrlEnable)) {
      c.abort = true;  // the engine stops the channel at its next segment boundary
      hw::notify_after(kick_, sc_core::SC_ZERO_TIME);
    } else {
      ++c.stats.ignored_writes;
      log_.warn("channel {}: control write while active ignored (write 0 to abort)", i);
    }
    return;
  }
  c.ctrl = v & ~kCtrlEnable;
  if (v & kCtrlEnable) start(i);
}

void DmaController::start(unsigned i) {
  Channel& c = ch_[i];
  c.status &= ~(kStatTc | kStatError);
  c.error = DmaError::none;
  const unsigned dir = dir_of(c.ctrl), width = width_of(c.ctrl);
  if (dir == 3 || mode_of(c.ctrl) == 3 || width == 0) return fail(i, DmaError::bad_control);
  if (dir != kDirMemMem && c.device == nullptr) return fail(i, DmaError::no_device);
  const bool sg = c.ctrl & kCtrlSg;
  if (!sg && (c.count == 0 || c.count % width != 0)) return fail(i, DmaError::bad_count);
  if (sg && c.desc == 0) return fail(i, DmaError::bad_descriptor);
  c.need_descriptor = sg;
  if (sg) c.count = 0;
  c.active = true;
  c.abort = false;
  c.stats.last_start_ps = hw::now_ps();
  if (util::events().enabled())
    util::events().emit(name(), "start",
                        {{"channel", i},
                         {"mode", bus::to_string(static_cast<bus::DmaMode>(mode_of(c.ctrl)))},
                         {"bytes", c.count},
                         {"sg", sg}});
  hw::notify_after(kick_, sc_core::SC_ZERO_TIME);
}

void DmaController::fail(unsigned i, DmaError e) {
  Channel& c = ch_[i];
  const bool was_active = c.active;
  c.active = false;
  c.status |= kStatError;
  c.error = e;
  ++c.stats.errors;
  if (was_active) c.stats.busy_ps += hw::now_ps() - c.stats.last_start_ps;
  log_.info("channel {}: error: {}", i, to_string(e));
  if (util::events().enabled())
    util::events().emit(name(), "error", {{"channel", i}, {"error", to_string(e)}});
  if (was_active && c.device) c.device->dma_end(false);
  hw::notify_after(drive_event_, sc_core::SC_ZERO_TIME);
}

void DmaController::finish(unsigned i) {
  Channel& c = ch_[i];
  c.active = false;
  c.status |= kStatTc;
  ++c.stats.completed;
  c.stats.last_end_ps = hw::now_ps();
  c.stats.busy_ps += c.stats.last_end_ps - c.stats.last_start_ps;
  if (util::events().enabled())
    util::events().emit(name(), "terminal_count",
                        {{"channel", i}, {"ps", c.stats.last_end_ps - c.stats.last_start_ps}});
  if (c.device) c.device->dma_end(true);
  hw::notify_after(drive_event_, sc_core::SC_ZERO_TIME);
}

bool DmaController::ready(unsigned i) const {
  const Channel& c = ch_[i];
  if (!c.active) return false;
  if (c.abort || c.need_descriptor || dir_of(c.ctrl) == kDirMemMem) return true;
  return dreq[i].read() && c.device->dma_ready(dir_of(c.ctrl) == kDirDevMem) > 0;
}

void DmaController::engine() {
  sc_core::sc_event_or_list wake;
  wake |= kick_;
  for (auto& d : dreq) wake |= d.value_changed_event();
  for (;;) {
    unsigned chosen = channels();
    for (unsigned i = 0; i < channels(); ++i) {
      if (ready(i)) {
        chosen = i;
        break;
      }
    }
    if (chosen == channels()) {
      sc_core::wait(wake);
      continue;
    }
    step(chosen);
  }
}

void DmaController::hold_bus(unsigned i, std::uint64_t units, unsigned c) {
  const auto mode = static_cast<bus::DmaMode>(mode_of(ch_[i].ctrl));
  sc_core::sc_time end = bus->begin_segment(mode, units, c);
  if (ch_[i].device) dack[i].write(true);
  for (;;) {
    if (end == sc_core::SC_ZERO_TIME) {
      sc_core::wait(bus->demand_event());  // starved: the CPU takes every cycle
    } else {
      sc_core::wait(end, bus->demand_event());
    }
    if (bus->segment_done(end)) break;
  }
  bus->end_segment();
  if (ch_[i].device) dack[i].write(false);
  ++ch_[i].stats.segments;
}

bool DmaController::memory(tlm::tlm_command cmd, std::uint64_t address, std::uint8_t* data,
                           std::uint64_t n, bool increment, unsigned width) {
  // Fixed addresses (a device's FIFO window in memory space) take one access per unit.
  const std::uint64_t step = increment ? n : width;
  for (std::uint64_t done = 0; done < n; done += step) {
    tlm::tlm_generic_payload& tx = tx_;
    tx.set_command(cmd);
    tx.set_address(address + (increment ? done : 0));
    tx.set_data_ptr(data + done);
    tx.set_data_length(static_cast<unsigned>(step));
    tx.set_streaming_width(static_cast<unsigned>(step));
    tx.set_byte_enable_ptr(nullptr);
    tx.set_dmi_allowed(false);
    tx.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;  // the arbiter has timed the segment
    out->b_transport(tx, delay);
    if (!tx.is_response_ok()) return false;
  }
  return true;
}

void DmaController::step(unsigned i) {
  Channel& c = ch_[i];
  if (c.abort) return fail(i, DmaError::aborted);
  if (c.need_descriptor) {
    hold_bus(i, 4, 1);
    std::uint32_t d[4] = {};
    if (!memory(tlm::TLM_READ_COMMAND, c.desc, reinterpret_cast<std::uint8_t*>(d), sizeof d, true,
                4))
      return fail(i, DmaError::bad_descriptor);
    ++c.stats.descriptors;
    c.src = d[0];
    c.dst = d[1];
    c.count = d[2];
    c.desc = d[3];
    c.need_descriptor = false;
    const unsigned width = width_of(c.ctrl);
    if (c.count % width != 0) return fail(i, DmaError::bad_descriptor);
    if (c.count == 0) {
      c.need_descriptor = c.desc != 0;
      if (!c.need_descriptor) finish(i);
    }
    return;
  }
  const unsigned dir = dir_of(c.ctrl), width = width_of(c.ctrl);
  const auto mode = static_cast<bus::DmaMode>(mode_of(c.ctrl));
  std::uint64_t bytes = c.count;
  if (mode != bus::DmaMode::burst) bytes = std::min(bytes, chunk_);
  if (dir != kDirMemMem) bytes = std::min(bytes, c.device->dma_ready(dir == kDirDevMem));
  bytes -= bytes % width;
  if (bytes == 0) {
    // A device offering less than one unit: wait for it to offer more.
    sc_core::wait(dreq[i].value_changed_event() | kick_);
    return;
  }
  // Fly-by device cycles move a unit in one bus cycle; memory to memory needs a read and a write.
  hold_bus(i, bytes / width, dir == kDirMemMem ? 2 : 1);
  // The segment is timed as one; its bytes move through a bounded staging buffer, a piece at a
  // time, as the hardware moves them unit by unit: a burst of COUNT 0xfffffffc staged whole
  // took 4 GiB of host memory before its first access could fail.
  const bool src_inc = c.ctrl & kCtrlSrcInc, dst_inc = c.ctrl & kCtrlDstInc;
  const std::uint64_t piece_max =
      std::max<std::uint64_t>(kStagingBytes - kStagingBytes % width, width);
  for (std::uint64_t done = 0; done < bytes;) {
    const std::uint64_t piece = std::min(piece_max, bytes - done);
    buffer_.resize(piece);
    bool ok = true;
    if (dir == kDirDevMem) {
      c.device->dma_read(buffer_.data(), piece);
    } else {
      ok = memory(tlm::TLM_READ_COMMAND, c.src + (src_inc ? done : 0), buffer_.data(), piece,
                  src_inc, width);
    }
    if (ok) {
      if (dir == kDirMemDev) {
        c.device->dma_write(buffer_.data(), piece);
      } else {
        ok = memory(tlm::TLM_WRITE_COMMAND, c.dst + (dst_inc ? done : 0), buffer_.data(), piece,
                    dst_inc, width);
      }
    }
    if (!ok) return fail(i, DmaError::bad_address);
    done += piece;
  }
  if (dir != kDirDevMem && src_inc) c.src += static_cast<std::uint32_t>(bytes);
  if (dir != kDirMemDev && dst_inc) c.dst += static_cast<std::uint32_t>(bytes);
  c.count -= static_cast<std::uint32_t>(bytes);
  c.stats.bytes += bytes;
  if (c.count == 0) {
    if (c.ctrl & kCtrlSg && c.desc != 0) {
      c.need_descriptor = true;
    } else {
      finish(i);
      return;
    }
  }
}

// IRQ: high while an enabled channel has TC or an error to report. Written from this process a
// delta after the change: the arbiter announces a segment's end a delta after the engine ends
// it, and the terminal count's interrupt must not overtake that (a CPU stalled by the segment
// accounts its stall first).
void DmaController::drive() {
  bool level = false;
  for (const auto& c : ch_) level |= (c.ctrl & kCtrlIe) && (c.status & (kStatTc | kStatError));
  irq.write(level);
}

void DmaController::trace(sc_core::sc_trace_file* tf) {
  const std::string n = name();
  for (unsigned i = 0; i < channels(); ++i) {
    const std::string p = fmt::format("{}.ch{}.", n, i);
    hw::trace(tf, ch_[i].active, p + "active");
    hw::trace(tf, ch_[i].count, p + "count");
    dreq[i].trace(tf, p + "dreq");
    dack[i].trace(tf, p + "dack");
  }
  irq.trace(tf, n + ".irq");
}

}  // namespace hw::dma
