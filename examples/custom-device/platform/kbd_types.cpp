// The keyboard's device type, driver type and workload type, registered by name: this is all it
// takes for `type: kbd` in a config's device list, `drivers.kbd` and `workload.kind: kbd-read`
// to work, for `keys` to list their keys, and for the statistics, the VCD and the summary to
// show the instance. Nothing in iocosim itself is edited.
#include <fmt/format.h>

#include "hw/kbd.h"
#include "platform/config.h"
#include "platform/kernel_host.h"
#include "platform/platform.h"
#include "platform/registry.h"
#include "platform/workloads.h"
#include "sw/kbd_driver.h"

namespace {

using platform::DeviceInstance;
using platform::Settings;

class KeyboardInstance : public platform::ModelDevice<kbd::Keyboard> {
 public:
  KeyboardInstance(platform::Platform& p, const DeviceInstance& d) : ModelDevice(d) {
    const Settings& s = d.settings;
    kbd::Keyboard::Timing t;
    t.interval = sc_core::sc_time(static_cast<double>(s.number("interval")), sc_core::SC_PS);
    t.load_time = sc_core::sc_time(static_cast<double>(s.number("load_time")), sc_core::SC_PS);
    model_ = std::make_unique<kbd::Keyboard>(d.name.c_str(), s.text("input"), t, s.u32("fifo"));
    p.map_io(model_->in, d);
    p.connect_irq(model_->irq, d);
  }
  void write_stats(util::JsonWriter& j) const override {
    const auto& s = model_->stats();
    j.field("typed", s.typed)
        .field("taken", s.taken)
        .field("overruns", s.overruns)
        .field("empty_reads", s.empty_reads)
        .field("interrupts", s.raised);
  }
  std::string summary() const override {
    const auto& s = model_->stats();
    return fmt::format("{} typed, {} taken, {} overruns", s.typed, s.taken, s.overruns);
  }
};

class KeyboardDriverType : public platform::Driver {
 public:
  explicit KeyboardDriverType(platform::KernelHost& host)
      : host_(host), object_(kbd::KeyboardDriver::driver_entry(host.io())) {}
  io::DriverObject* object() override { return &object_; }
  io::DeviceObject* add_device(const DeviceInstance& d, platform::Device&, unsigned ordinal,
                               io::DeviceObject& pdo) override {
    kbd::KeyboardDriver::Params p;
    p.unit = ordinal;
    p.name = d.name;
    return devices_.add(object_, d.name, std::make_unique<kbd::KeyboardDriver>(host_.io(), p), pdo);
  }
  void write_stats(util::JsonWriter& j) const override {
    j.begin_object("devices");
    for (const auto& [name, ext] : devices_.all()) {
      const auto& s = ext->stats();
      j.begin_object(name)
          .field("bytes", s.bytes)
          .field("interrupts", s.interrupts)
          .field("completed", s.completed)
          .field("ring_overflows", s.ring_overflows)
          .end_object();
    }
    j.end_object();
  }

 private:
  platform::KernelHost& host_;
  io::DriverObject& object_;
  platform::DeviceExtensions<kbd::KeyboardDriver> devices_;
};

// Reads the keyboard through the I/O manager until it has every byte the instance types, and
// checks them against the instance's input.
class KeyboardReader : public platform::HostedWorkload {
 public:
  KeyboardReader(platform::Platform& p, const platform::Config& c)
      : HostedWorkload(p, c), device_(c.workload_keys("kbd").text("device")) {
    expected_ = c.device(device_)->settings.text("input");
    host().boot([this] { main(); }, /*with_io=*/true);
  }
  bool healthy() const override { return host().drivers_ready() && text_ == expected_; }

 protected:
  void workload_stats(util::JsonWriter& j) const override {
    j.field("device", device_)
        .field("reads", reads_)
        .field("bytes", text_.size())
        .field("text", text_)
        .field("as_typed", text_ == expected_);
  }
  void workload_summary(std::FILE* out) const override {
    std::fprintf(out, "  workload   kbd-read: %zu bytes in %llu reads from %s: '%s'%s\n",
                 text_.size(), static_cast<unsigned long long>(reads_), device_.c_str(),
                 text_.c_str(), text_ == expected_ ? ", as typed" : ", NOT AS TYPED");
  }

 private:
  void main() {
    io::IoManager& io = host().io();
    hw::Processor& cpu = host().kernel().cpu();
    io::Handle h;
    if (!host().drivers_ready() ||
        io.open(platform::KernelHost::device_path(device_), h) != io::Status::success) {
      cpu.power_off(1);
      return;
    }
    const std::uint64_t buffer = host().pool().allocate(16);
    while (text_.size() < expected_.size()) {
      io::IoStatusBlock st;
      ++reads_;
      if (!io::nt_success(io.read(h, buffer, 16, std::nullopt, st))) break;
      for (std::uint64_t i = 0; i < st.information; ++i)
        text_.push_back(static_cast<char>(cpu.read(hw::Space::memory, buffer + i, 1)));
    }
    io.close(h);
    cpu.power_off(healthy() ? 0 : 1);
  }

  std::string device_, expected_, text_;
  std::uint64_t reads_ = 0;
};

platform::DeviceType keyboard_type() {
  platform::DeviceType t;
  t.name = "kbd";
  t.help = "a keyboard-controller-like device: DATA/STATUS/CONTROL, an input FIFO, an IRQ";
  t.driver = "kbd";
  t.legacy_id = "*PNP0303";  // the hardware ID of a PC keyboard controller
  t.pci_device = 0x1001;     // on PCI: PCI\VEN_1CC5&DEV_1001, class 09 80 00 (other input)
  t.pci_class = 0x098000;
  t.keys = {platform::port_key("port", kbd::kWindow, "I/O port of DATA; STATUS +1, CONTROL +2"),
            platform::irq_key("irq", "IRQ line, raised while a byte waits (edge per byte)"),
            platform::text_key("input", "", "the bytes typed, one per interval from t = interval"),
            platform::duration_key("interval", "100us", "time between two typed bytes"),
            platform::duration_key("load_time", "2us", "from a DATA read to the next byte in DATA"),
            platform::integer_key("fifo", 16, 1, 256, "input FIFO depth; more is an overrun")};
  t.create = [](platform::Platform& p, const DeviceInstance& d) {
    return std::make_unique<KeyboardInstance>(p, d);
  };
  return t;
}

// Registered at start-up, before sc_main parses a config: objects in the executable itself are
// always linked, so a static initializer is enough here.
const bool registered = [] {
  platform::device_types().add(keyboard_type());
  platform::driver_types().add(
      {"kbd",
       "the keyboard's driver: \\Device\\KeyboardN, buffered reads completed by its DPC",
       {},
       false,
       [](platform::KernelHost& h, const Settings&) {
         return std::make_unique<KeyboardDriverType>(h);
       },
       {"kbd"},
       {}});
  platform::workload_types().add(
      {"kbd-read",
       "reads a keyboard instance through the I/O manager until it has its input",
       "kbd",
       {platform::name_key("device", "kbd0", "the kbd instance read (\\??\\<name>)")},
       [](const platform::Config& c) {
         return platform::require_instance(c, "kbd", "device", "kbd", "kbd");
       },
       [](platform::Platform& p, const platform::Config& c) {
         return std::make_unique<KeyboardReader>(p, c);
       }});
  return true;
}();

}  // namespace
