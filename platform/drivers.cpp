// The built-in driver types: each declares its keys (drivers.<type>.*), loads its driver object
// once and adds one device object per instance bound to it.
#include <fmt/format.h>

#include "platform/kernel_host.h"
#include "platform/registry.h"
#include "sw/drivers/disk/disk.h"
#include "sw/drivers/filter/filter.h"
#include "sw/drivers/serial/serial.h"
#include "sw/drivers/timer/timer.h"

namespace platform {
namespace {

// The fields every built-in driver's per-device Params has, from the instance. The register
// window, the interrupt and the DMA channel are not among them: they come with START_DEVICE.
template <typename Params>
Params device_params(const DeviceInstance& d, unsigned ordinal) {
  Params p;
  p.unit = ordinal;
  p.name = d.name;
  return p;
}

class DiskDriverType : public Driver {
 public:
  DiskDriverType(KernelHost& host, const Settings& keys)
      : host_(host), keys_(keys), object_(drivers::DiskDriver::driver_entry(host.io())) {}

  io::DriverObject* object() override { return &object_; }
  io::DeviceObject* add_device(const DeviceInstance& d, Device&, unsigned ordinal,
                               io::DeviceObject& pdo) override {
    auto p = device_params<drivers::DiskDriver::Params>(d, ordinal);
    p.sectors = d.settings.number("size") / 512;
    p.dma = keys_.text("transfer") == "dma";
    p.polling = keys_.text("completion") == "polling";
    p.dma_port = static_cast<std::uint16_t>(host_.config().dma_port);
    const std::string& mode = keys_.text("dma_mode");
    p.dma_mode = mode == "burst" ? 0 : mode == "cycle-stealing" ? 1 : 2;
    return devices_.add(object_, d.name, std::make_unique<drivers::DiskDriver>(host_.io(), p), pdo);
  }
  void write_stats(util::JsonWriter& j) const override {
    drivers::DiskDriver::Stats t;
    for (const auto& [n, e] : devices_.all()) {
      const auto& s = e->stats();
      t.requests += s.requests, t.sectors += s.sectors, t.errors += s.errors;
      t.interrupts += s.interrupts, t.polls += s.polls;
    }
    j.field("transfer", keys_.text("transfer")).field("completion", keys_.text("completion"));
    fields(j, t);
    j.begin_object("devices");
    for (const auto& [n, e] : devices_.all()) {
      j.begin_object(n);
      fields(j, e->stats());
      j.end_object();
    }
    j.end_object();
  }
  std::string summary() const override {
    std::string s;
    for (const auto& [n, e] : devices_.all())
      s += fmt::format("{}{} {} requests, {} sectors", s.empty() ? "" : "; ", n,
                       e->stats().requests, e->stats().sectors);
    return fmt::format("{} ({}, {})", s, keys_.text("transfer"), keys_.text("completion"));
  }

 private:
  static void fields(util::JsonWriter& j, const drivers::DiskDriver::Stats& s) {
    j.field("requests", s.requests)
        .field("sectors", s.sectors)
        .field("errors", s.errors)
        .field("interrupts", s.interrupts)
        .field("polls", s.polls);
    if (s.pci_id != 0) j.field("pci_id", fmt::format("{:#010x}", s.pci_id));
  }
  KernelHost& host_;
  Settings keys_;
  io::DriverObject& object_;
  DeviceExtensions<drivers::DiskDriver> devices_;
};

class SerialDriverType : public Driver {
 public:
  SerialDriverType(KernelHost& host, const Settings& keys)
      : host_(host), keys_(keys), object_(drivers::SerialDriver::driver_entry(host.io())) {}

  io::DriverObject* object() override { return &object_; }
  io::DeviceObject* add_device(const DeviceInstance& d, Device&, unsigned ordinal,
                               io::DeviceObject& pdo) override {
    auto p = device_params<drivers::SerialDriver::Params>(d, ordinal);
    p.polling = keys_.text("completion") == "polling";
    return devices_.add(object_, d.name, std::make_unique<drivers::SerialDriver>(host_.io(), p),
                        pdo);
  }
  void write_stats(util::JsonWriter& j) const override {
    j.field("completion", keys_.text("completion"));
    j.begin_object("devices");
    for (const auto& [n, e] : devices_.all()) {
      const auto& s = e->stats();
      j.begin_object(n)
          .field("rx", s.rx)
          .field("tx", s.tx)
          .field("interrupts", s.interrupts)
          .field("polls", s.polls)
          .field("ring_overflows", s.ring_overflows)
          .end_object();
    }
    j.end_object();
  }

 private:
  KernelHost& host_;
  Settings keys_;
  io::DriverObject& object_;
  DeviceExtensions<drivers::SerialDriver> devices_;
};

class TimerDriverType : public Driver {
 public:
  TimerDriverType(KernelHost& host, const Settings&)
      : host_(host), object_(drivers::TimerDriver::driver_entry(host.io())) {}

