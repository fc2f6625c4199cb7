#include "sw/drivers/serial/serial.h"

#include <utility>
#include <vector>

#include <fmt/format.h>

namespace drivers {
namespace {
constexpr std::uint16_t kData = 0, kStatus = 1, kControl = 2, kRxLevel = 3;
constexpr std::uint8_t kRxReady = 0x01, kTxEmpty = 0x02, kTxFull = 0x04, kIrq = 0x10;
constexpr std::uint8_t kRxIe = 0x01, kTxIe = 0x02;
constexpr std::uint64_t kWindow = 4;
}  // namespace

SerialDriver::SerialDriver(io::IoManager& io, Params params)
    : io_(io), kernel_(io.kernel()), params_(std::move(params)) {}

io::DriverObject& SerialDriver::driver_entry(io::IoManager& io) {
  return io.load_driver("\\Driver\\Serial", [](io::DriverObject& d) {
    d.major_function[static_cast<unsigned>(io::Major::create)] = &io::IoManager::succeed_request;
    d.major_function[static_cast<unsigned>(io::Major::close)] = &io::IoManager::succeed_request;
    d.major_function[static_cast<unsigned>(io::Major::read)] = &SerialDriver::dispatch_read;
    d.major_function[static_cast<unsigned>(io::Major::write)] = &SerialDriver::dispatch_write;
    d.major_function[static_cast<unsigned>(io::Major::pnp)] = &io::IoManager::dispatch_pnp;
    return io::Status::success;
  });
}

bool SerialDriver::add_device(io::DriverObject& drv, io::DeviceObject& pdo) {
  const std::string device = fmt::format("\\Device\\Serial{}", params_.unit);
  const std::string name =
      params_.name.empty() ? fmt::format("serial{}", params_.unit) : params_.name;
  device_ = io_.create_device(drv, device, this);
  if (device_ == nullptr) return false;
  io_.create_symbolic_link(fmt::format("\\??\\COM{}", params_.unit + 1), device);
  if (!params_.name.empty()) io_.create_symbolic_link("\\??\\" + params_.name, device);
  io_.initialize_dpc_request(*device_, &SerialDriver::dpc, name + "_dpc");
  device_->pnp = this;
  if (io_.attach_device_to_device_stack(*device_, pdo) == nullptr) return false;
  device_->flags = io::kDoBufferedIo;
  return true;
}

io::Status SerialDriver::start(const io::ResourceList& raw, const io::ResourceList& translated) {
  if (!io_.map_register_window(raw, kWindow, regs_)) return io::Status::insufficient_resources;
  if (!params_.polling) {
    const io::Resource* irq = io::find_resource(translated, io::ResourceType::interrupt);
    if (irq == nullptr) return io::Status::insufficient_resources;
    const std::string name =
        params_.name.empty() ? fmt::format("serial{}", params_.unit) : params_.name;
    const io::InterruptResource r = io::IoManager::interrupt_resource(*irq);
    const io::Status s =
        io_.connect_interrupt(interrupt_, name, &SerialDriver::isr, this, r, device_);
    if (s != io::Status::success) return s;
    regs_.write8(kControl, kRxIe);
  }
  return io::Status::success;
}

void SerialDriver::surprise_removal() {
  io_.disconnect_interrupt(std::exchange(interrupt_, nullptr));
  std::vector<io::Irp*> failed;
  const ke::Irql old = kernel_.acquire_spin_lock(lock_);
  for (io::Irp** p : {&pending_read_, &pending_write_}) {
    io::Irp* irp = std::exchange(*p, nullptr);
    if (irp == nullptr) continue;
    // A read may be being cancelled: whoever clears the cancel routine completes it.
    if (p == &pending_read_ && io_.set_cancel_routine(*irp, nullptr) == nullptr) continue;
    failed.push_back(irp);
  }
  tx_.clear();
  kernel_.release_spin_lock(lock_, old);
  for (io::Irp* irp : failed) {
    irp->io_status = {io::Status::no_such_device, 0};
    io_.complete_request(*irp);
  }
}

std::uint32_t SerialDriver::take(std::uint64_t buffer, std::uint32_t length) {
  hw::Processor& cpu = kernel_.cpu();
  std::uint32_t n = 0;
  // No interrupt object (disconnected by a removal): no ISR fills the ring any more.
  const ke::Irql old = interrupt_ ? kernel_.acquire_interrupt_spin_lock(*interrupt_) : 0;
  while (n < length && !rx_.empty()) {
    const std::uint8_t c = rx_.front();
    rx_.pop_front();
    cpu.write(hw::Space::memory, buffer + n, 1, c);
    ++n;
  }
  if (interrupt_) kernel_.release_interrupt_spin_lock(*interrupt_, old);
  return n;
}

io::Status SerialDriver::dispatch_read(io::DeviceObject* d, io::Irp* irp) {
  SerialDriver& self = d->ext<SerialDriver>();
  hw::Processor& cpu = self.kernel_.cpu();
  const std::uint32_t length = irp->current().rw.length;
  if (!self.started()) return self.io_.fail_request(*irp, io::Status::delete_pending);
  if (self.params_.polling) {
    // Spin until something arrives, then take what is there.
    while (!(self.regs_.read8(kStatus) & kRxReady)) {
      ++self.stats_.polls;
      cpu.consume(self.params_.poll_interval_cycles, 0.3);
    }
    std::uint32_t n = 0;
    while (n < length && (self.regs_.read8(kStatus) & kRxReady)) {
      cpu.write(hw::Space::memory, irp->system_buffer + n, 1, self.regs_.read8(kData));
      ++n;
    }
    self.stats_.rx += n;
    irp->io_status = {io::Status::success, n};
    self.io_.complete_request(*irp);
    return io::Status::success;
  }
  // The device's lock first (the DPC's and the cancel routine's), then, inside take(), the
  // interrupt's (the ISR's, on whichever processor it runs): with raised IRQL alone, an ISR
  // on another processor filled the ring while this one emptied it, and a DPC there completed
  // this read while it was still being filled.
  const ke::Irql old = self.kernel_.acquire_spin_lock(self.lock_);
  const std::uint32_t n = self.take(irp->system_buffer, length);
  if (n > 0 || self.pending_read_ != nullptr) {
    self.kernel_.release_spin_lock(self.lock_, old);
    self.stats_.rx += n;
    irp->io_status = {n > 0 ? io::Status::success : io::Status::invalid_device_request, n};
    self.io_.complete_request(*irp);
    return irp->io_status.status;
  }
  self.io_.mark_irp_pending(*irp);
  self.io_.set_cancel_routine(*irp, &SerialDriver::cancel_read);
  self.pending_read_ = irp;
  self.kernel_.release_spin_lock(self.lock_, old);
  return io::Status::pending;
}

void SerialDriver::cancel_read(io::DeviceObject* d, io::Irp* irp) {
  SerialDriver& self = d->ext<SerialDriver>();
  // Called with the cancel spin lock held (DISPATCH_LEVEL); the lock order is cancel, then
  // the device's (satisfy_read takes the IRP back without the cancel lock).
  self.kernel_.acquire_spin_lock_at_dpc_level(self.lock_);
  if (self.pending_read_ == irp) self.pending_read_ = nullptr;
  self.kernel_.release_spin_lock_from_dpc_level(self.lock_);
  ++self.stats_.cancelled;
  self.io_.release_cancel_spin_lock(irp->cancel_irql);
  irp->io_status = {io::Status::cancelled, 0};
  self.io_.complete_request(*irp);
}

io::Status SerialDriver::dispatch_write(io::DeviceObject* d, io::Irp* irp) {
  SerialDriver& self = d->ext<SerialDriver>();
  hw::Processor& cpu = self.kernel_.cpu();
  const std::uint32_t length = irp->current().rw.length;
  if (!self.started()) return self.io_.fail_request(*irp, io::Status::delete_pending);
  if (self.params_.polling) {
    for (std::uint32_t i = 0; i < length; ++i) {
      while (self.regs_.read8(kStatus) & kTxFull) {
        ++self.stats_.polls;
        cpu.consume(self.params_.poll_interval_cycles, 0.3);
      }
      self.regs_.write8(
          kData, static_cast<std::uint8_t>(cpu.read(hw::Space::memory, irp->system_buffer + i, 1)));
    }
    self.stats_.tx += length;
    irp->io_status = {io::Status::success, length};
    self.io_.complete_request(*irp);
    return io::Status::success;
  }
  // The bytes first (timed reads of the buffer), then, under the device's lock, into the ring.
  std::deque<std::uint8_t> bytes;
  for (std::uint32_t i = 0; i < length; ++i)
    bytes.push_back(
        static_cast<std::uint8_t>(cpu.read(hw::Space::memory, irp->system_buffer + i, 1)));
  const ke::Irql old = self.kernel_.acquire_spin_lock(self.lock_);
  if (self.pending_write_ != nullptr) {  // one write at a time: the caller is synchronous
    self.kernel_.release_spin_lock(self.lock_, old);
    return self.io_.fail_request(*irp, io::Status::invalid_device_request);
  }
  self.tx_.insert(self.tx_.end(), bytes.begin(), bytes.end());
  self.io_.mark_irp_pending(*irp);
  self.pending_write_ = irp;
  io::Irp* done = self.fill_tx();
  self.kernel_.release_spin_lock(self.lock_, old);
  if (done != nullptr) self.io_.complete_request(*done);
  return io::Status::pending;
}

io::Irp* SerialDriver::fill_tx() {
  while (!tx_.empty() && !(regs_.read8(kStatus) & kTxFull)) {
    regs_.write8(kData, tx_.front());
    tx_.pop_front();
    ++stats_.tx;
  }
  // Interrupt when the transmitter drains: then there is room again (or the write is done).
  regs_.write8(kControl, static_cast<std::uint8_t>(kRxIe | kTxIe));
  if (!tx_.empty() || pending_write_ == nullptr) return nullptr;
  io::Irp* w = std::exchange(pending_write_, nullptr);
  w->io_status = {io::Status::success, w->current().rw.length};
  return w;
}

bool SerialDriver::isr(ke::Interrupt*, void* context) {
  SerialDriver& self = *static_cast<SerialDriver*>(context);
  hw::Processor& cpu = self.kernel_.cpu();
  const std::uint8_t status = self.regs_.read8(kStatus);
  if (!(status & kIrq)) return false;
  ++self.stats_.interrupts;
  for (unsigned n = self.regs_.read8(kRxLevel); n > 0; --n) {
    const std::uint8_t c = self.regs_.read8(kData);
    if (self.rx_.size() < self.params_.ring) {
      self.rx_.push_back(c);
    } else {
      ++self.stats_.ring_overflows;
    }
  }
  if (status & kTxEmpty) self.regs_.write8(kControl, kRxIe);  // TX interrupt seen
  cpu.consume(self.params_.isr_cycles, 0.1);
  self.io_.request_dpc(*self.device_, nullptr, nullptr);
  return true;
}

void SerialDriver::dpc(ke::Dpc*, io::DeviceObject* d, io::Irp*, void*) {
  SerialDriver& self = d->ext<SerialDriver>();
  self.kernel_.cpu().consume(self.params_.dpc_cycles, 0.2);
  self.kernel_.acquire_spin_lock_at_dpc_level(self.lock_);
  io::Irp* read = self.satisfy_read();
  io::Irp* write = nullptr;
  if (!self.tx_.empty() || self.pending_write_ != nullptr) write = self.fill_tx();
  self.kernel_.release_spin_lock_from_dpc_level(self.lock_);
  for (io::Irp* irp : {read, write})
    if (irp != nullptr) self.io_.complete_request(*irp);
}

io::Irp* SerialDriver::satisfy_read() {
  if (pending_read_ == nullptr || rx_.empty()) return nullptr;
  io::Irp* r = pending_read_;
  // Take it back from the cancel path first: once the routine is gone it cannot be cancelled.
  // IoSetCancelRoutine is an interlocked exchange: no cancel spin lock (taking it here, under
  // the device's lock, would invert cancel_read's order).
  if (io_.set_cancel_routine(*r, nullptr) == nullptr) return nullptr;  // being cancelled
  pending_read_ = nullptr;
  const std::uint32_t n = take(r->system_buffer, r->current().rw.length);
  stats_.rx += n;
  r->io_status = {io::Status::success, n};
  return r;
}

}  // namespace drivers
