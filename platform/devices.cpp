// The built-in device model types: each declares its keys and builds and binds its model.
#include <fmt/format.h>

#include "hw/devices/block_device.h"
#include "hw/devices/oneshot.h"
#include "hw/devices/serial.h"
#include "platform/config.h"
#include "platform/platform.h"
#include "platform/registry.h"

namespace platform {
namespace {

using hw::devices::BlockDevice;
using hw::devices::OneShot;
using hw::devices::Serial;

class BlockInstance : public ModelDevice<BlockDevice> {
 public:
  BlockInstance(Platform& p, const DeviceInstance& d) : ModelDevice(d) {
    const Settings& s = d.settings;
    hw::devices::BlockTiming timing;
    timing.command_ps = s.number("command_time");
    timing.seek_ps = s.number("seek_time");
    timing.sector_ps = s.number("sector_time");
    timing.flush_ps = s.number("flush_time");
    model_ = std::make_unique<BlockDevice>(d.name.c_str(), timing);
    p.map_io(model_->in, d);
    p.connect_irq(model_->irq, d);
    p.connect_dma(model_->dreq, model_.get(), d);
    if (std::string err = model_->open_image(s.text("image"), s.number("size")); !err.empty())
      throw ConfigError(fmt::format("{}: key '{}': {}", p.where(d, "image"), d.key("image"), err));
  }
  void write_stats(util::JsonWriter& j) const override {
    const auto& s = model_->stats();
    j.field("image", model_->image().path())
        .field("sectors", model_->sectors())
        .field("commands", s.commands)
        .field("sectors_read", s.sectors_read)
        .field("sectors_written", s.sectors_written)
        .field("flushes", s.flushes)
        .field("errors", s.errors)
        .field("rejected_commands", s.rejected)
        .field("protocol_errors", s.protocol_errors)
        .field("interrupts", s.interrupts);
  }
  std::map<std::string, std::function<std::string(std::uint64_t)>> value_names() const override {
    // The status register's bits, as the waveform view names them.
    return {{"status", [](std::uint64_t v) {
               std::string s;
               for (const auto& [bit, name] : {std::pair{hw::devices::kBlkBusy, "BUSY"},
                                               {hw::devices::kBlkDrq, "DRQ"},
                                               {hw::devices::kBlkDone, "DONE"},
                                               {hw::devices::kBlkIrq, "IRQ"},
                                               {hw::devices::kBlkError, "ERROR"}})
                 if (v & bit) s += (s.empty() ? "" : "|") + std::string(name);
               return s.empty() ? std::string("idle") : s;
             }}};
  }
  std::string summary() const override {
    const auto& s = model_->stats();
    return fmt::format("{} commands, {}/{} sectors read/written, {} errors", s.commands,
                       s.sectors_read, s.sectors_written, s.errors);
  }
};

class SerialInstance : public ModelDevice<Serial> {
 public:
  SerialInstance(Platform& p, const DeviceInstance& d) : ModelDevice(d) {
    const Settings& s = d.settings;
    model_ = std::make_unique<Serial>(d.name.c_str(), s.number("baud"), s.u32("fifo"));
    p.map_io(model_->in, d);
    p.connect_irq(model_->irq, d);
    auto file = [&](const std::string& key, std::string (Serial::*set)(const std::string&)) {
      const std::string& path = s.text(key);
      if (path.empty()) return;
      if (std::string err = (model_.get()->*set)(path); !err.empty())
        throw ConfigError(fmt::format("{}: key '{}': {}", p.where(d, key), d.key(key), err));
    };
    file("input", &Serial::set_input_file);
    file("input_script", &Serial::set_input_script);
    file("output", &Serial::set_output_file);
  }
  void write_stats(util::JsonWriter& j) const override {
    const auto& s = model_->stats();
    j.field("rx_chars", s.rx_chars)
        .field("tx_chars", s.tx_chars)
        .field("rx_overruns", s.rx_overruns)
        .field("tx_dropped", s.tx_dropped)
        .field("interrupts", s.interrupts);
  }
  std::string summary() const override {
    const auto& s = model_->stats();
    return fmt::format("{}/{} chars in/out, {} overruns", s.rx_chars, s.tx_chars, s.rx_overruns);
  }
  std::string close() override {
    std::string why = model_->close_output();
    return why.empty() ? why : instance().key("output") + ": " + why;
  }
};

class OneShotInstance : public ModelDevice<OneShot> {
 public:
  OneShotInstance(Platform& p, const DeviceInstance& d) : ModelDevice(d) {
    model_ = std::make_unique<OneShot>(d.name.c_str());
    p.map_io(model_->in, d);
    p.connect_irq(model_->irq, d);
  }
  void write_stats(util::JsonWriter& j) const override {
    j.field("fired", model_->stats().fired).field("acknowledged", model_->stats().acknowledged);
  }
  std::string summary() const override {
    return fmt::format("{} fired, {} acknowledged", model_->stats().fired,
                       model_->stats().acknowledged);
  }
};

template <typename T>
std::function<std::unique_ptr<Device>(Platform&, const DeviceInstance&)> build() {
  return [](Platform& p, const DeviceInstance& d) { return std::make_unique<T>(p, d); };
}

}  // namespace

namespace builtin {

void register_devices(Registry<DeviceType>& r) {
  DeviceType block;
  block.name = "block";
  block.help = "a block device backed by a disk-image file: PIO through DATA or DMA";
  block.driver = "disk";
  block.pci_device = 0x0002;
  block.pci_class = 0x018000;    // mass storage, other
  block.legacy_id = "*PNP0600";  // an AT disk controller
  block.keys = {
      port_key("port", hw::devices::kBlockWindow, "I/O port of the controller's 16 registers"),
      irq_key("irq", "IRQ line of the controller"),
      dma_channel_key("dma_channel", 1, "DMA channel wired to the device's DREQ/DACK"),
      path_key("image",
               "disk-image file, created at `size` if missing; empty = a temporary image "
               "that vanishes after the run",
               /*input=*/false, /*output=*/false),
      size_key("size", "4MiB", "disk size, a multiple of 512 bytes"),
      duration_key("command_time", "2us", "command decode and setup"),
      duration_key("seek_time", "100us", "seek before a non-sequential LBA"),
      duration_key("sector_time", "10.24us", "media time per 512-byte sector (50 MB/s)"),
      duration_key("flush_time", "1ms", "FLUSH command")};
  // The image is read and written in place: another key writing it would corrupt it.
  block.keys[3].in_place = true;
  block.check = [](const DeviceInstance& d) -> std::string {
    const std::uint64_t size = d.settings.number("size");
    if (size % hw::devices::kSectorSize != 0) return "size: not a multiple of 512 bytes";
    if (size / hw::devices::kSectorSize > 0xffffffffull)
      return "size: more sectors than a 32-bit LBA reaches";
    return {};
  };
  block.create = build<BlockInstance>();
  r.add(block);

  DeviceType serial;
  serial.name = "serial";
  serial.help = "a character device: RX/TX FIFOs at a baud rate, input from a file or a script";
  serial.driver = "serial";
  serial.pci_device = 0x0003;
  serial.pci_class = 0x070002;  // serial controller, 16550-compatible
  serial.legacy_id = "*PNP0501";
  serial.keys = {
      port_key("port", hw::devices::kSerialWindow, "I/O port of the 4 registers"),
      irq_key("irq", "IRQ line"),
      integer_key("baud", 115200, 50, 100'000'000, "line rate in bit/s (10 bits per character)"),
      integer_key("fifo", 16, 1, 4096, "depth of each of the RX and TX FIFOs"),
      path_key("input", "file whose bytes arrive on RX from t = 0; empty = none", true, false),
      path_key("input_script", "timed RX input, lines 'TIME TEXT' (docs/models.md); empty = none",
               true, false),
      path_key("output", "file receiving every transmitted character; empty = none", false, true)};
  serial.create = build<SerialInstance>();
  r.add(serial);

  DeviceType oneshot;
  oneshot.name = "oneshot";
  oneshot.help = "a one-shot interrupt source: armed with a delay, raises its IRQ once";
  oneshot.driver = "timer";
  oneshot.pci_device = 0x0004;
  oneshot.pci_class = 0x088000;  // system peripheral, other
  oneshot.legacy_id = "*IOC0004";
  oneshot.keys = {port_key("port", 8, "I/O port of the 8 register bytes"),
                  irq_key("irq", "IRQ line")};
  oneshot.create = build<OneShotInstance>();
  r.add(oneshot);
}

}  // namespace builtin
}  // namespace platform
