#include "hw/devices/block_device.h"

#include <algorithm>
#include <cstring>

#include "hw/core/sim_time.h"
#include "util/event_log.h"

namespace hw::devices {
namespace {
const char* error_text(BlockError e) {
  switch (e) {
    case BlockError::none:
      return "none";
    case BlockError::bad_range:
      return "sector range outside the disk";
    case BlockError::bad_command:
      return "unknown command";
    case BlockError::host_io:
      return "disk image I/O error";
  }
  return "?";
}
}  // namespace

BlockDevice::BlockDevice(const sc_core::sc_module_name& name, const BlockTiming& timing)
    : sc_module(name), in("in"), log_(this->name()), regs_(this->name()), timing_(timing) {
  in.register_b_transport(this, &BlockDevice::b_transport);
  Register& data = regs_.add("data", 0x0, 2, 0, Access::read_write);
  data.on_read = [this] { return data_read(); };
  data.on_write = [this](std::uint32_t v) { data_write(v); };
  Register& count = regs_.add("sector_count", 0x2, 2, 0, Access::read_write);
  count.on_read = [this] { return std::uint32_t{count_}; };
  count.on_write = [this](std::uint32_t v) { count_ = static_cast<std::uint16_t>(v); };
  Register& lba = regs_.add("lba", 0x4, 4, 0, Access::read_write);
  lba.on_read = [this] { return lba_; };
  lba.on_write = [this](std::uint32_t v) { lba_ = v; };
  regs_.add("command", 0x8, 1, 0, Access::write_only).on_write = [this](std::uint32_t v) {
    command(static_cast<std::uint8_t>(v));
  };
  regs_.add("status", 0x9, 1, 0, Access::read_only).on_read = [this] {
    const std::uint8_t s = status();
    if (irq_pending_) {
      irq_pending_ = false;  // reading STATUS acknowledges, as on ATA
      changed();
    }
    return std::uint32_t{s};
  };
  Register& control = regs_.add("control", 0xa, 1, 0, Access::read_write);
  control.on_read = [this] { return std::uint32_t{control_}; };
  control.on_write = [this](std::uint32_t v) {
    control_ = static_cast<std::uint8_t>(v & (kBlkIe | kBlkDma));
    if (v & kBlkReset) {
      ++stats_.resets;
      phase_event_.cancel();
      phase_ = Phase::idle;
      status_ = kBlkDone;
      error_ = BlockError::none;
      irq_pending_ = false;
      pos_ = 0;
      if (util::events().enabled()) util::events().emit(this->name(), "reset", {});
    }
    changed();
  };
  regs_.add("error", 0xb, 1, 0, Access::read_only).on_read = [this] {
    return static_cast<std::uint32_t>(error_);
  };
  regs_.add("alt_status", 0xc, 1, 0, Access::read_only).on_read = [this] {
    return std::uint32_t{status()};
  };
  SC_HAS_PROCESS(BlockDevice);
  SC_METHOD(on_phase);
  sensitive << phase_event_;
  dont_initialize();
  SC_METHOD(drive);
  sensitive << drive_event_;
}

std::string BlockDevice::open_image(const std::string& path, std::uint64_t size) {
  return path.empty() ? image_.open_anonymous(size) : image_.open(path, size);
}

void BlockDevice::b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time&) {
  regs_.transport(tx);
}

void BlockDevice::schedule(std::uint64_t ps) {
  hw::notify_after(phase_event_, hw::from_ps(ps));
}

void BlockDevice::command(std::uint8_t op) {
  if (phase_ != Phase::idle) {
    ++stats_.rejected;
    log_.warn("command {:#04x} while {:#04x} is in progress: ignored", op, op_);
    if (util::events().enabled())
      util::events().emit(name(), "command_rejected", {{"command", op}, {"busy_with", op_}});
    return;
  }
  ++stats_.commands;
  op_ = op;
  error_ = BlockError::none;
  status_ = kBlkBusy;
  pos_ = 0;
  cur_lba_ = lba_;
  left_ = count_;
  if (op == kCmdIdentify) {
    cur_lba_ = 0;
    left_ = 1;
  }
  if (util::events().enabled())
    util::events().emit(name(), "command",
                        {{"command", op}, {"lba", lba_}, {"count", count_}, {"dma", dma_mode()}});
  std::uint64_t t = timing_.command_ps;
  if ((op == kCmdRead || op == kCmdWrite) && cur_lba_ != next_lba_) t += timing_.seek_ps;
  phase_ = Phase::setup;
  schedule(t);
  changed();
}

void BlockDevice::on_phase() {
  switch (phase_) {
    case Phase::setup:
      if (op_ != kCmdRead && op_ != kCmdWrite && op_ != kCmdIdentify && op_ != kCmdFlush)
        return error(BlockError::bad_command);
      if (op_ == kCmdFlush) {
        phase_ = Phase::flush;
        return schedule(timing_.flush_ps);
      }
      if (op_ != kCmdIdentify && (left_ == 0 || cur_lba_ + left_ > sectors()))
        return error(BlockError::bad_range);
      if (op_ == kCmdWrite) return offer_buffer();
      phase_ = Phase::media;
      return schedule(timing_.sector_ps);
    case Phase::media:
      if (op_ == kCmdIdentify) {
        buf_.fill(0);
        auto word = [this](unsigned w, std::uint16_t v) { std::memcpy(&buf_[2 * w], &v, 2); };
        word(0, 0x0040);
        const char model[] = "IOCOSIM BLOCK DEVICE";
        std::memcpy(&buf_[54], model, sizeof model - 1);  // words 27..46
        word(60, static_cast<std::uint16_t>(sectors() & 0xffff));
        word(61, static_cast<std::uint16_t>(sectors() >> 16));
        return offer_buffer();
      }
      if (op_ == kCmdRead) {
        if (!image_.read(cur_lba_ * kSectorSize, buf_.data(), kSectorSize))
          return error(BlockError::host_io);
        ++stats_.sectors_read;
        return offer_buffer();
      }
      // Write: the full buffer goes to the image.
      if (!image_.write(cur_lba_ * kSectorSize, buf_.data(), kSectorSize))
        return error(BlockError::host_io);
      ++stats_.sectors_written;
      ++cur_lba_;
      if (--left_ == 0) return complete();
      return offer_buffer();
    case Phase::flush:
      ++stats_.flushes;
      if (!image_.flush()) return error(BlockError::host_io);
      return complete();
    case Phase::idle:
    case Phase::host:
      return;
  }
}

