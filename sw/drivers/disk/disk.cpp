#include "sw/drivers/disk/disk.h"

#include <utility>

#include <fmt/format.h>

#include "sw/hal/device_regs.h"
#include "util/event_log.h"

namespace drivers {
namespace {
using namespace hal::disk;
}  // namespace

DiskDriver::DiskDriver(io::IoManager& io, Params params)
    : io_(io), kernel_(io.kernel()), params_(std::move(params)) {}

io::DriverObject& DiskDriver::driver_entry(io::IoManager& io) {
  return io.load_driver("\\Driver\\Disk", [](io::DriverObject& d) {
    d.major_function[static_cast<unsigned>(io::Major::create)] = &io::IoManager::succeed_request;
    d.major_function[static_cast<unsigned>(io::Major::close)] = &io::IoManager::succeed_request;
    d.major_function[static_cast<unsigned>(io::Major::read)] = &DiskDriver::dispatch_rw;
    d.major_function[static_cast<unsigned>(io::Major::write)] = &DiskDriver::dispatch_rw;
    d.major_function[static_cast<unsigned>(io::Major::pnp)] = &io::IoManager::dispatch_pnp;
    d.start_io = &DiskDriver::start_io;
    d.unload = [](io::DriverObject& drv) {
      if (util::events().enabled()) util::events().emit("disk", "unload", {{"driver", drv.name}});
    };
    return io::Status::success;
  });
}

bool DiskDriver::add_device(io::DriverObject& drv, io::DeviceObject& pdo) {
  const std::string device = fmt::format("\\Device\\Harddisk{}", params_.unit);
  const std::string name =
      params_.name.empty() ? fmt::format("disk{}", params_.unit) : params_.name;
  device_ = io_.create_device(drv, device, this);
  if (device_ == nullptr) return false;
  io_.create_symbolic_link(fmt::format("\\??\\PhysicalDrive{}", params_.unit), device);
  if (!params_.name.empty()) io_.create_symbolic_link("\\??\\" + params_.name, device);
  kernel_.initialize_event(lock_, name + "_lock", ke::EventType::synchronization, true);
  io_.initialize_dpc_request(*device_, &DiskDriver::dpc, name + "_dpc");
  device_->pnp = this;
  if (io_.attach_device_to_device_stack(*device_, pdo) == nullptr) return false;
  device_->flags = io::kDoDirectIo;  // initialized: DO_DEVICE_INITIALIZING cleared
  return true;
}

io::Status DiskDriver::start(const io::ResourceList& raw, const io::ResourceList& translated) {
  // Which controller this is, from its own configuration space where the bus has one (a driver
  // checks the revision or a capability this way before touching the registers).
  std::uint8_t id[4] = {};
  if (io_.read_config(*device_, 0, id, sizeof id) == io::Status::success)
    stats_.pci_id = static_cast<std::uint32_t>(id[0] | id[1] << 8 | id[2] << 16 | id[3] << 24);
  // The controller's registers: ports or memory, wherever the bus put them.
  const io::Resource* window = io::find_resource(raw, io::ResourceType::port);
  if (window == nullptr) window = io::find_resource(raw, io::ResourceType::memory);
  if (window == nullptr || window->length < kWindow) return io::Status::insufficient_resources;
  regs_ = hal::RegisterWindow(
      kernel_.cpu(), window->type == io::ResourceType::port ? hw::Space::io : hw::Space::memory,
      window->start, window->length);
  if (params_.dma) {
    const io::Resource* dma = io::find_resource(raw, io::ResourceType::dma);
    if (dma == nullptr) return io::Status::insufficient_resources;
    dma_regs_ = hal::RegisterWindow(kernel_.cpu(), hw::Space::io,
                                    hal::dma::channel_port(params_.dma_port, dma->channel),
                                    hal::dma::kChannelWindow);
  }
  if (!params_.polling) {
    const io::Resource* irq = io::find_resource(translated, io::ResourceType::interrupt);
    if (irq == nullptr) return io::Status::insufficient_resources;
    const std::string name =
        params_.name.empty() ? fmt::format("disk{}", params_.unit) : params_.name;
    const io::Status s = io_.connect_interrupt(interrupt_, name, &DiskDriver::isr, this,
                                               io::IoManager::interrupt_resource(*irq), device_);
    if (s != io::Status::success) return s;
  }
  return io::Status::success;
}

void DiskDriver::surprise_removal() {
  io_.disconnect_interrupt(std::exchange(interrupt_, nullptr));
  const std::size_t failed = io_.fail_device_requests(*device_, io::Status::no_such_device);
  stats_.errors += failed;
  for (std::size_t i = 0; i < failed; ++i) io_.release_remove_lock(remove_lock);
}

io::Status DiskDriver::dispatch_rw(io::DeviceObject* d, io::Irp* irp) {
  DiskDriver& self = d->ext<DiskDriver>();
  self.kernel_.cpu().consume(self.params_.dispatch_cycles, 0.2);
  const io::IoStackLocation& sl = irp->current();
  const std::uint64_t lba = sl.rw.offset / kSector;
  const std::uint64_t count = sl.rw.length / kSector;
  if (sl.rw.offset % kSector != 0 || sl.rw.length % kSector != 0 || count == 0 || count > 0xffff ||
      lba + count > self.params_.sectors || irp->mdl_address == 0) {
    irp->io_status = {io::Status::invalid_parameter, 0};
    self.io_.complete_request(*irp);
    return io::Status::invalid_parameter;
  }
  if (!self.started()) return self.io_.fail_request(*irp, io::Status::delete_pending);
  // Counted until it completes: REMOVE_DEVICE waits for it (a polled transfer in progress on
  // this thread, a queued or programmed one until the DPC or a removal fails it).
  if (!io::nt_success(self.io_.acquire_remove_lock(self.remove_lock)))
    return self.io_.fail_request(*irp, io::Status::delete_pending);
  ++self.stats_.requests;
  if (self.params_.polling) return self.polled_transfer(*irp);
  self.io_.mark_irp_pending(*irp);
  self.io_.start_packet(*d, *irp, lba, nullptr);
  return io::Status::pending;
}

void DiskDriver::program(io::Irp& irp, bool interrupts) {
  const io::IoStackLocation& sl = irp.current();
  const bool write = sl.major == io::Major::write;
  regs_.write8(kControl,
               static_cast<std::uint8_t>((interrupts ? kIe : 0) | (params_.dma ? kDma : 0)));
  regs_.write32(kLba, static_cast<std::uint32_t>(sl.rw.offset / kSector));
  regs_.write16(kCount, static_cast<std::uint16_t>(sl.rw.length / kSector));
  if (params_.dma) {
    namespace dma = hal::dma;
    dma_regs_.write32(dma::kStatus, dma::kTc | dma::kError);  // clear the last transfer's status
    // The DMA engine sees bus addresses: the buffer's, from the memory manager.
    const auto bus = static_cast<std::uint32_t>(io_.physical_address(irp.mdl_address));
    dma_regs_.write32(dma::kSrc, bus);
    dma_regs_.write32(dma::kDst, bus);
    dma_regs_.write32(dma::kCount, sl.rw.length);
    const std::uint32_t dir = write ? dma::kDirMemToDev : dma::kDirDevToMem;
    dma_regs_.write32(dma::kControl, dma::kEnable | (dir << dma::kDirShift) |
                                         (write ? dma::kSrcInc : dma::kDstInc) |
                                         (params_.dma_mode << dma::kModeShift) |
                                         (dma::width_code(4) << dma::kWidthShift));
  }
  sectors_done_ = 0;
  if (util::events().enabled())
    util::events().emit("disk", "program",
                        {{"irp", irp.id},
                         {"device", device_->name},
                         {"write", write},
                         {"lba", sl.rw.offset / kSector},
                         {"sectors", sl.rw.length / kSector},
                         {"dma", params_.dma}});
  regs_.write8(kCommand, write ? kWrite : kRead);
}

void DiskDriver::start_io(io::DeviceObject* d, io::Irp* irp) {
  DiskDriver& self = d->ext<DiskDriver>();
  self.kernel_.cpu().consume(self.params_.start_io_cycles, 0.2);
  self.program(*irp, true);
}

bool DiskDriver::isr(ke::Interrupt*, void* context) {
  DiskDriver& self = *static_cast<DiskDriver*>(context);
  hw::Processor& cpu = self.kernel_.cpu();
  const std::uint8_t status = self.regs_.read8(kStatus);  // acknowledges
  if (!(status & kIrq)) return false;
  ++self.stats_.interrupts;
  self.saved_status_ = status;
  cpu.consume(self.params_.isr_cycles, 0.1);
  self.io_.request_dpc(*self.device_, self.device_->current_irp, nullptr);
  return true;
}

void DiskDriver::pio_sector(bool write, std::uint64_t address) {
  hw::Processor& cpu = kernel_.cpu();
  for (std::uint64_t i = 0; i < kSector; i += 2) {
    if (write) {
      regs_.write16(kData, static_cast<std::uint16_t>(cpu.read(hw::Space::memory, address + i, 2)));
    } else {
      cpu.write(hw::Space::memory, address + i, 2, regs_.read16(kData));
    }
  }
}

void DiskDriver::finish(io::Irp& irp, std::uint8_t status) {
  const io::IoStackLocation& sl = irp.current();
  if (status & kErr) {
    ++stats_.errors;
    irp.io_status = {io::Status::io_device_error, 0};
  } else {
    stats_.sectors += sl.rw.length / kSector;
    irp.io_status = {io::Status::success, sl.rw.length};
  }
}

void DiskDriver::dpc(ke::Dpc*, io::DeviceObject* d, io::Irp* irp, void*) {
  DiskDriver& self = d->ext<DiskDriver>();
  self.kernel_.cpu().consume(self.params_.dpc_cycles, 0.2);
  // An interrupt with nothing in progress, or the device left and its requests were failed.
  if (irp == nullptr || self.gone() || irp != self.device_->current_irp) return;
  const std::uint8_t status = self.saved_status_;
  const io::IoStackLocation& sl = irp->current();
  if ((status & kDrq) && !self.params_.dma && !(status & kErr)) {
    // PIO: the device has a sector for us (read) or room for one (write).
    self.pio_sector(sl.major == io::Major::write, irp->mdl_address + self.sectors_done_ * kSector);
    ++self.sectors_done_;
    return;  // the next interrupt brings the next sector, or DONE
  }
  if (!(status & (kDone | kErr))) return;
  self.finish(*irp, status);
  const std::uint64_t lba = sl.rw.offset / kSector;
  // Start the next request before completing this one: the device is busy again sooner.
  self.io_.start_next_packet_by_key(*self.device_, false, lba);
  self.io_.complete_request(*irp);
  self.io_.release_remove_lock(self.remove_lock);
}

io::Status DiskDriver::polled_transfer(io::Irp& irp) {
  hw::Processor& cpu = kernel_.cpu();
  kernel_.wait_for_single_object(lock_, std::nullopt);
  program(irp, false);
  const bool write = irp.current().major == io::Major::write;
  std::uint8_t status = 0;
  for (;;) {
    status = regs_.read8(kAltStatus);
    ++stats_.polls;
    if (status == 0xff || gone()) {
      // All ones: nobody answered (a master abort) - the controller has left the bus.
      mark_gone();
      ++stats_.errors;
      irp.io_status = {io::Status::no_such_device, 0};
      kernel_.set_event(lock_);
      io_.complete_request(irp);
      io_.release_remove_lock(remove_lock);
      return io::Status::no_such_device;
    }
    if (status & kBusy) {
      cpu.consume(params_.poll_interval_cycles, 0.3);
      continue;
    }
    if ((status & kDrq) && !params_.dma) {
      pio_sector(write, irp.mdl_address + sectors_done_ * kSector);
      ++sectors_done_;
      continue;
    }
    if (status & (kDone | kErr)) break;
    cpu.consume(params_.poll_interval_cycles, 0.3);  // DMA in progress (DRQ held)
  }
  finish(irp, status);
  kernel_.set_event(lock_);
  const io::Status s = irp.io_status.status;
  io_.complete_request(irp);
  io_.release_remove_lock(remove_lock);
  return s;
}

}  // namespace drivers
