#include "sw/io/io_manager.h"
#include "sw/io/log.h"
#include "util/event_log.h"

namespace io {
using detail::logger;

DriverObject& IoManager::load_driver(const std::string& name,
                                     const std::function<Status(DriverObject&)>& entry) {
  drivers_.push_back(std::make_unique<DriverObject>());
  DriverObject& d = *drivers_.back();
  d.name = name;
  d.io = this;
  d.major_function.fill(&IoManager::invalid_device_request);
  const Status s = entry(d);
  if (!nt_success(s)) logger().error("{}: DriverEntry failed: {}", name, to_string(s));
  if (util::events().enabled())
    util::events().emit("io", "driver_loaded", {{"driver", name}, {"status", to_string(s)}});
  return d;
}

void IoManager::unload_driver(DriverObject& driver) {
  if (driver.unloaded) return;
  if (driver.unload) driver.unload(driver);
  driver.unloaded = true;
  if (util::events().enabled())
    util::events().emit("io", "driver_unloaded", {{"driver", driver.name}});
}

DeviceObject* IoManager::create_device(DriverObject& driver, const std::string& name,
                                       void* context) {
  if (!name.empty() && names_.count(name) != 0) {
    logger().error("IoCreateDevice: {} exists", name);
    return nullptr;
  }
  devices_.push_back(std::make_unique<DeviceObject>());
  DeviceObject* d = devices_.back().get();
  d->name = name;
  d->driver = &driver;
  d->context = context;
  driver.devices.push_back(d);
  if (!name.empty()) names_[name] = d;
  return d;
}

void IoManager::delete_device(DeviceObject& device) {
  if (!device.name.empty()) names_.erase(device.name);
  auto& list = device.driver->devices;
  list.erase(std::remove(list.begin(), list.end(), &device), list.end());
  device.driver = nullptr;
}

DeviceObject* IoManager::get_attached_device(DeviceObject& device) {
  DeviceObject* top = &device;
  while (top->attached_device != nullptr) top = top->attached_device;
  return top;
}

DeviceObject* IoManager::attach_device_to_device_stack(DeviceObject& source, DeviceObject& target) {
  DeviceObject* top = get_attached_device(target);
  if (top->flags & kDoDeviceInitializing) return nullptr;
  top->attached_device = &source;
  source.lower = top;
  // An IRP for the new top must have a location for every driver below it, and its own.
  source.stack_size = top->stack_size + 1;
  if (util::events().enabled())
    util::events().emit("io", "attach",
                        {{"device", source.driver->name},
                         {"to", top->name.empty() ? top->driver->name : top->name},
                         {"stack_size", source.stack_size}});
  return top;
}

void IoManager::detach_device(DeviceObject& lower) {
  if (lower.attached_device != nullptr) lower.attached_device->lower = nullptr;
  lower.attached_device = nullptr;
}

void IoManager::create_symbolic_link(const std::string& link, const std::string& target) {
  links_[link] = target;
}

DeviceObject* IoManager::find_device(const std::string& path) {
  std::string p = path;
  for (int hops = 0; hops < 8; ++hops) {
    auto l = links_.find(p);
    if (l == links_.end()) break;
    p = l->second;
  }
  auto d = names_.find(p);
  return d == names_.end() ? nullptr : d->second;
}

}  // namespace io
