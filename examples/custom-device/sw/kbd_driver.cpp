#include "sw/kbd_driver.h"

#include <utility>

namespace kbd {
namespace {
constexpr std::uint16_t kData = 0, kStatus = 1, kControl = 2;
constexpr std::uint8_t kObf = 1, kIe = 1;
constexpr std::size_t kRing = 256;
}  // namespace

KeyboardDriver::KeyboardDriver(io::IoManager& io, Params params)
    : io_(io), kernel_(io.kernel()), params_(std::move(params)) {}

io::DriverObject& KeyboardDriver::driver_entry(io::IoManager& io) {
  return io.load_driver("\\Driver\\Kbd", [](io::DriverObject& d) {
    d.major_function[static_cast<unsigned>(io::Major::create)] = &io::IoManager::succeed_request;
    d.major_function[static_cast<unsigned>(io::Major::close)] = &io::IoManager::succeed_request;
    d.major_function[static_cast<unsigned>(io::Major::read)] = &KeyboardDriver::dispatch_read;
    d.major_function[static_cast<unsigned>(io::Major::pnp)] = &io::IoManager::dispatch_pnp;
    return io::Status::success;
  });
}

bool KeyboardDriver::add_device(io::DriverObject& driver, io::DeviceObject& pdo) {
  const std::string name = "\\Device\\Keyboard" + std::to_string(params_.unit);
  device_ = io_.create_device(driver, name, this);
  if (device_ == nullptr) return false;
  io_.create_symbolic_link("\\??\\" + params_.name, name);
  io_.initialize_dpc_request(*device_, &KeyboardDriver::dpc, params_.name + "_dpc");
  device_->pnp = this;
  if (io_.attach_device_to_device_stack(*device_, pdo) == nullptr) return false;
  device_->flags = io::kDoBufferedIo;  // initialized
  return true;
}

io::Status KeyboardDriver::start(const io::ResourceList& raw, const io::ResourceList& translated) {
  // Ports or memory: the window runs the same on either.
  const io::Resource* irq = io::find_resource(translated, io::ResourceType::interrupt);
  if (irq == nullptr || !io_.map_register_window(raw, 3, regs_))
    return io::Status::insufficient_resources;
  const io::InterruptResource r = io::IoManager::interrupt_resource(*irq);
  const io::Status s =
      io_.connect_interrupt(interrupt_, params_.name, &KeyboardDriver::isr, this, r);
  if (s != io::Status::success) return s;
  device_irql_ = r.irql;
  regs_.write8(kControl, kIe);
  return io::Status::success;
}

void KeyboardDriver::remove() {
  io_.disconnect_interrupt(std::exchange(interrupt_, nullptr));
}

std::uint32_t KeyboardDriver::take(io::Irp& irp) {
  const std::uint32_t length = irp.current().rw.length;
  std::uint32_t n = 0;
  for (; n < length && !ring_.empty(); ++n) {
    kernel_.cpu().write(hw::Space::memory, irp.system_buffer + n, 1, ring_.front());
    ring_.pop_front();
  }
  return n;
}

io::Status KeyboardDriver::dispatch_read(io::DeviceObject* d, io::Irp* irp) {
  KeyboardDriver& self = d->ext<KeyboardDriver>();
  // The ring is the ISR's too: take from it with the device's interrupt held off.
  const ke::Irql old = self.kernel_.raise_irql(self.device_irql_);
  if (!self.ring_.empty() || self.pending_ != nullptr) {
    const std::uint32_t n = self.take(*irp);
    self.kernel_.lower_irql(old);
    self.stats_.bytes += n;
    // One read waits at a time; a second is refused rather than queued.
    irp->io_status = {n > 0 ? io::Status::success : io::Status::invalid_device_request, n};
    self.io_.complete_request(*irp);
    return irp->io_status.status;
  }
  self.io_.mark_irp_pending(*irp);
  self.io_.set_cancel_routine(*irp, &KeyboardDriver::cancel_read);
  self.pending_ = irp;
  self.kernel_.lower_irql(old);
  return io::Status::pending;
}

void KeyboardDriver::cancel_read(io::DeviceObject* d, io::Irp* irp) {
  KeyboardDriver& self = d->ext<KeyboardDriver>();
  if (self.pending_ == irp) self.pending_ = nullptr;
  ++self.stats_.cancelled;
  self.io_.release_cancel_spin_lock(irp->cancel_irql);
  irp->io_status = {io::Status::cancelled, 0};
  self.io_.complete_request(*irp);
}

bool KeyboardDriver::isr(ke::Interrupt*, void* context) {
  KeyboardDriver& self = *static_cast<KeyboardDriver*>(context);
  hw::Processor& cpu = self.kernel_.cpu();
  if (!(self.regs_.read8(kStatus) & kObf)) return false;  // not ours
  ++self.stats_.interrupts;
  const std::uint8_t c = self.regs_.read8(kData);  // lowers the line
  if (self.ring_.size() < kRing) {
    self.ring_.push_back(c);
  } else {
    ++self.stats_.ring_overflows;
  }
  cpu.consume(self.params_.isr_cycles, 0.1);
  self.io_.request_dpc(*self.device_, nullptr, nullptr);
  return true;
}

void KeyboardDriver::dpc(ke::Dpc*, io::DeviceObject* d, io::Irp*, void*) {
  KeyboardDriver& self = d->ext<KeyboardDriver>();
  self.kernel_.cpu().consume(self.params_.dpc_cycles, 0.2);
  if (self.pending_ == nullptr) return;
  io::Irp* r = self.pending_;
  // Take it back from the cancel path first: once the routine is gone it cannot be cancelled.
  const ke::Irql old = self.io_.acquire_cancel_spin_lock();
  const io::CancelRoutine was = self.io_.set_cancel_routine(*r, nullptr);
  self.io_.release_cancel_spin_lock(old);
  if (was == nullptr) return;  // being cancelled
  self.pending_ = nullptr;
  const ke::Irql raised = self.kernel_.raise_irql(self.device_irql_);
  const std::uint32_t n = self.take(*r);
  self.kernel_.lower_irql(raised);
  self.stats_.bytes += n;
  ++self.stats_.completed;
  r->io_status = {io::Status::success, n};
  self.io_.complete_request(*r);
}

}  // namespace kbd
