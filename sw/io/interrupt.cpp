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
  return r;
}

Status IoManager::connect_interrupt(ke::Interrupt*& object, std::string name,
                                    ke::ServiceRoutine isr, void* context,
                                    const InterruptResource& resource) {
  object = nullptr;
  const int irq = kernel_.hal().irq_of_vector(resource.vector);
  if (irq < 0 || kernel_.hal().irql_of_irq(static_cast<unsigned>(irq)) != resource.irql)
    return Status::invalid_parameter;
  auto interrupt = std::make_unique<ke::Interrupt>();
  kernel_.initialize_interrupt(*interrupt, std::move(name), isr, context,
                               static_cast<unsigned>(irq), resource.mode, resource.shared);
  if (!kernel_.connect_interrupt(*interrupt)) return Status::invalid_parameter;
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
}

bool IoManager::request_dpc(DeviceObject& device, Irp* irp, void* context) {
  return kernel_.insert_queue_dpc(device.dpc, irp, context);
}

}  // namespace io
