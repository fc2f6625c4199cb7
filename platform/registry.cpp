#include "platform/registry.h"

namespace platform {

Registry<DeviceType>& device_types() {
  static Registry<DeviceType> r = [] {
    Registry<DeviceType> b;
    builtin::register_devices(b);
    return b;
  }();
  return r;
}

Registry<DriverType>& driver_types() {
  static Registry<DriverType> r = [] {
    Registry<DriverType> b;
    builtin::register_drivers(b);
    return b;
  }();
  return r;
}

Registry<WorkloadType>& workload_types() {
  static Registry<WorkloadType> r = [] {
    Registry<WorkloadType> b;
    builtin::register_workloads(b);
    return b;
  }();
  return r;
}

}  // namespace platform
