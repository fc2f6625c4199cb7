#include "platform/registry.h"

namespace platform {
namespace {

// A registry holding the built-in types, made on first use.
template <typename T>
Registry<T> with_builtins(void (*add)(Registry<T>&)) {
  Registry<T> r;
  add(r);
  return r;
}

}  // namespace

Registry<DeviceType>& device_types() {
  static Registry<DeviceType> r = with_builtins(&builtin::register_devices);
  return r;
}

Registry<DriverType>& driver_types() {
  static Registry<DriverType> r = with_builtins(&builtin::register_drivers);
  return r;
}

Registry<WorkloadType>& workload_types() {
  static Registry<WorkloadType> r = with_builtins(&builtin::register_workloads);
  return r;
}

}  // namespace platform
