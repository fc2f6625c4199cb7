#include "sw/drivers/filter/filter.h"

#include "util/event_log.h"

namespace drivers {
namespace {
constexpr std::uint64_t kSector = 512;
}  // namespace

FilterDriver::FilterDriver(io::IoManager& io, Params params) : io_(io), params_(params) {}

io::DriverObject& FilterDriver::driver_entry(io::IoManager& io, const Params& params) {
  return io.load_driver("\\Driver\\DiskFilter", [params](io::DriverObject& d) {
    for (auto& f : d.major_function) f = &FilterDriver::dispatch_pass;
    d.major_function[static_cast<unsigned>(io::Major::read)] = &FilterDriver::dispatch_rw;
    d.major_function[static_cast<unsigned>(io::Major::write)] = &FilterDriver::dispatch_rw;
    d.major_function[static_cast<unsigned>(io::Major::pnp)] = &io::IoManager::dispatch_pnp;
    if (params.fast_io && params.cache_sectors > 0) d.fast_io.read = &FilterDriver::fast_read;
    return io::Status::success;
  });
}

bool FilterDriver::attach(io::DriverObject& drv, io::DeviceObject& disk) {
  device_ = io_.create_device(drv, "", this);
  if (device_ == nullptr) return false;
  device_->pnp = this;
  lower_ = io_.attach_device_to_device_stack(*device_, disk);
  if (lower_ == nullptr) return false;
  // A filter takes the buffering method of the device it sits on.
  device_->flags = lower_->flags & (io::kDoBufferedIo | io::kDoDirectIo);
  return true;
}

io::Status FilterDriver::dispatch_pass(io::DeviceObject* d, io::Irp* irp) {
  FilterDriver& self = d->ext<FilterDriver>();
  self.io_.skip_current_irp_stack_location(*irp);
  return self.io_.call_driver(*self.lower_, *irp);
}

io::Status FilterDriver::dispatch_rw(io::DeviceObject* d, io::Irp* irp) {
  FilterDriver& self = d->ext<FilterDriver>();
  self.io_.kernel().cpu().consume(self.params_.dispatch_cycles, 0.2);
  irp->driver_context[0] = self.io_.kernel().cpu().now_ps();
  self.io_.copy_current_irp_stack_location_to_next(*irp);
  self.io_.set_completion_routine(*irp, &FilterDriver::rw_done, &self, true, true, true);
  return self.io_.call_driver(*self.lower_, *irp);
}

io::Status FilterDriver::rw_done(io::DeviceObject*, io::Irp* irp, void* context) {
  FilterDriver& self = *static_cast<FilterDriver*>(context);
  self.io_.kernel().cpu().consume(self.params_.completion_cycles, 0.2);
  // The location below ours was cleared as the IRP unwound; ours still holds the parameters.
  const io::IoStackLocation& sl = irp->current();
  const bool read = sl.major == io::Major::read;
  ++(read ? self.stats_.reads : self.stats_.writes);
  self.stats_.latency.add(self.io_.kernel().cpu().now_ps() - irp->driver_context[0]);
  if (!io::nt_success(irp->io_status.status)) {
    ++self.stats_.errors;
  } else {
    self.stats_.bytes += irp->io_status.information;
    if (self.params_.cache_sectors > 0 && irp->mdl_address != 0) {
      const std::uint64_t lba = sl.rw.offset / kSector;
      if (!read) ++self.writes_epoch_;
      self.cache_store(lba, sl.rw.length / kSector, irp->mdl_address);
      if (read) self.read_ahead(lba + sl.rw.length / kSector);
    }
  }
  if (irp->pending_returned) self.io_.mark_irp_pending(*irp);
  return io::Status::success;
}

// The cache is shared between the fast I/O path (a thread at PASSIVE_LEVEL) and completion
// routines (DPCs at DISPATCH_LEVEL, or the completing thread). Its copies are timed memory
// accesses, during which interrupts, and so DPCs, can run: the cache spin lock (DISPATCH_LEVEL)
// keeps a completion routine from evicting entries a copy is walking, as a Windows filter must.
void FilterDriver::cache_store(std::uint64_t lba, std::uint64_t sectors, std::uint64_t buffer) {
  ke::Kernel& k = io_.kernel();
  const ke::Irql old = k.acquire_spin_lock(cache_lock_);
  cache_store_locked(lba, sectors, buffer);
  k.release_spin_lock(cache_lock_, old);
}

void FilterDriver::cache_store_locked(std::uint64_t lba, std::uint64_t sectors,
                                      std::uint64_t buffer) {
  for (std::uint64_t s = 0; s < sectors; ++s) {
    auto it = cache_.find(lba + s);
    std::uint64_t line;
    if (it != cache_.end()) {
      line = it->second.first;
      lru_.erase(it->second.second);
    } else {
      if (cache_.size() >= params_.cache_sectors) {
        const std::uint64_t victim = lru_.back();
        lru_.pop_back();
        line = cache_[victim].first;
        cache_.erase(victim);
      } else {
        line = io_.pool().allocate(kSector);
        if (line == 0) return;
      }
    }
    lru_.push_front(lba + s);
    cache_[lba + s] = {line, lru_.begin()};
    io_.copy_memory(line, buffer + s * kSector, kSector);
  }
}

bool FilterDriver::cache_load(std::uint64_t lba, std::uint64_t sectors, std::uint64_t buffer) {
  ke::Kernel& k = io_.kernel();
  const ke::Irql old = k.acquire_spin_lock(cache_lock_);
  bool hit = true;
  for (std::uint64_t s = 0; s < sectors && hit; ++s) hit = cache_.count(lba + s) != 0;
  for (std::uint64_t s = 0; s < sectors && hit; ++s) {
    auto& entry = cache_[lba + s];
    lru_.erase(entry.second);
    lru_.push_front(lba + s);
    entry.second = lru_.begin();
    io_.copy_memory(buffer + s * kSector, entry.first, kSector);
  }
  k.release_spin_lock(cache_lock_, old);
  return hit;
}

bool FilterDriver::fast_read(io::FileObject*, std::uint64_t offset, std::uint32_t length,
                             std::uint64_t buffer, io::IoStatusBlock* status, io::DeviceObject* d) {
  FilterDriver& self = d->ext<FilterDriver>();
  if (offset % kSector != 0 || length % kSector != 0 || length == 0) return false;
  if (!self.cache_load(offset / kSector, length / kSector, buffer)) {
    ++self.stats_.cache_misses;
    return false;
  }
  ++self.stats_.cache_hits;
  *status = {io::Status::success, length};
  return true;
}

bool FilterDriver::cached(std::uint64_t lba) {
  ke::Kernel& k = io_.kernel();
  const ke::Irql old = k.acquire_spin_lock(cache_lock_);
  const bool found = cache_.count(lba) != 0;
  k.release_spin_lock(cache_lock_, old);
  return found;
}

void FilterDriver::read_ahead(std::uint64_t lba) {
  // One read-ahead at a time, of sectors not cached yet: the filter's own IRP, which its
  // completion routine frees (returning STATUS_MORE_PROCESSING_REQUIRED).
  if (read_ahead_busy_ || params_.read_ahead_sectors == 0 || cached(lba)) return;
  const std::uint32_t n = params_.read_ahead_sectors;
  const std::uint64_t buffer = io_.pool().allocate(n * kSector);
  if (buffer == 0) return;
  io::Irp* irp = io_.allocate_irp(lower_->stack_size + 1);
  --irp->current_location;  // a location of our own, above the lower driver's
  irp->current().device = device_;
  irp->current().major = io::Major::read;
  irp->current().rw = {n * 512u, lba * kSector};
  irp->mdl_address = buffer;
  irp->driver_context[0] = writes_epoch_;
  irp->driver_context[1] = buffer;
  io_.copy_current_irp_stack_location_to_next(*irp);
  io_.set_completion_routine(*irp, &FilterDriver::read_ahead_done, this, true, true, true);
  read_ahead_busy_ = true;
  ++stats_.read_aheads;
  if (util::events().enabled())
    util::events().emit("filter", "read_ahead", {{"irp", irp->id}, {"lba", lba}, {"sectors", n}});
  io_.call_driver(*lower_, *irp);
}

io::Status FilterDriver::read_ahead_done(io::DeviceObject*, io::Irp* irp, void* context) {
  FilterDriver& self = *static_cast<FilterDriver*>(context);
  const io::IoStackLocation& sl = irp->current();
  const std::uint64_t buffer = irp->driver_context[1];
  if (io::nt_success(irp->io_status.status) && irp->driver_context[0] == self.writes_epoch_) {
    self.cache_store(sl.rw.offset / kSector, sl.rw.length / kSector, buffer);
  } else {
    ++self.stats_.read_ahead_discarded;  // failed, or a write may have overtaken it
  }
  self.io_.pool().free(buffer);
  self.io_.free_irp(irp);
  self.read_ahead_busy_ = false;
  return io::Status::more_processing_required;
}

}  // namespace drivers
