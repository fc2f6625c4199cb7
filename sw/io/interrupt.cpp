// IoConnectInterrupt, IoDisconnectInterrupt, IoInitializeDpcRequest, IoRequestDpc: the
// driver-facing shapes over the kernel's interrupt and DPC objects.
#include "sw/io/io_manager.h"

namespace io {
namespace {

void dpc_for_isr(ke::Dpc* dpc, void* context, void* arg1, void* arg2) {
  auto* device = static_cast<DeviceObject*>(context);
  device->dpc_for_isr(dpc, device, static_cast<Irp*>(arg1), arg2);
}

}  // namespace

InterruptResource IoManager::translate_interrupt(unsigned irq, ke::InterruptMode mode,
                                                 bool shared) const {
  InterruptResource r;
  r.vector = kernel_.hal().vector_of_irq(irq);
  r.irql = kernel_.hal().irql_of_irq(irq);
  const bool level = kernel_.hal().level_triggered(irq);
  r.mode = level ? ke::InterruptMode::level_sensitive : mode;
  r.shared = level || shared;
  r.affinity = kernel_.hal().affinity_of_irq(irq);
  return r;
}

Status IoManager::connect_interrupt(ke::Interrupt*& object, std::string name,
                                    ke::ServiceRoutine isr, void* context,
                                    const InterruptResource& resource, const DeviceObject* device) {
  object = nullptr;
  // The interrupt object from the translated resource itself (KeInitializeInterrupt takes the
  // vector, not the bus IRQ); the kernel refuses parameters that are not the HAL's translation.
  ke::InterruptParameters p;
  p.vector = resource.vector;
  p.irql = resource.irql;
  p.synchronize_irql = resource.synchronize_irql;
  p.mode = resource.mode;
  p.share = resource.shared;
  p.affinity = resource.affinity;
  p.spin_lock = resource.spin_lock;
  auto interrupt = std::make_unique<ke::Interrupt>();
  if (!kernel_.initialize_interrupt(*interrupt, std::move(name), isr, context, p))
    return Status::invalid_parameter;
  // A shared vector refused (another object connected it exclusively, or in the other mode).
  if (!kernel_.connect_interrupt(*interrupt)) return Status::invalid_parameter;
  if (device != nullptr && device->driver != nullptr) interrupt->owner = device->driver->name;
  object = interrupt.get();
  interrupts_.push_back(std::move(interrupt));
  return Status::success;
}

void IoManager::disconnect_interrupt(ke::Interrupt* object) {
  if (object != nullptr) kernel_.disconnect_interrupt(*object);
}

void IoManager::initialize_dpc_request(DeviceObject& device, DpcForIsrRoutine routine,
                                       std::string name) {
  device.dpc_for_isr = routine;
  kernel_.initialize_dpc(device.dpc, name.empty() ? device.name : std::move(name), &dpc_for_isr,
                         &device);
  if (device.driver != nullptr) device.dpc.owner = device.driver->name;
}

bool IoManager::request_dpc(DeviceObject& device, Irp* irp, void* context) {
  return kernel_.insert_queue_dpc(device.dpc, irp, context);
}

}  // namespace io
