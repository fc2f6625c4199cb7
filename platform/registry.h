#pragma once
// Registries of the types a machine is assembled from, in the spirit of VCML's model registry:
// device model types, driver types and workload types, each registered by name with the keys it
// declares (platform/settings.h), how it is built and bound, what it traces and what statistics
// it writes. The platform loops over a config's instances and names no type; a user's own model,
// driver and workload — in this tree or in a project built against the installed package —
// register the same way (docs/extending.md) and are used from YAML.
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <systemc>

#include "platform/settings.h"
#include "util/json.h"

namespace io {
struct DeviceObject;
struct DriverObject;
}  // namespace io
namespace ke {
struct BugCheckRecord;
}

namespace platform {

class Platform;
class KernelHost;
struct Config;

// One entry of the config's `devices:` list.
struct DeviceInstance {
  std::string type, name;
  std::string where;                 // "file:line" of the entry, or "default"
  std::string driver;                // driver type bound to it; "none" = no driver
  std::vector<std::string> filters;  // filter driver types stacked over it, bottom first
  // Where it sits: "isa" (a legacy device at the resources its keys fix, reported by the root
  // enumerator) or "pci" (a function on the PCI bus: Plug and Play places its register window
  // - an I/O or a memory BAR - and its interrupt).
  std::string bus = "isa";
  std::string bar = "io";          // pci: BAR0 in I/O space or in memory space
  unsigned slot = 0;               // pci: device number 1..31; 0 = the next free one
  std::uint64_t remove_at_ps = 0;  // pci: surprise removal at this time; 0 = never
  Settings settings;               // the type's keys
  std::string key(const std::string& k) const { return "devices." + name + "." + k; }
};

// A built device model, owned by the platform.
class Device {
 public:
  explicit Device(const DeviceInstance& instance) : instance_(instance) {}
  virtual ~Device() = default;
  const DeviceInstance& instance() const { return instance_; }
  const std::string& name() const { return instance_.name; }
  // The SystemC model, for benches and tools that reach into it (dynamic_cast to the type).
  virtual sc_core::sc_object* model() = 0;
  virtual void trace(sc_core::sc_trace_file*) {}
  // The fields of the instance's object under "devices" in the statistics.
  virtual void write_stats(util::JsonWriter&) const {}
  // Names of traced values, by signal ("status": a value's meaning), for the waveform view's
  // translate filters.
  virtual std::map<std::string, std::function<std::string(std::uint64_t)>> value_names() const {
    return {};
  }
  // One line for the run summary, without the name ("12 commands, ...").
  virtual std::string summary() const { return {}; }
  // Flushes and closes the instance's outputs; "" or what could not be written.
  virtual std::string close() { return {}; }

 private:
  DeviceInstance instance_;
};

// The common Device: one SystemC model of type M (with trace(tf)), built by the derived
// constructor into model_.
template <typename M>
class ModelDevice : public Device {
 public:
  using Device::Device;
  sc_core::sc_object* model() override { return model_.get(); }
  void trace(sc_core::sc_trace_file* tf) override { model_->trace(tf); }

 protected:
  std::unique_ptr<M> model_;
};

struct DeviceType {
  std::string name, help;
  std::vector<KeySpec> keys;
  std::string driver;  // the driver type bound by default ("" = none)
  // Plug and Play identity. On PCI: the device ID (with hw::bus::kPciVendor) and the class
  // code its configuration space reports (pci_device 0: the type cannot sit on PCI). On the
  // root bus (isa): its hardware ID, as the root enumerator reports it (*PNP0501 style).
  std::uint16_t pci_device = 0;
  std::uint32_t pci_class = 0;
  std::string legacy_id;
  // The type's own cross-key checks: returns "" or "<key>: why".
  std::function<std::string(const DeviceInstance&)> check;
  // Builds the model and binds it through the platform (Platform::map_io, connect_irq, ...).
  // Throws ConfigError for what only building finds (an image file of the wrong size).
  std::function<std::unique_ptr<Device>(Platform&, const DeviceInstance&)> create;
};

// One driver type loaded once (DriverEntry); one device object per instance bound to it.
class Driver {
 public:
  virtual ~Driver() = default;
  // The driver object DriverEntry made; the kernel host points its AddDevice at add_device.
  virtual io::DriverObject* object() = 0;
  // AddDevice for `instance` (its model built as `device`): creates the FDO and attaches it
  // over `pdo`, the bus driver's device object; the resources come later, with START_DEVICE.
  // `ordinal` counts the instances this driver serves, from 0, and names their device objects
  // (\Device\Harddisk1). Null on failure.
  virtual io::DeviceObject* add_device(const DeviceInstance& instance, Device& device,
                                       unsigned ordinal, io::DeviceObject& pdo) {
    (void)instance, (void)device, (void)ordinal, (void)pdo;
    return nullptr;
  }
  // Filter drivers: attaches over `target`, the top of the instance's stack. Null on failure.
  virtual io::DeviceObject* attach(const DeviceInstance& instance, io::DeviceObject& target) {
    (void)instance, (void)target;
    return nullptr;
  }
  // The fields of this driver's object under "drivers" in the statistics.
  virtual void write_stats(util::JsonWriter&) const {}
  virtual std::string summary() const { return {}; }
};

// A driver type's device extensions (Ext: the driver's per-device class, with
// add_device(io::DriverObject&, io::DeviceObject& pdo) and device()), kept by instance name in
// the order their devices were added.
template <typename Ext>
class DeviceExtensions {
 public:
  // AddDevice for `ext` over `pdo`; its device object, or null (and `ext` is dropped) on failure.
  io::DeviceObject* add(io::DriverObject& object, const std::string& instance,
                        std::unique_ptr<Ext> ext, io::DeviceObject& pdo) {
    if (!ext->add_device(object, pdo)) return nullptr;
    list_.emplace_back(instance, std::move(ext));
    return list_.back().second->device();
  }
  const std::vector<std::pair<std::string, std::unique_ptr<Ext>>>& all() const { return list_; }