  io::DriverObject* object() override { return &object_; }
  io::DeviceObject* add_device(const DeviceInstance& d, Device&, unsigned ordinal,
                               io::DeviceObject& pdo) override {
    return devices_.add(object_, d.name,
                        std::make_unique<drivers::TimerDriver>(
                            host_.io(), device_params<drivers::TimerDriver::Params>(d, ordinal)),
                        pdo);
  }
  void write_stats(util::JsonWriter& j) const override {
    j.begin_object("devices");
    for (const auto& [n, e] : devices_.all())
      j.begin_object(n)
          .field("waits", e->stats().waits)
          .field("interrupts", e->stats().interrupts)
          .end_object();
    j.end_object();
  }

 private:
  KernelHost& host_;
  io::DriverObject& object_;
  DeviceExtensions<drivers::TimerDriver> devices_;
};

class FilterDriverType : public Driver {
 public:
  FilterDriverType(KernelHost& host, const Settings& keys)
      : host_(host),
        params_(params(keys)),
        object_(drivers::FilterDriver::driver_entry(host.io(), params_)) {}

  io::DriverObject* object() override { return &object_; }
  io::DeviceObject* attach(const DeviceInstance& d, io::DeviceObject& target) override {
    auto ext = std::make_unique<drivers::FilterDriver>(host_.io(), params_);
    if (!ext->attach(object_, target)) return nullptr;
    devices_.emplace_back(d.name, std::move(ext));
    return devices_.back().second->device();
  }
  void write_stats(util::JsonWriter& j) const override {
    j.begin_object("devices");
    for (const auto& [n, e] : devices_) {
      const auto& s = e->stats();
      j.begin_object(n)
          .field("reads", s.reads)
          .field("writes", s.writes)
          .field("bytes", s.bytes)
          .field("errors", s.errors)
          .field("cache_hits", s.cache_hits)
          .field("cache_misses", s.cache_misses)
          .field("read_aheads", s.read_aheads)
          .field("read_ahead_discarded", s.read_ahead_discarded);
      write_histogram(j, "latency_us", s.latency);
      j.end_object();
    }
    j.end_object();
  }

 private:
  static drivers::FilterDriver::Params params(const Settings& keys) {
    drivers::FilterDriver::Params p;
    p.fast_io = keys.flag("fast_io");
    p.cache_sectors = keys.number("cache_sectors");
    p.read_ahead_sectors = keys.u32("read_ahead");
    return p;
  }
  KernelHost& host_;
  drivers::FilterDriver::Params params_;
  io::DriverObject& object_;
  // By the instance each is stacked over (a filter attaches, it adds no device of its own).
  std::vector<std::pair<std::string, std::unique_ptr<drivers::FilterDriver>>> devices_;
};

template <typename T>
std::function<std::unique_ptr<Driver>(KernelHost&, const Settings&)> make() {
  return [](KernelHost& h, const Settings& k) { return std::make_unique<T>(h, k); };
}

}  // namespace

namespace builtin {

void register_drivers(Registry<DriverType>& r) {
  r.add({"disk",
         "the block device's driver: \\Device\\HarddiskN per disk, IRPs through StartIo, PIO "
         "or DMA, interrupt-driven or polling",
         {choice_key("transfer", {"dma", "pio"},
                     "data through the DMA channel, or word by word through DATA"),
          choice_key("completion", {"interrupt", "polling"},
                     "ISR -> DPC -> completion, or the dispatch routine polling STATUS at "
                     "PASSIVE_LEVEL"),
          choice_key("dma_mode", {"burst", "cycle-stealing", "transparent"}, "DMA mode")},
         false,
         make<DiskDriverType>(),
         {"block"},
         {}});
  r.add({"serial",
         "the serial device's driver: \\Device\\SerialN linked as \\??\\COM<N+1>, buffered I/O "
         "through software rings",
         {choice_key("completion", {"interrupt", "polling"},
                     "ISR -> ring -> DPC, or the dispatch routines polling STATUS")},
         false,
         make<SerialDriverType>(),
         {"serial"},
         {}});
  r.add({"timer",
         "the one-shot device's driver: \\Device\\TimerN; IOCTL_TIMER_WAIT pends until the "
         "device fires",
         {},
         false,
         make<TimerDriverType>(),
         {"oneshot"},
         {}});
  r.add({"filter",
         "a filter over a disk (`filters: [filter]` on the instance): per-request statistics "
         "and a write-through read-ahead cache",
         {boolean_key("fast_io", true, "answer reads from the cache by fast I/O, with no IRP"),
          integer_key("cache_sectors", 64, 0, 65536, "sectors cached; 0 = no cache"),
          integer_key("read_ahead", 16, 0, 1024, "sectors read ahead after a read that missed")},
         true,
         make<FilterDriverType>(),
         {"block"},
         {}});
}

}  // namespace builtin
}  // namespace platform
