#include "sw/drivers/timer/timer.h"

#include <utility>

#include <fmt/format.h>

namespace drivers {
namespace {
constexpr std::uint16_t kDelay = 0, kStatus = 4, kAck = 5;  // hw/devices/oneshot.h
constexpr std::uint8_t kPending = 1;
constexpr std::uint64_t kWindow = 8;
}  // namespace

TimerDriver::TimerDriver(io::IoManager& io, Params params)
    : io_(io), kernel_(io.kernel()), params_(std::move(params)) {}

io::DriverObject& TimerDriver::driver_entry(io::IoManager& io) {
  return io.load_driver("\\Driver\\Timer", [](io::DriverObject& d) {
    d.major_function[static_cast<unsigned>(io::Major::create)] = &io::IoManager::succeed_request;
    d.major_function[static_cast<unsigned>(io::Major::close)] = &io::IoManager::succeed_request;
    d.major_function[static_cast<unsigned>(io::Major::device_control)] =
        &TimerDriver::dispatch_ioctl;
    d.major_function[static_cast<unsigned>(io::Major::pnp)] = &io::IoManager::dispatch_pnp;
    d.start_io = &TimerDriver::start_io;
    return io::Status::success;
  });
}

bool TimerDriver::add_device(io::DriverObject& drv, io::DeviceObject& pdo) {
  const std::string device = fmt::format("\\Device\\Timer{}", params_.unit);
  const std::string name =
      params_.name.empty() ? fmt::format("timer{}", params_.unit) : params_.name;
  device_ = io_.create_device(drv, device, this);
  if (device_ == nullptr) return false;
  if (!params_.name.empty()) io_.create_symbolic_link("\\??\\" + params_.name, device);
  io_.initialize_dpc_request(*device_, &TimerDriver::dpc, name + "_dpc");
  device_->pnp = this;
  if (io_.attach_device_to_device_stack(*device_, pdo) == nullptr) return false;
  device_->flags = io::kDoBufferedIo;
  return true;
}

io::Status TimerDriver::start(const io::ResourceList& raw, const io::ResourceList& translated) {
  const io::Resource* irq = io::find_resource(translated, io::ResourceType::interrupt);
  if (irq == nullptr || !io_.map_register_window(raw, kWindow, regs_))
    return io::Status::insufficient_resources;
  const std::string name =
      params_.name.empty() ? fmt::format("timer{}", params_.unit) : params_.name;
  return io_.connect_interrupt(interrupt_, name, &TimerDriver::isr, this,
                               io::IoManager::interrupt_resource(*irq), device_);
}

void TimerDriver::surprise_removal() {
  io_.disconnect_interrupt(std::exchange(interrupt_, nullptr));
  io_.fail_device_requests(*device_, io::Status::no_such_device);
}

io::Status TimerDriver::dispatch_ioctl(io::DeviceObject* d, io::Irp* irp) {
  TimerDriver& self = d->ext<TimerDriver>();
  const io::IoStackLocation& sl = irp->current();
  if (sl.ioctl.code != kIoctlTimerWait || sl.ioctl.input_length != 4) {
    irp->io_status = {io::Status::invalid_parameter, 0};
    self.io_.complete_request(*irp);
    return io::Status::invalid_parameter;
  }
  if (!self.started()) return self.io_.fail_request(*irp, io::Status::delete_pending);
  ++self.stats_.waits;
  self.io_.mark_irp_pending(*irp);
  self.io_.start_packet(*d, *irp, std::nullopt, nullptr);
  return io::Status::pending;
}

void TimerDriver::start_io(io::DeviceObject* d, io::Irp* irp) {
  TimerDriver& self = d->ext<TimerDriver>();
  hw::Processor& cpu = self.kernel_.cpu();
  self.regs_.write32(kDelay, cpu.read32(irp->system_buffer));
}

bool TimerDriver::isr(ke::Interrupt*, void* context) {
  TimerDriver& self = *static_cast<TimerDriver*>(context);
  if (!(self.regs_.read8(kStatus) & kPending)) return false;
  self.regs_.write8(kAck, kPending);
  ++self.stats_.interrupts;
  self.io_.request_dpc(*self.device_, self.device_->current_irp, nullptr);
  return true;
}

void TimerDriver::dpc(ke::Dpc*, io::DeviceObject* d, io::Irp* irp, void*) {
  TimerDriver& self = d->ext<TimerDriver>();
  if (irp == nullptr || self.gone() || irp != self.device_->current_irp) return;
  irp->io_status = {io::Status::success, 0};
  self.io_.start_next_packet(*self.device_, false);
  self.io_.complete_request(*irp);
}

}  // namespace drivers