void BlockDevice::offer_buffer() {
  phase_ = Phase::host;
  pos_ = 0;
  status_ = kBlkDrq;
  if (!dma_mode()) interrupt();
  changed();
}

void BlockDevice::host_done() {
  if (op_ == kCmdWrite) {
    status_ = kBlkBusy;
    phase_ = Phase::media;
    schedule(timing_.sector_ps);
  } else {
    ++cur_lba_;
    if (--left_ == 0) return complete();
    status_ = kBlkBusy;
    phase_ = Phase::media;
    schedule(timing_.sector_ps);
  }
  changed();
}

void BlockDevice::complete() {
  phase_ = Phase::idle;
  status_ = kBlkDone;
  if (op_ == kCmdRead || op_ == kCmdWrite) next_lba_ = cur_lba_;
  if (util::events().enabled()) util::events().emit(name(), "complete", {{"command", op_}});
  interrupt();
  changed();
}

void BlockDevice::error(BlockError e) {
  phase_ = Phase::idle;
  status_ = kBlkError | kBlkDone;
  error_ = e;
  ++stats_.errors;
  if (e == BlockError::host_io) log_.error("disk image {}: {}", image_.path(), image_.last_error());
  if (util::events().enabled())
    util::events().emit(name(), "error", {{"command", op_}, {"error", error_text(e)}});
  interrupt();
  changed();
}

void BlockDevice::interrupt() {
  if (!(control_ & kBlkIe)) return;
  irq_pending_ = true;
  ++stats_.interrupts;
}

bool BlockDevice::protocol_ok(bool write) {
  const bool want_write = op_ == kCmdWrite;
  if (phase_ == Phase::host && !dma_mode() && write == want_write) return true;
  ++stats_.protocol_errors;
  if (stats_.protocol_errors <= 10)
    log_.warn("DATA {} without DRQ{}", write ? "write" : "read",
              stats_.protocol_errors == 10 ? " (further ones not logged)" : "");
  if (util::events().enabled()) util::events().emit(name(), "protocol_error", {{"write", write}});
  return false;
}

std::uint32_t BlockDevice::data_read() {
  if (!protocol_ok(false)) return 0xffff;
  std::uint16_t w = 0;
  std::memcpy(&w, &buf_[pos_], 2);
  pos_ += 2;
  if (pos_ == kSectorSize) host_done();
  return w;
}

void BlockDevice::data_write(std::uint32_t v) {
  if (!protocol_ok(true)) return;
  const auto w = static_cast<std::uint16_t>(v);
  std::memcpy(&buf_[pos_], &w, 2);
  pos_ += 2;
  if (pos_ == kSectorSize) host_done();
}

std::uint64_t BlockDevice::dma_ready(bool to_memory) const {
  if (phase_ != Phase::host || !dma_mode()) return 0;
  if (to_memory == (op_ == kCmdWrite)) return 0;
  return kSectorSize - pos_;
}

void BlockDevice::dma_read(std::uint8_t* dst, std::uint64_t n) {
  n = std::min(n, dma_ready(true));
  std::memcpy(dst, &buf_[pos_], n);
  pos_ += n;
  if (pos_ == kSectorSize) host_done();
}

void BlockDevice::dma_write(const std::uint8_t* src, std::uint64_t n) {
  n = std::min(n, dma_ready(false));
  std::memcpy(&buf_[pos_], src, n);
  pos_ += n;
  if (pos_ == kSectorSize) host_done();
}

void BlockDevice::changed() {
  hw::notify_after(drive_event_, sc_core::SC_ZERO_TIME);
}

// IRQ and DREQ follow the state one delta later, from this process: a transfer's end reaches
// the device from the DMA engine as the engine ends its bus segment, and the arbiter announces
// that segment's end a delta later; the interrupt must not overtake it (a CPU stalled by the
// segment accounts its stall before it takes the interrupt). DREQ is a signal the engine waits on.
void BlockDevice::drive() {
  irq.write(irq_pending_ && (control_ & kBlkIe));
  dreq.write(dma_ready(true) > 0 || dma_ready(false) > 0);
}

std::uint8_t BlockDevice::status() const {
  return static_cast<std::uint8_t>(status_ | (irq_pending_ ? kBlkIrq : 0));
}

void BlockDevice::trace(sc_core::sc_trace_file* tf) const {
  const std::string n = name();
  hw::trace(tf, status_, n + ".status");
  hw::trace(tf, irq_pending_, n + ".irq_pending");
  hw::trace(tf, pos_, n + ".buffer_pos");
}

}  // namespace hw::devices