 private:
  std::vector<std::pair<std::string, std::unique_ptr<Ext>>> list_;
};

struct DriverType {
  std::string name, help;
  std::vector<KeySpec> keys;  // drivers.<name>.<key>
  bool filter = false;        // stacked over instances listed with `filters: [name]`
  std::function<std::unique_ptr<Driver>(KernelHost&, const Settings&)> create;
  std::vector<std::string> serves;  // the device types it binds to (or stacks over)
  // The driver table's entry (an INF's models section): the hardware IDs it is installed for.
  // Empty: the IDs of the device types it serves (PCI\VEN_v&DEV_d and their legacy IDs).
  std::vector<std::string> hardware_ids;
};

// What a run executes on the CPU; the platform reports it after the run.
class Workload {
 public:
  // Builds the config's workload type (workload.kind) and boots it on the platform's CPU.
  static std::unique_ptr<Workload> create(Platform& platform, const Config& config);
  virtual ~Workload() = default;
  virtual void write_stats(util::JsonWriter& json) const = 0;
  virtual void print_summary(std::FILE* out) const = 0;
  // False if the software saw something it should never see (the run then exits 1).
  virtual bool healthy() const { return true; }
  // Device interrupts serviced, for benchmarks (0 where there is no device).
  virtual std::uint64_t device_interrupts() const { return 0; }
  // The DMA channel a transfer workload uses (for its benchmark), or 0.
  virtual unsigned dma_channel() const { return 0; }
  // The bug check that stopped the run, or null (no kernel, or none happened).
  virtual const ke::BugCheckRecord* bug_check() const { return nullptr; }
  // For the waveform view's translate filters: each IRQL value's name and each thread id's
  // name (empty without a kernel).
  virtual std::map<std::uint64_t, std::string> irql_names() const { return {}; }
  virtual std::map<std::uint64_t, std::string> thread_names() const { return {}; }
  // Each number of the CPUs' routine trace: "ISR disk0", "DPC disk0_dpc", "thread io-app".
  virtual std::map<std::uint64_t, std::string> routine_names() const { return {}; }
};

struct WorkloadType {
  std::string name, help;
  std::string section;        // its keys are workload.<section>.<key> ("" = none)
  std::vector<KeySpec> keys;  // names without the section
  // Checks the config for this workload: "" or "<full key>: why".
  std::function<std::string(const Config&)> check;
  std::function<std::unique_ptr<Workload>(Platform&, const Config&)> create;
};

template <typename T>
class Registry {
 public:
  // Registers `type`; false (and nothing changes) if the name is taken.
  bool add(T type) {
    if (find(type.name) != nullptr) return false;
    types_.push_back(std::move(type));
    return true;
  }
  const T* find(const std::string& name) const {
    for (const auto& t : types_) {
      if (t.name == name) return &t;
    }
    return nullptr;
  }
  const std::vector<T>& all() const { return types_; }
  std::vector<std::string> names() const {
    std::vector<std::string> n;
    for (const auto& t : types_) n.push_back(t.name);
    return n;
  }

 private:
  std::vector<T> types_;
};

// The registries, with the built-in types registered on first use (so a static library's
// registrations are never dropped by the linker).
Registry<DeviceType>& device_types();
Registry<DriverType>& driver_types();
Registry<WorkloadType>& workload_types();

namespace builtin {
void register_devices(Registry<DeviceType>& r);
void register_drivers(Registry<DriverType>& r);
void register_workloads(Registry<WorkloadType>& r);
}  // namespace builtin

}  // namespace platform
